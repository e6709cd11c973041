"""Benchmark: distillery's verifier against Math-Verify on the same labelled pairs, in one run.

    python bench/verify.py [--workers N] [--math500] [--misses N] [--repeat N]

Sets (each one judged by both, in this process's run):
  labelled  tests/data/verify_labelled.jsonl: long model outputs, one category per failure pattern
            of issue 13, half right answers and half near-misses (tests/data/make_verify_labelled.py);
  held out  tests/data/verify_heldout.jsonl: 322 hand-written pairs in other wordings, written after
            the verifier was tuned on the labelled set (tests/data/make_verify_heldout.py);
  cases     tests/data/verify_cases.jsonl: the older, short cases written next to the parser;
  math500   with --math500: MATH-500 reference solutions against their own answers, and against
            the next problem's answer (throughput, and how often the two verifiers agree; these
            pairs have no hand labels). Read from $DISTILLERY_BENCHMARKS/math500.jsonl.

Printed per set and per category: agreement with the labels, false accepts (a wrong answer called
correct), false rejects (a right answer called anything else), and items/s. distillery runs
`verify_batch` on a started worker pool: its rate is given with the pool's start excluded and
included. Math-Verify is used as documented (its README and `parse`/`verify` docstrings): a bare
gold is wrapped in `$…$` and parsed with the default extraction config, a gold that is a worked
solution (it has a `\\boxed{}`) is parsed as it is; the output is `parse`d as it is, and when
that is not verified and the output is a bare one-line answer (no `$`, `\\(`, `\\[` or box, as in the
older cases), once more wrapped in `$…$` (the benefit of the doubt goes to Math-Verify); then
`verify(gold, answer)`, in the main thread so its own timeouts work (wrapping a bare gold in
`\\boxed{…}` instead of `$…$` gives Math-Verify the same figures on the labelled set). A crash
counts as "not correct", as in open-r1's reward. Math-Verify (`pip install math-verify`, 0.9.0
here) is not a dependency of distillery: without it the bench prints distillery's figures and
says so. Timings are wall-clock on a shared machine: compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections import defaultdict
from pathlib import Path

from curate.verify import verify_batch
from curate.verify.pool import JudgePool

ROOT = Path(__file__).resolve().parents[1]
LABELLED = ROOT / "tests" / "data" / "verify_labelled.jsonl"
CASES = ROOT / "tests" / "data" / "verify_cases.jsonl"
HELDOUT = ROOT / "tests" / "data" / "verify_heldout.jsonl"


def load(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for r in rows:  # the older set names its kinds "extract/boxed"; its category is the first part
        r.setdefault("category", r.get("kind", "?").split("/")[0])
    return rows


def math500_pairs() -> list[dict] | None:
    folder = os.environ.get("DISTILLERY_BENCHMARKS")
    if not folder or not (Path(folder) / "math500.jsonl").exists():
        return None
    rows = load(Path(folder) / "math500.jsonl")
    answers = [r["answer"] for r in rows]
    shifted = answers[1:] + answers[:1]
    return ([{"category": "solution", "gold": r["answer"], "pred": r["solution"]} for r in rows]
            + [{"category": "shifted", "gold": g, "pred": f"The answer is $\\boxed{{{p}}}$."}
               for g, p in zip(answers, shifted)])


def run_distillery(cases: list[dict], workers: int | None) -> tuple[list, float, float]:
    """Verdicts, seconds judging (pool started), seconds starting the pool."""
    start = time.perf_counter()
    with JudgePool(workers, timeout=5.0) as pool:
        pool.wait_ready()
        started = time.perf_counter()
        verdicts = verify_batch([c["gold"] for c in cases], [c["pred"] for c in cases], pool=pool)
        seconds = time.perf_counter() - started
    return verdicts, seconds, started - start


def math_verify():
    try:
        from math_verify import parse, verify
    except ImportError:
        return None
    return parse, verify


def run_math_verify(cases: list[dict], mv) -> tuple[list[bool], float]:
    parse, verify = mv
    parse("$1$")  # import-time work out of the clock
    out = []
    start = time.perf_counter()
    for c in cases:
        try:
            gold_text = c["gold"] if "\\boxed" in c["gold"] else f"${c['gold']}$"
            gold = parse(gold_text)
            ok = bool(verify(gold, parse(c["pred"])))
            if not ok and _bare(c["pred"]):  # a bare answer, wrapped as for the gold
                ok = bool(verify(gold, parse(f"${c['pred']}$")))
            out.append(ok)
        except Exception:  # a crash is a "not correct" verdict, as in open-r1's reward
            out.append(False)
    return out, time.perf_counter() - start


def _bare(text: str) -> bool:
    """One line with no math delimiters or box: Math-Verify's users wrap such an answer in `$…$`."""
    return "\n" not in text and not any(d in text for d in ("$", "\\(", "\\[", "\\boxed"))


