"""Entry point that `accelerate launch … -m train.launch SPEC` runs on every process:
`train.sft.train` called with SPEC's arguments (a JSON object: data, model, out, config, sets,
kind, teacher), as `distillery train sft|kd --accelerate` wrote them. The launcher holds the output
folder's lock; its processes inherit it (`curate.locks`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    from curate import locks
    from curate.errors import BadInput
    from train import sft

    kwargs = json.loads(argv[0])
    try:
        with locks.writer(Path(kwargs["out"])):
            result = sft.train(**kwargs, log=lambda line: print(line, flush=True))
    except BadInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(result.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
