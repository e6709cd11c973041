"""SQL over a run: the views, the named queries, `distillery sql`, the shell, the plain duckdb CLI."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from rich.console import Console

from conftest import build_run, run_cli
from curate import shell, sql
from curate.errors import BadInput


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return build_run(tmp_path_factory.mktemp("sql"))


@pytest.fixture(scope="module")
def bare_run(tmp_path_factory) -> Path:
    return build_run(tmp_path_factory.mktemp("bare"), extras=False)


def rows(con, text: str) -> list[dict]:
    return sql.run_query(con, text).to_pylist()


# ------------------------------------------------------------------------------------------ views

def test_views_over_a_run(run_dir):
    con = sql.connect(run_dir)
    assert sql.views(con) == ["dropped", "funnel", "kept", "problems", "selected", "stages", "traces"]
    counts = rows(con, "SELECT (FROM traces SELECT count(*)) t, (FROM kept SELECT count(*)) k, "
                       "(FROM dropped SELECT count(*)) d, (FROM selected SELECT count(*)) s")[0]
    assert counts["t"] == 12 and counts["k"] + counts["d"] == 12 and counts["s"] == counts["k"]
    dropped = rows(con, "SELECT stage, reason, count(*) n FROM dropped GROUP BY ALL ORDER BY stage, reason")
    assert {"stage": "03-filter", "reason": "thinking too short", "n": 1} in dropped
    assert "dropped_by" not in sql.columns(con, "dropped")
    problems = rows(con, "SELECT * FROM problems ORDER BY problem")
    assert sum(p["samples"] for p in problems) == 12
    p1 = next(p for p in problems if p["problem"] == "What is 2 + 2?")
    assert p1["samples"] == 3 and p1["kept"] and p1["pass_rate"] == pytest.approx(2 / 3)


def test_funnel_agrees_with_the_manifest(run_dir):
    manifest = json.loads((run_dir / "manifest.json").read_text())
    funnel = sql.run_named(sql.connect(run_dir), "funnel").to_pylist()
    assert [(f["stage"], f["rows_in"], f["rows_out"]) for f in funnel] == [
        (s["stage"], s["rows_in"], s["rows_out"]) for s in manifest["stages"]]
    for f, s in zip(funnel, manifest["stages"]):
        assert dict(f["drops_by_reason"]) == s["drops_by_reason"]
    stages = rows(sql.connect(run_dir), "SELECT stage, seconds, cached FROM stages")
    assert [s["stage"] for s in stages] == [s["stage"] for s in manifest["stages"]]


def test_views_without_the_later_stages_columns(bare_run):
    con = sql.connect(bare_run)
    assert "verdict" not in sql.columns(con)
    assert all(p["pass_rate"] is None for p in rows(con, "FROM problems"))
    with pytest.raises(BadInput, match="verdicts_by_source.*verdict.*verify stage"):
        sql.run_named(con, "verdicts_by_source")


def test_trace_folder_and_file(run_dir):
    folder = run_dir.parent / "traces"
    con = sql.connect(folder)
    assert sql.views(con) == ["traces"]
    assert rows(con, "SELECT count(*) n FROM traces")[0]["n"] == 12
    assert len(sql.run_named(con, "sample_traces")) == 5  # works without a run's columns
    with pytest.raises(BadInput, match="dropped_by.*curation run"):
        sql.run_named(con, "funnel")
    file_con = sql.connect(next(folder.glob("*.parquet")))
    assert rows(file_con, "SELECT count(*) n FROM traces")[0]["n"] == 12


def test_every_named_query_runs_and_says_what_it_answers(run_dir):
    con = sql.connect(run_dir)
    queries = sql.named_queries()
    assert set(queries) == {"funnel", "length_hist", "verdicts_by_source", "dup_clusters", "drop_reasons",
                            "domain_mix", "truncated", "contaminated", "sample_traces", "ablation", "ablation_drops",
                            "suspect_golds", "teachers"}
    for name, q in queries.items():
        assert q.sql.startswith("-- ") and q.description, name
        if q.needs_views:   # the ablation queries: tests/test_ablate_run.py runs them on an ablation
            with pytest.raises(BadInput, match="needs view"):
                sql.run_named(con, name)
            continue
        if sql.missing_columns(con, q):   # teachers and suspect_golds: tests/test_teachers.py, test_gold_audit.py
            with pytest.raises(BadInput, match="needs column"):
                sql.run_named(con, name)
            continue
        assert sql.run_named(con, name) is not None, name
    clusters = sql.run_named(con, "dup_clusters").to_pylist()
    assert clusters[0]["problems"] == 2 and clusters[0]["examples"]
    truncated = sql.run_named(con, "truncated").to_pylist()
    # the length-limited row, and the row with a stray <think> (thinking never closed)
    assert sum(r["length_limit"] for r in truncated) == 1 and sum(r["unclosed_thinking"] for r in truncated) == 2
    assert sum(r["truncated"] for r in truncated) == 2 and sum(r["empty_thinking"] for r in truncated) == 0
    assert sum(r["truncated"] for r in truncated) == len(rows(con, "SELECT 1 FROM traces WHERE fmt_unclosed_thinking "
                                                                 "OR fmt_truncated"))
    hits = sql.run_named(con, "contaminated").to_pylist()
    assert hits[0]["benchmark_item"] == "aime24/3" and hits[0]["rows"] == 2
    hist = sql.run_named(con, "length_hist").to_pylist()
    assert sum(h["all_rows"] for h in hist) == 12


def test_sample_is_seeded(run_dir):
    con = sql.connect(run_dir)
    first = [r["trace_id"] for r in sql.run_named(con, "sample_traces").to_pylist()]
    assert first == [r["trace_id"] for r in sql.run_named(sql.connect(run_dir), "sample_traces").to_pylist()]
    sql.set_variable(con, "n=3")
    sql.set_variable(con, "seed=7")
    again = [r["trace_id"] for r in sql.run_named(con, "sample_traces").to_pylist()]
    assert len(again) == 3 and again != first[:3]


def test_read_only(run_dir):
    con = sql.connect(run_dir)
    before = (run_dir / "traces.parquet").read_bytes()
    for statement in (f"COPY traces TO '{run_dir}/traces.parquet' (FORMAT parquet)",
                      "CREATE TABLE t AS SELECT 1", "DROP VIEW traces", "ATTACH 'x.db'",
                      "SELECT 1; DELETE FROM traces"):
        with pytest.raises(BadInput, match="read-only"):
            sql.run_query(con, statement)
    assert (run_dir / "traces.parquet").read_bytes() == before
    assert rows(con, "SET VARIABLE n = 2; SELECT getvariable('n') AS n") == [{"n": 2}]


def test_bad_paths(tmp_path):
    with pytest.raises(BadInput, match="no such"):
        sql.connect(tmp_path / "missing")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(BadInput, match="not a run folder"):
        sql.connect(tmp_path)
    with pytest.raises(BadInput, match="not a run folder"):
        sql.connect(tmp_path / "notes.txt")
    (tmp_path / "unfinished").mkdir()
    (tmp_path / "unfinished" / "traces.parquet").write_text("")
    with pytest.raises(BadInput, match="unfinished run"):
        sql.connect(tmp_path / "unfinished")
    (tmp_path / "broken.parquet").write_text("not parquet")
    with pytest.raises(BadInput, match="cannot be read"):
        sql.connect(tmp_path)


# -------------------------------------------------------------------------------------------- CLI

def test_cli_command_and_query(run_dir, capsys):
    code, out, _ = run_cli(["sql", run_dir, "-c", "select stage, reason, count(*) from dropped group by all"], capsys)
    assert code == 0 and "thinking too short" in out and "truncated (finish_reason = length)" in out
    code, out, _ = run_cli(["sql", run_dir, "--query", "funnel"], capsys)
    assert code == 0 and "01-exact_dedup" in out and "12" in out
    code, out, _ = run_cli(["sql", run_dir, "-q", "sample_traces", "--set", "n=2", "--format", "json"], capsys)
    assert code == 0 and len(json.loads(out)) == 2


def test_cli_writes_files(run_dir, tmp_path, capsys):
    for fmt in ("csv", "json", "parquet"):
        out = tmp_path / f"funnel.{fmt}"
        code, printed, _ = run_cli(["sql", run_dir, "-q", "funnel", "--out", out], capsys)
        assert code == 0 and out.is_file(), printed
    assert pq.read_table(tmp_path / "funnel.parquet").num_rows == 3  # three stages (export is no stage)
    assert (tmp_path / "funnel.csv").read_text().startswith("stage,rows_in,rows_out")
    assert len(json.loads((tmp_path / "funnel.json").read_text())) == 3
    code, _, err = run_cli(["sql", run_dir, "-q", "funnel", "--format", "parquet"], capsys)
    assert code == 2 and "--out" in err


@pytest.mark.parametrize("args, message", [
    (["-c", "select nope from traces"], 'Referenced column "nope" not found'),
    (["-q", "no_such_query"], "unknown query 'no_such_query'"),
    (["-c", "copy traces to 'x.csv'"], "read-only: COPY"),
    (["-c", "select 1", "-q", "funnel"], "give one of"),
])
def test_cli_errors_are_one_line_exit_2(run_dir, capsys, args, message):
    code, _, err = run_cli(["sql", run_dir, *args], capsys)
    assert code == 2 and message in err and err.count("\n") == 1


def test_cli_rejects_a_path_that_is_no_run(tmp_path, capsys):
    code, _, err = run_cli(["sql", tmp_path, "-c", "select 1"], capsys)
    assert code == 2 and "not a run folder" in err and err.count("\n") == 1


# ------------------------------------------------------------------------------------------ shell

def test_shell_multiline_helpers_and_errors(run_dir, tmp_path):
    lines = iter(["select count(*) AS n", "  from kept;", ".tables", ".schema funnel", ".queries",
                  "select nope;", ".query drop_reasons", ".schema nosuch", ".bogus",
                  "copy traces to 'x.csv';", "select 41 + 1 AS answer;", ".quit", "select 'after quit';"])

    def read(prompt):
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    console = Console(record=True, width=200, file=io.StringIO())
    history = tmp_path / "history"
    shell.Shell(sql.connect(run_dir), console, history=history, read=read, interactive=True).loop()
    text = console.export_text()
    assert "drops_by_reason" in text and "MAP(VARCHAR, BIGINT)" in text  # .schema
    assert "problems" in text and "kept" in text  # .tables
    assert "verdicts_by_source" in text  # .queries
    assert 'Referenced column "nope"' in text  # the shell goes on after an error
    assert "thinking too short" in text  # .query
    assert "no view named 'nosuch'" in text and "unknown command .bogus" in text
    assert "read-only" in text and "42" in text and "after quit" not in text
    assert history.is_file()


def test_shell_from_piped_stdin(run_dir, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "curate.cli", "sql", str(run_dir)], input="select 6 * 7 AS x;\n",
                          capture_output=True, text=True, timeout=60, env={"HOME": str(tmp_path), "PATH": ""})
    assert proc.returncode == 0 and "42" in proc.stdout


# ------------------------------------------------------------------------------- plain duckdb CLI

def test_plain_duckdb_cli_reads_the_views(run_dir):
    # The one pip's duckdb-cli put beside this Python first, else any on PATH.
    duckdb_cli = shutil.which("duckdb", path=str(Path(sys.executable).parent)) or shutil.which("duckdb")
    if duckdb_cli is None:
        pytest.skip("the duckdb CLI is not installed (pip install duckdb-cli)")
    # The one line the README documents, then a query over the views.
    proc = subprocess.run([duckdb_cli, "-csv", "-cmd", f"SET VARIABLE run = '{run_dir}'",
                           "-cmd", f".read {sql.SQL_DIR / 'views.sql'}",
                           "-c", "SELECT stage, rows_in, rows_out FROM funnel ORDER BY stage"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((run_dir / "manifest.json").read_text())
    expected = [f"{s['stage']},{s['rows_in']},{s['rows_out']}" for s in manifest["stages"]]
    assert proc.stdout.split()[-len(expected):] == expected


def test_cli_whole_cells_and_one_trace_in_full(run_dir, capsys):
    thinking_sql = "SELECT trace_id, thinking FROM traces ORDER BY length(thinking) DESC LIMIT 1"
    con = sql.connect(run_dir)
    tid, longest = con.execute(thinking_sql).fetchall()[0]
    con.close()
    assert len(longest) > 120
    code, out, _ = run_cli(["sql", run_dir, "-c", thinking_sql], capsys)
    assert code == 0 and "…" in out and "--max-width 0" in out and longest not in out
    code, out, _ = run_cli(["sql", run_dir, "-c", thinking_sql, "--max-width", "0"], capsys)
    assert code == 0 and "…" not in out.split("thinking")[-1].split("row")[0]
    assert "".join(longest.split()) in "".join(out.replace("│", "").split())
    code, out, _ = run_cli(["sql", run_dir, "--show", tid[:12]], capsys)
    assert code == 0 and longest in out and f"trace_id: {tid}" in out
    code, _, err = run_cli(["sql", run_dir, "--show", "nope"], capsys)
    assert code == 2 and "no trace whose trace_id starts with 'nope'" in err
