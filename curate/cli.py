"""The `distillery` command: thin wrappers over the library, one function per command.

Each command parses its arguments, calls one library function and prints. Command modules are
imported inside the command, so `distillery --help` or `distillery validate` never pay for torch.
Errors a user can fix (`BadInput`) print one line on stderr and exit with status 2; `--debug`
shows the traceback instead.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated

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
    # Wide enough that every command's one-line summary shows whole in --help.
    context_settings={"max_content_width": 110, "terminal_width": 110},
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
    version: Annotated[bool | None, typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Print the version and exit.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks instead of one-line errors.")] = False,
):
    _state["debug"] = debug


# ------------------------------------------------------------------------------------ commands

@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", help="Trace folder to write (shards synth-NNNNN.parquet).")],
    n: Annotated[int | None, typer.Option("--n", min=1, help="Number of trace rows (default 60,000; procedural 6,000); teachers: "
                                                     "answerable base problems (default 120).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same bytes.")] = 0,
    attempts: Annotated[bool, typer.Option("--attempts/--no-attempts",
                                           help="Also write student attempts to OUT/attempts/.")] = True,
    profile: Annotated[str, typer.Option("--profile", help="default (word problems, 11 families), procedural "
                                         "(digit-by-digit arithmetic a tiny student learns; held-out split in OUT/heldout/) "
                                         "or teachers (raw outputs of six teachers, one JSONL per teacher in its own "
                                         "reasoning layout, for `distillery ingest`).")] = "default",
    heldout: Annotated[int | None, typer.Option("--heldout", min=0, help="procedural: held-out problems per family (default 60); "
                                                "default: held-out problems in OUT/heldout/ (default 0), a few planted in the corpus.")] = None,
    contaminate: Annotated[int, typer.Option("--contaminate", min=0, help="default profile with --heldout: held-out problems "
                                             "also planted in the corpus (verbatim or reworded), for decontam to catch.")] = 5,
):
    """Write the embedded synthetic math corpus (known truth, planted defects)."""
    from curate import outputs

    outputs.folder_out(out)
    if profile == "procedural":
        from curate.synth import procedural

        cfg = procedural.ProceduralConfig(seed=seed, **({"n": n} if n else {}),
                                          **({"heldout": heldout} if heldout is not None else {}))
        typer.echo(procedural.write(cfg, out).summary())
        return
    if profile == "teachers":
        from curate.synth import teachers

        cfg = teachers.TeachersConfig(seed=seed, **({"problems": n} if n else {}))
        typer.echo(teachers.write(cfg, out).summary())
        return
    if profile != "default":
        from curate.errors import BadInput

        raise BadInput(f"--profile {profile}: expected default, procedural or teachers")
    from curate import synth as lib

    result = lib.write(lib.SynthConfig(n=n or 60_000, seed=seed, attempts=attempts, heldout=heldout or 0,
                                       contaminate=contaminate), out)
    typer.echo(result.summary())


@app.command()
def ingest(
    src: Annotated[str, typer.Argument(help="File (jsonl/json/parquet/csv), folder, or hf:org/name[:config][:split].")],
    out: Annotated[Path, typer.Option("--out", help="Trace folder to write into.")],
    preset: Annotated[str, typer.Option("--preset", help="s1k, openthoughts, openr1-math, limo, messages, generic.")] = "generic",
    map_: Annotated[str | None, typer.Option("--map", help="generic: problem=COL,thinking=COL,response=COL,gold=COL,…")] = None,
    trace: Annotated[str | None, typer.Option("--trace", help="s1k-1.1: which teacher's traces (deepseek or gemini).")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Value of the source column; wins over the data's own "
                                               "(kept in meta original_source). Default: the data's, else from SRC.")] = None,
    teacher: Annotated[str | None, typer.Option("--teacher", help="Value of the teacher column where the data has none.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Shard prefix in OUT (default: the preset).")] = None,
    layout: Annotated[str, typer.Option("--layout", help="Reasoning layout: auto (detected per file), think, "
                                        "think_no_open (R1-Distill), thought (Sky-T1), s1 (think/answer lines), "
                                        "column, final_answer (LIMO) or none.")] = "auto",
    replace: Annotated[bool, typer.Option("--replace", help="Replace OUT's shards of this prefix.")] = False,
    append: Annotated[bool, typer.Option("--append", help="OUT holds this prefix already: add the rows under "
                                         "a new prefix (PREFIX.2, …).")] = False,
):
    """Import an existing trace dataset (s1K, OpenThoughts, OpenR1-Math, LIMO, chat, any table)."""
    from curate import ingest as lib
    from curate import outputs

    outputs.folder_out(out)
    outputs.refuse_overlap(out, [Path(src)], fills_folder=True)
    result = lib.ingest_to(src, out, preset=preset, mapping=map_, trace=trace, source=source,
                           teacher=teacher, name=name, layout=layout, replace=replace, append=append)
    typer.echo(result.summary())


@app.command()
def validate(
    path: Annotated[Path, typer.Argument(help="Trace file or folder.")],
    max_text_bytes: Annotated[int, typer.Option("--max-text-bytes", min=1, help="Flag problem/thinking/response/gold "
                                                "values longer than this (the format stage drops them).")] = 1_000_000,
    strict: Annotated[bool, typer.Option("--strict", help="Content problems (thinking never closed, empty "
                                         "thinking, text that fit no layout) exit 2 too.")] = False,
):
    """Check a trace file or folder against the schema: rows, columns, layouts, problems found."""
    from curate import validate as lib

    report = lib.validate_path(path, max_text_bytes=max_text_bytes)
    typer.echo(report.render())
    if not report.ok or (strict and not report.clean):
        raise typer.Exit(2)


@app.command()
def curate(
    recipe: Annotated[str, typer.Argument(help="Recipe YAML file, or a built-in recipe name (e.g. demo).")],
    input_: Annotated[str, typer.Option("--input", help="Trace file or folder: a path, or a URI (s3://, gs://, hf://, file://).")],
    out: Annotated[Path, typer.Option("--out", help="Run folder to write.")],
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace another recipe's run in OUT.")] = False,
    engine: Annotated[str | None, typer.Option("--engine", help="local (default) or ray; overrides the recipe's engine:.")] = None,
    address: Annotated[str | None, typer.Option("--address", help="Ray cluster: auto, HOST:PORT or ray://HOST:PORT (default: the one in RAY_ADDRESS, else a local Ray on this machine).")] = None,
    batch_rows: Annotated[int | None, typer.Option("--batch-rows", help="Rows per Ray block (default 8192): what a worker holds at once.")] = None,
    shuffle_rows: Annotated[int | None, typer.Option("--shuffle-rows", help="Rows per Ray shuffle partition and output range (default 8 x --batch-rows), of the columns a stage reads: fewer, larger pieces cost less per row.")] = None,
):
    """Run a curation recipe: every row kept with the stage and reason that dropped it."""
    from curate import engines
    from curate import recipe as recipes
    from curate import run as runner
    from curate.errors import BadInput

    loaded = recipes.load(recipe)
    name = engine or loaded.engine
    for option, value in (("--batch-rows", batch_rows), ("--shuffle-rows", shuffle_rows)):
        if name != "ray" and value is not None:
            raise BadInput(f"{option}: only the ray engine runs in batches (add --engine ray)")
    chosen = engines.get(name, address=address, batch_rows=batch_rows, shuffle_rows=shuffle_rows)
    console = _console()
    result = runner.run(loaded, input_, out, overwrite=overwrite, console=console, engine=chosen)
    typer.echo(f"{result.rows_in:,} rows in, {result.rows_selected:,} selected → {result.out}/selected.parquet")


@app.command()
def stages(
    name: Annotated[str | None, typer.Argument(help="One stage (default: every stage).")] = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print Markdown tables (the README's are these).")] = False,
):
    """List the curation stages and each one's recipe keys: type, default and what it does."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from curate import stages as registry
    from curate.errors import BadInput

    if name is not None and name not in registry.MODULES:
        raise BadInput(f"unknown stage {name!r} (known stages: {', '.join(registry.known())})")
    if markdown:
        typer.echo(registry.markdown(), nl=False)
        return
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    for stage in [None, *registry.known()] if name is None else [name]:
        table = Table(title=escape("every stage" if stage is None else registry.summary(stage)),
                      title_justify="left", header_style="bold")
        for column in ("key", "type", "default", "what"):
            table.add_column(column, overflow="fold")
        for row in registry.config_keys(stage):
            table.add_row(*(escape(cell) for cell in row))
        console.print(table)


