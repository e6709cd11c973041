"""A judge worker process: `python -m curate.verify.worker OPTIONS_JSON`.

Reads batches of tasks as JSON lines on stdin, `[[index, kind, *args], …]`, and writes one JSON
line `[index, "ok", *result]` (or `[index, "error", message]`) per task as soon as it is done, so
the parent's clock always knows which task is running. Kinds:
  "g" [text]                  a reference answer → [answer, normalised]
  "p" [text, last_number, guesses]  a response → [answer, normalised, rule]  (see `extract`)
  "b" [text]                  an already extracted answer → [answer, normalised, "given"]
  "j" [gold, pred]            two normalised answers → [verdict, reason]
The first line it writes is "ready" (extraction can start: it needs no sympy); "sympy" follows
once sympy and the LaTeX grammar are imported, in a background thread, and judging can start.
It only extracts, parses and compares; the parent kills it when a task overruns.

Errors: a parse failure of an answer is an `unparseable` verdict, and so is an exception raised
inside sympy or the grammar on an answer (odd input makes them raise many types). An exception
raised by this package's own code is a bug: it goes back as an error, and the parent raises it.
"""

from __future__ import annotations

import json
import sys
import threading
import traceback
from pathlib import Path

MEMORY_LIMIT_BYTES = 4 << 30  # a huge number fails with MemoryError here, not by swapping the box
_PACKAGE = str(Path(__file__).resolve().parents[1])  # curate/
_lock = threading.Lock()


def _write(message) -> None:
    with _lock:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()


def main() -> None:
    _limit_memory()
    from curate.verify.options import Options

    options = Options(**json.loads(sys.argv[1]))
    _write("ready")
    threading.Thread(target=_warm_up, daemon=True).start()
    for line in sys.stdin:
        for index, kind, *args in json.loads(line):
            _write([index, *run_task(kind, args, options)])


# Judged before a worker takes judge tasks: sympy's caches and the grammar's prediction tables fill
# on first use, which would otherwise land on the first real answers.
_WARM_UP = [("x+1", "1+x"), ("3", "\\operatorname{lcm}(1, 3)")]


def _warm_up() -> None:
    from curate.verify.equivalence import judge
    from curate.verify.options import Options

    try:
        for gold, pred in _WARM_UP:
            judge(gold, pred, Options())
    finally:  # judging must start even if a warm-up pair failed (its task would fail loudly too)
        _write("sympy")


def run_task(kind: str, args: list, options) -> list:
    """["ok", *result] or ["error", message] for one task (also used in-process by tests)."""
    try:
        if kind == "j":
            return ["ok", *_judge(args[0], args[1], options)]
        from curate.verify.extract import extract_gold, find_answer
        from curate.verify.normalize import normalize

        if kind == "g":
            answer = extract_gold(args[0])
            return ["ok", answer, None if answer is None else normalize(answer)]
        if kind == "p":
            answer, rule = find_answer(args[0], args[1], guesses=args[2] if len(args) > 2 else True)
            return ["ok", answer, None if answer is None else normalize(answer), rule]
        if kind == "b":
            answer = args[0].strip() if args[0] is not None else None
            answer = answer or None
            return ["ok", answer, None if answer is None else normalize(answer), "given"]
        return ["error", f"unknown task kind {kind!r}"]
    except Exception as exc:  # extraction is our own string code: any exception is a bug
        return ["error", _describe(exc)]


def _judge(gold: str, pred: str, options) -> tuple[str, str]:
    from curate.verify.equivalence import judge
    from curate.verify.latex import Unparseable

    try:
        return judge(gold, pred, options)
    except Unparseable as exc:
        return "unparseable", str(exc)[:200]
    except RecursionError:
        return "unparseable", "nested too deeply"
    except MemoryError:
        return "unparseable", "ran out of memory"
    except Exception as exc:
        if _raised_by_us(exc):
            raise
        return "unparseable", f"sympy: {type(exc).__name__}: {exc}"[:200]


def _raised_by_us(exc: BaseException) -> bool:
    """Whether the innermost frame of the traceback is in this package (not in sympy, the grammar
    or the standard library)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and frames[-1].filename.startswith(_PACKAGE)


def _describe(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"[:500]


def _limit_memory() -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    except (ImportError, ValueError, OSError):  # not on this platform, or a lower hard limit
        pass


if __name__ == "__main__":
    main()
