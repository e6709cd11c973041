"""Run a recipe over traces into a run folder that keeps every row.

```
RUN/recipe.yaml               the recipe as resolved, every default filled in
RUN/manifest.json             inputs' fingerprints, versions, seed, rows in/out and seconds per stage,
                              outputs' hashes (written last: a run without it is incomplete)
RUN/traces.parquet            every input row, every stage's columns, dropped_by / drop_reason
RUN/selected.parquet          the surviving rows plus `messages`, ready for SFT (the final export
                              step, `curate.messages`, with the recipe's `export` options)
RUN/stages/NN-name.parquet    each stage's output columns, reused while its inputs and config hold
```

Nothing is written until every stage has run: a failed run (bad input, a stage error, a recipe
that keeps 0 rows) leaves the folder as it was. A stage with nothing to work on says so in one
warning line under its progress line and in the manifest (`warnings`; see `StageContext.nothing_to_do`).
A cached stage shows the seconds it originally took (`seconds`), and `cached: true`.

A stage's cache key chains the input fingerprint with the config and code version of every stage
up to it, so changing stage 4 reruns stages 4.. and reuses 1..3. Same recipe, same input: the
same bytes in traces.parquet and selected.parquet (stable row order, seeded stages, no clocks).
"""

from __future__ import annotations

import contextlib
import json
import platform
import shutil
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import xxhash

from curate import __version__, locks, messages, outputs, schema, store
from curate import stages as registry
from curate.engines import Inputs, local
from curate.errors import BadInput
from curate.recipe import Recipe, StageSpec

DROPPED_BY = registry.DROPPED_BY
KEY_META = local.KEY_META
RECIPE_META = "distillery.recipe"
STATS_META = "distillery.stats"
WARNINGS_META = "distillery.warnings"
SKIPPED_META = "distillery.skipped"
SECONDS_META = "distillery.seconds"


# A stage's bookkeeping (timing, rows, drops by reason) is the stage base's: `curate.stages`.
StageResult = registry.StageResult


@dataclass
class RunResult:
    out: Path
    rows_in: int
    rows_selected: int
    stages: list[StageResult]
    manifest: dict


# ------------------------------------------------------------------------------------ the folder

MARKER = ".distillery-run"  # written before any stage: a folder killed in its first write is still a run


class DamagedRun(BadInput):
    """A run folder whose owner cannot be read (a damaged marker or recipe.yaml)."""


def _owner(out: Path) -> str | None:
    """The recipe name a run folder belongs to (None: not a run folder, or an empty one). A
    marker or recipe.yaml that cannot be read is a DamagedRun naming the file and what is wrong."""
    marker = out / MARKER
    if marker.is_file():
        try:
            return str(json.loads(marker.read_text(encoding="utf-8"))["recipe"])
        except (ValueError, KeyError, TypeError, OSError) as exc:
            raise DamagedRun(f"{marker}: damaged run marker ({type(exc).__name__}: {exc})") from None
    recipe = out / "recipe.yaml"
    if recipe.is_file():
        from curate import safe_yaml

        try:
            loaded = safe_yaml.load_file(recipe, "recipe")
        except BadInput as exc:  # safe_yaml's errors name the file and line
            raise DamagedRun(str(exc)) from None
        if not isinstance(loaded, dict) or not isinstance(loaded.get("name"), str):
            raise DamagedRun(f"{recipe}: a run's recipe.yaml is a mapping with a 'name'")
        return loaded["name"]
    for f in sorted((out / "stages").glob("*.parquet")):
        try:
            meta = pq.read_schema(f).metadata or {}
        except (pa.ArrowException, OSError):
            continue  # a damaged cache file says nothing about the folder's owner
        return meta.get(RECIPE_META.encode(), b"?").decode()
    return None


def prepare_folder(out: Path, recipe: Recipe, overwrite: bool) -> None:
    """Refuse to mix two recipes' runs in one folder; clear it first with `overwrite`."""
    if check_folder(out, recipe, overwrite):
        clear_folder(out)


