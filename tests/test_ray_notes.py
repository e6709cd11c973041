"""On the ray engine a batched stage warns about the whole table, as the local engine does, not
about each block or problem partition it ran on (curate.engines.ray_table; Stage.summarize).

The pool is cut so that blocks of 6 rows differ: one block has no gold and no finish_reason is
missing there, another has finish_reason null on every row, one holds only single-sample problems.
One local Ray (2 CPUs) serves the module.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from conftest import run_cli, trace_table
from curate import store

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'distillery[ray]')")

pytestmark = pytest.mark.slow  # every test here starts or uses a local Ray

BLOCK = 6


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, logging_level="ERROR", log_to_driver=False, include_dashboard=False)
    yield ray
    ray.shutdown()


def _row(i: int, p: int, sample: int, gold: bool, finish: str | None, wrong: bool = False) -> dict:
    a, b = 10 * p + 3, 7 + p % 5
    answer = a + b + (1 if wrong else 0)
    return {"source": "hand", "problem": f"Compute {a} + {b}, then say the sum.", "teacher": "hand-teacher",
            "gold": str(a + b) if gold else None, "sample_idx": sample, "finish_reason": finish,
            "thinking": f"Let me add {a} and {b} for sample {sample}. The tens go first, then the units; "
                        f"the total I get is {answer}, and subtracting {b} again gives {answer - b}.",
            "response": f"The sum is \\boxed{{{answer}}}.", "meta": json.dumps({"row": i})}


def pool_rows() -> list[dict]:
    """24 rows in input order, blocks of 6:
    A: two problems of three samples with gold, finish_reason null on every row;
    B: no gold on any row (a filter on gold is NULL on the whole block only), 1-1-2-2 samples;
    C: six single-sample problems with gold (a partition may hold only these);
    D: two problems of two samples, two of one, the last without gold, one finish_reason null."""
    rows = []
    layout = ([(0, s, True, None) for s in range(3)] + [(1, s, True, None) for s in range(3)]
              + [(2, 0, False, "stop"), (3, 0, False, "stop"), (4, 0, False, "stop"), (4, 1, False, "stop"),
                 (5, 0, False, "stop"), (5, 1, False, "stop")]
              + [(p, 0, True, "stop") for p in range(6, 12)]
              + [(12, 0, True, "stop"), (12, 1, True, None), (13, 0, True, "stop"), (13, 1, True, "stop"),
                 (14, 0, True, "stop"), (15, 0, False, "stop")])
    for i, (p, s, gold, finish) in enumerate(layout):
        rows.append(_row(i, p, s, gold, finish, wrong=(i % 4 == 1)))
    return rows


@pytest.fixture
def pool(tmp_path: Path) -> Path:
    folder = tmp_path / "pool"
    store.save_traces(trace_table(pool_rows()), folder, prefix="notes")
    return folder


RECIPE = """\
name: notes
seed: 0
stages:
  - verify: {timeout_s: 5, workers: 1}
  - filter: {drop_where: "gold = 'never'", reason: never}
  - filter: {where: "finish_reason IS NULL OR finish_reason = 'stop'", reason: finished}
  - budget: {tokenizer: "builtin:minilm"}
  - difficulty: {mode: window, lo: 0.1, hi: 0.9, attempts_from: samples, workers: 1}
  - rubric: {rubric: reasoning_quality}
