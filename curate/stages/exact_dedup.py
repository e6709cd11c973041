"""exact_dedup: drop problems whose normalised text repeats an earlier problem's.

Rows are grouped by the normalised `on` text (see `curate.text.normalize_for_dedup`). In a group
holding more than one problem, one problem survives — chosen by `keep` — with *all* its samples,
and the rows of the others are dropped: several teacher samples of one problem are not
duplicates of each other. `max_per_problem` then keeps at most that many samples of each problem
(s1-style one trace per question is `max_per_problem: 1`), ranked by the same `keep` policy.

Columns: `dup_cluster` (hash of the normalised text, for groups of more than one problem),
`dup_of` (trace_id of the row the group keeps first), `dup_sim` (1.0 in such groups).
"""

from __future__ import annotations

from typing import Literal

import polars as pl
import xxhash
from pydantic import Field

from curate.dedup import rank_expr
from curate.schema import DROP
from curate.stages import Stage, StageConfig, StageContext, register
from curate.text import normalize_for_dedup

Keep = Literal["first", "last", "longest", "shortest"]


class ExactDedupConfig(StageConfig):
    on: str = Field("problem", description="text column compared")
    keep: Keep = Field("first", description="which row survives: input order, or by thinking length "
                                            "(a row with a gold answer and a correct verdict first)")
    max_per_problem: int | None = Field(None, gt=0, description="keep at most this many samples per problem")


BATCH = 50_000


@register
class ExactDedup(Stage):
    name = "exact_dedup"
    Config = ExactDedupConfig
    version = 2  # answerable, verified rows first

    def run(self, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        cfg = self.config
        if cfg.on not in frame.columns:
            raise ctx.error(f"no column {cfg.on!r} to deduplicate on")
        # Python lists of one batch at a time, never of the whole column (normalising is Python).
        text = frame[cfg.on].cast(pl.String).fill_null("")
        keys = pl.concat([pl.Series("_key", [xxhash.xxh3_64_hexdigest(normalize_for_dedup(t).encode())
                                             for t in text.slice(lo, BATCH).to_list()], pl.String)
                          for lo in range(0, len(text), BATCH)] or [pl.Series("_key", [], pl.String)])
        extra = [c for c in ("gold", "verdict") if c in frame.columns]
        df = (frame.select("trace_id", "problem_id", "thinking", *extra)
              .with_columns(keys, pl.int_range(pl.len()).alias("_pos"))
              .sort(rank_expr(cfg.keep, extra)))
        # Within each group (already ranked), the first row's problem survives.
        df = df.with_columns(
            pl.col("trace_id").first().over("_key").alias("_top"),
            pl.col("problem_id").first().over("_key").alias("_top_pid"),
            pl.col("problem_id").n_unique().over("_key").alias("_problems"),
            pl.int_range(pl.len()).over("problem_id").alias("_sample_rank"),
        )
        in_group = pl.col("_problems") > 1
        other_problem = pl.col("problem_id") != pl.col("_top_pid")
        # One fixed text per cause, so reasons group in SQL; which row was kept is in dup_of.
        reason = pl.when(other_problem).then(pl.lit("exact duplicate of another problem"))
        if cfg.max_per_problem is not None:
            reason = reason.when(pl.col("_sample_rank") >= cfg.max_per_problem).then(
                pl.lit(f"more than {cfg.max_per_problem} sample(s) of the problem"))
        out = df.select(
            "trace_id",
            pl.when(in_group).then(pl.col("_key")).alias("dup_cluster"),
            pl.when(in_group).then(pl.col("_top")).alias("dup_of"),
            pl.when(in_group).then(pl.lit(1.0)).alias("dup_sim"),
            reason.otherwise(None).cast(pl.String).alias(DROP),
        )
        ctx.stats["clusters"] = int(df.filter(in_group)["_key"].n_unique())
        if cfg.max_per_problem is not None and not (df["_sample_rank"] >= cfg.max_per_problem).any():
            ctx.nothing_to_do(f"max_per_problem: {cfg.max_per_problem}: no problem has more samples than that")
        return out
