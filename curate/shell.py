"""The interactive SQL shell of `distillery sql`, and the rich table every SQL result prints as.

Statements run until a line ends with `;` (multi-line input), through `curate.sql.run_query`, so the
shell is read-only like `-c`. An error prints DuckDB's message and the shell goes on. Lines starting
with `.` are helpers: `.tables`, `.schema NAME`, `.queries`, `.query NAME`, `.width N`, `.help`, `.quit`.
Cells are cut at 120 characters with "…"; `.width 0` (or `--max-width 0`) prints them whole, and
`distillery sql RUN --show TRACE_ID` prints one trace's texts in full.
History (readline) lives in ~/.distillery_history.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from curate import sql
from curate.errors import BadInput

HISTORY = Path("~/.distillery_history")
CELL_CHARS = 120  # a thinking column is kilobytes: show its head; --max-width 0 / --show for all of it
SHOW_COLUMNS = ("trace_id", "problem_id", "source", "teacher", "gold", "verdict", "dropped_by", "drop_reason",
                "problem", "thinking", "response")


def show(con: duckdb.DuckDBPyConnection, trace_id: str, console: Console) -> None:
    """One trace in full: its short fields, then problem, thinking and response as whole text
    (`trace_id` or a unique prefix of one, looked up in `traces`)."""
    have = sql.columns(con)
    cols = [c for c in SHOW_COLUMNS if c in have]
    rows = con.execute(f"SELECT {', '.join(cols)} FROM traces WHERE starts_with(trace_id, $id) "
                       f"ORDER BY trace_id LIMIT 2", {"id": trace_id}).fetchall()
    if not rows:
        raise BadInput(f"no trace whose trace_id starts with {trace_id!r}")
    if len(rows) > 1:
        raise BadInput(f"{trace_id!r} is the start of several trace_ids: give more characters")
    row = dict(zip(cols, rows[0]))
    for c in cols:
        if c in ("problem", "thinking", "response"):
            text = row[c] or ""
            console.rule(f"{c} ({len(text):,} characters)")
            console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            console.print(f"[bold]{c}[/bold]: {escape(str(row[c]))}")
HELP = """\
SQL statements end with ';' and may span lines. Views: .tables; columns: .schema NAME.
  .tables          the views and their row counts
  .schema NAME     the columns of a view and their types
  .queries         the named queries and what each answers
  .query NAME      run a named query (SET VARIABLE n = 10; first, for its parameters)
  .width N         cut cells at N characters (0: whole cells, e.g. a whole thinking)
  .help            this text
  .quit            leave (Ctrl-D too)"""


# ---------------------------------------------------------------------------------------- tables

def _cell(value, type_: pa.DataType, max_width: int = CELL_CHARS) -> str:
    if value is None:
        return "[dim]NULL[/dim]"
    text = sql.cell_text(value, type_)
    if max_width and len(text) > max_width:
        text = text[:max_width - 1] + "…"
    return escape(text.replace("\n", " ⏎ ") if max_width else text)


def render(table: pa.Table, console: Console, max_rows: int = 40, max_width: int = CELL_CHARS) -> None:
    """Print a result as a rich table: the first `max_rows` rows, cells cut at `max_width`
    characters with "…" (0: whole cells, line breaks kept: `--max-width 0`)."""
    out = Table(show_lines=False, header_style="bold", row_styles=["", "dim"] if table.num_rows > 5 else None)
    for field in table.schema:
        numeric = pa.types.is_integer(field.type) or pa.types.is_floating(field.type) \
            or pa.types.is_decimal(field.type)
        out.add_column(escape(field.name), justify="right" if numeric else "left", overflow="fold")
    types = table.schema.types
    for row in table.slice(0, max_rows).to_pylist():
        out.add_row(*(_cell(v, t, max_width) for v, t in zip(row.values(), types)))
    shown = min(max_rows, table.num_rows)
    cut = max_width and any(len(sql.cell_text(v, t)) > max_width for row in table.slice(0, max_rows).to_pylist()
                            for v, t in zip(row.values(), types) if v is not None)
    out.caption = f"{table.num_rows:,} row{'s' if table.num_rows != 1 else ''}" + (
        f" (first {shown:,} shown)" if shown < table.num_rows else "") + (
        f"; cells cut at {max_width} characters (…): --max-width 0 or .width 0 shows them whole,"
        f" --show TRACE_ID one trace" if cut else "")
    console.print(out)


# ----------------------------------------------------------------------------------------- shell

class Shell:
    """A read-eval-print loop over one connection; `read` is `input` unless a test feeds lines."""

    def __init__(self, con: duckdb.DuckDBPyConnection, console: Console, history: Path | None = None,
                 read: Callable[[str], str] = input, interactive: bool | None = None,
                 max_rows: int = 40, max_width: int = CELL_CHARS):
        self.con = con
        self.console = console
        self.history = history.expanduser() if history else None
        self.read = read
        self.interactive = sys.stdin.isatty() if interactive is None else interactive
        self.max_rows = max_rows
        self.max_width = max_width

    def loop(self) -> None:
        readline = self._start_history()
        if self.interactive:
            self.console.print("[bold]distillery sql[/bold]: statements end with ';', .help for help")
        buffer: list[str] = []
        try:
            while True:
                prompt = ("sql> " if not buffer else "  -> ") if self.interactive else ""
                try:
                    line = self.read(prompt)
                except EOFError:
                    break
                except KeyboardInterrupt:  # Ctrl-C drops the statement being typed, not the shell
                    buffer = []
                    self.console.print()
                    continue
                if not buffer and line.strip().startswith("."):
                    if not self.command(line.strip()):
                        break
                    continue
                if line.strip():
                    buffer.append(line)
                if buffer and line.rstrip().endswith(";"):
                    self.execute("\n".join(buffer))
                    buffer = []
            if buffer:  # input ended mid-statement: run what was typed rather than lose it
                self.execute("\n".join(buffer))
        finally:
            if readline is not None:
                readline.write_history_file(str(self.history))

    def _start_history(self):
        if self.history is None:
            return None
        try:
            import readline
        except ImportError:  # pragma: no cover - Windows without pyreadline
            return None
        if self.history.is_file():
            readline.read_history_file(str(self.history))
        readline.set_history_length(5000)
        return readline

    def execute(self, statement: str) -> None:
        try:
            result = sql.run_query(self.con, statement)
        except BadInput as exc:
            self.console.print(f"[red]error:[/red] {escape(str(exc))}")
            return
        except KeyboardInterrupt:  # Ctrl-C stops a long query, not the shell
            self.con.interrupt()
            self.console.print("[red]interrupted[/red]")
            return
        if result is not None:
            render(result, self.console, self.max_rows, self.max_width)

    def command(self, line: str) -> bool:
        """Run one dot-command; False means leave the shell."""
        name, _, arg = line.partition(" ")
        arg = arg.strip().rstrip(";")
        if name in (".quit", ".exit", ".q"):
            return False
        try:
            if name == ".help":
                self.console.print(escape(HELP))
            elif name == ".tables":
                self.tables()
            elif name == ".schema":
                self.schema(arg)
            elif name == ".queries":
                self.queries()
            elif name == ".query":
                if not arg:
                    raise BadInput(".query needs a name: .queries lists them")
                result = sql.run_named(self.con, arg)
                if result is not None:
                    render(result, self.console, self.max_rows, self.max_width)
            elif name == ".width":
                if not arg.isdigit():
                    raise BadInput(".width needs a number of characters (0: whole cells)")
                self.max_width = int(arg)
            else:
                raise BadInput(f"unknown command {name}; .help lists the commands")
        except BadInput as exc:
            self.console.print(f"[red]error:[/red] {escape(str(exc))}")
        return True

    def tables(self) -> None:
        out = Table(header_style="bold")
        out.add_column("view")
        out.add_column("rows", justify="right")
        for view in sql.views(self.con):
            try:
                ((n,),) = self.con.execute(f"SELECT count(*) FROM {view}").fetchall()
                out.add_row(view, f"{n:,}")
            except duckdb.Error as exc:
                out.add_row(view, f"[red]{escape(sql.error_line(exc))}[/red]")
        self.console.print(out)

    def schema(self, view: str) -> None:
        if not view:
            raise BadInput(".schema needs a view name: .tables lists them")
        if view not in sql.views(self.con):
            raise BadInput(f"no view named {view!r}; .tables lists them")
        render(sql.run_query(self.con, f'DESCRIBE "{view}"').select(["column_name", "column_type"]),
               self.console, max_rows=1000)

    def queries(self) -> None:
        out = Table(header_style="bold")
        out.add_column("query")
        out.add_column("answers")
        out.add_column("needs")
        for q in sql.named_queries().values():
            missing = sql.missing_columns(self.con, q)
            needs = ", ".join(q.needs) + (f" [red](missing: {', '.join(missing)})[/red]" if missing else "")
            out.add_row(q.name, escape(q.description), needs)
        self.console.print(out)