"""


def _notes(run: Path) -> list:
    m = json.loads((run / "manifest.json").read_text())
    return [(s["stage"], s["warnings"], s["skipped"], s["stats"]) for s in m["stages"]], m["warnings"]


def _both(recipe: str, pool: Path, tmp_path: Path, capsys, *extra) -> dict:
    (tmp_path / "r.yaml").write_text(recipe)
    runs = {}
    for engine, flags in (("local", []), ("ray", ["--batch-rows", str(BLOCK)])):
        runs[engine] = run_cli(["curate", tmp_path / "r.yaml", "--input", pool, "--out", tmp_path / engine,
                                "--engine", engine, *flags, *extra], capsys)
    return runs


def test_blocks_that_differ_give_the_local_warnings_and_stats(local_ray, pool, tmp_path, capsys):
    runs = _both(RECIPE, pool, tmp_path, capsys)
    assert runs["local"][0] == 0 and runs["ray"][0] == 0, runs
    local, on_ray = _notes(tmp_path / "local"), _notes(tmp_path / "ray")
    assert on_ray == local
    stages, warnings = local
    by = {label: (w, stats) for label, w, _, stats in stages}
    # what the whole table shows, once: 7 of 24 rows lack gold (a partition's own count is never said)
    assert by["01-verify"][0] == ["7 of 24 rows have no gold answer (verdict no_gold): not graded"]
    assert "problem_pass_rate" not in by["01-verify"][1]  # some problems have several samples
    assert by["02-filter"][0] == [] and by["04-budget"][0] == []  # NULL / null in some blocks only
    assert by["05-difficulty"][0] == ["5 of 16 problems have no gradable attempt (samples; no gold answer or "
                                      "no attempt): no pass rate, missing: keep"]
    assert len(warnings) == 2
    for name in ("traces.parquet", "selected.parquet"):
        assert store.file_hash(tmp_path / "ray" / name) == store.file_hash(tmp_path / "local" / name)
    # stderr says the same warning lines on both engines
    lines = [sorted(line for line in err.splitlines() if "warning" in line) for _, _, err in runs.values()]
    assert lines[0] == lines[1] and len(lines[0]) == 2


def test_a_whole_table_stat_holds_when_every_part_shows_it(local_ray, pool, tmp_path, capsys):
    # One sample of each problem left: the whole table has one sample per problem (verify's stat),
    # as every partition has; one block has no gold, the table has some.
    recipe = RECIPE.replace('  - verify: {timeout_s: 5, workers: 1}\n', '').replace(
        'stages:\n', 'stages:\n  - filter: {where: "sample_idx = 0", reason: later sample}\n'
                      '  - verify: {timeout_s: 5, workers: 1}\n')
    runs = _both(recipe, pool, tmp_path, capsys)
    assert runs["local"][0] == 0 and runs["ray"][0] == 0, runs
    assert _notes(tmp_path / "ray") == _notes(tmp_path / "local")
    by = {label: (w, stats) for label, w, _, stats in _notes(tmp_path / "local")[0]}
    assert by["02-verify"][1]["problem_pass_rate"].startswith("one sample per problem")
    assert by["02-verify"][0] == ["5 of 16 rows have no gold answer (verdict no_gold): not graded"]


ERROR = """\
name: strict
stages:
  - filter: {drop_where: "gold = 'never'", reason: never, on_missing: error}
  - verify: {timeout_s: 5, workers: 1, on_missing: error}