@app.command()
def dedup(
    input_: Annotated[Path, typer.Argument(metavar="INPUT", help="Table to deduplicate (Parquet, JSONL, or a trace folder).")],
    out: Annotated[Path, typer.Option("--out", help="Parquet file to write: input columns + dup_* + drop_reason.")],
    on: Annotated[str, typer.Option("--on", help="Text column compared.")] = "problem",
    method: Annotated[str, typer.Option("--method", help="exact, minhash or semantic.")] = "minhash",
    threshold: Annotated[float | None, typer.Option("--threshold", help="Jaccard / cosine in (0, 1]; default 0.8 (minhash), 0.9 (semantic).")] = None,
    keep: Annotated[str, typer.Option("--keep", help="Row kept per cluster: first, last, longest, shortest, verified, score.")] = "first",
    ngram: Annotated[int, typer.Option("--ngram", help="Words per shingle (minhash).")] = 5,
    num_perm: Annotated[int, typer.Option("--num-perm", help="MinHash permutations.")] = 128,
    bands: Annotated[int | None, typer.Option("--bands", help="LSH bands, dividing num-perm (default: from the threshold).")] = None,
    check: Annotated[str, typer.Option("--check", help="Candidate check: jaccard (exact) or signature (estimate).")] = "jaccard",
    model: Annotated[str | None, typer.Option("--model", help="sentence-transformers name or path (semantic).")] = None,
    index: Annotated[Path | None, typer.Option("--index", help="Saved MinHash index to dedup against.")] = None,
    save_index: Annotated[Path | None, typer.Option("--save-index", help="Write the index extended by the survivors.")] = None,
    any_math: Annotated[bool, typer.Option("--any-math", help="Let near-duplicates differ in numbers and formulas (by default another number or sign makes another problem).")] = False,
):
    """Mark duplicate problems (exact, MinHash or semantic); duplicates get a drop_reason."""
    import polars as pl

    from curate import outputs, store
    from curate.dedup import dedup_table

    outputs.file_out(out)
    outputs.refuse_overlap(out, [input_, index])
    if save_index is not None:
        outputs.refuse_overlap(save_index, [input_], option="--save-index")
    frame = pl.from_arrow(store.read_table(input_))
    result = dedup_table(frame, on=on, method=method, threshold=threshold, keep=keep, ngram=ngram,
                         num_perm=num_perm, bands=bands, check=check, model=model, index=index,
                         save_index=save_index, same_math=not any_math)
    cols = result.columns
    store.write_parquet(pl.concat([frame.drop(cols.columns, strict=False), cols], how="horizontal").to_arrow(), out)
    dropped = cols["drop_reason"].is_not_null().sum()
    typer.echo(f"{frame.height:,} rows, {result.stats['clusters']:,} duplicate clusters, {dropped:,} rows "
               f"dropped ({method}) → {out}")


