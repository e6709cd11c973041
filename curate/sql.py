"""SQL over traces and every stage of a run: DuckDB views, named queries, read-only execution.

The views live in `sql/views.sql` (a run) and `sql/folder_views.sql` (a bare trace folder), written
for the plain `duckdb` CLI as much as for us: they read the run's path from a DuckDB variable, so
`connect()` only sets that variable and executes the file. Named queries are `sql/queries/NAME.sql`;
the first line is a comment saying what the query answers, and an optional `-- needs: a, b` line
names the trace columns it reads that only some runs have.

`run_query` is the one way the CLI, the shell and the report execute user SQL: it refuses anything
but reading (the views sit on the run's own files, which a stray COPY could overwrite) and turns
DuckDB's errors into `BadInput`, so the CLI prints DuckDB's message on one line and exits 2.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

import curate
from curate import store
from curate.errors import BadInput

SQL_DIR = Path(curate.__file__).resolve().parents[1] / "sql"
QUERY_DIR = SQL_DIR / "queries"
FORMATS = ("csv", "json", "parquet")

# Statements that only read. SET stays allowed: variables parameterise the named queries.
READ_ONLY = {"SELECT", "EXPLAIN", "PRAGMA", "SET", "VARIABLE_SET"}

# Where each optional column comes from, for the message when a query needs one a run lacks.
PRODUCERS = {
    "dropped_by": "a curation run, not a bare trace folder",
    "drop_reason": "a curation run, not a bare trace folder",
    "verdict": "the verify stage",
    "problem_pass_rate": "the verify stage",
    "dup_cluster": "a dedup stage",
    "contaminated_with": "the decontam stage",
    "domain": "the domain stage",
    "gold_suspect": "the gold_audit stage",
    "looping": "the budget stage",
}


@dataclass(frozen=True)
class NamedQuery:
    name: str
    description: str
    needs: tuple[str, ...]
    sql: str
    needs_views: tuple[str, ...] = ()


# ------------------------------------------------------------------------------------- connecting

def kind_of(path: Path) -> str:
    """'run' (a folder with traces.parquet and manifest.json), 'folder' (trace shards) or 'file'."""
    path = Path(path)
    if not path.exists():
        raise BadInput(f"{path}: no such run folder, trace folder or trace file")
    if path.is_dir():
        if (path / "traces.parquet").is_file():
            if not (path / "manifest.json").is_file():  # the manifest is written last
                raise BadInput(f"{path}: an unfinished run (no manifest.json); run distillery curate again")
            return "run"
        if any(p for p in path.glob("*.parquet") if not p.name.startswith(".")):
            return "folder"
        raise BadInput(f"{path}: not a run folder (no traces.parquet and manifest.json) "
                       f"and not a trace folder (no .parquet files)")
    if path.suffix == ".parquet":
        return "file"
    raise BadInput(f"{path}: not a run folder, trace folder or .parquet trace file")


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the views over a run (traces, kept, dropped, selected,
    stages, funnel, problems; ablation_* where the run holds an ablation) or over a trace folder or
    file (traces alone)."""
    path = Path(path)
    kind = kind_of(path)
    con = duckdb.connect()
    try:
        if kind == "run":
            con.execute("SET VARIABLE run = ?", [str(path.resolve())])
            con.execute((SQL_DIR / "views.sql").read_text())
            if (path / "ablation" / "runs.parquet").is_file():
                con.execute((SQL_DIR / "ablation_views.sql").read_text())
        elif kind == "folder":
            con.execute("SET VARIABLE traces = ?", [str(path.resolve())])
            con.execute((SQL_DIR / "folder_views.sql").read_text())
        else:
            # DDL takes no parameters: the path goes in as a quoted literal.
            literal = str(path.resolve()).replace("'", "''")
            con.execute(f"CREATE VIEW traces AS FROM read_parquet('{literal}')")
        con.execute("SELECT * FROM traces LIMIT 0").fetchall()  # a damaged file fails here, not mid-session
    except duckdb.Error as exc:
        con.close()
        raise BadInput(f"{path}: cannot be read as traces: {error_line(exc)}") from exc
    return con


def error_line(exc: Exception) -> str:
    """DuckDB's message without the echoed query and caret that follow it."""
    return str(exc).split("\nLINE ")[0].strip()


def columns(con: duckdb.DuckDBPyConnection, view: str = "traces") -> list[str]:
    return [row[0] for row in con.execute(f"DESCRIBE {view}").fetchall()]


