"""A judge worker process: `python -m curate.verify.worker OPTIONS_JSON`.

Reads batches of pairs as JSON lines on stdin, `[[index, gold, pred], …]`, and writes one JSON
line `[index, verdict, reason]` per pair to stdout as soon as it is judged, so the parent's clock
always knows which pair is running. The first line it writes is "ready" (sympy imported). It only
parses and compares; the parent kills it when a pair overruns.
"""

from __future__ import annotations

import json
import sys

MEMORY_LIMIT_BYTES = 4 << 30  # a huge number fails with MemoryError here, not by swapping the box


def main() -> None:
    _limit_memory()
    from curate.verify.equivalence import judge
    from curate.verify.options import Options

    options = Options(**json.loads(sys.argv[1]))
    out = sys.stdout
    out.write('"ready"\n')
    out.flush()
    for line in sys.stdin:
        for index, gold, pred in json.loads(line):
            try:
                verdict, reason = judge(gold, pred, options)
            except RecursionError:
                verdict, reason = "unparseable", "nested too deeply"
            except MemoryError:
                verdict, reason = "unparseable", "ran out of memory"
            except Exception as exc:  # sympy raises many types on odd input; one verdict for all
                verdict, reason = "unparseable", f"{type(exc).__name__}: {exc}"[:200]
            out.write(json.dumps([index, verdict, reason]) + "\n")
            out.flush()


def _limit_memory() -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    except (ImportError, ValueError, OSError):  # not on this platform, or a lower hard limit
        pass


if __name__ == "__main__":
    main()
