"""The `distillery` command: thin wrappers over the library, one function per command.

Each command parses its arguments, calls one library function and prints. Command modules are
imported inside the command, so `distillery --help` or `distillery validate` never pay for torch.
Errors a user can fix (`BadInput`) print one line on stderr and exit with status 2; `--debug`
shows the traceback instead.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from curate import __version__

app = typer.Typer(
    name="distillery",
    help="Distil a teacher's reasoning into small students: traces in Parquet, curation recipes, "
         "SQL over every stage, SFT.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_state = {"debug": False}


def _console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _version(value: bool):
    if value:
        typer.echo(f"distillery {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Print the version and exit.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks instead of one-line errors.")] = False,
):
    _state["debug"] = debug


# ------------------------------------------------------------------------------------ commands

@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", help="Trace folder to write (shards synth-NNNNN.parquet).")],
    n: Annotated[int, typer.Option("--n", min=1, help="Number of trace rows.")] = 60_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same bytes.")] = 0,
    attempts: Annotated[bool, typer.Option("--attempts/--no-attempts",
                                           help="Also write student attempts to OUT/attempts/.")] = True,
):
    """Write the embedded synthetic math corpus (known truth, planted defects)."""
    from curate import synth as lib

    result = lib.write(lib.SynthConfig(n=n, seed=seed, attempts=attempts), out)
    typer.echo(result.summary())


@app.command()
def ingest(
    src: Annotated[str, typer.Argument(help="File (jsonl/json/parquet/csv), folder, or hf:org/name[:config][:split].")],
    out: Annotated[Path, typer.Option("--out", help="Trace folder to write into.")],
    preset: Annotated[str, typer.Option("--preset", help="s1k, openthoughts, openr1-math, limo, messages, generic.")] = "generic",
    map_: Annotated[Optional[str], typer.Option("--map", help="generic: problem=COL,thinking=COL,response=COL,gold=COL,…")] = None,
    trace: Annotated[Optional[str], typer.Option("--trace", help="s1k-1.1: which teacher's traces (deepseek or gemini).")] = None,
    source: Annotated[Optional[str], typer.Option("--source", help="Value of the source column (default: from SRC).")] = None,
    teacher: Annotated[Optional[str], typer.Option("--teacher", help="Value of the teacher column where the data has none.")] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="Shard prefix in OUT (default: the preset).")] = None,
):
    """Import an existing trace dataset (s1K, OpenThoughts, OpenR1-Math, LIMO, chat, any table)."""
    from curate import ingest as lib

    result = lib.ingest_to(src, out, preset=preset, mapping=map_, trace=trace, source=source,
                           teacher=teacher, name=name)
    typer.echo(result.summary())


@app.command()
def validate(
    path: Annotated[Path, typer.Argument(help="Trace file or folder.")],
):
    """Check a trace file or folder against the schema: rows, columns, problems found."""
    from curate import validate as lib

    report = lib.validate_path(path)
    typer.echo(report.render())
    if not report.ok:
        raise typer.Exit(2)


@app.command()
def curate(
    recipe: Annotated[str, typer.Argument(help="Recipe YAML file, or a built-in recipe name (e.g. demo).")],
    input_: Annotated[Path, typer.Option("--input", help="Trace file or folder.")],
    out: Annotated[Path, typer.Option("--out", help="Run folder to write.")],
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace another recipe's run in OUT.")] = False,
):
    """Run a curation recipe: every row kept with the stage and reason that dropped it."""
    from curate import recipe as recipes
    from curate import run as runner

    loaded = recipes.load(recipe)
    console = _console()
    result = runner.run(loaded, input_, out, overwrite=overwrite, console=console)
    typer.echo(f"{result.rows_in:,} rows in, {result.rows_selected:,} selected → {result.out}/selected.parquet")


# ------------------------------------------------------------------------------------- entry

def main(argv: list[str] | None = None) -> int:
    import click

    from curate.errors import BadInput

    try:
        # Without standalone mode click hands back `typer.Exit(code)` as a return value.
        code = app(args=argv, standalone_mode=False)
    except BadInput as exc:
        if _state["debug"]:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return 2
    except click.exceptions.Abort:
        print("aborted", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not bad input: still one line unless --debug
        if _state["debug"]:
            raise
        print(f"error: internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)",
              file=sys.stderr)
        return 1
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
