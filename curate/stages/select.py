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

import duckdb
import numpy as np
import polars as pl
from pydantic import Field, model_validator

from curate import select as lib
from curate.errors import BadInput
from curate.stages import DROP, Stage, StageConfig, StageContext, register


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
        cfg = self.config
        seed = ctx.seed if cfg.seed is None else cfg.seed
        frame = frame.sort("trace_id")
        extra = None
        if cfg.per_problem is not None:
            frame, extra = self._per_problem(frame, ctx)
        n = frame.height
        if n < cfg.k and cfg.if_fewer == "error":
            raise ctx.error(f"k = {cfg.k} but only {n:,} rows are left at this stage "
                            f"(lower k, or set if_fewer: all to keep them all)")
        k = min(cfg.k, n)
        order = getattr(self, f"_{cfg.strategy}")(frame, k, seed, ctx)
        rank = np.full(n, -1, np.int64)
        rank[np.asarray(order, np.int64)] = np.arange(1, len(order) + 1)
        reason = f"not selected ({cfg.strategy}, k = {cfg.k})"
        out = frame.select("trace_id").with_columns(pl.Series("select_rank", rank)).with_columns(
            (pl.col("select_rank") > 0).alias("selected"),
            pl.when(pl.col("select_rank") > 0).then(pl.col("select_rank")).otherwise(None).alias("select_rank"),
        ).with_columns(pl.when(pl.col("selected")).then(None).otherwise(pl.lit(reason)).cast(pl.String).alias(DROP))
        ctx.stats.update({"strategy": cfg.strategy, "k": cfg.k, "available": n, "selected": len(order)})
        if n < cfg.k:
            ctx.stats["short_by"] = cfg.k - n
        out = out.select("trace_id", "selected", "select_rank", DROP)
        if extra is not None:
            ctx.stats["problems"] = n if cfg.per_problem == 1 else int(frame["problem_id"].n_unique())
            out = pl.concat([out, extra.select(
                "trace_id", pl.lit(False).alias("selected"), pl.lit(None, pl.Int64).alias("select_rank"),
                pl.lit(f"another trace of the problem ranks higher (per_problem: {cfg.per_problem})")
                .cast(pl.String).alias(DROP))])
        return out

    def _per_problem(self, frame: pl.DataFrame, ctx: StageContext) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(the best `per_problem` traces of each problem, the others)."""
        cfg = self.config
        keys, desc = [], []
        if "verdict" in frame.columns:
            keys.append((pl.col("verdict") == "correct").fill_null(False))
            desc.append(True)
        else:
            ctx.nothing_to_do("per_problem: no verdict column (add a verify stage before select): the "
                              "traces of a problem are not ranked by correctness")
        keys.append(pl.col("gold").is_not_null() & (pl.col("gold").str.strip_chars() != ""))
        desc.append(True)
        own = cfg.length_column if cfg.strategy == "s1" else cfg.by if cfg.strategy in ("top", "stratified") else None
        if own is not None and own in frame.columns:
            keys.append(pl.col(own))
            desc.append(True if cfg.strategy == "s1" else cfg.descending)
        keys.append(pl.col("trace_id"))
        desc.append(False)
        ranked = frame.sort(keys, descending=desc, nulls_last=True).with_columns(
            pl.int_range(pl.len()).over("problem_id").alias("_in_problem"))
        best = ranked.filter(pl.col("_in_problem") < cfg.per_problem).drop("_in_problem").sort("trace_id")
        rest = ranked.filter(pl.col("_in_problem") >= cfg.per_problem).select("trace_id")
        if rest.height == 0:
            ctx.nothing_to_do(f"per_problem: {cfg.per_problem}: no problem has more traces than that here")
        return best, rest

    # ------------------------------------------------------------------------------ strategies

    def _column(self, frame: pl.DataFrame, name: str, ctx: StageContext, hint: str = "") -> pl.Series:
        if name not in frame.columns:
            raise ctx.error(f"needs column {name!r}{hint} (columns so far: {', '.join(frame.columns)})")
        return frame[name]

    def _s1(self, frame, k, seed, ctx):
        cfg = self.config
        domains = self._column(frame, cfg.domain_column, ctx, " (add a domain stage before select)")
        lengths = self._column(frame, cfg.length_column, ctx, " (add a budget stage before select)")
        if domains.null_count() == frame.height:
            ctx.nothing_to_do(f"{cfg.domain_column} is null in every row: one domain, no diversity")
        if lengths.null_count() == frame.height:
            ctx.nothing_to_do(f"{cfg.length_column} is null in every row: no ranking by length")
        must = None
        if cfg.must_keep:
            must = _predicate(frame, cfg.must_keep, ctx)
            ctx.stats["must_keep"] = int(sum(must))
            if not any(must):
                ctx.nothing_to_do(f"must_keep matches no row ({cfg.must_keep})")
        return lib.s1_select(frame["trace_id"].to_list(), domains.cast(pl.String).fill_null("").to_list(),
                             lengths.cast(pl.Float64).fill_null(0.0).to_list(), k, seed, must, cfg.domain_weights)

    def _top(self, frame, k, seed, ctx):
        col = self._column(frame, self.config.by, ctx)
        df = pl.DataFrame({"_i": np.arange(frame.height), "_v": col, "trace_id": frame["trace_id"]})
        df = df.sort(["_v", "trace_id"], descending=[self.config.descending, False], nulls_last=True)
        return df["_i"].head(k).to_list()

    def _stratified(self, frame, k, seed, ctx):
        cfg = self.config
        strata = self._column(frame, cfg.by, ctx).cast(pl.String).fill_null("(null)")
        key = (self._column(frame, cfg.order_by, ctx) if cfg.order_by
               else pl.Series(lib.hash_rank(frame["trace_id"].to_list(), seed), dtype=pl.UInt64))
        df = pl.DataFrame({"_i": np.arange(frame.height), "_s": strata, "_v": key, "trace_id": frame["trace_id"]})
        desc = cfg.descending if cfg.order_by else False
        df = df.sort(["_s", "_v", "trace_id"], descending=[False, desc, False], nulls_last=True)
        sizes = dict(df.group_by("_s").len().iter_rows())
        quotas = cfg.quotas if cfg.quotas is not None else lib.equal_quotas(sizes, k)
        unknown = sorted(set(quotas) - set(sizes))
        if cfg.quotas is not None and unknown:
            raise ctx.error(f"quotas name value(s) {', '.join(unknown)} absent from column {cfg.by!r}")
        short = {s: q - sizes.get(s, 0) for s, q in quotas.items() if q > sizes.get(s, 0)}
        if short and cfg.if_fewer == "error":
            s, q = next(iter(sorted(short.items())))
            raise ctx.error(f"quota for {cfg.by} = {s!r} is {quotas[s]} but only {sizes.get(s, 0)} rows have it")
        df = df.with_columns(pl.int_range(pl.len()).over("_s").alias("_r"))
        df = df.filter(pl.col("_r") < pl.col("_s").replace_strict(quotas, default=0, return_dtype=pl.Int64))
        ctx.stats["quotas"] = {s: min(q, sizes.get(s, 0)) for s, q in sorted(quotas.items())}
        return df.sort(["_r", "_s"])["_i"].to_list()

    def _diverse(self, frame, k, seed, ctx):
        from curate import semantic

        texts = self._column(frame, self.config.on, ctx).cast(pl.String).fill_null("").to_list()
        vectors = semantic.embed(texts, self.config.model)
        first = int(np.argmin(lib.hash_rank(frame["trace_id"].to_list(), seed)))
        return lib.k_center(vectors.astype(np.float64), k, first)


def _predicate(frame: pl.DataFrame, where: str, ctx: StageContext) -> list[bool]:
    # Parsed as one expression and run where no file can be reached (curate.sandbox).
    from curate import sandbox

    expr = sandbox.expression(where, f"{ctx.where}: must_keep")
    keep = duckdb.CaseExpression(expr, duckdb.ConstantExpression(True)).otherwise(duckdb.ConstantExpression(False))
    try:
        out = sandbox.over_frame(frame, [keep.alias("keep")], "must_keep")
    except BadInput as exc:
        raise ctx.error(f"must_keep predicate failed: {str(exc).removeprefix('must_keep: ')}") from None
    return out["keep"].to_list()