@app.command()
def decontam(
    input_: Annotated[Path, typer.Argument(metavar="INPUT", help="Table to check (Parquet, JSONL, or a trace folder).")],
    bench: Annotated[list[str], typer.Option("--bench", help="Benchmark name (math500, aime24, aime25, amc23, gsm8k, …: `distillery benchmarks list`), file or trace folder; repeat or comma-separate for several.")],
    out: Annotated[Path, typer.Option("--out", help="Parquet file to write: input columns + contaminated_with + drop_reason.")],
    on: Annotated[str, typer.Option("--on", help="Text column checked.")] = "problem",
    ngram: Annotated[int, typer.Option("--ngram", help="Words per shared n-gram.")] = 8,
    fuzzy: Annotated[float | None, typer.Option("--fuzzy", help="Also flag MinHash Jaccard at least this.")] = None,
    bench_dir: Annotated[Path | None, typer.Option("--bench-dir", help="Folder of named benchmarks (default $DISTILLERY_BENCHMARKS, then the user cache).")] = None,
    boilerplate: Annotated[int, typer.Option("--boilerplate", min=0, help="An n-gram in at least this many problems (benchmarks and input) is boilerplate and does not count; 0: every n-gram counts.")] = 3,
    boilerplate_from: Annotated[list[str] | None, typer.Option("--boilerplate-from", help="Where else boilerplate is counted: input (default), benchmark names or files; repeat for several.")] = None,
):
    """Drop rows sharing a word 8-gram with benchmark problems (MATH-500, AIME, AMC, GSM8K, files)."""
    import polars as pl

    from curate import outputs, store
    from curate.decontam import decontaminate
    from curate.errors import BadInput

    outputs.file_out(out)
    outputs.refuse_overlap(out, [input_, bench_dir, *[Path(b) for v in bench for b in v.split(",") if b]])
    frame = pl.from_arrow(store.read_table(input_))
    names = [b for value in bench for b in value.split(",") if b]
    if boilerplate == 1:
        raise BadInput("--boilerplate 1 would ignore every n-gram: give 0 (none ignored) or 2 and up")
    result = decontaminate(frame, bench=names, on=on, ngram=ngram, fuzzy=fuzzy, bench_dir=bench_dir,
                           boilerplate=boilerplate or None, boilerplate_from=boilerplate_from)
    for line in result.warnings:
        typer.echo(f"warning: {line}", err=True)
    cols = result.columns
    store.write_parquet(pl.concat([frame.drop(cols.columns, strict=False), cols], how="horizontal").to_arrow(), out)
    per = ", ".join(f"{k} {v:,}" for k, v in result.stats["contaminated_rows"].items())
    typer.echo(f"{frame.height:,} rows, {cols['drop_reason'].is_not_null().sum():,} contaminated ({per}) → {out}")


@app.command("sql")
def sql_(
    path: Annotated[Path, typer.Argument(help="Run folder, trace folder or trace file.")],
    command: Annotated[str | None, typer.Option("-c", "--command", help="Run this SQL, print the result, exit.")] = None,
    query: Annotated[str | None, typer.Option("--query", "-q", help="Run a named query (sql/queries/NAME.sql).")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="NAME=VALUE: a DuckDB variable, e.g. n=10 for sample_traces.")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="csv, json or parquet (default: a table).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the result to FILE instead of printing it.")] = None,
    max_rows: Annotated[int, typer.Option("--max-rows", min=1, help="Rows a printed table shows.")] = 40,
    allow_files: Annotated[bool, typer.Option("--allow-files", help="Let SQL read other files (read_csv, read_parquet, …); "
                                              "writing stays refused. Without it SQL sees the run's views only.")] = False,
    max_width: Annotated[int, typer.Option("--max-width", min=0, help="Characters a printed cell shows before '…' (0: whole cells).")] = 120,
    show: Annotated[str | None, typer.Option("--show", help="Print one trace (TRACE_ID or a unique prefix) with its problem, thinking and response whole.")] = None,
):
    """SQL over a run's traces and stages (DuckDB views); an interactive shell without -c/--query."""
    from rich.console import Console

    from curate import shell
    from curate import sql as lib
    from curate.errors import BadInput

    if sum(x is not None for x in (command, query, show)) > 1:
        raise BadInput("give one of -c SQL, --query NAME or --show TRACE_ID")
    if (fmt or out) and command is None and query is None:
        raise BadInput("--format and --out go with -c SQL or --query NAME")
    if query is not None:
        lib.named(query)  # an unknown name fails before the data is opened
    if out is not None:
        from curate import outputs

        outputs.file_out(out)
        outputs.refuse_overlap(out, [path])
    con = lib.connect(path, allow_files=allow_files)
    for assignment in set_ or []:
        lib.set_variable(con, assignment)
    if show is not None:
        shell.show(con, show, Console(highlight=False, width=None if sys.stdout.isatty() else 200))
        return
    if command is None and query is None:
        shell.Shell(con, Console(highlight=False), history=shell.HISTORY, max_width=max_width).loop()
        return
    result = lib.run_named(con, query) if query is not None else lib.run_query(con, command)
    if result is None:
        return
    if out is not None:
        written = lib.write_result(result, lib.format_of(fmt, out), out)
        typer.echo(f"{result.num_rows:,} rows → {written}")
    elif fmt is not None:
        typer.echo(lib.render_text(result, lib.format_of(fmt, None)), nl=False)
    else:
        # A terminal sets the width; piped output gets room for wide rows instead of rich's 80.
        width = None if sys.stdout.isatty() else 200
        shell.render(result, Console(highlight=False, width=width), max_rows=max_rows, max_width=max_width)


