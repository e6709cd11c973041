"""Curation stages: one file each, registered by name.

A stage is a typed config (pydantic; unknown keys and bad values are errors) and one method
`run(frame, ctx) -> frame` that returns *new columns keyed by trace_id*, one of which may be
`drop_reason` (null = keep). The runner hands a stage only the rows that survived the stages
before it, joins what it returns onto every row, and records the first stage that dropped each
row. Stages never delete rows and never change the input's columns.

The registry maps names to modules and imports a module only when a recipe uses its stage, so
`distillery curate` pays for sentence-transformers only when a recipe embeds something.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import polars as pl
from pydantic import BaseModel, ConfigDict

from curate.errors import BadInput

DROP = "drop_reason"

# name -> module that defines (and registers) it. Later stages add a line here.
MODULES: dict[str, str] = {
    "exact_dedup": "curate.stages.exact_dedup",
    "filter": "curate.stages.filter",
    "format": "curate.stages.format",
    "sample": "curate.stages.sample",
    "export": "curate.stages.export",
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


class StageConfig(BaseModel):
    """Base of every stage's config: unknown keys are errors, values are checked on load."""

    model_config = ConfigDict(extra="forbid", frozen=True)


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
    name: ClassVar[str]
    Config: ClassVar[type[StageConfig]]
    # Bump when the stage's logic changes, so cached outputs of older code are not reused.
    version: ClassVar[int] = 1
    # Input columns the stage may return new values for (gold_audit's replace); the runner refuses
    # any other input column, and the stage records what it changed.
    replaces: ClassVar[tuple[str, ...]] = ()
    # How an engine may spread the stage out (curate.engines): "rows" (any split of the rows gives
    # the same columns), "problems" (any split that keeps a problem's rows together), "driver"
    # (every row at once, in one process).
    execution: ClassVar[str] = "driver"

    def __init__(self, config: StageConfig):
        self.config = config

    @abstractmethod
    def run(self, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        """Return `trace_id` plus new columns for (a subset of) `frame`'s rows."""


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
