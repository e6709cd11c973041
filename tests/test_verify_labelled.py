"""The verifier against tests/data/verify_labelled.jsonl: long, multilingual, markdown outputs as
teachers write them, one category per failure pattern of issue 13, half right answers and half
near-misses. Regenerate the set with tests/data/make_verify_labelled.py (seeded)."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path

import pytest

from curate.verify import verify_batch

LABELLED = Path(__file__).resolve().parent / "data" / "verify_labelled.jsonl"
MIN_AGREEMENT = 0.97
MIN_PER_CATEGORY = 60
# One per failure pattern of issue 13 ("What goes wrong"); quadratic extraction is in test_verify.py.
CATEGORIES = {"answer_in_prose", "several_boxes", "wrong_span", "non_english", "relations", "unknown_latex",
              "numbers", "sets_tuples", "intervals_inequalities", "gold_from_solution",
              "multiple_choice_text_unicode"}


def _cases() -> list[dict]:
    return [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_labelled_set_is_balanced_and_large_enough():
    cases = _cases()
    assert all({"category", "gold", "pred", "correct"} <= set(c) and isinstance(c["correct"], bool)
               for c in cases)
    counts = Counter((c["category"], c["correct"]) for c in cases)
    assert {c["category"] for c in cases} == CATEGORIES
    for cat in CATEGORIES:
        right, wrong = counts[cat, True], counts[cat, False]
        assert right + wrong >= MIN_PER_CATEGORY, f"{cat}: {right + wrong} cases"
        assert abs(right - wrong) <= 0.1 * (right + wrong), f"{cat}: {right} right vs {wrong} wrong"
    assert len({(c["gold"], c["pred"]) for c in cases}) == len(cases), "duplicate (gold, pred) pairs"


@pytest.mark.slow
def test_agreement_with_labels():
    cases = _cases()
    verdicts = verify_batch([c["gold"] for c in cases], [c["pred"] for c in cases], timeout=5.0)
    per: dict[str, list[int]] = {}
    false_accepts, misses = 0, []
    for case, v in zip(cases, verdicts):
        hit = v.correct == case["correct"]
        per.setdefault(case["category"], [0, 0])
        per[case["category"]][0] += hit
        per[case["category"]][1] += 1
        false_accepts += v.correct and not case["correct"]
        if not hit:
            misses.append(f"  [{case['category']}] label={case['correct']} got {v.verdict} ({v.reason}); "
                          f"gold={case['gold'][:60]!r} answer={v.pred_answer!r}")
    agreement = sum(h for h, _ in per.values()) / len(cases)
    table = "\n".join(f"  {cat:30} {h / n:6.1%}  ({h}/{n})" for cat, (h, n) in sorted(per.items()))
    assert agreement >= MIN_AGREEMENT, (
        f"agreement {agreement:.1%} < {MIN_AGREEMENT:.0%} on {len(cases)} labelled cases "
        f"({false_accepts} false accepts)\nper category:\n{table}\nfirst misses:\n" + "\n".join(misses[:40]))


@pytest.mark.slow
def test_not_worse_than_math_verify():
    """Issue 13's bar: agreement at least Math-Verify's and no more false accepts, on the same
    pairs, Math-Verify used as bench/verify.py uses it (skipped where it is not installed)."""
    pytest.importorskip("math_verify")
    path = Path(__file__).resolve().parents[1] / "bench" / "verify.py"
    spec = importlib.util.spec_from_file_location("bench_verify", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    cases = _cases()
    verdicts = verify_batch([c["gold"] for c in cases], [c["pred"] for c in cases])
    ours = bench.scores([v.correct for v in verdicts], cases)
    theirs = bench.scores(bench.run_math_verify(cases, bench.math_verify())[0], cases)
    assert ours["agree"] >= theirs["agree"] and ours["fa"] <= theirs["fa"], (ours, theirs)
