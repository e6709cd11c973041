"""User and recipe SQL cannot escape the run: every way out tried, each must fail with one line and
write or read nothing outside (issue 15)."""

from __future__ import annotations

import json

import polars as pl
import pyarrow.parquet as pq
import pytest

from conftest import build_run, run_cli
from curate import recipe, rubric, run, sql, store
from curate.errors import BadInput

ATTACKS = [
    "COPY (SELECT 42) TO '{out}/x.csv'",
    "EXPLAIN ANALYZE COPY (SELECT 42) TO '{out}/x.csv'",
    "EXPLAIN COPY (SELECT 42) TO '{out}/x.csv'",
    "COPY traces TO '{run}/traces.parquet' (FORMAT parquet)",
    "EXPLAIN ANALYZE COPY traces TO '{run}/traces.parquet' (FORMAT parquet)",
    "EXPORT DATABASE '{out}/db'",
    "ATTACH '{out}/x.duckdb' AS x",
    "PRAGMA import_database('{evil}')",
    "SET log_query_path = '{out}/log.txt'",
    "PRAGMA profiling_output = '{out}/profile.json'",
    "SET profiling_output = '{out}/profile.json'",
    "PRAGMA enable_profiling",
    "SET enable_external_access = true",
    "SET allowed_directories = ['/']",
    "SET temp_directory = '{out}'",
    "RESET lock_configuration",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_csv_auto('/etc/passwd')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/passwd')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM glob('{run}/*')",
    "SELECT * FROM read_parquet('{run}/traces.parquet')",
    "SELECT * FROM read_json('{secret}')",
    "SELECT * FROM parquet_metadata('{run}/traces.parquet')",
    "SELECT * FROM sniff_csv('/etc/passwd')",
    "SELECT * FROM '/etc/passwd'",
    "INSTALL httpfs",
    "LOAD httpfs",
    "LOAD '{out}/evil.duckdb_extension'",
    "SELECT 1; COPY (SELECT 1) TO '{out}/y.csv'",
    "CREATE TABLE t AS SELECT 1",
    "PREPARE p AS COPY (SELECT 1) TO '{out}/z.csv'",
]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    base = tmp_path_factory.mktemp("escape")
    run_dir = build_run(base)
    out = base / "outside"
    out.mkdir()
    evil = base / "evil"
    evil.mkdir()
    # import_database runs schema.sql: here it would write a file if it ever ran.
    (evil / "schema.sql").write_text(f"COPY (SELECT 42) TO '{out}/from_schema.csv';\n")
    (evil / "load.sql").write_text("")
    secret = base / "secret.json"
    secret.write_text(json.dumps({"password": "hunter2"}))
    return {"run": run_dir, "out": out, "evil": evil, "secret": secret}


def _fill(attack: str, world) -> str:
    return attack.format(**{k: str(v) for k, v in world.items()})


def _snapshot(world) -> dict:
    run_dir = world["run"]
    return {p: p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file() and not p.name.startswith(".")}


@pytest.mark.parametrize("attack", ATTACKS)
def test_sql_c_cannot_escape(world, attack, capsys):
    before = _snapshot(world)
    code, out, err = run_cli(["sql", world["run"], "-c", _fill(attack, world)], capsys)
    assert code == 2, (attack, out, err)
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "root:" not in out and "hunter2" not in out and "/etc/" not in out.replace("'/etc/", "")
    assert list(world["out"].iterdir()) == []
    assert _snapshot(world) == before


def test_shell_cannot_escape(world):
    import io

    from rich.console import Console

    from curate import shell

    lines = iter([_fill(a, world) + ";" for a in ATTACKS] + ["SELECT count(*) AS n FROM traces;"])

    def read(prompt):
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    buf = io.StringIO()
    shell.Shell(sql.connect(world["run"]), Console(file=buf, width=200), read=read, interactive=False).loop()
    text = buf.getvalue()
    assert text.count("error:") == len(ATTACKS)
    assert "hunter2" not in text and "root:x" not in text
    assert list(world["out"].iterdir()) == []


def test_notebook_connection_is_sandboxed_too(world):
    con = sql.connect(world["run"])
    for attack in ATTACKS:
        with pytest.raises(BadInput):
            sql.run_query(con, _fill(attack, world))
    # Even straight through DuckDB's API, bypassing run_query's statement check:
    import duckdb

    for attack in ("COPY (SELECT 42) TO '{out}/x.csv'", "SELECT * FROM read_text('/etc/passwd')",
                   "SET enable_external_access = true"):
        with pytest.raises(duckdb.Error):
            con.execute(_fill(attack, world))
    assert list(world["out"].iterdir()) == []
    # and what it is for still works
    assert sql.run_query(con, "SELECT count(*) AS n FROM traces").to_pylist()[0]["n"] == 12
    assert sql.run_query(con, "SET VARIABLE k = 3; SELECT getvariable('k') AS k").to_pylist() == [{"k": 3}]
    assert sql.run_query(con, "PRAGMA show_tables") is not None
    assert sql.run_query(con, "EXPLAIN ANALYZE SELECT count(*) FROM traces") is not None


def test_allow_files_reads_but_never_writes(world, capsys):
    code, out, err = run_cli(["sql", world["run"], "--allow-files", "--format", "csv", "-c",
                              f"SELECT password FROM read_json('{world['secret']}')"], capsys)
    assert code == 0 and "hunter2" in out
    for attack in ATTACKS[:8]:
        code, out, err = run_cli(["sql", world["run"], "--allow-files", "-c", _fill(attack, world)], capsys)
        assert code == 2, attack
    assert list(world["out"].iterdir()) == []


def test_named_queries_and_report_still_work(world, capsys):
    code, out, err = run_cli(["sql", world["run"], "-q", "funnel", "--format", "csv"], capsys)
    assert code == 0 and "03-filter" in out
    code, out, err = run_cli(["report", world["run"], "--out", world["out"].parent / "r.html"], capsys)
    assert code == 0, err


# ------------------------------------------------------------------------------------ recipe SQL

SPLICE = ("true), false) THEN NULL ELSE 'x' END AS drop_reason FROM frame; COPY (SELECT 42) TO '{target}'; "
          "SELECT trace_id, CASE WHEN coalesce((true")


def test_filter_where_cannot_splice_statements(traces_dir, tmp_path, capsys):
    target = tmp_path / "x.csv"
    for key in ("where", "drop_where"):
        text = (f"name: evil\nstages:\n  - format: {{}}\n  - filter:\n      {key}: \"{SPLICE.format(target=target)}\"\n"
                f"      reason: r\n")
        (tmp_path / "evil.yaml").write_text(text)
        code, out, err = run_cli(["curate", tmp_path / "evil.yaml", "--input", traces_dir, "--out", tmp_path / "run"],
                                 capsys)
        assert code == 2 and "evil.yaml line" in err and "single SQL expression" in err, err
        assert err.count("\n") == 1
        assert not target.exists() and not (tmp_path / "run").exists()


@pytest.mark.parametrize("where", [
    "length(problem) > (SELECT count(*) FROM read_csv('/etc/passwd'))",
    "problem IN (SELECT content FROM read_text('/etc/passwd'))",
    "(SELECT count(*) FROM glob('/etc/*')) > 0",
    "true; COPY (SELECT 1) TO '/tmp/x.csv'",
])
def test_filter_expression_cannot_read_files(traces_dir, tmp_path, where, capsys):
    text = f"name: peek\nstages:\n  - filter: {{where: \"{where}\", reason: r}}\n"
    (tmp_path / "peek.yaml").write_text(text)
    code, out, err = run_cli(["curate", tmp_path / "peek.yaml", "--input", traces_dir, "--out", tmp_path / "run"], capsys)
    assert code == 2 and "peek.yaml line 3" in err, err
    assert err.count("\n") == 1


def test_filter_subquery_over_frame_still_works(traces_dir, tmp_path):
    text = ("name: sub\nstages:\n  - filter: {where: \"sample_idx = (SELECT min(sample_idx) FROM frame)\", "
            "reason: not the first sample}\n")
    res = run.run(recipe.parse(text, "sub.yaml"), traces_dir, tmp_path / "run")
    t = pl.read_parquet(tmp_path / "run" / "traces.parquet")
    assert set(t.filter(pl.col("dropped_by").is_null())["sample_idx"]) == {0}
    assert res.rows_selected == t.filter(pl.col("sample_idx") == 0).height


def test_rubric_sql_cannot_splice_or_read(traces_dir, tmp_path, capsys):
    target = tmp_path / "x.csv"
    bad = {"splice": f"1) AS x FROM frame; COPY (SELECT 42) TO '{target}'; SELECT (1",
           "read": "(SELECT count(*) FROM read_csv('/etc/passwd'))"}
    for name, expr in bad.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(json.dumps({"name": name, "criteria": [{"name": "c", "sql": expr}]}))
        (tmp_path / "r.yaml").write_text(f"name: r\nstages:\n  - rubric: {{rubric: {path}}}\n")
        code, out, err = run_cli(["curate", tmp_path / "r.yaml", "--input", traces_dir, "--out", tmp_path / name],
                                 capsys)
        assert code == 2 and err.count("\n") == 1, err
        assert "r.yaml line 3" in err, err
        assert ("criterion 1" in err) if name == "splice" else ("disabled by configuration" in err), err
    assert not target.exists()
    with pytest.raises(BadInput, match="criterion 1"):
        rubric.load_rubric(str(tmp_path / "splice.yaml"))


def test_select_must_keep_is_an_expression(traces_dir, tmp_path, capsys):
    text = ("name: s\nstages:\n  - select: {k: 2, strategy: s1, domain_column: source, length_column: sample_idx, "
            "if_fewer: all, must_keep: \"true) FROM frame; SELECT (true\"}\n")
    (tmp_path / "s.yaml").write_text(text)
    code, out, err = run_cli(["curate", tmp_path / "s.yaml", "--input", traces_dir, "--out", tmp_path / "run"], capsys)
    assert code == 2 and "s.yaml line 3" in err and "single SQL expression" in err, err


def test_ablation_views_read_through_the_sandbox(world, tmp_path):
    """The ablation views (globs, filename = true) are served from Arrow too."""
    import shutil

    run_dir = tmp_path / "run"
    shutil.copytree(world["run"], run_dir)
    ab = run_dir / "ablation"
    store.write_parquet(pl.DataFrame({"arm": ["recipe"], "seed": [0], "pass_at_1": [0.5]}).to_arrow(), ab / "runs.parquet")
    store.write_parquet(pl.DataFrame({"arm": ["recipe"], "seed": [0], "family": ["add"]}).to_arrow(), ab / "results.parquet")
    store.write_parquet(pl.DataFrame({"arm": ["recipe"], "seed": [0], "rank": [1], "trace_id": ["t"], "problem_id": ["p"],
                                      "source": ["s"], "problem": ["q"]}).to_arrow(), ab / "selections" / "recipe" / "seed-0.parquet")
    for arm in ("recipe", "random"):
        store.write_parquet(pl.DataFrame({"correct": [True, False]}).to_arrow(),
                            ab / "students" / arm / "seed-1" / "eval" / "samples.parquet")
    con = sql.connect(run_dir)
    assert {"ablation_runs", "ablation_results", "ablation_selections", "ablation_samples"} <= set(sql.views(con))
    got = sql.run_query(con, "SELECT arm, seed, count(*) AS n FROM ablation_samples GROUP BY ALL ORDER BY arm").to_pylist()
    assert got == [{"arm": "random", "seed": 1, "n": 2}, {"arm": "recipe", "seed": 1, "n": 2}]
    assert sql.run_query(con, "SELECT count(*) AS n FROM ablation_selections").to_pylist() == [{"n": 1}]
    assert pq.read_metadata(run_dir / "traces.parquet").num_rows == 12
