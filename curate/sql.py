"""SQL over traces and every stage of a run: DuckDB views, named queries, read-only execution.

The views live in `sql/views.sql` (a run) and `sql/folder_views.sql` (a bare trace folder), written
for the plain `duckdb` CLI as much as for us: they read the run's path from a DuckDB variable.
`connect()` runs the same files in a sandboxed connection (`curate.sandbox`: no file access), with
each `read_parquet(getvariable(…) || …)` source swapped for an Arrow dataset it registers. Named queries are `sql/queries/NAME.sql`;
the first line is a comment saying what the query answers, and an optional `-- needs: a, b` line
names the trace columns it reads that only some runs have.

`run_query` is the one way the CLI, the shell and the report execute user SQL: it refuses anything
but reading (EXPLAIN's statement included), holds the run's snapshot lock while the statements run
(`curate.locks`), and turns DuckDB's errors into `BadInput`, so the CLI prints DuckDB's message on
one line and exits 2.
"""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

import curate
from curate import locks, sandbox, store
from curate.errors import BadInput

SQL_DIR = Path(curate.__file__).resolve().parents[1] / "sql"
QUERY_DIR = SQL_DIR / "queries"
FORMATS = ("csv", "json", "parquet")

# Statements that only read. SET stays allowed: variables parameterise the named queries.
READ_ONLY = {"SELECT", "EXPLAIN", "PRAGMA", "SET", "VARIABLE_SET"}
# PRAGMAs that only read (import_database runs a schema.sql; profiling ones write files).
READ_PRAGMAS = {"show_tables", "show_tables_expanded", "table_info", "show", "version", "database_size",
                "database_list", "functions", "collations", "platform", "user_agent", "storage_info",
                "metadata_info", "show_databases"}

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
        if (path / "traces.parquet").is_file() or (path / ".distillery-run").is_file():
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