def check_folder(out: Path, recipe: Recipe, overwrite: bool) -> bool:
    """Refuse to mix two recipes' runs in one folder; True when `overwrite` must clear it first
    (done only once the run has succeeded: a failed run leaves the folder as it was)."""
    if not out.exists():
        return False
    if not out.is_dir():
        raise BadInput(f"{out}: exists and is not a folder")
    try:
        owner = _owner(out)
    except DamagedRun as exc:
        if overwrite:
            return True  # replaced as a whole once the run has succeeded
        raise BadInput(f"{exc}; cannot tell which recipe this run folder belongs to: "
                       f"use another --out, or --overwrite to replace it") from None
    entries = [p for p in out.iterdir() if not p.name.startswith(".")]
    if owner is None and entries:
        raise BadInput(f"{out}: folder is not empty and is not a distillery run; choose another --out")
    if owner is not None and owner != recipe.name:
        if not overwrite:
            raise BadInput(f"{out}: holds a run of recipe {owner!r}, not {recipe.name!r}; "
                           f"use another --out, or --overwrite to replace it")
        return True
    return False


def clear_folder(out: Path) -> None:
    """Everything goes: a student trained on the old selection, its eval and report included.
    Not the lock files (we hold them) nor the run marker (rewritten by the caller)."""
    for entry in out.iterdir():
        if entry.name in (locks.LOCK, locks.SNAPSHOT, MARKER):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


# ------------------------------------------------------------------------------------- caching

def _key(parent: str, spec: StageSpec, seed: int) -> str:
    cls = registry.get(spec.name)
    payload = json.dumps({"parent": parent, "stage": spec.name, "version": cls.version,
                          "distillery": __version__, "seed": seed,
                          "config": spec.config.model_dump(mode="json")}, sort_keys=True)
    return xxhash.xxh3_128_hexdigest(payload.encode())


def _export_key(parent: str, export: messages.MessagesConfig, seed: int) -> str:
    """The export step's link in the key chain: the run's generation. Export was once a stage
    (version 1, with the `on_missing` every stage has); its key is computed as it was then, so a
    recipe's selected.parquet keeps its bytes across that change."""
    payload = json.dumps({"parent": parent, "stage": "export", "version": 1, "distillery": __version__,
                          "seed": seed, "config": {"on_missing": "warn", **export.model_dump(mode="json")}},
                         sort_keys=True)
    return xxhash.xxh3_128_hexdigest(payload.encode())


# --------------------------------------------------------------------------------------- running

def _status(console, text: str):
    """A live spinner while a stage runs (stages with their own progress bars show those)."""
    import contextlib

    return console.status(text) if console is not None else contextlib.nullcontext()


def _progress(console, i: int, n: int, res: StageResult) -> None:
    if console is None:
        return
    from rich.markup import escape

    tag = f"[dim]cached ({res.seconds:.1f}s when computed)[/dim]" if res.cached else f"{res.seconds:.1f}s"
    dropped = res.rows_in - res.rows_out
    console.print(f"[{i}/{n}] [bold]{res.label:<20}[/bold] {res.rows_in:>9,} → {res.rows_out:>9,} "
                  f"([red]-{dropped:,}[/red])  {tag}")
    for warning in res.warnings:
        console.print(f"      [yellow]warning:[/yellow] {escape(res.label)}: {escape(warning)}")


def funnel_line(results: list[StageResult]) -> str:
    """The funnel in one line: `01-filter 3,000 → 2,950; 02-verify …`, with each emptying
    stage's most frequent reason."""
    parts = []
    for r in results:
        part = f"{r.label} {r.rows_in:,} → {r.rows_out:,}"
        if r.drops and r.rows_out == 0:
            reason, n = next(iter(r.drops.items()))
            part += f" (most: {reason!r} ×{n:,})"
        parts.append(part)
    return "; ".join(parts)


