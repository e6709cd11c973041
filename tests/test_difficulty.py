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


def traces(tmp_path, attempts=True, keep_idx=None):
    folder = tmp_path / "traces"
    rows = [{"source": "t", "problem": f"Problem {p}", "gold": g, "thinking": "long thinking", "response": f"\\boxed{{{g}}}",
             "teacher": "T", "sample_idx": 0, "finish_reason": "stop", "meta": "{}"} for p, g in PROBLEMS.items()]
    table = schema.conform(schema.with_ids(pa.Table.from_pylist(rows)), "t")
    store.save_traces(table, folder, prefix="t")
    if attempts:
        rows = [r for r in attempt_rows() if keep_idx is None or r["sample_idx"] in keep_idx]
        store.save_traces(schema.conform(schema.with_ids(pa.Table.from_pylist(rows)), "a"),
                          folder / "attempts", prefix="a")
    return folder, pl.from_arrow(table)


def run_diff(tmp_path, attempts=True, attempts_file_rows=None, **cfg):
    folder, frame = traces(tmp_path, attempts, attempts_file_rows)
    cls = get("difficulty")
    config = cls.Config(workers=1, **cfg)
    ctx = StageContext(seed=0, input_path=folder, on_missing=config.on_missing)  # as the runner does
    out = cls(config).run(frame, ctx)
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
    assert out["drop_reason"].to_list() == ["pass rate outside (0.1, 0.9)", None, None, "no graded attempts"]
    # LIMO's "1..2 of 4": P1 (0 of 4) too hard, P2 (1 of 4) kept, P3 (3 of 4) too easy.
    out, _ = run_diff(tmp_path, mode="limo", min_solved=1, max_solved=2, of=4)
    assert out["drop_reason"].is_null().to_list() == [False, True, False, True]
    assert out["drop_reason"][0] == "solved in fewer than 1 of 4+ attempts"
    assert out["drop_reason"][2] == "solved in more than 2 of 4 attempts"


def test_limo_with_one_attempt_keeps_the_unsolved_not_the_solved(tmp_path):
    # One student attempt per problem (student l's first): a solved problem is not hard.
    out, _ = run_diff(tmp_path, mode="limo", students=["l"], attempts_file_rows=[2])
    by = dict(zip(out["problem"], out["drop_reason"]))
    assert out["attempts"].to_list() == [1, 1, 1, 0]
    assert by["Problem P3"] == "solved in more than 3 of 32 attempts"  # solved its one attempt
    assert by["Problem P1"] is None and by["Problem P2"] is None  # unsolved: hard, kept


def test_students_filter_and_meta_grading(tmp_path):
    out, _ = run_diff(tmp_path, mode="s1", students=["l"])
    assert out["attempts"].to_list() == [2, 2, 2, 0] and out["solved"].to_list() == [0, 0, 1, 0]
    verified, _ = run_diff(tmp_path / "v", mode="s1")
    meta, _ = run_diff(tmp_path / "m", mode="s1", grade="meta")
    assert verified["solved"].to_list() == meta["solved"].to_list()


def test_missing_attempts_says_so(tmp_path):
    out, ctx = run_diff(tmp_path, attempts=False, mode="s1", attempts_from="students")
    assert out["drop_reason"].null_count() == 4 and ctx.stats["problems_without_attempts"] == 4
    assert len(ctx.warnings) == 1 and "no student attempts in" in ctx.warnings[0]
    with pytest.raises(BadInput, match="have no graded attempts"):
        run_diff(tmp_path / "x", attempts=False, mode="s1", missing="error", attempts_from="students")
    with pytest.raises(BadInput, match=r"stage: no student attempts .* \(on_missing: error\)"):
        run_diff(tmp_path / "y", attempts=False, mode="s1", attempts_from="students", on_missing="error")
    _, ctx = run_diff(tmp_path / "z", attempts=False, mode="s1", attempts_from="students", on_missing="skip")
    assert ctx.warnings == [] and len(ctx.skipped) == 1


