"""Runs cannot clobber each other or themselves: one writer per folder, outputs never onto inputs,
crash-safe folders, readers that never see half a rewrite (issue 15)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import run_cli, run_file_hash
from curate import locks, recipe, run, sql, store
from curate.errors import BadInput, Notice

ROOT = Path(__file__).resolve().parents[1]
RECIPE = """
name: safe
seed: 0
stages:
  - exact_dedup: {keep: first}
  - format: {}
  - filter: {drop_where: "length(thinking) < 20", reason: thinking too short}
"""
OTHER = RECIPE.replace("name: safe", "name: other").replace("< 20", "< 40")


def _cli(*args, env=None, **kw) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "curate.cli", *map(str, args)], capture_output=True, text=True,
                          env=full_env, cwd=ROOT, **kw)


def _holder(folder: Path) -> subprocess.Popen:
    """Another process holding the writer lock of `folder` until killed."""
    code = ("import sys, time; from curate import locks\n"
            f"with locks.writer({str(folder)!r}, command='distillery curate other'):\n"
            "    print('held', flush=True); time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


@pytest.fixture
def made(traces_dir, tmp_path):
    (tmp_path / "safe.yaml").write_text(RECIPE)
    run.run(recipe.parse(RECIPE, "safe.yaml"), traces_dir, tmp_path / "run")
    return tmp_path / "run"


def _bytes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): run_file_hash(p) for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith(".")}


# --------------------------------------------------------------------------------- one writer

def test_second_writer_fails_at_once_naming_the_holder(traces_dir, tmp_path, capsys):
    (tmp_path / "safe.yaml").write_text(RECIPE)
    proc = _holder(tmp_path / "run")
    try:
        code, out, err = run_cli(["curate", tmp_path / "safe.yaml", "--input", traces_dir, "--out", tmp_path / "run"],
                                 capsys)
        assert code == 2 and err.count("\n") == 1, err
        assert f"pid {proc.pid}" in err and "distillery curate other" in err
        assert [p.name for p in (tmp_path / "run").iterdir()] == [locks.LOCK]
    finally:
        proc.kill()
        proc.wait()
    # The holder is gone (killed, the kernel dropped its flock): its lock is taken over, with a warning.
    code, out, err = run_cli(["curate", tmp_path / "safe.yaml", "--input", traces_dir, "--out", tmp_path / "run"],
                             capsys)
    assert code == 0 and "taking over the lock" in err and f"pid {proc.pid}" in err
    assert (tmp_path / "run" / "manifest.json").is_file()


def test_two_concurrent_curates_one_wins_one_is_refused(traces_dir, tmp_path):
    (tmp_path / "a.yaml").write_text(RECIPE)
    (tmp_path / "b.yaml").write_text(OTHER)
    args = ["curate", None, "--input", traces_dir, "--out", tmp_path / "run"]
    procs = []
    for name in ("a.yaml", "b.yaml"):
        args[1] = tmp_path / name
        procs.append(subprocess.Popen([sys.executable, "-m", "curate.cli", *map(str, args)], cwd=ROOT,
                                      env={**os.environ, "PYTHONPATH": str(ROOT)},
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = [(p.wait(), p.stderr.read()) for p in procs]
    codes = sorted(c for c, _ in results)
    # Either the second found the lock held (2), or the first had finished and the second found
    # another recipe's run (2): never both 0, never a mixed folder.
    assert codes == [0, 2], results
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    names = {json.loads((tmp_path / "run" / ".distillery-run").read_text())["recipe"], manifest["recipe"]}
    assert len(names) == 1
    for f in (tmp_path / "run" / "stages").glob("*.parquet"):
        assert pq.read_schema(f).metadata[b"distillery.recipe"].decode() in names


def test_a_stale_lock_taken_over_is_a_notice_for_the_caller_not_a_print(tmp_path, capsys):
    """The library hands the warning to its caller (the CLI prints it: see the test above)."""
    proc = _holder(tmp_path / "x")
    proc.kill()
    proc.wait()
    with pytest.warns(Notice, match=rf"taking over the lock of pid {proc.pid}: distillery curate other"):
        with locks.writer(tmp_path / "x"):
            pass
    assert capsys.readouterr().err == ""


def test_lock_is_reentrant_in_one_process_and_folder_of_a_failed_command_goes(tmp_path):
    with locks.writer(tmp_path / "x"):
        with locks.writer(tmp_path / "x"):
            pass
        assert (tmp_path / "x" / locks.LOCK).is_file()
    assert not (tmp_path / "x").exists()  # nothing but the lock was written: no folder left


# ----------------------------------------------------------------------- outputs never on inputs

def test_outputs_never_overwrite_inputs(made, traces_dir, tmp_path, capsys):
    run_dir = made
    before_run, before_traces = _bytes(run_dir), _bytes(traces_dir)
    verify_in = tmp_path / "answers.parquet"
    store.write_parquet(pa.table({"gold": ["4"], "pred": ["\\boxed{4}"]}), verify_in)
    verify_bytes = verify_in.read_bytes()
    attempts = [
        ["report", run_dir, "--out", run_dir / "traces.parquet"],
        ["report", run_dir, "--out", run_dir / "stages" / "01-exact_dedup.parquet"],
        ["export", run_dir, "--format", "parquet", "--out", run_dir / "selected.parquet"],
        ["export", run_dir, "--format", "jsonl", "--out", run_dir / "manifest.json"],
        ["sql", run_dir, "-c", "SELECT 1 AS x", "--out", run_dir / "traces.parquet"],
        ["sql", traces_dir, "-c", "SELECT 1 AS x", "--out", traces_dir / "new.parquet"],
        ["dedup", traces_dir, "--out", traces_dir / "x.parquet"],
        ["dedup", run_dir / "traces.parquet", "--method", "exact", "--out", run_dir / "traces.parquet"],
        ["decontam", traces_dir, "--bench", tmp_path / "answers.parquet", "--out", traces_dir / "y.parquet"],
        ["verify", verify_in, "--gold", "gold", "--pred", "pred", "--out", verify_in],
        ["curate", tmp_path / "safe.yaml", "--input", run_dir / "selected.parquet", "--out", run_dir],
        ["curate", tmp_path / "safe.yaml", "--input", traces_dir, "--out", traces_dir],
        ["curate", tmp_path / "safe.yaml", "--input", traces_dir, "--out", traces_dir / "run"],
        ["ingest", traces_dir, "--out", traces_dir],
        ["train", "sft", "--data", run_dir, "--model", "x", "--out", run_dir],
    ]
    for args in attempts:
        code, out, err = run_cli(args, capsys)
        assert code == 2 and err.count("\n") == 1, (args, err)
        assert "would overwrite" in err or "lies inside it" in err, (args, err)
    assert _bytes(run_dir) == before_run and _bytes(traces_dir) == before_traces
    assert verify_in.read_bytes() == verify_bytes
    # What is allowed still works: a run's report in the run, a student inside it.
    code, out, err = run_cli(["report", run_dir, "--out", run_dir / "report.html"], capsys)
    assert code == 0, err


def test_out_of_the_wrong_kind_or_unwritable(made, traces_dir, tmp_path, capsys):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    a_dir = tmp_path / "somedir"
    a_dir.mkdir()
    cases = [
        (["curate", tmp_path / "safe.yaml", "--input", traces_dir, "--out", a_file], "is a file"),
        (["curate", tmp_path / "safe.yaml", "--input", traces_dir, "--out", a_file / "run"], "is a file"),
        (["dedup", traces_dir, "--out", a_dir], "is a folder"),
        (["report", made, "--out", a_dir], "is a folder"),
        (["export", made, "--format", "jsonl", "--out", a_dir], "is a folder"),
        (["sql", made, "-c", "SELECT 1 AS x", "--out", a_dir], "is a folder"),
        (["ingest", traces_dir, "--out", a_file], "is a file"),
        (["synth", "--out", a_file, "--n", "10"], "is a file"),
        # /sys is a read-only file system, even for root
        (["curate", tmp_path / "safe.yaml", "--input", traces_dir, "--out", "/sys/distillery-run"], "/sys"),
        (["dedup", traces_dir, "--out", "/sys/x.parquet"], "/sys"),
        (["report", made, "--out", "/sys/report.html"], "/sys"),
    ]
    for args, words in cases:
        code, out, err = run_cli(args, capsys)
        assert code == 2 and err.count("\n") == 1 and words in err and "Traceback" not in err, (args, err)
    if os.geteuid() != 0:  # chmod means nothing to root
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        code, out, err = run_cli(["dedup", traces_dir, "--out", ro / "x.parquet"], capsys)
        assert code == 2 and "not writable" in err


# -------------------------------------------------------------------------------- crash safety

def _crash_run(recipe_path, traces_dir, out, at: int) -> subprocess.CompletedProcess:
    return _cli("curate", recipe_path, "--input", traces_dir, "--out", out, env={"DISTILLERY_CRASH_AT": str(at)})


@pytest.mark.slow
def test_kill_at_any_write_resumes_to_identical_bytes(traces_dir, tmp_path):
    (tmp_path / "safe.yaml").write_text(RECIPE)
    ref = tmp_path / "ref"
    assert _cli("curate", tmp_path / "safe.yaml", "--input", traces_dir, "--out", ref).returncode == 0
    want = {k: v for k, v in _bytes(ref).items() if k != "manifest.json"}
    killed = 0
    for at in (1, 2, 3, 5, 7, 9, 10, 11, 12):  # marker, stage files, the four published files, their renames
        out = tmp_path / f"run{at}"
        first = _crash_run(tmp_path / "safe.yaml", traces_dir, out, at)
        if first.returncode == 0:
            continue  # fewer write points than `at`
        assert first.returncode == -9, first.stderr
        killed += 1
        again = _cli("curate", tmp_path / "safe.yaml", "--input", traces_dir, "--out", out)
        assert again.returncode == 0, (at, again.stderr)
        got = _bytes(out)
        assert {k: v for k, v in got.items() if k != "manifest.json"} == want, at
        assert not list(out.rglob(".*.tmp")), at  # the killed writer's temporary files are gone
        m = json.loads((out / "manifest.json").read_text())
        assert m["outputs"] == json.loads((ref / "manifest.json").read_text())["outputs"]
    assert killed >= 8


def test_first_stage_killed_folder_is_still_a_run(traces_dir, tmp_path):
    """What a kill inside stage 1's write leaves: the marker and a temporary file. Recognised, cleaned."""
    out = tmp_path / "run"
    (out / "stages").mkdir(parents=True)
    (out / ".distillery-run").write_text(json.dumps({"recipe": "safe"}))
    (out / "stages" / ".01-exact_dedup.parquet.abc123.tmp").write_bytes(b"PAR1 half")
    (out / ".traces.parquet.deadbeef.tmp").write_bytes(b"half")
    res = run.run(recipe.parse(RECIPE, "safe.yaml"), traces_dir, out)
    assert res.rows_selected > 0
    assert not list(out.rglob(".*.tmp"))


