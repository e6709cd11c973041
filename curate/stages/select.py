"""select: keep exactly k rows, chosen by a strategy; the rest are dropped with the reason.

```yaml
- select: {k: 1000, strategy: s1}                       # s1's Algorithm 1 (see curate.select)
- select: {k: 1000, strategy: s1, must_keep: "source = 'aime'", domain_weights: {"11": 2}}
- select: {k: 500, strategy: top, by: score}             # highest `by` first
- select: {k: 600, strategy: stratified, by: domain}     # equal quotas per value (or `quotas`)
- select: {k: 800, strategy: diverse, on: problem}       # greedy k-center on MiniLM embeddings
- select: {k: 1000, strategy: s1, per_problem: 1}        # one trace per problem, the best one
```
`per_problem: n` keeps at most n traces of each problem *before* the strategy draws, so k rows cover
k problems when the pool has them. The traces of a problem rank: a correct verdict first (when a
verify stage ran), then one with a gold answer, then the strategy's own order (longest thinking
for s1, highest `by` for top and stratified), then trace_id; the others are dropped with the reason
"another trace of the problem ranks higher".
Columns `selected` (true for the k kept) and `select_rank` (1 = chosen first; null if not chosen).
Fewer than k rows left is an error (`if_fewer: error`, the default) or keeps them all
(`if_fewer: all`, recorded in the manifest as `short_by`). Ties always break by trace_id, and the
seed is the recipe's unless `seed` is given: the same input gives the same k rows.
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import Field, model_validator

from curate import select as lib
from curate.stages import Stage, StageConfig, StageContext, register


class SelectConfig(StageConfig):
    k: int = Field(gt=0, description="how many rows to keep")
    strategy: Literal["s1", "top", "stratified", "diverse"] = Field("s1", description="how to choose")
    if_fewer: Literal["error", "all"] = Field("error", description="fewer than k rows left: fail, or keep all")
    seed: int | None = Field(None, description="overrides the recipe's seed")
    per_problem: int | None = Field(None, ge=1, description="at most this many traces per problem, the best "
                                                          "first (correct verdict, has gold, then the strategy's order)")
    # s1
    domain_column: str = Field("domain", description="s1: the domain of each row")
    length_column: str = Field("thinking_tokens", description="s1: longer ranks first inside a domain")
    must_keep: str | None = Field(None, description="s1: SQL predicate of rows chosen before any draw")
    domain_weights: dict[str, float] | None = Field(None, description="s1: prior weight per domain (default uniform)")
    # top / stratified
    by: str | None = Field(None, description="top: column ranked; stratified: column whose values get quotas")
    descending: bool = Field(True, description="top/stratified order: highest first")
    order_by: str | None = Field(None, description="stratified: order inside a stratum (default: seeded random)")
    quotas: dict[str, int] | None = Field(None, description="stratified: rows per value (default: equal shares of k)")
    # diverse
    on: str = Field("problem", description="diverse: text column embedded")
    model: str | None = Field(None, description="diverse: sentence-transformers model (default: shipped MiniLM)")

    @model_validator(mode="after")
    def _needs(self):
        if self.strategy in ("top", "stratified") and not self.by:
            raise ValueError(f"strategy {self.strategy} needs 'by' (a column)")
        if self.quotas is not None and any(v < 0 for v in self.quotas.values()):
            raise ValueError("quotas must be >= 0")
        if self.domain_weights is not None and any(v < 0 for v in self.domain_weights.values()):
            raise ValueError("domain_weights must be >= 0")
        return self


@register
class Select(Stage):
    name = "select"
    Config = SelectConfig

    def reads(self) -> tuple[str, ...] | None:
        """The columns `run` reads (an engine that holds the table elsewhere pulls only these;
        None: all, for a must_keep predicate, which may name any column)."""
        cfg = self.config
        if cfg.must_keep:
            return None
        own = {"s1": (cfg.domain_column, cfg.length_column), "top": (cfg.by,),
               "stratified": (cfg.by, cfg.order_by), "diverse": (cfg.on,)}[cfg.strategy]
        return ("trace_id", "problem_id", "verdict", "gold", *[c for c in own if c])

    def run(self, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        config = self.config.model_dump(exclude={"on_missing", "seed"})
        return ctx.take(lib.select_rows(frame, seed=ctx.seed if self.config.seed is None else self.config.seed,
                                        **config))
