"""The ray engine (curate.engines.ray_data): same run folder, byte for byte, as the local engine.

One local Ray (2 CPUs) serves the whole module; runs in subprocesses start their own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import run_cli, run_file_hash
from curate import store
from curate.engines import ray_table

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'distillery[ray]')")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, logging_level="ERROR", log_to_driver=False, include_dashboard=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, local_ray):
    """400 synthetic traces and the demo recipe's run of them by the local engine."""
    base = tmp_path_factory.mktemp("corpus")
    from curate.cli import main

    # The benchmark cache the tests' autouse fixture sets (module fixtures run before it): a stage's
    # warnings name where a benchmark was looked for, and both engines must look in the same place.
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("DISTILLERY_BENCHMARKS", raising=False)
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))
        assert main(["synth", "--n", "400", "--seed", "0", "--out", str(base / "traces")]) == 0
        assert main(["curate", "demo", "--input", str(base / "traces"), "--out", str(base / "local")]) == 0
    return base


def _hashes(run: Path) -> dict[str, str]:
    files = ["traces.parquet", "selected.parquet", "recipe.yaml", *sorted(
        f"stages/{p.name}" for p in (run / "stages").glob("*.parquet"))]
    return {f: run_file_hash(run / f) for f in files}


def _stats(run: Path) -> list:
    m = json.loads((run / "manifest.json").read_text())
    return [(s["stage"], s["rows_in"], s["rows_out"], s["drops_by_reason"], s["stats"]) for s in m["stages"]]


@pytest.mark.slow
def test_demo_recipe_on_ray_is_byte_identical_to_local(corpus, tmp_path, capsys):
    # Small blocks, so every row-local stage runs as many Ray tasks and verify's problems are spread.
    # The input as a file:// URI: read shard by shard through pyarrow's file system layer.
    ray_table.RAN_IN.clear()
    code, out, err = run_cli(["curate", "demo", "--input", (corpus / "traces").as_uri(), "--out", tmp_path / "ray",
                              "--engine", "ray", "--batch-rows", "37", "--shuffle-rows", "74"], capsys)
    assert code == 0, err
    local, on_ray = _hashes(corpus / "local"), _hashes(tmp_path / "ray")
    assert len(local) == 17 and on_ray == local
    assert _stats(tmp_path / "ray") == _stats(corpus / "local")  # counts, quantiles, means: all the same
    m = json.loads((tmp_path / "ray" / "manifest.json").read_text())
    assert m["engine"]["name"] == "ray" and m["engine"]["cpus"] == 2 and m["engine"]["batch_rows"] == 37
    assert m["engine"]["shuffle_rows"] == 74
    # Each batched stage ran as a Ray Data operator, as Ray itself names the tasks its batches ran in:
    # a row-local stage as a map_batches over the blocks (one batch a block: 400 rows in 11 blocks),
    # a per-problem one as a map_batches over the partitions of a sort on problem_id (--shuffle-rows
    # 74: 5 partitions of 352 alive rows, 4 of 255).
    ran = {label: dict(tasks) for label, tasks in ray_table.RAN_IN.items()}
    rows = ("04-format", "07-filter", "08-filter", "09-filter", "11-budget", "12-rubric")
    assert {label: ran[label] for label in rows} == {label: {"MapBatches(_rows_batch)": 11} for label in rows}
    problems = {"05-gold_audit": 5, "06-verify": 5, "10-difficulty": 4}
    assert {label: ran[label] for label in problems} == {k: {"MapBatches(_problems_batch)": n} for k, n in problems.items()}
    # The table stayed on the cluster: the driver joined the run's files from shards the workers
    # encoded (the bytes of one row group at a time; the whole table here), pulled for a driver stage only the columns it reads (select: 5, domain: 2), nothing of
    # the dedup family's rows (they shuffle their parts on the cluster), for a batched stage only
    # its own columns and what its summary reads, and never held more than a third of
    # traces.parquet's columns.
    held = {what: tuple(size) for what, size in m["engine"]["driver"]["held"].items()}
    width = len(store.read_table(tmp_path / "ray" / "traces.parquet").column_names)
    assert held.pop("writing (one shard)")[0] <= store.ROW_GROUP_SIZE
    assert max(columns for _, columns in held.values()) < width / 3
    assert held["13-select"][1] <= 5 and held["14-domain"][1] == 2
    # the dedup family's stages (`parts`) shuffle their rows on the cluster: nothing of theirs here
    assert not [what for what in held if what.startswith(("01-exact_dedup", "02-dedup", "03-decontam"))]
    batched = ("04-format", "06-verify", "07-filter", "08-filter", "09-filter", "10-difficulty")
    # nothing of theirs came to the driver but difficulty's problem ids (its attempt source is decided
    # once, over the whole table: Stage.plan)
    assert [what for what in held if what.startswith(batched)] == ["10-difficulty (plan)"]
    assert held["10-difficulty (plan)"][1] == 2  # trace_id and problem_id
    assert held["05-gold_audit (summary)"][1] == 2  # trace_id and gold, for its whole-table warning
    assert json.loads((corpus / "local" / "manifest.json").read_text())["engine"] == {"name": "local"}
    # The engine is not in any cache key: a rerun on the local engine reuses every Ray-made stage.
    code, _, err = run_cli(["curate", "demo", "--input", corpus / "traces", "--out", tmp_path / "ray"], capsys)
    assert code == 0, err
    m = json.loads((tmp_path / "ray" / "manifest.json").read_text())
    assert all(s["cached"] for s in m["stages"]) and _hashes(tmp_path / "ray") == local