@app.command()
def report(
    run: Annotated[Path, typer.Argument(help="Run folder (from distillery curate).")],
    out: Annotated[Path | None, typer.Option("--out", help="HTML file to write (default: RUN/report.html).")] = None,
    prices: Annotated[Path | None, typer.Option("--prices", help="YAML of teachers' $ per million input/output tokens: adds each teacher's cost.")] = None,
):
    """One self-contained HTML report of a run: funnel, lengths, verdicts, domains, teachers, samples."""
    from curate import outputs
    from curate import report as lib

    if out is not None:
        outputs.file_out(out)
        outputs.refuse_overlap(out, [run])
    written = lib.write(run, out, prices=prices)
    typer.echo(f"report → {written}")


@app.command()
def verify(
    input_: Annotated[Path, typer.Argument(metavar="INPUT", help="Parquet or JSONL file with a gold and an answer column.")],
    gold: Annotated[str, typer.Option("--gold", help="Column of reference answers.")],
    pred: Annotated[str, typer.Option("--pred", help="Column of responses (or bare answers).")],
    out: Annotated[Path, typer.Option("--out", help="Parquet file to write: the input plus pred_answer, verdict, verdict_reason.")],
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="Hard time limit per answer pair, in seconds.")] = 5.0,
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="Worker processes (default: one per core).")] = None,
    percent: Annotated[str, typer.Option("--percent", help="How 50% compares: either (50 and 0.5), fraction (0.5), strip (50).")] = "either",
    rounding: Annotated[str, typer.Option("--rounding", help="given: a decimal answer compares at the precision it is written in (0.333 = 1/3); exact: only within --rel-tol.")] = "given",
    min_digits: Annotated[int, typer.Option("--min-digits", min=1, help="Fewest significant digits of a rounded answer (0.3 is not 1/3).")] = 3,
    decimal_comma: Annotated[str, typer.Option("--decimal-comma", help="auto: 1,5 reads as 1.5 against a single number; never.")] = "auto",
    ordered: Annotated[bool, typer.Option("--ordered/--unordered", help="Whether bare lists (1, 2) must match in order (sets never, tuples always).")] = False,
    rel_tol: Annotated[float, typer.Option("--rel-tol", help="Relative tolerance between numbers (there is no absolute one).")] = 1e-6,
    last_number: Annotated[bool, typer.Option("--last-number/--no-last-number", help="Fall back to the last number of a response with no boxed, marked or final math answer.")] = True,
):
    """Verify final answers against gold answers (math equivalence, no eval, hard time limits)."""
    from rich.progress import Progress
    from rich.table import Table

    from curate import outputs
    from curate.errors import BadInput
    from curate.verify import Options
    from curate.verify import files as lib

    outputs.file_out(out)
    outputs.refuse_overlap(out, [input_])
    try:
        options = Options(percent=percent, rounding=rounding, min_digits=min_digits, decimal_comma=decimal_comma,
                          ordered=ordered, rel_tol=rel_tol, fallback_last_number=last_number)
    except ValueError as exc:
        option = str(exc).split(" ", 1)[0].replace("_", "-")
        raise BadInput(f"--{option}: {exc}") from exc
    bar = Progress(console=_console(), transient=True)
    task = bar.add_task("verifying", total=None)

    def progress(done: int, total: int) -> None:
        if not bar.live.is_started:  # only once the input is read and checked: bad input prints one line
            bar.start()
        bar.update(task, completed=done, total=total)

    try:
        summary = lib.verify_file(input_, gold, pred, out, timeout=timeout, workers=workers, options=options,
                                  progress=progress)
    finally:
        if bar.live.is_started:
            bar.stop()
    table = Table(title=f"{summary.rows:,} rows verified in {summary.seconds:.1f} s")
    for name in ("verdict", "rows", "share"):
        table.add_column(name, justify="left" if name == "verdict" else "right")
    for verdict, count, share in summary.rows_of_table():
        table.add_row(verdict, f"{count:,}", share)
    from rich.console import Console

    Console(highlight=False).print(table)
    typer.echo(f"→ {summary.out}")


# ------------------------------------------------------------------------------------- benchmarks

