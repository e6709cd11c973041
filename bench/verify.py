"""Benchmark: distillery's verifier against Math-Verify on the same labelled pairs, in one run.

    python bench/verify.py [--workers N] [--math500]

Agreement is the share of pairs whose verdict (correct or not) matches the label in
tests/data/verify_cases.jsonl. Throughput is pairs per second: Math-Verify parses and verifies
each pair in this process (its own timeouts on); distillery runs `verify_batch` with a started
worker pool (the pool's start-up is printed separately, and once more with start-up included).
`--math500` adds MATH-500's solution-vs-answer pairs and shifted (wrong) pairs to the throughput
run. Math-Verify (`pip install math-verify`) is not a dependency of distillery: without it the
bench prints distillery's figures and says so.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from curate.verify import verify_batch
from curate.verify.pool import JudgePool

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "data" / "verify_cases.jsonl"
MATH500 = ROOT.parent / "shared" / "data" / "benchmarks" / "math500.jsonl"


def load_cases() -> list[dict]:
    return [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line.strip()]


def math500_pairs() -> list[dict]:
    rows = [json.loads(line) for line in MATH500.read_text(encoding="utf-8").splitlines()]
    answers = [r["answer"] for r in rows]
    shifted = answers[1:] + answers[:1]
    return ([{"gold": r["answer"], "pred": r["solution"], "correct": True} for r in rows]
            + [{"gold": g, "pred": f"The answer is $\\boxed{{{p}}}$.", "correct": g == p}
               for g, p in zip(answers, shifted)])


def run_distillery(cases: list[dict], workers: int | None) -> tuple[list[bool], float, float]:
    start = time.perf_counter()
    with JudgePool(workers, timeout=5.0) as pool:
        pool.wait_ready()
        started = time.perf_counter()
        verdicts = verify_batch([c["gold"] for c in cases], [c["pred"] for c in cases], pool=pool)
        seconds = time.perf_counter() - started
    return [v.correct for v in verdicts], seconds, started - start


def run_math_verify(cases: list[dict]) -> tuple[list[bool], float] | None:
    try:
        from math_verify import parse, verify
    except ImportError:
        return None
    parse("\\boxed{1}")  # import-time work out of the clock
    start = time.perf_counter()
    out = []
    for c in cases:
        try:
            gold = parse(f"\\boxed{{{c['gold']}}}")
            # A bare answer needs math delimiters before Math-Verify extracts it: it gets both
            # readings, and is right when either is.
            out.append(bool(verify(gold, parse(c["pred"]))) or bool(verify(gold, parse(f"${c['pred']}$"))))
        except Exception:  # a crash is a "not correct" verdict, as in open-r1's reward
            out.append(False)
    return out, time.perf_counter() - start


def agreement(verdicts: list[bool], cases: list[dict]) -> float:
    return sum(v == c["correct"] for v, c in zip(verdicts, cases)) / len(cases)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=None, help="distillery worker processes (default: cores)")
    ap.add_argument("--math500", action="store_true", help="add MATH-500 pairs to the throughput run")
    args = ap.parse_args()
    cases = load_cases()
    timed = cases + (math500_pairs() if args.math500 and MATH500.exists() else [])

    ours, seconds, startup = run_distillery(timed, args.workers)
    ours_rate = len(timed) / seconds
    ours_agree = agreement(ours[:len(cases)], cases)
    print(f"pairs: {len(cases)} labelled, {len(timed)} timed")
    print(f"distillery   agreement {ours_agree:7.1%}   {ours_rate:8.1f} pairs/s   "
          f"(pool start {startup:.2f} s; with it {len(timed) / (seconds + startup):.1f} pairs/s)")
    theirs = run_math_verify(timed)
    if theirs is None:
        print("Math-Verify is not installed (pip install math-verify): no comparison")
        return
    mv, mv_seconds = theirs
    mv_rate = len(timed) / mv_seconds
    mv_agree = agreement(mv[:len(cases)], cases)
    print(f"Math-Verify  agreement {mv_agree:7.1%}   {mv_rate:8.1f} pairs/s")
    print(f"ratio        agreement {ours_agree / max(mv_agree, 1e-9):7.2f}x  throughput {ours_rate / mv_rate:.2f}x "
          f"(with pool start {len(timed) / (seconds + startup) / mv_rate:.2f}x)")
    disagree = [c for c, o, m in zip(cases, ours, mv) if o != m]
    for c in disagree:
        print(f"  label={c['correct']!s:5} kind={c['kind']:24} gold={c['gold']!r}  pred={c['pred'][:60]!r}")


if __name__ == "__main__":
    main()