def scores(verdicts: list[bool], cases: list[dict]) -> dict:
    n = len(cases)
    agree = sum(v == c["correct"] for v, c in zip(verdicts, cases))
    fa = sum(v and not c["correct"] for v, c in zip(verdicts, cases))
    fr = sum(c["correct"] and not v for v, c in zip(verdicts, cases))
    return {"n": n, "agree": agree / n if n else 0.0, "fa": fa, "fr": fr}


def report(name: str, cases: list[dict], ours: list, ours_s: float, startup: float, mv_result,
           misses: int) -> None:
    n = len(cases)
    ours_ok = [v.correct for v in ours]
    labelled = all("correct" in c for c in cases)
    print(f"\n== {name}: {n} pairs ==")
    ours_rate, ours_rate_all = n / ours_s, n / (ours_s + startup)
    if labelled:
        s = scores(ours_ok, cases)
        print(f"distillery   agreement {s['agree']:6.1%}  false accepts {s['fa']:4}  "
              f"false rejects {s['fr']:4}  {ours_rate:8.1f} items/s  "
              f"(pool start {startup:.2f} s excluded; {ours_rate_all:.1f} items/s included)")
    else:
        print(f"distillery   {sum(ours_ok):4} correct  {ours_rate:8.1f} items/s  "
              f"(pool start {startup:.2f} s excluded; {ours_rate_all:.1f} items/s included)")
    if mv_result is None:
        print("Math-Verify  not installed (pip install math-verify; not a distillery dependency): "
              "no comparison")
        mv_ok = None
    else:
        mv_ok, mv_s = mv_result
        mv_rate = n / mv_s
        if labelled:
            m = scores(mv_ok, cases)
            print(f"Math-Verify  agreement {m['agree']:6.1%}  false accepts {m['fa']:4}  "
                  f"false rejects {m['fr']:4}  {mv_rate:8.1f} items/s")
        else:
            same = sum(a == b for a, b in zip(ours_ok, mv_ok)) / n
            print(f"Math-Verify  {sum(mv_ok):4} correct  {mv_rate:8.1f} items/s   "
                  f"(same verdict as distillery on {same:.1%})")
        print(f"ratio        throughput {ours_rate / mv_rate:6.2f}x with the pool started, "
              f"{ours_rate_all / mv_rate:.2f}x with its start included")
    if not labelled:
        return
    by_cat: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(cases):
        by_cat[c["category"]].append(i)
    head = f"  {'category':30} {'n':>4}  {'distillery':>10} {'FA':>3} {'FR':>3}"
    print(head + (f"  {'Math-Verify':>11} {'FA':>3} {'FR':>3}" if mv_ok is not None else ""))
    for cat, idx in by_cat.items():
        sub = [cases[i] for i in idx]
        s = scores([ours_ok[i] for i in idx], sub)
        line = f"  {cat:30} {s['n']:4}  {s['agree']:10.1%} {s['fa']:3} {s['fr']:3}"
        if mv_ok is not None:
            m = scores([mv_ok[i] for i in idx], sub)
            line += f"  {m['agree']:11.1%} {m['fa']:3} {m['fr']:3}"
        print(line)
    wrong = [(c, v) for c, v in zip(cases, ours) if v.correct != c["correct"]]
    for c, v in wrong[:misses]:
        print(f"  miss [{c['category']}] label={c['correct']!s:5} {v.verdict} ({v.reason}): "
              f"gold={c['gold'][:50]!r} answer={str(v.pred_answer)[:60]!r}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=None, help="distillery worker processes (default: cores)")
    ap.add_argument("--math500", action="store_true", help="add MATH-500 pairs (needs DISTILLERY_BENCHMARKS)")
    ap.add_argument("--misses", type=int, default=0,
                    help="print up to N of distillery's disagreements per set")
    ap.add_argument("--repeat", type=int, default=1,
                    help="time each verifier N times per set (distillery with a new pool each time) "
                         "and report the median: the machine may be shared")
    args = ap.parse_args()
    sets = [("labelled (tests/data/verify_labelled.jsonl)", load(LABELLED)),
            ("held out (tests/data/verify_heldout.jsonl)", load(HELDOUT)),
            ("cases (tests/data/verify_cases.jsonl)", load(CASES))]
    if args.math500:
        pairs = math500_pairs()
        if pairs is None:
            print("--math500: DISTILLERY_BENCHMARKS is not set or has no math500.jsonl; skipped")
        else:
            sets.append(("math500 (unlabelled)", pairs))
    mv = math_verify()
    repeat = max(1, args.repeat)
    for name, cases in sets:
        runs = [run_distillery(cases, args.workers) for _ in range(repeat)]
        ours = runs[0][0]
        seconds, startup = statistics.median(r[1] for r in runs), statistics.median(r[2] for r in runs)
        theirs = None
        if mv:
            mv_runs = [run_math_verify(cases, mv) for _ in range(repeat)]
            theirs = (mv_runs[0][0], statistics.median(r[1] for r in mv_runs))
        report(name, cases, ours, seconds, startup, theirs, args.misses)


if __name__ == "__main__":
    main()