bench_app = typer.Typer(help="Named benchmarks (math500, aime24, …): where they resolve, and filling the "
                             "user cache from the Hugging Face hub.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(bench_app, name="benchmarks")


@bench_app.command("list")
def benchmarks_list():
    """Every benchmark name, its Hugging Face dataset, and its local copy (if any)."""
    from curate import benchmarks as lib

    for what, folder in lib.folders():
        typer.echo(f"looked for in {what}: {folder}")
    for e in lib.listing():
        typer.echo(f"{e['name']:<15} {e['dataset'] + ' (' + e['split'] + ')':<50} {e['local'] or '-'}")


@bench_app.command("path")
def benchmarks_path(name: Annotated[str, typer.Argument(help="A benchmark name (or path).")]):
    """The local file a benchmark name resolves to (the hub is not contacted: exit 2 when none)."""
    from curate import benchmarks as lib

    typer.echo(str(lib.path(name, hub=False)[1]))


@bench_app.command("pull")
def benchmarks_pull(
    names: Annotated[list[str] | None, typer.Argument(help="Benchmark names (default: every registry name).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Read again even when already cached.")] = False,
):
    """Copy benchmarks from the Hugging Face hub into the user cache, for runs without a network."""
    from curate import benchmarks as lib

    for name in names or list(lib.REGISTRY):
        typer.echo(f"{name}: {lib.pull(name, force=force)}")


# ------------------------------------------------------------------------- train, eval, tiny-model

train_app = typer.Typer(help="Train a student on a run's selected traces (SFT, soft-label KD).",
                        no_args_is_help=True, rich_markup_mode=None)
app.add_typer(train_app, name="train")


def _train_command(kind: str, data: str, model: str, out: Path, config: str | None, set_: list[str] | None,
                   overlength: str | None, teacher: str | None, teacher_logprobs: str | None,
                   accelerate: str | None, num_processes: int, num_machines: int, machine_rank: int,
                   main_process_ip: str | None, main_process_port: int | None, dry_run: bool) -> None:
    import os

    from curate import locks, outputs
    from curate.errors import BadInput

    outputs.folder_out(out)
    outputs.refuse_overlap(out, [Path(data), Path(model)], fills_folder=True)
    sets = list(set_ or [])
    if overlength is not None:
        if overlength not in ("drop", "error"):
            raise BadInput(f"--overlength {overlength}: expected drop or error")
        sets.append(f"on_overlength={overlength}")
    if teacher_logprobs is not None:
        sets += [f"kd.ids_column={teacher_logprobs}_ids", f"kd.logprobs_column={teacher_logprobs}_logprobs"]
    if accelerate is not None:
        import subprocess

        from train.config import load_config
        from train.sft import launch_command

        load_config(config, sets)  # a bad key fails here, not on 8 GPUs
        import shlex

        spec = {"data": str(data), "model": model, "out": str(out), "config": config, "sets": sets,
                "kind": kind, "teacher": teacher}
        cmd = launch_command(spec, accelerate, num_processes, num_machines, machine_rank, main_process_ip,
                             main_process_port)
        typer.echo(shlex.join(cmd))
        if not dry_run:
            # The launcher holds the folder's lock; its processes (same --out) inherit it.
            lock = locks.writer(out) if machine_rank == 0 else contextlib.nullcontext()
            with lock:
                env = {**os.environ, locks.INHERITED: str(Path(out).resolve())}
                raise typer.Exit(subprocess.run(cmd, env=env).returncode)
        return
    from train import sft as lib

    with locks.writer(out):
        result = lib.train(data, model, out, config, sets, kind=kind, teacher=teacher, log=typer.echo)
    typer.echo(result.summary())


_DATA = typer.Option("--data", help="RUN folder (its selected.parquet) or a Parquet file with a `messages` column.")
_MODEL = typer.Option("--model", help="Student: a model name or a local folder.")
_TOUT = typer.Option("--out", help="Folder for the model, tokenizer, model card, loss.png, train_log.jsonl.")
_CONFIG = typer.Option("--config", help="Config YAML or built-in name: s1, r1-distill, lora, tiny (default s1).")
_SET = typer.Option("--set", help="Override a config key: key=value (repeatable; dotted keys, e.g. lora.r=8).")
_OVER = typer.Option("--overlength", help="Rows longer than max_length: drop (reported) or error.")
_ACC = typer.Option("--accelerate", help="Launch with accelerate: fsdp2, zero3 or a profile YAML.")
_NPROC = typer.Option("--num-processes", min=1, help="With --accelerate: processes (GPUs) per machine.")
_NMACH = typer.Option("--num-machines", min=1, help="With --accelerate: machines.")
_RANK = typer.Option("--machine-rank", min=0, help="With --accelerate: this machine's rank.")
_IP = typer.Option("--main-process-ip", help="With --accelerate: address of rank 0.")
_PORT = typer.Option("--main-process-port", help="With --accelerate: port of rank 0.")
_DRY = typer.Option("--dry-run", help="With --accelerate: print the launch command, run nothing.")


@train_app.command("sft")
def train_sft(
    data: Annotated[str, _DATA], model: Annotated[str, _MODEL], out: Annotated[Path, _TOUT],
    config: Annotated[str | None, _CONFIG] = None, set_: Annotated[list[str] | None, _SET] = None,
    overlength: Annotated[str | None, _OVER] = None, accelerate: Annotated[str | None, _ACC] = None,
    num_processes: Annotated[int, _NPROC] = 1, num_machines: Annotated[int, _NMACH] = 1,
    machine_rank: Annotated[int, _RANK] = 0, main_process_ip: Annotated[str | None, _IP] = None,
    main_process_port: Annotated[int | None, _PORT] = None, dry_run: Annotated[bool, _DRY] = False,
):
    """Supervised fine-tuning on the assistant turn (thinking + answer + end-of-turn), TRL SFTTrainer."""
    _train_command("sft", data, model, out, config, set_, overlength, None, None, accelerate, num_processes,
                   num_machines, machine_rank, main_process_ip, main_process_port, dry_run)


@train_app.command("kd")
def train_kd(
    data: Annotated[str, _DATA], model: Annotated[str, _MODEL], out: Annotated[Path, _TOUT],
    teacher_logprobs: Annotated[str | None, typer.Option(
        "--teacher-logprobs", help="Column prefix of the teacher's top-k: PREFIX_ids, PREFIX_logprobs (default topk).")] = None,
    teacher: Annotated[str | None, typer.Option("--teacher", help="Teacher model or tokenizer: checked to share the student's tokenizer.")] = None,
    config: Annotated[str | None, _CONFIG] = None, set_: Annotated[list[str] | None, _SET] = None,
    overlength: Annotated[str | None, _OVER] = None, accelerate: Annotated[str | None, _ACC] = None,
    num_processes: Annotated[int, _NPROC] = 1, num_machines: Annotated[int, _NMACH] = 1,
    machine_rank: Annotated[int, _RANK] = 0, main_process_ip: Annotated[str | None, _IP] = None,
    main_process_port: Annotated[int | None, _PORT] = None, dry_run: Annotated[bool, _DRY] = False,
):
    """Soft-label distillation: α·CE + (1−α)·T²·KL(teacher ‖ student) over the teacher's top-k + tail."""
    _train_command("kd", data, model, out, config, set_, overlength, teacher, teacher_logprobs, accelerate,
                   num_processes, num_machines, machine_rank, main_process_ip, main_process_port, dry_run)


@app.command("eval")
def eval_(
    model: Annotated[str, typer.Option("--model", help="Student folder (or model name).")],
    bench: Annotated[str, typer.Option("--bench", help="A benchmark name (math500, aime24, …: `distillery benchmarks list`), a JSONL/Parquet file with problem and answer, or a trace folder.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for summary.json and samples.parquet.")],
    n: Annotated[int, typer.Option("--n", min=1, help="Samples per problem.")] = 4,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", min=1, help="Token limit per sample.")] = 4096,
    max_thinking: Annotated[int | None, typer.Option("--max-thinking", min=1, help="Budget forcing: end thinking after N tokens.")] = None,
    min_wait: Annotated[int, typer.Option("--min-wait", min=0, help="Budget forcing: replace an early end of thinking with 'Wait' up to K times.")] = 0,
    backend: Annotated[str, typer.Option("--backend", help="hf (transformers) or vllm.")] = "hf",
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N problems.")] = None,
    temperature: Annotated[float, typer.Option("--temperature", min=0.0, help="Sampling temperature (0: greedy).")] = 0.6,
    seed: Annotated[int, typer.Option("--seed", help="Sampling seed.")] = 0,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Prompts per generation batch (hf).")] = 16,
):
    """Evaluate a student: n samples per problem, verified; pass@1, pass@k, per subject and level."""
    from curate import outputs
    from train import evaluate as lib

    outputs.folder_out(out)
    outputs.refuse_overlap(out, [Path(bench)], fills_folder=True)
    result = lib.evaluate(model, bench, out, n=n, max_new_tokens=max_new_tokens, max_thinking=max_thinking,
                          min_wait=min_wait, backend=backend, limit=limit, temperature=temperature, seed=seed,
                          batch_size=batch_size)
    typer.echo(result.text())


@app.command()
def ablate(
    pool: Annotated[Path, typer.Option("--pool", help="Trace file or folder every selection draws from.")],
    recipe: Annotated[str, typer.Option("--recipe", help="Recipe YAML or built-in name (e.g. procedural); its select stage keeps k.")],
    eval_: Annotated[str, typer.Option("--eval", help="Held-out problems: a benchmark name, a file, or a trace folder (e.g. POOL/heldout).")],
    out: Annotated[Path, typer.Option("--out", help="Run folder: the recipe's run, plus ablation/ (students, evals, table, plot).")],
    k: Annotated[int, typer.Option("--k", min=1, help="Rows per selection.")] = 1000,
    baselines: Annotated[str, typer.Option("--baselines", help="Comma-separated: random, longest, diverse, unfiltered-top, filtered-unbalanced, teacher:NAME (that teacher's traces only), or package.module:function.")] = "random",
    model: Annotated[str, typer.Option("--model", help="Student to start from: a model folder or name, or tiny (a random-weight 0.54M student per seed).")] = "tiny",
    seeds: Annotated[int, typer.Option("--seeds", min=1, help="Seeds per arm (training order, the tiny student's weights, baseline draws).")] = 3,
    config: Annotated[str, typer.Option("--config", help="Training config for every arm (default ablate-tiny).")] = "ablate-tiny",
    set_: Annotated[list[str] | None, typer.Option("--set", help="KEY=VALUE override of the training config, the same for every arm.")] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", min=1, help="Students trained at once (default: 2 on a CPU, one per GPU).")] = None,
    backend: Annotated[str, typer.Option("--backend", help="Eval back-end: hf or vllm.")] = "hf",
    max_new_tokens: Annotated[int | None, typer.Option("--max-new-tokens", min=1, help="Eval token limit per answer (default: the training max_length).")] = None,
    eval_n: Annotated[int, typer.Option("--eval-n", min=1, help="Answers sampled per held-out problem (1: greedy; more: temperature 0.6).")] = 1,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace another recipe's run or ablation in OUT.")] = False,
):
    """Train a student on the recipe's k and on baseline k of the same pool; compare them on held-out problems."""
    from curate import locks, outputs
    from train import ablate as lib

    outputs.folder_out(out)
    outputs.refuse_overlap(out, [pool, Path(eval_)], fills_folder=True)
    cfg = lib.AblateConfig(pool=pool, recipe=recipe, k=k, baselines=[b.strip() for b in baselines.split(",") if b.strip()],
                           model=model, eval=eval_, seeds=seeds, out=out, config=config, sets=set_ or [], jobs=jobs,
                           backend=backend, max_new_tokens=max_new_tokens, eval_n=eval_n, overwrite=overwrite)
    with locks.writer(out, clean=(".", "stages")):
        result = lib.run(cfg, log=typer.echo)
    typer.echo(result.table, nl=False)
    typer.echo(f"→ {lib.folder(result.out)} (table.md, summary.json, ablation.svg, results.parquet, intervals.parquet); "
               f"distillery sql {result.out} -q ablation")


@app.command("tiny-model")
def tiny_model(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the model and tokenizer into.")],
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random weights.")] = 0,
    profile: Annotated[str, typer.Option("--profile", help="default (64 wide, for smoke tests) or procedural "
                                         "(0.54M parameters, the student `synth --profile procedural` teaches).")] = "default",
):
    """A tiny random-weight Qwen-shaped student and a thinking-aware tokenizer (offline, CPU)."""
    from train import tiny as lib

    written = lib.build(out, lib.spec_for(profile, seed=seed))
    typer.echo(f"tiny model → {written}")


@app.command()
def export(
    run: Annotated[Path, typer.Argument(help="Run folder (from distillery curate).")],
    format_: Annotated[str, typer.Option("--format", help="jsonl, parquet, hf (datasets folder) or sharegpt.")],
    out: Annotated[Path, typer.Option("--out", help="File (jsonl, parquet, sharegpt) or folder (hf) to write.")],
    push_to_hub: Annotated[str | None, typer.Option("--push-to-hub", help="Also upload the data and its card to this Hugging Face dataset repository (OWNER/NAME).")] = None,
):
    """Write a run's selected rows (with messages) as JSONL, Parquet, a HF dataset or ShareGPT, with a dataset card."""
    import shlex

    from curate import exporting as lib
    from curate import outputs

    (outputs.folder_out if format_ == "hf" else outputs.file_out)(out)
    outputs.refuse_overlap(out, [run], fills_folder=format_ == "hf")
    command = " ".join(shlex.quote(a) for a in ["distillery", "export", str(run), "--format", format_, "--out", str(out)])
    rows = lib.export(run, format_, out, push_to_hub=push_to_hub, command=command)
    typer.echo(f"{rows:,} rows → {out} (card: {lib.card_path(format_, out)})"
               + (f"; pushed to {push_to_hub}" if push_to_hub else ""))


# ------------------------------------------------------------------------------ generate, score

@app.command()
def generate(
    problems: Annotated[str, typer.Argument(metavar="PROBLEMS", help="File with a problem column (and gold), or a benchmark name: math500, aime24, …")],
    model: Annotated[str, typer.Option("--model", help="Teacher: a model name or a local folder (the served name for openai).")],
    out: Annotated[Path, typer.Option("--out", help="Trace folder: shards gen-<settings hash>-NNNNN.parquet.")],
    backend: Annotated[str, typer.Option("--backend", help="hf (transformers), openai (any OpenAI-compatible server) or vllm.")] = "hf",
    n: Annotated[int, typer.Option("--n", min=1, help="Samples per problem.")] = 4,
    temperature: Annotated[float, typer.Option("--temperature", min=0.0, help="Sampling temperature (0: greedy).")] = 0.6,
    top_p: Annotated[float, typer.Option("--top-p", help="Nucleus sampling.")] = 0.95,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1, help="Token limit per sample (thinking and answer).")] = 32768,
    system: Annotated[str | None, typer.Option("--system", help="System prompt.")] = None,
    logprobs: Annotated[int | None, typer.Option("--logprobs", help="Keep the teacher's top-K logprobs per generated token.")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="openai: the server, e.g. http://127.0.0.1:8000/v1 (key: $OPENAI_API_KEY).")] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="openai: requests in flight.")] = 64,
    seed: Annotated[int, typer.Option("--seed", help="Sampling seed (each sample gets its own, derived from it).")] = 0,
    max_thinking: Annotated[int | None, typer.Option("--max-thinking", min=1, help="Budget forcing: end thinking after N tokens, then 'Final Answer:'.")] = None,
    min_thinking: Annotated[int | None, typer.Option("--min-thinking", min=1, help="Budget forcing: an end of thinking before N tokens becomes 'Wait'.")] = None,
    min_wait: Annotated[int, typer.Option("--min-wait", min=0, help="Budget forcing: the first K ends of thinking become 'Wait'.")] = 0,
    delims: Annotated[str, typer.Option("--delimiters", help="Thinking delimiters: r1 (<think>…</think>), s1 (<|im_start|>think / answer) or OPEN,CLOSE.")] = "r1",
    tokenizer: Annotated[str | None, typer.Option("--tokenizer", help="openai with budget forcing: tokenizer whose chat template renders raw prompts (default --model).")] = None,
    retries: Annotated[int, typer.Option("--retries", min=0, help="openai: retries per request (429, 5xx, timeouts, dropped connections).")] = 8,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="openai: seconds per request.")] = 600.0,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="hf: prompts per generate() batch.")] = 16,
    tensor_parallel: Annotated[int, typer.Option("--tensor-parallel", min=1, help="vllm: tensor parallel size.")] = 1,
    data_parallel: Annotated[int, typer.Option("--data-parallel", min=1, help="vllm: data parallel size.")] = 1,
    problem_column: Annotated[str, typer.Option("--problem-column", help="Column of PROBLEMS holding the problems.")] = "problem",
    gold_column: Annotated[str | None, typer.Option("--gold-column", help="Column of reference answers (default: gold or answer if present).")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N problems.")] = None,
    flush_every: Annotated[int, typer.Option("--flush-every", min=1, help="Write a shard every N finished samples.")] = 32,
    engine: Annotated[str, typer.Option("--engine", help="local (default: the back-end in this process) or ray (back-end replicas in Ray actors).")] = "local",
    replicas: Annotated[int | None, typer.Option("--replicas", help="ray: back-end replicas (each one model; vllm: --tensor-parallel GPUs each). Default 1.")] = None,
    address: Annotated[str | None, typer.Option("--address", help="ray: the cluster, auto, HOST:PORT or ray://HOST:PORT (default: RAY_ADDRESS, else a local Ray).")] = None,
):
    """Sample a teacher's reasoning traces: n per problem, resumable shards, retries, budget forcing."""
    from rich.progress import Progress, TextColumn

    from curate import generate as lib
    from curate import outputs
    from curate.errors import BadInput

    outputs.folder_out(out)
    outputs.refuse_overlap(out, [Path(problems)], fills_folder=True)
    options = dict(base_url=base_url, concurrency=concurrency, tokenizer=tokenizer, retries=retries, timeout=timeout,
                   batch_size=batch_size, tensor_parallel=tensor_parallel, data_parallel=data_parallel)
    replicas_obj = None
    if engine == "ray":
        from curate.engines.ray_generate import RayReplicas

        replicas_obj = RayReplicas(backend, model, replicas=1 if replicas is None else replicas, address=address, **options)
    elif engine != "local":
        raise BadInput(f"--engine: unknown engine {engine!r} (known: local, ray)")
    elif replicas is not None or address is not None:
        raise BadInput(f"{'--replicas' if replicas is not None else '--address'}: only the ray engine runs "
                       "replicas on a cluster (add --engine ray)")
    params = lib.SamplingParams(
        temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed, system=system, logprobs=logprobs,
        forcing=lib.Forcing(max_thinking=max_thinking, min_thinking=min_thinking, min_wait=min_wait,
                            delims=lib.delimiters(delims)))
    bar = Progress(TextColumn("{task.description}"), console=_console(), transient=True)
    task = bar.add_task("starting", total=None)

    def progress(stats) -> None:
        if not bar.live.is_started:
            bar.start()
        bar.update(task, description=stats.line())

    try:
        result = lib.generate(problems, model, out, backend=backend, n=n, params=params, problem_column=problem_column,
                              gold_column=gold_column, limit=limit, flush_every=flush_every, progress=progress,
                              backend_obj=replicas_obj, **options)
    finally:
        if bar.live.is_started:
            bar.stop()
        if replicas_obj is not None:
            replicas_obj.close()
    typer.echo(result.summary())


