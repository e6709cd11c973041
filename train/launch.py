"""Entry point that `accelerate launch -m train.launch …` runs on every process: the CLI itself."""

import sys

from curate.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