def run(recipe: Recipe, input_path: Path, out: Path, overwrite: bool = False,
        console=None, engine=None) -> RunResult:
    """`engine`: where stages run (curate.engines; default local). The folder's bytes do not depend on it."""
    from curate import remote

    # A missing extra (sentence-transformers for semantic dedup, …) is found before stage 1 runs.
    registry.check_extras(recipe.stages, recipe.source)

    if engine is None:
        from curate.engines import LocalEngine

        engine = LocalEngine()
    inputs = None
    if remote.is_uri(str(input_path)):  # s3://, gs://, hf://, file://: read shard by shard (curate.remote)
        uri, input_path, out = str(input_path), remote.local_path(str(input_path)), Path(out)
        if input_path is not None:
            outputs.refuse_overlap(out, [input_path], fills_folder=True)
        outputs.folder_out(out)
        fs, files = remote.trace_files(uri)
        source = Inputs(uri, files, uri=uri, fs=fs, path=input_path)
        table = engine.load(source)
        inputs = remote.fingerprint(uri, fs, files)
    else:
        input_path, out = Path(input_path), Path(out)
        # Everything that can be wrong with the input is found before anything is written.
        outputs.refuse_overlap(out, [input_path], fills_folder=True)
        outputs.folder_out(out)
        files = store.parquet_files(input_path)
        source = Inputs(str(input_path), files, path=input_path)
        table = engine.load(source)
    if table.rows == 0:
        raise BadInput(f"{source.where}: holds no rows")
    # One writer per run folder; stale temporary files of a killed writer go once the lock is ours.
    with locks.writer(out, clean=(".", "stages")):
        return _run(recipe, input_path, out, overwrite, console, files, table, engine, inputs)


def _run(recipe: Recipe, input_path: Path, out: Path, overwrite: bool, console,
         files: list[Path], table, engine, inputs: dict | None = None) -> RunResult:
    clear_first = check_folder(out, recipe, overwrite)
    written: list[Path] = []  # what this run wrote: removed again if it fails
    if not clear_first and _owner(out) != recipe.name:
        store.write_text(json.dumps({"recipe": recipe.name}) + "\n", out / MARKER)
        written.append(out / MARKER)
    try:
        return _stages(recipe, input_path, out, console, files, table, clear_first, written, engine, inputs)
    except Exception:
        # An error writes nothing; a kill keeps the finished stages, so a rerun resumes from them.
        for path in written:
            path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            (out / "stages").rmdir()  # only when empty
        raise