def sample_rows():
    """Three teachers on three problems: Q1 solved by 1 of 3 samples, Q2 by 3 of 3, Q3 has no gold."""
    rows = []
    for p, gold, answers in (("Q1", "2", ["2", "9", "9"]), ("Q2", "3", ["3", "3", "3"]), ("Q3", None, ["1", "1", "1"])):
        for i, a in enumerate(answers):
            rows.append({"source": "t", "problem": f"Problem {p}", "gold": gold, "thinking": "t" * 10,
                         "response": f"\\boxed{{{a}}}", "teacher": f"T{i}", "sample_idx": 0,
                         "finish_reason": "stop", "meta": "{}"})
    return rows


def test_teachers_samples_are_the_attempts_when_no_student_made_any(tmp_path):
    folder = tmp_path / "traces"
    table = schema.conform(schema.with_ids(pa.Table.from_pylist(sample_rows())), "t")
    store.save_traces(table, folder, prefix="t")
    frame = pl.from_arrow(table)
    # An earlier stage kept only the first teacher's rows: the pass rate is still over all samples.
    frame = frame.filter(pl.col("teacher") == "T0")
    cls = get("difficulty")
    ctx = StageContext(seed=0, input_path=folder)
    out = cls(cls.Config(workers=1, mode="window", lo=0.0, hi=1.0)).run(frame, ctx)
    out = out.join(frame.select("trace_id", "problem"), on="trace_id").sort("problem")
    assert out["attempts_from"].unique().to_list() == ["samples"]
    assert out["attempts"].to_list() == [3, 3, 0] and out["solved"].to_list() == [1, 3, 0]
    assert out["pass_rate"].to_list()[:2] == [1 / 3, 1.0] and out["pass_rate"][2] is None
    assert out["solved_by"].to_list() == ["T0", "T0,T1,T2", None]
    # Both things said: no student attempts, and a problem whose samples cannot be graded (no gold).
    assert len(ctx.warnings) == 2 and "teachers' own samples" in ctx.warnings[0]
    assert "1 of 3 problems have no gradable attempt" in ctx.warnings[1]
    # s1 mode does not fall back: a teacher solves every problem whose trace it kept.
    cls = get("difficulty")
    ctx = StageContext(seed=0, input_path=folder)
    out = cls(cls.Config(workers=1, mode="s1")).run(frame, ctx)
    assert out["attempts_from"].unique().to_list() == ["students"] and out["drop_reason"].null_count() == 3
    assert ctx.warnings == ["no student attempts in " + str(folder / "attempts")
                            + " for these 3 problems: no pass rate, every problem passes (missing: keep)"]


def test_bad_values():
    with pytest.raises(ValueError, match="lo < hi"):
        get("difficulty").Config(mode="window", lo=0.9, hi=0.1)
    with pytest.raises(ValueError):
        get("difficulty").Config(mode="nope")


def test_limo_on_teachers_samples_judges_each_trace_by_the_other_samples(tmp_path):
    # H: 1 of 5 samples correct (hard: the others never solve it); E: 3 of 5 (easy); S: one sample.
    rows = []
    for p, answers in (("H", ["2", "9", "9", "9", "9"]), ("E", ["2", "2", "2", "9", "9"]), ("S", ["2"])):
        for i, a in enumerate(answers):
            rows.append({"source": "t", "problem": f"Problem {p}", "gold": "2", "thinking": "t" * 10,
                         "response": f"\\boxed{{{a}}}", "teacher": f"T{i}", "sample_idx": 0,
                         "finish_reason": "stop", "meta": "{}"})
    folder = tmp_path / "traces"
    table = schema.conform(schema.with_ids(pa.Table.from_pylist(rows)), "t")
    store.save_traces(table, folder, prefix="t")
    frame = pl.from_arrow(table).filter(pl.col("response") == "\\boxed{2}")  # a verify filter kept these
    cls = get("difficulty")
    ctx = StageContext(seed=0, input_path=folder)
    out = cls(cls.Config(workers=1, mode="limo", missing="drop")).run(frame, ctx)
    out = out.join(frame.select("trace_id", "problem"), on="trace_id")
    by = out.group_by("problem").agg(pl.col("drop_reason").first(), pl.col("pass_rate").first()).sort("problem")
    assert by["problem"].to_list() == ["Problem E", "Problem H", "Problem S"]
    assert by["pass_rate"].to_list() == [0.6, 0.2, 1.0]  # over all the problem's samples, as the column says
    assert by["drop_reason"].to_list() == ["solved in more than 3 of 32 attempts", None, "no graded attempts"]