RECIPE = """\
name: rows
seed: 3
engine: ray
stages:
  - format: {}
  - gold_audit: {min_samples: 2, min_share: 0.6, action: replace}
  - gold_audit: {min_samples: 50, action: keep}
  - verify: {timeout_s: 5}
  - filter: {drop_where: "length(thinking) < 40", reason: short}
  - budget: {tokenizer: "builtin:minilm"}
  - rubric: {rubric: reasoning_quality}
"""


@pytest.mark.slow
def test_engine_key_in_recipe_runs_on_ray_with_one_row_blocks(local_ray, traces_dir, tmp_path, capsys):
    (tmp_path / "rows.yaml").write_text(RECIPE)
    code, _, err = run_cli(["curate", tmp_path / "rows.yaml", "--input", traces_dir, "--out", tmp_path / "ray",
                            "--batch-rows", "1"], capsys)
    assert code == 0, err
    assert json.loads((tmp_path / "ray" / "manifest.json").read_text())["engine"]["name"] == "ray"
    code, _, err = run_cli(["curate", tmp_path / "rows.yaml", "--input", traces_dir, "--out", tmp_path / "local",
                            "--engine", "local"], capsys)
    assert code == 0, err
    assert _hashes(tmp_path / "ray") == _hashes(tmp_path / "local")
    assert _stats(tmp_path / "ray") == _stats(tmp_path / "local")
    # a warning about the whole table is said once, as the local engine says it, not per block
    audit = _stats(tmp_path / "ray")[2][4]
    assert audit["warning"].startswith("no problem has 50 or more samples") and audit["problems"] >= 4
    # verify's per-problem pass rate needs a problem's rows together, whatever the block size
    rates = store.read_table(tmp_path / "ray" / "traces.parquet").column("problem_pass_rate").to_pylist()
    assert {r for r in rates if r is not None} - {0.0, 1.0}  # some problem is neither all right nor all wrong


@pytest.mark.slow  # starts the module's Ray
def test_stage_error_on_a_worker_is_one_line(local_ray, traces_dir, tmp_path, capsys):
    (tmp_path / "bad.yaml").write_text("name: bad\nstages:\n  - format: {}\n"
                                       "  - filter: {where: \"no_such_column > 1\", reason: x}\n")
    code, _, err = run_cli(["curate", tmp_path / "bad.yaml", "--input", traces_dir, "--out", tmp_path / "run",
                            "--engine", "ray"], capsys)
    last = err.strip().splitlines()[-1]  # the lines before it: the stages that ran
    assert code == 2 and err.count("error:") == 1 and last.startswith("error:"), err
    assert "line 4" in last and "02-filter" in last and "no_such_column" in last
    assert "Traceback" not in err and "Ray" not in err