# ---------------------------------------------------------------------------- consistent reads

def test_reader_never_sees_half_a_rewrite(made, traces_dir, tmp_path):
    con = sql.connect(made)
    n = sql.run_query(con, "SELECT count(*) AS n FROM selected").to_pylist()[0]["n"]
    # A writer publishing while a query holds the snapshot waits for the query.
    pub = locks.Publication(made, "f" * 32)
    for name in ("traces.parquet", "selected.parquet"):  # as a new write would: another generation
        store.write_parquet(pq.read_table(made / name), pub.path(name), metadata={locks.GENERATION_META: "f" * 32})
    done = threading.Event()
    with locks.reading(made):
        t = threading.Thread(target=lambda: (pub.commit(), done.set()))
        t.start()
        time.sleep(0.3)
        assert not done.is_set()
    t.join(5)
    assert done.is_set()
    # Files of one write with the manifest of another (a writer killed between renames): refused.
    with pytest.raises(BadInput, match="belong to different writes"):
        sql.run_query(con, "SELECT count(*) AS n FROM selected")
    with pytest.raises(BadInput, match="belong to different writes"):
        sql.connect(made)
    # A rerun publishes a consistent generation again, and an open connection follows it.
    run.run(recipe.parse(OTHER.replace("name: other", "name: safe"), "safe.yaml"), traces_dir, made)
    n2 = sql.run_query(con, "SELECT count(*) AS n FROM selected").to_pylist()[0]["n"]
    assert n2 == pq.read_metadata(made / "selected.parquet").num_rows and n2 <= n


