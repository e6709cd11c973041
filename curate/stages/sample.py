"""sample: keep a seeded random subset of rows or of whole problems.

Each row (or problem) gets a rank from a hash of (seed, its id), and the lowest ranks are kept:
the choice does not depend on row order, and growing `n` only adds rows.
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import Field, model_validator

from curate.schema import DROP
from curate.select import hash_rank
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
        seed = ctx.seed if cfg.seed is None else cfg.seed
        key = "trace_id" if cfg.by == "row" else "problem_id"
        units = frame.select(pl.col(key).unique()).sort(key)
        total = units.height
        n = cfg.n if cfg.n is not None else round(cfg.fraction * total)
        units = units.with_columns(pl.Series("_rank", hash_rank(units[key].to_list(), seed), pl.UInt64))
        chosen = units.sort(["_rank", key]).head(n).select(key)
        ctx.stats.update({"units": cfg.by, "available": total, "kept": min(n, total)})
        if n >= total:
            ctx.nothing_to_do(f"a sample of {n:,} {cfg.by}s from {total:,}: every one kept")
        reason = f"not in the seeded sample of {n} {cfg.by}s"
        return frame.select(
            "trace_id",
            pl.when(pl.col(key).is_in(chosen[key].implode())).then(None).otherwise(pl.lit(reason))
            .cast(pl.String).alias(DROP))