def test_bad_ray_settings_are_one_line_and_exit_2(traces_dir, tmp_path, capsys):
    cases = [
        (["--engine", "ray", "--address", "ray://127.0.0.1:1"], "no Ray cluster answers at 127.0.0.1:1"),
        (["--engine", "ray", "--address", "127.0.0.1:1"], "no Ray cluster answers"),
        (["--engine", "ray", "--address", "nowhere"], "expected auto, HOST:PORT or ray://HOST:PORT"),
        (["--engine", "spark"], "unknown engine 'spark'"),
        (["--address", "auto"], "only the ray engine"),
        (["--batch-rows", "10"], "only the ray engine"),
        (["--engine", "ray", "--batch-rows", "0"], "at least 1"),
        (["--shuffle-rows", "10"], "--shuffle-rows: only the ray engine"),
        (["--engine", "ray", "--shuffle-rows", "0"], "--shuffle-rows: must be at least 1"),
    ]
    for extra, words in cases:
        code, _, err = run_cli(["curate", "demo", "--input", traces_dir, "--out", tmp_path / "run", *extra], capsys)
        assert code == 2 and err.count("\n") == 1 and words in err, (extra, err)
        assert not (tmp_path / "run").exists()
    (tmp_path / "r.yaml").write_text("name: r\nengine: dask\nstages:\n  - format: {}\n")
    code, _, err = run_cli(["curate", tmp_path / "r.yaml", "--input", traces_dir, "--out", tmp_path / "run"], capsys)
    assert code == 2 and "line 2" in err and "unknown engine 'dask'" in err


def _cli(*args, env=None, **kw) -> subprocess.Popen:
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.Popen([sys.executable, "-c", "import sys; from curate.cli import main; sys.exit(main())", *map(str, args)],
                            env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def test_missing_ray_extra_is_one_line(traces_dir, tmp_path):
    # `ray` made unimportable, as in an install without the extra.
    code = ("import sys; sys.modules['ray'] = None; from curate.cli import main; "
            f"sys.exit(main(['curate', 'demo', '--input', {str(traces_dir)!r}, '--out', {str(tmp_path / 'run')!r}, "
            "'--engine', 'ray']))")
    p = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)},
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and p.stderr.count("\n") == 1, p.stderr
    assert "pip install 'distillery[ray]'" in p.stderr and not (tmp_path / "run").exists()


@pytest.mark.slow
def test_ray_run_killed_mid_stage_resumes_from_cache_to_the_same_bytes(corpus, tmp_path):
    """kill -9 of the driver while a later stage's Ray tasks run; the rerun reuses the finished stages."""
    out = tmp_path / "run"
    args = ["curate", "demo", "--input", corpus / "traces", "--out", out, "--engine", "ray", "--batch-rows", "50"]
    proc = _cli(*args, start_new_session=True)
    deadline = time.monotonic() + 300
    # Stage 6 is verify (sympy in workers, the slowest row stage): kill once 5 stages are on disk.
    while len(list((out / "stages").glob("*.parquet"))) < 5:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and the local Ray it started
    proc.wait()
    assert proc.returncode == -9
    done = sorted(p.name for p in (out / "stages").glob("*.parquet"))
    assert not (out / "manifest.json").exists() and 5 <= len(done) < 15
    again = _cli(*args)
    stdout, stderr = again.communicate(timeout=600)
    assert again.returncode == 0, stderr
    assert _hashes(out) == _hashes(corpus / "local")
    m = json.loads((out / "manifest.json").read_text())
    cached = {s["stage"] for s in m["stages"] if s["cached"]}
    assert {n.removesuffix(".parquet") for n in done} <= cached
    assert not list(out.rglob(".*.tmp"))


def test_stage_pools_get_one_process_per_ray_task_unless_the_recipe_sized_them():
    from curate.engines.ray_data import one_cpu
    from curate.stages.format import Format, FormatConfig
    from curate.stages.verify import Verify, VerifyConfig

    assert one_cpu(Verify(VerifyConfig())).config.workers == 1
    assert one_cpu(Verify(VerifyConfig(workers=3))).config.workers == 3
    stage = Format(FormatConfig())
    assert one_cpu(stage) is stage  # no pool, nothing to size