def test_cli_sql_during_a_rewrite_says_so(made, capsys):
    m = json.loads((made / "manifest.json").read_text())
    m["generation"] = "0" * 32
    (made / "manifest.json").write_text(json.dumps(m))
    code, out, err = run_cli(["sql", made, "-c", "SELECT count(*) FROM traces"], capsys)
    assert code == 2 and "belong to different writes" in err


def test_kill_in_a_stage_write_and_between_publishing_renames(traces_dir, tmp_path):
    """The quick version of the test above: two points, one inside a stage, one mid-publication."""
    (tmp_path / "safe.yaml").write_text(RECIPE)
    ref = tmp_path / "ref"
    run.run(recipe.parse(RECIPE, str(tmp_path / "safe.yaml")), traces_dir, ref)
    want = {k: v for k, v in _bytes(ref).items() if k != "manifest.json"}
    for at in (3, 11):
        out = tmp_path / f"run{at}"
        assert _crash_run(tmp_path / "safe.yaml", traces_dir, out, at).returncode == -9
        if at == 11:  # killed between renames: readers are told, not shown a mix
            with pytest.raises(BadInput, match="belong to different writes|no manifest|unfinished"):
                sql.connect(out)
        again = _cli("curate", tmp_path / "safe.yaml", "--input", traces_dir, "--out", out)
        assert again.returncode == 0, again.stderr
        assert {k: v for k, v in _bytes(out).items() if k != "manifest.json"} == want
        assert not list(out.rglob(".*.tmp"))