"""


def test_on_missing_error_fails_both_engines_on_the_whole_tables_warning(local_ray, pool, tmp_path, capsys):
    # The filter's predicate is NULL on every row of block B only: no warning, on either engine.
    # verify's "7 of 24 rows have no gold" is the whole table's: the same error line on both.
    runs = _both(ERROR, pool, tmp_path, capsys)
    errors = {engine: err.strip().splitlines()[-1] for engine, (_, _, err) in runs.items()}
    assert runs["local"][0] == 2 and runs["ray"][0] == 2, runs
    assert errors["ray"] == errors["local"]
    assert "02-verify" in errors["local"] and "7 of 24 rows have no gold answer" in errors["local"]
    assert errors["local"].endswith("(on_missing: error)")
    assert not (tmp_path / "ray" / "manifest.json").exists()


def test_on_missing_skip_keeps_the_whole_tables_note_in_the_manifest(local_ray, pool, tmp_path, capsys):
    runs = _both(ERROR.replace("error", "skip"), pool, tmp_path, capsys)
    assert runs["local"][0] == 0 and runs["ray"][0] == 0, runs
    assert _notes(tmp_path / "ray") == _notes(tmp_path / "local")
    stages, warnings = _notes(tmp_path / "ray")
    assert warnings == [] and stages[1][2] == ["7 of 24 rows have no gold answer (verdict no_gold): not graded"]


def _students(tmp_path: Path, problems: list[int]) -> Path:
    """A student's attempts, two per problem (both correct), for the pool's `problems` only."""
    attempts = tmp_path / "attempts"
    rows = [dict(_row(100 + 2 * p + s, p, s, True, "stop"), teacher="student-a") for p in problems for s in range(2)]
    store.save_traces(trace_table(rows), attempts, prefix="att")
    return attempts


def _same_run(tmp_path: Path) -> None:
    assert _notes(tmp_path / "ray") == _notes(tmp_path / "local")
    for name in ("traces.parquet", "selected.parquet"):
        assert store.file_hash(tmp_path / "ray" / name) == store.file_hash(tmp_path / "local" / name)


def test_student_attempts_for_some_partitions_only_give_the_local_pass_rates(local_ray, pool, tmp_path, capsys):
    # attempts_from: auto decides once, over the whole table's problems, before its 4 partitions
    # run: a student attempt exists (problem 0's), so every partition uses the students' and none
    # falls back to its own samples (where the single-sample problems would be solved 1 of 1, and
    # dropped as too easy).
    attempts = _students(tmp_path, [0])
    recipe = f"name: att\nstages:\n  - difficulty: {{mode: window, attempts: '{attempts}', workers: 1}}\n"
    runs = _both(recipe, pool, tmp_path, capsys)
    assert runs["local"][0] == 0 and runs["ray"][0] == 0, runs
    _same_run(tmp_path)
    stages, warnings = _notes(tmp_path / "ray")
    assert warnings == ["01-difficulty: 15 of 16 problems have no gradable attempt (students; "
                        "no gold answer or no attempt): no pass rate, missing: keep"]
    assert stages[0][3]["attempts_from"] == "students" and stages[0][3]["attempt_rows"] == 2
    traces = pl.read_parquet(tmp_path / "ray" / "traces.parquet")
    assert traces["attempts_from"].unique().to_list() == ["students"]
    dropped = traces.filter(pl.col("drop_reason").is_not_null())
    assert dropped["drop_reason"].unique().to_list() == ["pass rate outside (0.1, 0.9)"]
    assert dropped["problem"].unique().to_list() == ["Compute 3 + 7, then say the sum."] and dropped.height == 3
    # the decision was made on the driver, over the alive rows' problem ids only
    held = json.loads((tmp_path / "ray" / "manifest.json").read_text())["engine"]["driver"]["held"]
    assert held["01-difficulty (plan)"] == [24, 2]
    # The parts' copy of the config (attempts_from: students) is in no cache key: the recipe's is, and
    # a rerun on the local engine reuses the Ray-made stage.
    code, _, err = run_cli(["curate", tmp_path / "r.yaml", "--input", pool, "--out", tmp_path / "ray"], capsys)
    assert code == 0, err
    assert [s["cached"] for s in json.loads((tmp_path / "ray" / "manifest.json").read_text())["stages"]] == [True]


def test_no_student_attempt_falls_back_to_the_samples_in_every_partition_alike(local_ray, pool, tmp_path, capsys):
    # No attempts folder at all: auto falls back to the samples on the whole table, and in every part.
    recipe = "name: att\nstages:\n  - difficulty: {mode: window, workers: 1}\n"
    runs = _both(recipe, pool, tmp_path, capsys)
    assert runs["local"][0] == 0 and runs["ray"][0] == 0, runs
    _same_run(tmp_path)
    stages, warnings = _notes(tmp_path / "local")
    assert stages[0][3]["attempts_from"] == "samples"
    assert warnings[0].startswith("01-difficulty: no student attempts in ") and "own samples" in warnings[0]
    assert len(warnings) == 2 and "5 of 16 problems have no gradable attempt (samples;" in warnings[1]


@pytest.mark.parametrize("source", ["students", "samples"])
def test_missing_error_names_the_whole_tables_count_on_ray(local_ray, pool, tmp_path, capsys, source):
    # Students attempted problems 0 and 12 (two partitions); the samples leave 5 problems (6 rows)
    # without gold. Every partition has rows without attempts: the error counts the table's.
    attempts = _students(tmp_path, [0, 12])
    recipe = (f"name: att\nstages:\n  - difficulty: {{mode: window, attempts: '{attempts}', attempts_from: "
              f"{'auto' if source == 'students' else 'samples'}, missing: error, workers: 1}}\n")
    runs = _both(recipe, pool, tmp_path, capsys)
    errors = {engine: err.strip().splitlines()[-1] for engine, (_, _, err) in runs.items()}
    assert runs["local"][0] == 2 and runs["ray"][0] == 2, runs
    assert errors["ray"] == errors["local"]
    rows = 19 if source == "students" else 7
    assert f"01-difficulty: {rows} row(s) have no graded attempts ({source}) (e.g. problem_id " in errors["local"]
    assert not (tmp_path / "ray" / "manifest.json").exists()


def test_the_samples_are_read_once_per_input_shard_not_per_partition(local_ray, tmp_path, capsys):
    # Three input shards, four partitions: one task per shard reads the samples' columns and cuts
    # them into the partitions (Stage.input_reads), which grade the same samples the local engine
    # reads, dropped rows included (the verify filter drops the wrong ones first).
    from curate.engines import ray_table

    pool = tmp_path / "shards"
    store.save_traces(trace_table(pool_rows()), pool, prefix="notes", rows_per_shard=10)
    assert len(list(pool.glob("*.parquet"))) == 3
    recipe = ("name: once\nstages:\n  - verify: {timeout_s: 5, workers: 1}\n"
              "  - filter: {where: \"verdict <> 'incorrect'\", reason: wrong}\n"
              "  - difficulty: {mode: limo, attempts_from: samples, missing: drop, workers: 1}\n"
              "  - difficulty: {mode: window, lo: 0.1, hi: 0.9, attempts: nowhere, workers: 1}\n")
    ray_table.INPUT_READS.clear()
    runs = _both(recipe, pool, tmp_path, capsys)
    assert runs["local"][0] == 0 and runs["ray"][0] == 0, runs
    _same_run(tmp_path)
    assert dict(ray_table.INPUT_READS) == {"03-difficulty": 3, "04-difficulty": 3}  # auto fell back: samples
    stages, _ = _notes(tmp_path / "local")
    # 15 graded samples of the problems left: 12 alive rows with gold, and the 3 wrong ones dropped before
    assert stages[2][3]["attempts_from"] == "samples" and stages[2][3]["attempt_rows"] == 15
    assert stages[3][3]["attempts_from"] == "samples"
    # Student attempts decided by the plan: no sample is read.
    ray_table.INPUT_READS.clear()
    attempts = _students(tmp_path, [0])
    (tmp_path / "r.yaml").write_text(f"name: st\nstages:\n  - difficulty: {{mode: window, attempts: '{attempts}'}}\n")
    code, _, err = run_cli(["curate", tmp_path / "r.yaml", "--input", pool, "--out", tmp_path / "st",
                            "--engine", "ray", "--batch-rows", str(BLOCK)], capsys)
    assert code == 0, err
    assert not ray_table.INPUT_READS


def test_a_bad_attempts_folder_is_the_same_one_line_on_both_engines(local_ray, pool, tmp_path, capsys):
    # The plan reads only the attempts' problem ids and teachers on the driver; the full read (the
    # partitions', as the local engine's one call) finds the shard without a response column: the
    # same one line on both engines.
    import pyarrow.parquet as pq

    attempts = _students(tmp_path, [0])
    shard = next(attempts.glob("*.parquet"))
    pq.write_table(pq.read_table(shard).drop(["response"]), shard)
    recipe = f"name: bad\nstages:\n  - difficulty: {{mode: window, attempts: '{attempts}', workers: 1}}\n"
    runs = _both(recipe, pool, tmp_path, capsys)
    errors = {engine: err.strip().splitlines()[-1] for engine, (_, _, err) in runs.items()}
    assert runs["local"][0] == 2 and runs["ray"][0] == 2, runs
    assert errors["ray"] == errors["local"] and "response" in errors["local"] and "01-difficulty" in errors["local"]