@app.command()
def score(
    traces: Annotated[Path, typer.Argument(metavar="TRACES", help="Trace file or folder.")],
    model: Annotated[str, typer.Option("--model", help="Teacher: a model name or a local folder.")],
    out: Annotated[Path, typer.Option("--out", help="Folder: each input shard again, with topk_ids / topk_logprobs.")],
    k: Annotated[int, typer.Option("--k", "--logprobs", min=1, help="Top-k per token.")] = 8,
    backend: Annotated[str, typer.Option("--backend", help="hf (a forward pass) or vllm (prompt_logprobs).")] = "hf",
    system: Annotated[str | None, typer.Option("--system", help="System prompt, as the SFT export renders it.")] = None,
):
    """Teacher top-k logprobs for existing traces by teacher forcing, for soft-label distillation."""
    from curate import outputs
    from curate.generate import score as lib

    outputs.folder_out(out)
    outputs.refuse_overlap(out, [traces, Path(model)], fills_folder=True)
    typer.echo(lib.score(traces, model, out, k=k, backend=backend, system=system).summary())


# ------------------------------------------------------------------------------------- entry

def _cli_exceptions() -> tuple[tuple, tuple, tuple]:
    """(usage errors, exits, aborts) of click and of typer's own copy of it: typer >= 0.20 vendors
    click as `typer._click`, whose usage errors (a missing option) are not click's classes."""
    import click

    usage, exits, aborts = [click.ClickException], [click.exceptions.Exit, typer.Exit], [click.exceptions.Abort, typer.Abort]
    try:
        from typer._click import exceptions as vendored

        usage.append(vendored.ClickException)
    except ImportError:
        pass
    return tuple(usage), tuple(exits), tuple(aborts)