def test_one_sample_per_problem_is_announced(tmp_path):
    folder, frame = traces(tmp_path, attempts=False)
    cls = get("difficulty")
    ctx = StageContext(seed=0, input_path=folder)
    cls(cls.Config(workers=1, mode="window")).run(frame, ctx)
    assert any("every problem has one sample" in w for w in ctx.warnings)


def test_partitions_planned_over_the_whole_table_give_its_result(tmp_path):
    # Students attempted P1-P3, not P4. Split the problems in two parts as an engine does: the part
    # holding only P4 would fall back to its own samples under `auto`; planned over the whole table
    # (plan_parts) it uses the students' too, and the parts' counts make the whole table's summary.
    from curate.difficulty import pass_rates, plan_parts, summary
    from curate.engines.ray_data import merge_stats

    folder, frame = traces(tmp_path)
    cfg = {"mode": "window", "lo": 0.1, "hi": 0.9, "workers": 1}
    whole = pass_rates(frame, folder, **cfg)
    update = plan_parts(frame["problem_id"], folder)
    assert update == {"attempts_from": "students"}
    p4 = pl.col("problem") == "Problem P4"
    assert plan_parts(frame.filter(p4)["problem_id"], folder) == {}  # none: auto stays
    assert plan_parts(frame["problem_id"], folder, students=["nobody"]) == {}
    assert plan_parts(frame["problem_id"], folder, attempts_from="samples", missing="error") == {"missing": "keep"}
    alone = pass_rates(frame.filter(p4), folder, **cfg)
    assert alone.stats["attempts_from"] == "samples"  # what an unplanned part would do
    parts = [pass_rates(frame.filter(~p4), folder, **cfg, **update),
             pass_rates(frame.filter(p4), folder, **cfg, **update)]
    columns = pl.concat([p.columns for p in parts]).sort("trace_id")
    assert columns.equals(whole.columns.sort("trace_id"))
    merged = summary(merge_stats([p.counts for p in parts]), merge_stats([p.stats for p in parts]))
    assert merged.stats == whole.stats and merged.warnings == whole.warnings == [
        "1 of 4 problems have no gradable attempt (students; no gold answer or no attempt): no pass rate, "
        "missing: keep"]
    # Parts that did fall back where others had students: an engine that skipped the plan, refused.
    counts = merge_stats([alone.counts, parts[0].counts])
    with pytest.raises(RuntimeError, match="plan_parts"):
        summary(counts, merge_stats([alone.stats, parts[0].stats]))