def connect(path: Path, allow_files: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the views over a run (traces, kept, dropped, selected,
    stages, funnel, problems; ablation_* where the run holds an ablation) or over a trace folder or
    file (traces alone).

    The connection cannot reach the file system (`curate.sandbox`): the views read the run's files
    as Arrow datasets that we register, so the SQL files' `read_parquet(getvariable('run') || …)`
    sources are swapped for those datasets here (the files stay as they are for the duckdb CLI)."""
    path = Path(path)
    kind = kind_of(path)
    con = sandbox.connect(allow_files=allow_files)
    try:
        if kind == "run":
            snapshot = locks.check_generation(path)
            with locks.reading(path):
                _execute_views(con, SQL_DIR / "views.sql", {"run": path.resolve()})
                _ablation_views(con, path)
                con.execute("SET VARIABLE run = ?", [str(path.resolve())])
                _RUNS[id(con)] = (path, snapshot)
        elif kind == "folder":
            _execute_views(con, SQL_DIR / "folder_views.sql", {"traces": path.resolve()})
            con.execute("SET VARIABLE traces = ?", [str(path.resolve())])
        else:
            con.register("_source_traces", _dataset([path.resolve()]))
            con.execute("CREATE VIEW traces AS FROM _source_traces")
        con.execute("SELECT * FROM traces LIMIT 0").fetchall()  # a damaged file fails here, not mid-session
    except duckdb.Error as exc:
        con.close()
        raise BadInput(f"{path}: cannot be read as traces: {error_line(exc)}") from exc
    except BadInput as exc:
        con.close()
        if "being written" in str(exc) or "belong to different" in str(exc):
            raise
        raise BadInput(f"{path}: cannot be read as traces: {exc}") from None
    return con


# The runs open connections read: (folder, generation at connect), to re-check before each query.
_RUNS: dict[int, tuple[Path, str | None]] = {}

# read_parquet(getvariable('run') || '/traces.parquet'[, options]) and read_json(…) in the SQL files.
_SOURCE = re.compile(r"read_(parquet|json)\(\s*getvariable\('(\w+)'\)\s*\|\|\s*'([^']*)'\s*(?:,\s*([^()]*?))?\)")


def _ablation_views(con: duckdb.DuckDBPyConnection, run: Path) -> None:
    """The ablation_* views, where the run holds an ablation (`curate.ablation_files`)."""
    from curate import ablation_files

    folder = ablation_files.folder(run)
    if (folder / ablation_files.RUNS).is_file():
        _execute_views(con, SQL_DIR / "ablation_views.sql", {"ablation": folder.resolve()})


def _execute_views(con: duckdb.DuckDBPyConnection, file: Path, variables: dict[str, Path]) -> None:
    """Run a views file with every file source replaced by an Arrow object registered under a
    private name, so the views work in a connection without file access."""
    text = file.read_text()
    counter = [0]

    def replace(m: re.Match) -> str:
        fmt, var, pattern, options = m.group(1), m.group(2), m.group(3), m.group(4) or ""
        counter[0] += 1
        name = f"_source_{file.stem}_{counter[0]}"
        base = variables[var]
        if fmt == "json":
            data = json.loads((base / pattern.lstrip("/")).read_text())
            keys = re.findall(r"(\w+)\s*:\s*'JSON'", options)
            con.register(name, pa.table({k: [json.dumps(data.get(k))] for k in keys}))
            return "(SELECT " + ", ".join(f"{k}::JSON AS {k}" for k in keys) + f" FROM {name})"
        files = sorted(f for f in base.glob(pattern.lstrip("/")) if not f.name.startswith(".") and f.is_file())
        if not files:
            return f"(SELECT error('no files match {str(base / pattern.lstrip('/'))!s}') AS missing)"
        if re.search(r"filename\s*=\s*true", options):
            tables = [store.read_parquet(f) for f in files]
            tables = [t.append_column("filename", pa.array([str(f)] * t.num_rows, pa.string()))
                      for t, f in zip(tables, files)]
            con.register(name, pa.concat_tables(tables, promote_options="permissive"))
        else:
            con.register(name, _dataset(files))
        return name

    con.execute(_SOURCE.sub(replace, text))


def _dataset(files: list[Path]):
    """A lazy pyarrow dataset over Parquet files; shards whose columns differ line up by name."""
    import pyarrow.dataset as ds

    for f in files:
        store.read_parquet_footer(f)  # not Parquet, or damaged: one line naming the file
    if len(files) == 1:
        return ds.dataset(str(files[0]), format="parquet")
    import pyarrow.parquet as pq

    try:
        schema = pa.unify_schemas([pq.read_schema(f) for f in files], promote_options="permissive")
    except pa.ArrowException as exc:
        raise BadInput(f"{files[0].parent}: shards have incompatible columns: {exc}") from None
    return ds.dataset([str(f) for f in files], schema=schema, format="parquet")


def error_line(exc: Exception) -> str:
    """DuckDB's message without the echoed query and caret that follow it."""
    return sandbox.error_line(exc)


def columns(con: duckdb.DuckDBPyConnection, view: str = "traces") -> list[str]:
    return [row[0] for row in con.execute(f"DESCRIBE {view}").fetchall()]


def views(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [row[0] for row in con.execute(
        "SELECT view_name FROM duckdb_views() WHERE NOT internal AND view_name NOT LIKE '\\_source\\_%' ESCAPE '\\' "
        "ORDER BY view_name").fetchall()]


# ---------------------------------------------------------------------------------------- running

def _refuse_writes(con: duckdb.DuckDBPyConnection, statements) -> None:
    """Refuse every statement that is not plainly reading (the sandbox would stop a write to a file
    anyway; this names the statement instead of a Permission Error). EXPLAIN [ANALYZE] runs its
    statement, so that statement is checked too; PRAGMA only where it reads."""
    for stmt in statements:
        kind = stmt.type.name
        if kind not in READ_ONLY:
            raise BadInput(f"read-only: {kind} statements are not allowed here "
                           f"(only SELECT, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN, PRAGMA and SET)")
        if kind == "EXPLAIN":
            inner = re.sub(r"(?is)^\s*EXPLAIN\s+(?:ANALY[SZ]E\s+)?(?:\([^)]*\)\s*)?", "", stmt.query)
            if inner.strip() and inner != stmt.query:
                _refuse_writes(con, con.extract_statements(inner))
        elif kind == "PRAGMA":
            m = re.match(r"(?is)\s*PRAGMA\s+(\w+)", stmt.query)
            name = m.group(1).lower() if m else ""
            if name not in READ_PRAGMAS and not stmt.query.lstrip().upper().startswith(("SHOW", "DESCRIBE", "SUMMARIZE")):
                raise BadInput(f"read-only: PRAGMA {name or '?'} is not allowed here "
                               f"(only {', '.join(sorted(READ_PRAGMAS))})")


def run_query(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table | None:
    """Run one or more read-only statements; the last one's rows (None if it returns none).

    Over a run, the statements run while the run's snapshot is held shared (a curate rewriting the
    run waits to swap its files until they finish), after checking its files still belong together."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise BadInput(error_line(exc)) from exc
    if not statements:
        raise BadInput("no SQL statement given")
    try:
        _refuse_writes(con, statements)
    except duckdb.Error as exc:
        raise BadInput(error_line(exc)) from exc
    run = _RUNS.get(id(con))
    guard = locks.reading(run[0]) if run else contextlib.nullcontext()
    result = None
    with guard:
        if run:
            _refresh(con, *run)
        for stmt in statements:
            try:
                if stmt.type.name in ("SET", "VARIABLE_SET"):
                    con.execute(stmt.query)
                    result = None
                else:
                    result = con.sql(stmt.query).to_arrow_table()
            except duckdb.Error as exc:
                hint = (" (SQL here reads the run's views only; --allow-files lets it read other files)"
                        if "operations are disabled by configuration" in str(exc) else "")
                raise BadInput(error_line(exc) + hint) from exc
    if result is not None:  # DuckDB passes bytes from Arrow unchecked: say so, not a decode traceback
        store.check_utf8(result, "query result (its input holds text that is not UTF-8)")
    return result


def _refresh(con: duckdb.DuckDBPyConnection, path: Path, generation: str | None) -> None:
    """Re-point the views at the run's files when a curate has rewritten them since `connect`."""
    if not (path / "manifest.json").is_file():
        raise BadInput(f"{path}: the run is being rewritten (no manifest.json yet); try again when it finishes")
    now = locks.check_generation(path)
    if now != generation:
        _execute_views(con, SQL_DIR / "views.sql", {"run": path.resolve()})
        _ablation_views(con, path)
        _RUNS[id(con)] = (path, now)


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
