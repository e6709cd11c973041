"""difficulty: pass rates from student attempts (verified), and the s1 / window / limo filters."""

import json

import polars as pl
import pyarrow as pa
import pytest

from curate import schema, store
from curate.errors import BadInput
from curate.stages import StageContext, get

PROBLEMS = {"P1": "2", "P2": "3", "P3": "5", "P4": "7"}


def attempt_rows():
    # P1: 0 of 4 solved; P2: 1 of 4; P3: 3 of 4; P4: no attempts. Students s and l.
    solved = {"P1": [0, 0, 0, 0], "P2": [0, 1, 0, 0], "P3": [1, 1, 1, 0]}
    rows = []
    for p, marks in solved.items():
        for i, ok in enumerate(marks):
            gold = PROBLEMS[p]
            answer = gold if ok else "99"
            rows.append({"source": "t", "problem": f"Problem {p}", "gold": gold, "thinking": "try",
                         "response": f"\\boxed{{{answer}}}", "teacher": "s" if i < 2 else "l",
                         "sample_idx": i, "finish_reason": "stop", "meta": json.dumps({"correct": bool(ok)})})
    return rows


def traces(tmp_path, attempts=True):
    folder = tmp_path / "traces"
    rows = [{"source": "t", "problem": f"Problem {p}", "gold": g, "thinking": "long thinking", "response": f"\\boxed{{{g}}}",
             "teacher": "T", "sample_idx": 0, "finish_reason": "stop", "meta": "{}"} for p, g in PROBLEMS.items()]
    table = schema.conform(schema.with_ids(pa.Table.from_pylist(rows)), "t")
    store.save_traces(table, folder, prefix="t")
    if attempts:
        store.save_traces(schema.conform(schema.with_ids(pa.Table.from_pylist(attempt_rows())), "a"),
                          folder / "attempts", prefix="a")
    return folder, pl.from_arrow(table)


def run_diff(tmp_path, attempts=True, **cfg):
    folder, frame = traces(tmp_path, attempts)
    cls = get("difficulty")
    ctx = StageContext(seed=0, input_path=folder)
    out = cls(cls.Config(workers=1, **cfg)).run(frame, ctx)
    return out.join(frame.select("trace_id", "problem"), on="trace_id").sort("problem"), ctx


def test_columns_and_s1_mode(tmp_path):
    out, ctx = run_diff(tmp_path, mode="s1")
    assert out["attempts"].to_list() == [4, 4, 4, 0]
    assert out["solved"].to_list() == [0, 1, 3, 0]
    assert out["pass_rate"].to_list() == [0.0, 0.25, 0.75, None]
    assert out["solved_by"].to_list() == [None, "s", "l,s", None]
    assert out["drop_reason"].to_list() == [None, "solved by a student model (s)",
                                            "solved by a student model (l,s)", None]
    assert ctx.stats["problems_without_attempts"] == 1 and ctx.stats["attempt_rows"] == 12


def test_window_and_limo(tmp_path):
    out, _ = run_diff(tmp_path, mode="window", lo=0.1, hi=0.9, missing="drop")
    assert out["drop_reason"].to_list() == ["pass rate outside (0.1, 0.9)", None, None, "no student attempts"]
    out, _ = run_diff(tmp_path, mode="limo", min_solved=1, max_solved=2)
    assert out["drop_reason"].is_null().to_list() == [False, True, False, True]


def test_students_filter_and_meta_grading(tmp_path):
    out, _ = run_diff(tmp_path, mode="s1", students=["l"])
    assert out["attempts"].to_list() == [2, 2, 2, 0] and out["solved"].to_list() == [0, 0, 1, 0]
    verified, _ = run_diff(tmp_path / "v", mode="s1")
    meta, _ = run_diff(tmp_path / "m", mode="s1", grade="meta")
    assert verified["solved"].to_list() == meta["solved"].to_list()


def test_missing_attempts(tmp_path):
    out, ctx = run_diff(tmp_path, attempts=False, mode="s1")
    assert out["drop_reason"].null_count() == 4 and ctx.stats["problems_without_attempts"] == 4
    with pytest.raises(BadInput, match="have no student attempts"):
        run_diff(tmp_path / "x", attempts=False, mode="s1", missing="error")


def test_bad_values():
    with pytest.raises(ValueError, match="lo < hi"):
        get("difficulty").Config(mode="window", lo=0.9, hi=0.1)
    with pytest.raises(ValueError):
        get("difficulty").Config(mode="nope")