def test_missing_error_counts_the_whole_table_and_names_its_smallest_problem(tmp_path):
    from curate.difficulty import pass_rates, summary
    from curate.engines.ray_data import merge_stats

    folder, frame = traces(tmp_path, attempts=False)
    frame = pl.concat([frame, frame.with_columns(pl.col("trace_id") + "-2")])  # two rows per problem
    ids = frame["problem_id"].unique().sort().to_list()
    without = ids[:2]  # the two smallest problem ids have no attempt; their rows come last
    frame = frame.sort(pl.col("problem_id").is_in(without), maintain_order=True)
    tried = frame.filter(~pl.col("problem_id").is_in(without)).unique("problem_id").select("problem", "gold")
    attempts = [{"source": "t", "problem": p, "gold": g, "thinking": "try", "response": "\\boxed{99}",
                 "teacher": "s", "sample_idx": 0, "finish_reason": "stop", "meta": "{}"} for p, g in tried.iter_rows()]
    store.save_traces(schema.conform(schema.with_ids(pa.Table.from_pylist(attempts)), "a"), folder / "attempts",
                      prefix="a")
    cfg = {"mode": "s1", "attempts_from": "students", "workers": 1}
    expected = f"4 row(s) have no graded attempts (students) (e.g. problem_id {ids[0]})"
    for rows in (frame, frame.reverse()):
        with pytest.raises(BadInput) as err:
            pass_rates(rows, folder, missing="error", **cfg)
        assert str(err.value) == expected
    # Run in parts with the error deferred (`missing: keep`), the summary raises the same line.
    parts = [pass_rates(frame.filter(pl.col("problem_id").is_in(half)), folder, missing="keep", **cfg)
             for half in (ids[1::2], ids[0::2])]
    with pytest.raises(BadInput) as err:
        summary(merge_stats([p.counts for p in parts]), merge_stats([p.stats for p in parts]), "error")
    assert str(err.value) == expected


def test_samples_read_by_the_caller_are_the_ones_graded(tmp_path):
    # An engine reads the input's samples once and hands each part its problems' rows (`samples`):
    # the library grades those (here only T0's and T1's), and reads the input itself without them.
    from curate.difficulty import SAMPLE_COLUMNS, pass_rates

    folder = tmp_path / "traces"
    table = schema.conform(schema.with_ids(pa.Table.from_pylist(sample_rows())), "t")
    store.save_traces(table, folder, prefix="t")
    frame = pl.from_arrow(table).filter(pl.col("teacher") == "T0")
    cfg = {"mode": "window", "lo": 0.0, "hi": 1.0, "attempts_from": "samples", "workers": 1}
    read = pass_rates(frame, folder, **cfg)
    given = pl.from_arrow(table).select(SAMPLE_COLUMNS).filter(pl.col("teacher") != "T2")
    handed = pass_rates(frame, folder, samples=given, **cfg)
    assert read.stats["attempt_rows"] == 6 and handed.stats["attempt_rows"] == 4
    assert pass_rates(frame, folder, samples=pl.from_arrow(table).select(SAMPLE_COLUMNS), **cfg).columns.equals(
        read.columns)


def test_attempts_are_read_shard_by_shard_for_the_problems_asked(tmp_path):
    # A part of the table (a partition of problems) keeps only its problems' attempts, shard by
    # shard; a bad shard is the same first error as reading the whole folder.
    from curate.difficulty import load_attempts

    rows = attempt_rows()
    folder = tmp_path / "attempts"
    store.save_traces(schema.conform(schema.with_ids(pa.Table.from_pylist(rows)), "a"), folder, prefix="a",
                      rows_per_shard=5)
    assert len(store.parquet_files(folder)) == 3
    every = load_attempts(folder, None)
    ids = every["problem_id"].unique(maintain_order=True)
    assert every.height == len(rows)
    part = load_attempts(folder, ["s"], ids.head(2))
    want = every.filter(pl.col("problem_id").is_in(ids.head(2).implode()) & (pl.col("teacher") == "s"))
    assert part.equals(want) and 0 < part.height < every.height
    assert load_attempts(folder, None, ids.head(0)).height == 0
    second = store.parquet_files(folder)[1]
    import pyarrow.parquet as pq

    pq.write_table(pq.read_table(second).drop(["gold"]), second)
    with pytest.raises(BadInput) as whole:
        store.load_traces(folder, check_ids=False)
    with pytest.raises(BadInput) as asked:
        load_attempts(folder, None, ids.head(1))
    assert str(asked.value) == str(whole.value) and second.name in str(asked.value)