def views(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [row[0] for row in con.execute(
        "SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY view_name").fetchall()]


# ---------------------------------------------------------------------------------------- running

def run_query(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table | None:
    """Run one or more read-only statements; the last one's rows (None if it returns none)."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise BadInput(error_line(exc)) from exc
    if not statements:
        raise BadInput("no SQL statement given")
    for stmt in statements:
        kind = stmt.type.name
        if kind not in READ_ONLY:
            raise BadInput(f"read-only: {kind} statements are not allowed here "
                           f"(only SELECT, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN, PRAGMA and SET)")
    result = None
    for stmt in statements:
        try:
            if stmt.type.name in ("SET", "VARIABLE_SET"):
                con.execute(stmt.query)
                result = None
            else:
                result = con.sql(stmt.query).to_arrow_table()
        except duckdb.Error as exc:
            raise BadInput(error_line(exc)) from exc
    return result


def set_variable(con: duckdb.DuckDBPyConnection, assignment: str) -> None:
    """NAME=VALUE from the command line: a DuckDB variable; numbers stay numbers."""
    name, sep, value = assignment.partition("=")
    name = name.strip()
    if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise BadInput(f"--set {assignment!r}: expected NAME=VALUE, e.g. n=10")
    typed: object = value
    for cast in (int, float):
        try:
            typed = cast(value)
            break
        except ValueError:
            continue
    con.execute(f"SET VARIABLE {name} = ?", [typed])


# ----------------------------------------------------------------------------------- named queries

def _parse_query(path: Path) -> NamedQuery:
    text = path.read_text()
    lines = text.splitlines()
    description = lines[0].removeprefix("--").strip() if lines and lines[0].startswith("--") else ""
    needs: tuple[str, ...] = ()
    views_needed: tuple[str, ...] = ()
    for line in lines[1:]:
        m = re.match(r"--\s*needs(-view)?:\s*(.*)", line.strip())
        if m:
            names = tuple(c.strip() for c in m.group(2).split(",") if c.strip())
            if m.group(1):
                views_needed = names
            else:
                needs = names
    return NamedQuery(path.stem, description, needs, text, views_needed)


def named_queries() -> dict[str, NamedQuery]:
    return {p.stem: _parse_query(p) for p in sorted(QUERY_DIR.glob("*.sql"))}


def named(name: str) -> NamedQuery:
    queries = named_queries()
    if name not in queries:
        raise BadInput(f"unknown query {name!r}; named queries: {', '.join(queries)}")
    return queries[name]


def missing_columns(con: duckdb.DuckDBPyConnection, query: NamedQuery) -> list[str]:
    have = set(columns(con))
    return [c for c in query.needs if c not in have]


def run_named(con: duckdb.DuckDBPyConnection, name: str) -> pa.Table | None:
    query = named(name)
    absent = [v for v in query.needs_views if v not in views(con)]
    if absent:
        raise BadInput(f"query {name!r} needs view(s) {', '.join(absent)}, which only a run with an ablation has "
                       f"(distillery ablate --out RUN)")
    missing = missing_columns(con, query)
    if missing:
        why = "; ".join(f"{c} comes from {PRODUCERS.get(c, 'a stage this run did not have')}"
                        for c in missing)
        raise BadInput(f"query {name!r} needs column(s) {', '.join(missing)}, which these traces "
                       f"do not have ({why})")
    return run_query(con, query.sql)


def cell_text(value, type_: pa.DataType) -> str:
    """One result value as plain text: maps as {key: value}, lists as [a, b], strings unquoted."""
    if value is None:
        return "NULL"
    if pa.types.is_map(type_):
        return "{" + ", ".join(f"{cell_text(k, type_.key_type)}: {cell_text(v, type_.item_type)}"
                               for k, v in value) + "}"
    if pa.types.is_list(type_) or pa.types.is_large_list(type_) or pa.types.is_fixed_size_list(type_):
        return "[" + ", ".join(cell_text(v, type_.value_type) for v in value) + "]"
    return str(value)


# ---------------------------------------------------------------------------------------- writing

def format_of(fmt: str | None, out: Path | None) -> str:
    """The output format: --format, else the --out file's suffix."""
    if fmt is None and out is not None:
        fmt = out.suffix.lstrip(".").lower()
        if fmt not in FORMATS:
            raise BadInput(f"{out}: cannot tell the format from the suffix; pass --format csv|json|parquet")
    if fmt not in FORMATS:
        raise BadInput(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    return fmt


def write_result(table: pa.Table, fmt: str, out: Path) -> Path:
    """Write a result as CSV (with header), JSON (an array of objects) or Parquet (zstd),
    atomically. DuckDB writes it, so nested columns (lists, maps) survive in every format."""
    options = {"csv": "FORMAT csv, HEADER", "json": "FORMAT json, ARRAY true",
               "parquet": "FORMAT parquet, COMPRESSION zstd"}[fmt]
    con = duckdb.connect()
    try:
        con.register("result", table)
        with store.atomic_path(Path(out)) as tmp:
            target = str(tmp).replace("'", "''")
            con.execute(f"COPY result TO '{target}' ({options})")
    finally:
        con.close()
    return Path(out)


def render_text(table: pa.Table, fmt: str) -> str:
    """A result as CSV or JSON text, for printing."""
    if fmt == "parquet":
        raise BadInput("--format parquet writes a binary file: pass --out FILE")
    with tempfile.TemporaryDirectory() as tmp:
        path = write_result(table, fmt, Path(tmp) / f"result.{fmt}")
        return path.read_text()
