"""DuckDB connections for untrusted SQL: user queries, named queries, recipe expressions.

User SQL (`distillery sql -c`, the shell, notebooks) and recipe SQL (filter `where:`, rubric `sql:`,
select `must_keep:`) come from people and files we do not control. They run in a connection that
cannot touch the file system at all:

- `enable_external_access = false` from the moment the connection exists, with no
  `allowed_directories`: DuckDB's `allowed_directories` grants writing as well as reading, so the
  run's own files are never on it. The data reaches DuckDB as Arrow objects registered by us
  (pyarrow datasets over the run's Parquet files), which DuckDB scans without its file system.
  So `COPY … TO`, `EXPORT DATABASE`, `ATTACH 'file'`, `PRAGMA import_database`, `read_csv`,
  `read_text`, `glob`, `INSTALL` and `LOAD` all fail with a Permission Error.
- `lock_configuration = true`: no `SET` can undo the above, nor point `log_query_path`,
  `profiling_output`, `temp_directory` or `home_directory` somewhere.
- the spill directory is a private temporary folder removed with the connection.

`allow_files=True` (`distillery sql --allow-files`) lets SQL read other files the user can read;
the configuration is still locked and `curate.sql.run_query` still refuses every statement that
writes.

Recipe SQL is parsed as one expression with DuckDB's own parser (`duckdb.SQLExpression`) and used
as an expression object, never spliced into statement text, so a `where:` cannot close a
parenthesis and start a second statement.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref

import duckdb
import polars as pl

from curate.errors import BadInput


def connect(allow_files: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory connection that cannot reach the file system (reads too, unless `allow_files`)."""
    spill = tempfile.mkdtemp(prefix="distillery-duckdb-")
    config = {
        "enable_external_access": bool(allow_files),
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "temp_directory": spill,
        "lock_configuration": True,
    }
    con = duckdb.connect(config=config)
    weakref.finalize(con, shutil.rmtree, spill, True)
    return con


def error_line(exc: Exception) -> str:
    """DuckDB's message without the echoed query and caret lines that follow it."""
    text = str(exc).split("\nLINE ")[0].strip()
    return text.splitlines()[0] if text else type(exc).__name__


def expression(text: str, where: str) -> duckdb.Expression:
    """`text` parsed as exactly one SQL expression; anything else is a BadInput naming `where`."""
    if not isinstance(text, str) or not text.strip():
        raise BadInput(f"{where}: empty SQL expression")
    try:
        expr = duckdb.SQLExpression(text)
    except (duckdb.Error, ValueError, TypeError) as exc:
        raise BadInput(f"{where}: not a single SQL expression: {error_line(exc)}") from None
    if str(expr).strip() == "*":
        raise BadInput(f"{where}: not a single SQL expression: '*' is a column list")
    return expr


def over_frame(frame: pl.DataFrame, exprs: list[duckdb.Expression], where: str) -> pl.DataFrame:
    """Evaluate expressions over `frame` (visible to subqueries as the table `frame`) in a
    sandboxed connection; one output column per expression, rows in `frame`'s order."""
    con = connect()
    try:
        pos = "__distillery_pos"
        con.register("frame", frame.with_row_index(pos).to_arrow())
        out = con.table("frame").select(*exprs, duckdb.ColumnExpression(pos)).order(pos).pl()
        return out.drop(pos)
    except duckdb.Error as exc:
        raise BadInput(f"{where}: {error_line(exc)}") from None
    finally:
        con.close()
