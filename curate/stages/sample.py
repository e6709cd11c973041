"""sample: keep a seeded random subset of rows or of whole problems.

Each row (or problem) gets a rank from a hash of (seed, its id), and the lowest ranks are kept:
the choice does not depend on row order, and growing `n` only adds rows (`curate.sample`).
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import Field, model_validator

from curate.sample import sample
from curate.stages import Stage, StageConfig, StageContext, register


class SampleConfig(StageConfig):
    n: int | None = Field(None, gt=0, description="how many to keep")
    fraction: float | None = Field(None, gt=0, le=1, description="or which share to keep")
    by: Literal["row", "problem"] = Field("row", description="sample rows, or whole problems with all their samples")
    seed: int | None = Field(None, description="overrides the recipe's seed")

    @model_validator(mode="after")
    def _one_size(self):
        if (self.n is None) == (self.fraction is None):
            raise ValueError("give exactly one of 'n' or 'fraction'")
        return self


@register
class Sample(Stage):
    name = "sample"
    Config = SampleConfig

    def reads(self) -> tuple[str, ...]:
        """The columns `run` reads (an engine that holds the table elsewhere pulls only these)."""
        return ("trace_id", "problem_id")

    def run(self, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        cfg = self.config
        return ctx.take(sample(frame, ctx.seed if cfg.seed is None else cfg.seed, cfg.n, cfg.fraction, cfg.by))