def _stages(recipe: Recipe, input_path: Path, out: Path, console, files: list[Path], table,
            clear_first: bool, written: list[Path], engine, inputs: dict | None) -> RunResult:
    """`table`: the run's rows as the engine holds them (curate.engines.Table)."""
    inputs = inputs if inputs is not None else store.fingerprint(files)
    parent = xxhash.xxh3_128_hexdigest(json.dumps(
        {"schema": schema.SCHEMA_VERSION, "inputs": [v["xxh3_64"] for v in inputs.values()]}).encode())

    specs = list(recipe.stages)
    stage_dir = out / "stages"
    results: list[StageResult] = []
    pending: list[tuple[object, Path, dict]] = []  # with --overwrite: written once the run succeeds
    for spec in specs:
        alive = table.alive()
        ctx = registry.StageContext(seed=recipe.seed, label=spec.label, recipe=recipe.source,
                                    line=spec.line or None, input_path=input_path, run_dir=out,
                                    on_missing=spec.config.on_missing)
        key = parent = _key(parent, spec, recipe.seed)
        t0 = time.perf_counter()
        path = stage_dir / f"{spec.label}.parquet"
        stage_out = None if clear_first else table.cached(path, key)
        cached = stage_out is not None
        if stage_out is None:
            with _status(console, f"{spec.label}: {alive:,} rows"):
                stage_out = table.run_stage(spec.build(), ctx)  # timed, checked, sorted by trace_id
            seconds, cached_seconds = ctx.seconds, None
            meta = {KEY_META: key, RECIPE_META: recipe.name, STATS_META: json.dumps(ctx.stats, sort_keys=True),
                    WARNINGS_META: json.dumps(ctx.warnings), SKIPPED_META: json.dumps(ctx.skipped),
                    SECONDS_META: json.dumps(seconds)}
            if clear_first:  # the other recipe's run stays whole until this one has succeeded
                pending.append((stage_out, path, meta))
            else:  # written at once, so a killed run resumes from its finished stages
                table.write_stage(stage_out, path, meta)
                written.append(path)
        else:
            meta = pq.read_schema(path).metadata or {}
            ctx.stats = json.loads(meta.get(STATS_META.encode(), b"{}"))
            ctx.warnings = json.loads(meta.get(WARNINGS_META.encode(), b"[]"))
            ctx.skipped = json.loads(meta.get(SKIPPED_META.encode(), b"[]"))
            cached_seconds = round(time.perf_counter() - t0, 3)
            # The cost of computing it, not of reading the cache (0 for caches of older versions).
            seconds = json.loads(meta.get(SECONDS_META.encode(), b"0"))
        table.merge(stage_out, spec.label)
        res = registry.Stage.result(ctx, alive, table.spine, seconds, cached, cached_seconds)
        results.append(res)
        _progress(console, len(results), len(specs), res)

    # The final step: the kept rows as the chat `messages` a student trains on (selected.parquet
    # only; in traces.parquet it would double the text).
    kept = table.alive()
    if kept == 0:
        # An empty training set is never what a recipe meant: say where the rows went, write nothing.
        raise BadInput(f"{recipe.source}: recipe {recipe.name!r} kept 0 of {table.rows:,} rows, "
                       f"nothing written; funnel: {funnel_line(results)}")

    if clear_first:
        clear_folder(out)
        store.write_text(json.dumps({"recipe": recipe.name}) + "\n", out / MARKER)
    for stage_out, path, meta in pending:
        table.write_stage(stage_out, path, meta)
    # Stage files of an older, longer version of this recipe would mislead: remove them.
    labels = {f"{s.label}.parquet" for s in specs}
    for stale in stage_dir.glob("*.parquet"):
        if stale.name not in labels:
            stale.unlink()

    # The four files are published together (curate.locks): readers see the old run or the new
    # one, and the manifest names the generation (the last stage's key) its Parquet files carry.
    generation = _export_key(parent, recipe.export, recipe.seed)
    pub = locks.Publication(out, generation)
    gen_meta = {locks.GENERATION_META: generation}
    store.write_text(recipe.resolved_yaml(), pub.path("recipe.yaml"))
    table.write_outputs(recipe.export, pub.path("traces.parquet"), pub.path("selected.parquet"), gen_meta)
    manifest = _manifest(recipe, inputs, table.rows, kept, results, pub.paths)
    manifest["generation"] = generation
    manifest["engine"] = engine.describe()
    store.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n", pub.path("manifest.json"))
    pub.commit()
    return RunResult(out, table.rows, kept, results, manifest)


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "distillery": __version__}
    for dist in ("polars", "duckdb", "pyarrow", "datasketch", "sympy", "numpy", "pydantic"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


def _manifest(recipe: Recipe, inputs: dict, rows_in: int, rows_out: int,
              results: list[StageResult], files: dict[str, Path]) -> dict:
    return {
        "recipe": recipe.name,
        "recipe_source": recipe.source,
        "seed": recipe.seed,
        "inputs": inputs,
        "versions": _versions(),
        "rows_in": rows_in,
        "rows_selected": rows_out,
        "stages": [{"stage": r.label, "rows_in": r.rows_in, "rows_out": r.rows_out,
                    "dropped": r.rows_in - r.rows_out, "drops_by_reason": r.drops,
                    "seconds": r.seconds, "cached": r.cached, "cached_seconds": r.cached_seconds,
                    "warnings": r.warnings, "skipped": r.skipped, "stats": r.stats} for r in results],
        "warnings": [f"{r.label}: {w}" for r in results for w in r.warnings],
        "outputs": {name: {"rows": pq.read_metadata(files[name]).num_rows,
                           "xxh3_64": store.file_hash(files[name])}
                    for name in ("traces.parquet", "selected.parquet")},
    }
