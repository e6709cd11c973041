"""Shared fixtures: small trace tables built here, by hand, with known defects."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pytest

from curate import schema, store

# Tests never touch the network: hub lookups fail at once instead of retrying for minutes.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

# The real benchmark files (MATH-500, AIME, AMC, GSM8K, MATH): $DISTILLERY_BENCHMARKS as the session
# started (CI sets it), else the repository's sibling ../shared/data/benchmarks where it exists. Only
# the checks on those files use them (`needs_real_benchmarks`); every other test builds its own.
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
BENCHMARKS = Path(os.environ.get("DISTILLERY_BENCHMARKS") or SHARED / "benchmarks")
needs_real_benchmarks = pytest.mark.skipif(
    not (BENCHMARKS / "math500.jsonl").is_file(),
    reason=f"the real benchmark files are not here ({BENCHMARKS}): set DISTILLERY_BENCHMARKS to their folder")


@pytest.fixture(autouse=True)
def _benchmarks_of_the_test(monkeypatch, tmp_path_factory):
    """Named benchmarks resolve only where a test puts them: no $DISTILLERY_BENCHMARKS, an empty
    user cache (XDG_CACHE_HOME), the hub offline."""
    monkeypatch.delenv("DISTILLERY_BENCHMARKS", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))


@pytest.fixture
def bench_folder(tmp_path, monkeypatch) -> Path:
    """A tiny benchmark folder ($DISTILLERY_BENCHMARKS points at it): math500 and aime24 in the
    registry's file names, three problems each, with id, problem and answer."""
    folder = tmp_path / "benchmarks"
    folder.mkdir()
    rows = {"math500.jsonl": [("test/algebra/1.json", "Find the positive value of x that satisfies the "
                                                       "equation x squared minus nine equals zero.", "3"),
                              ("test/geometry/2.json", "A square has a diagonal of length ten; what is the "
                                                        "area of the square in square units?", "50"),
                              ("test/number_theory/3.json", "What is the remainder when two raised to the power "
                                                             "of ten is divided by seven, the number of days "
                                                             "in one week?", "2")],
            "aime24.jsonl": [("60", "Let N be the greatest four digit positive integer with the property "
                                    "that changing any digit to one gives a multiple of seven.", "699"),
                             ("61", "Find the number of rectangles that can be formed inside a fixed regular "
                                    "dodecagon where each side lies on a side or diagonal.", "315"),
                             ("62", "Real numbers x and y greater than one satisfy two logarithm equations; "
                                    "find the product of x and y.", "25")]}
    for name, items in rows.items():
        (folder / name).write_text("".join(json.dumps({"id": i, "problem": p, "answer": a}) + "\n"
                                           for i, p, a in items))
    monkeypatch.setenv("DISTILLERY_BENCHMARKS", str(folder))
    return folder


def trace_rows() -> list[dict]:
    """Twelve rows over five problems with every defect the foundation stages look at."""
    def row(problem, thinking, response, gold="4", sample_idx=0, finish="stop", **meta):
        return {"source": "hand", "problem": problem, "gold": gold, "thinking": thinking,
                "response": response, "teacher": "hand-teacher", "sample_idx": sample_idx,
                "finish_reason": finish, "meta": json.dumps(meta, sort_keys=True)}

    p1 = "What is 2 + 2?"
    p2 = "Compute 3 * 5."
    p3 = "Solve x + 1 = 5 for x."
    long = "First, add the numbers carefully. " * 6
    return [
        row(p1, long + "2 + 2 = 4.", "The sum is \\boxed{4}."),
        row(p1, long + "Two plus two is 4. Wait, check: yes.", "\\boxed{4}", sample_idx=1),
        row(p1, long + "2 + 2 = 5?", "\\boxed{5}", sample_idx=2, wrong=True),
        row("what is 2 + 2", long + "It is 4.", "\\boxed{4}", dup=True),  # exact dup after normalising
        row(p2, long + "3 * 5 = 15.", "\\boxed{15}", gold="15"),
        row(p2, long + "3 * 5 = 15, so", "", gold="15", sample_idx=1, finish="length"),  # truncated
        row(p3, long + "x = 4.", "So x = 4.", sample_idx=0),  # no boxed
        row(p3, long + "x = 5 - 1 = 4.", "\\boxed{4}", sample_idx=1),
        row(p3, "x=4", "\\boxed{4}", sample_idx=2),  # thinking too short
        row("Find 10 / 2.", long + "10 / 2 = 5.", "\\boxed{5}", gold="5"),
        row("Find 10 / 2.", long + "Half of ten: 5.", "\\fbox{5}", gold="5", sample_idx=1),
        row("Evaluate 7 - 3.", long + "<think> 7 - 3 = 4.", "\\boxed{4}"),  # stray think tag
    ]


def trace_table(rows: list[dict] | None = None) -> pa.Table:
    return schema.conform(schema.with_ids(pa.Table.from_pylist(rows or trace_rows())), "fixture")


@pytest.fixture
def traces_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "traces"
    store.save_traces(trace_table(), folder, prefix="hand")
    return folder


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    from curate.cli import main

    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err
