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
from pydantic import Field

from curate import dedup
from curate.parallel import Parts
from curate.stages import Stage, StageConfig, StageContext, register

Keep = Literal["first", "last", "longest", "shortest"]


class ExactDedupConfig(StageConfig):
    on: str = Field("problem", description="text column compared")
    keep: Keep = Field("first", description="which row survives: input order, or by thinking length "
                                            "(a row with a gold answer and a correct verdict first)")
    max_per_problem: int | None = Field(None, gt=0, description="keep at most this many samples per problem")


@register
class ExactDedup(Stage):
    name = "exact_dedup"
    Config = ExactDedupConfig
    execution = "parts"  # curate.dedup shuffles the rows itself: by normalised text, by problem
    version = 2  # answerable, verified rows first

    def reads(self) -> tuple[str, ...]:
        """The columns `run` reads (an engine that holds the table elsewhere pulls only these):
        the text, the problem, and what ranks the row a cluster keeps."""
        from curate.dedup import KEEP_NEEDS

        cfg = self.config
        ranked = (KEEP_NEEDS[cfg.keep],) if cfg.keep in KEEP_NEEDS else ()
        return ("trace_id", "problem_id", cfg.on, "gold", "verdict", *ranked)

    def run(self, frame: pl.DataFrame | Parts, ctx: StageContext) -> pl.DataFrame | Parts:
        cfg = self.config
        return ctx.take(dedup.exact_problems(frame, on=cfg.on, keep=cfg.keep, max_per_problem=cfg.max_per_problem))