@contextlib.contextmanager
def _notices_printed():
    """A library's `Notice` (a stale lock taken over…) as one `warning:` line on stderr, each time
    it is issued; other Python warnings are shown as Python shows them."""
    import warnings

    from curate.errors import Notice

    with warnings.catch_warnings():
        warnings.simplefilter("always", Notice)
        shown = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            if issubclass(category, Notice):
                print(f"warning: {message}", file=sys.stderr)
            else:
                shown(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        yield


def main(argv: list[str] | None = None) -> int:
    from curate.errors import BadInput

    usage, exits, aborts = _cli_exceptions()
    try:
        with _notices_printed():
            # Without standalone mode click hands back `typer.Exit(code)` as a return value.
            code = app(args=argv, standalone_mode=False)
    except BadInput as exc:
        if _state["debug"]:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except exits as exc:
        return exc.exit_code
    except usage as exc:
        exc.show()
        return 2
    except aborts:
        print("aborted", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        # A path that cannot be written or read as asked (a file where a folder is expected, a
        # read-only folder, a full disk): the user's to fix, so one line and exit 2.
        if _state["debug"] or not getattr(exc, "filename", None):
            if _state["debug"]:
                raise
            print(f"error: internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)",
                  file=sys.stderr)
            return 1
        print(f"error: {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except RecursionError:
        if _state["debug"]:
            raise
        print("error: input nested too deeply to read (e.g. JSON nested thousands of levels)", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug, not bad input: still one line unless --debug
        if _state["debug"]:
            raise
        print(f"error: internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)",
              file=sys.stderr)
        return 1
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