@pytest.mark.slow  # starts the module's Ray
def test_minhash_signatures_in_ray_tasks_are_the_same_bits(local_ray):
    import numpy as np

    from curate import minhash, parallel
    from curate.engines.ray_parts import RayMapper

    texts = [f"Tom has {i} apples and buys {i % 7} more apples at the market today" for i in range(23)] + ["", "x"]
    here = minhash.sketch(texts, ngram=3)
    mapper = RayMapper(local_ray)
    calls = []

    def counting(fn, chunks, *shared):  # the band search ships its keys to every task once (shared)
        calls.append(len(chunks))
        return mapper(fn, chunks, *shared)

    with parallel.mapped(counting, 4):
        there = minhash.sketch(texts, ngram=3)
    assert calls == [7]  # 25 texts, 4 per task
    for a, b in zip((here.signatures, here.shingle_text, here.shingle_hash),
                    (there.signatures, there.shingle_text, there.shingle_hash)):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    # candidate pairs: one Ray task per LSH band, the same pairs in the same order
    keys = minhash.band_keys(here.signatures, 32)
    want = minhash.candidate_pairs(keys)
    with parallel.mapped(counting, 4):
        got = minhash.candidate_pairs(keys)
    assert calls[-1] == 32 and len(want[0]) > 10
    assert all(np.array_equal(a, b) for a, b in zip(want, got))


SHARDS = """\
name: shards
seed: 1
stages:
  - format: {drop: []}
  - gold_audit: {min_samples: 2, action: keep}
  - sample: {fraction: 0.7, by: problem}
  - filter: {drop_where: "length(thinking) < 40", reason: short}
"""


@pytest.mark.slow  # starts the module's Ray
def test_shards_with_different_columns_are_read_by_workers_in_order(local_ray, tmp_path, capsys):
    """Three input shards, one with a column the others lack: Ray's tasks read them into blocks and
    unify their columns as the local engine's concatenation does; a repeated id across shards is
    the same one line on both engines."""
    import pyarrow as pa

    from conftest import trace_table

    table = trace_table()
    folder = tmp_path / "traces"
    store.write_parquet(table.slice(0, 5), folder / "a.parquet")
    extra = table.slice(5, 4)
    store.write_parquet(extra.append_column("annotator", pa.array(["x", None, "y", "z"])), folder / "b.parquet")
    store.write_parquet(table.slice(9), folder / "c.parquet")
    (tmp_path / "shards.yaml").write_text(SHARDS)
    runs = {}
    for engine in ("local", "ray"):
        code, _, err = run_cli(["curate", tmp_path / "shards.yaml", "--input", folder, "--out", tmp_path / engine,
                                "--engine", engine, *(["--batch-rows", "3"] if engine == "ray" else [])], capsys)
        assert code == 0, err
        runs[engine] = _hashes(tmp_path / engine)
    assert runs["ray"] == runs["local"]
    assert "annotator" in store.read_table(tmp_path / "ray" / "traces.parquet").column_names

    # Bad shards: the same one line on both engines, though Ray's workers read 3 rows at a time.
    one = tmp_path / "one.parquet"
    cases = [(folder, "d.parquet", table.slice(2, 1), "repeats row 2"),  # a row of a.parquet again
             (one, None, pa.concat_tables([table.slice(0, 7), table.slice(1, 1)]), "row 7: trace_id"),
             (one, None, table.set_column(table.column_names.index("problem"), "problem", pa.array(
                 [None if i == 8 else v for i, v in enumerate(table.column("problem").to_pylist())])),
              "first at row 8")]
    for where, name, bad, words in cases:
        store.write_parquet(bad, where / name if name else where)
        errors = []
        for engine in ("local", "ray"):
            code, _, err = run_cli(["curate", tmp_path / "shards.yaml", "--input", where, "--out", tmp_path / "bad",
                                    "--engine", engine, *(["--batch-rows", "3"] if engine == "ray" else [])], capsys)
            assert code == 2 and err.count("\n") == 1 and words in err, err
            errors.append(err)
        assert errors[0] == errors[1] and not (tmp_path / "bad").exists()
