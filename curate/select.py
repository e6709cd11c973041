"""Selection algorithms: which k rows to keep, in which order. Pure functions over ids and numbers,
seeded and independent of input order (callers pass rows sorted by a stable key), and the select
stage's work over a trace table built on them.

- `s1_select`: s1's Algorithm 1 (Muennighoff et al., 2025): must-keeps first; then until k, pick a
  domain uniformly (or by prior weights) among those with questions left, and in it a question with
  probability ∝ 2^(−rank), rank 0 = the longest remaining thinking; remove it; a domain with nothing
  left drops out.
- `k_center`: greedy k-center (farthest point first) over unit embeddings.
- `hash_rank`: a seeded rank per id (sample's and stratified select's order).
- `equal_quotas`: k split evenly over strata (stratified select, the ablation's baselines).
- `select_rows`: the select stage's work on a trace table: the best `per_problem` traces of each
  problem, then k rows by one of the strategies above (or the top by a column).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import xxhash

from curate.errors import BadInput
from curate.outcome import Outcome
from curate.schema import DROP

MAX_RANKS = 64  # 2^-64 is below a double's resolution next to a sum ≥ 1: later ranks never count


def s1_select(ids: Sequence[str], domains: Sequence[str], lengths: Sequence[float], k: int, seed: int,
              must_keep: Sequence[bool] | None = None,
              domain_weights: dict[str, float] | None = None) -> list[int]:
    """Indices of the chosen rows, in the order chosen (must-keeps first, in `ids` order).

    Inside a domain rows are ranked by length, longest first, ties by id. Domains are visited in
    sorted order for the draw, so the result depends only on the data and the seed."""
    n = len(ids)
    rng = np.random.Generator(np.random.PCG64(seed))
    chosen: list[int] = []
    taken = np.zeros(n, bool)
    if must_keep is not None:
        for i in range(n):
            if must_keep[i] and len(chosen) < k:
                chosen.append(i)
                taken[i] = True
    pools: dict[str, list[int]] = {}
    for i in sorted(range(n), key=lambda i: (-float(lengths[i]), ids[i])):
        if not taken[i]:
            pools.setdefault(domains[i], []).append(i)
    names = sorted(pools)
    base = 2.0 ** -np.arange(MAX_RANKS)
    while len(chosen) < k and names:
        if domain_weights is None:
            d = names[int(rng.integers(len(names)))]
        else:
            w = np.array([domain_weights.get(name, 0.0) for name in names], float)
            if w.sum() <= 0:
                break  # only zero-weight domains left
            d = names[int(rng.choice(len(names), p=w / w.sum()))]
        pool = pools[d]
        weights = base[:min(len(pool), MAX_RANKS)]
        r = int(rng.choice(len(weights), p=weights / weights.sum()))
        chosen.append(pool.pop(r))
        if not pool:
            names.remove(d)
    return chosen


def k_center(vectors: np.ndarray, k: int, first: int = 0) -> list[int]:
    """Greedy k-center: start at `first`, then repeatedly the point farthest (by cosine distance)
    from everything chosen; ties go to the lowest index."""
    n = vectors.shape[0]
    k = min(k, n)
    if k == 0:
        return []
    chosen = [first]
    dist = 1.0 - vectors @ vectors[first]
    dist[first] = -np.inf
    while len(chosen) < k:
        i = int(np.argmax(dist))
        chosen.append(i)
        dist = np.minimum(dist, 1.0 - vectors @ vectors[i])
        dist[chosen] = -np.inf
    return chosen


def hash_rank(ids: Sequence[str], seed: int) -> list[int]:
    """A rank per id from a hash of (seed, id): a seeded order that does not depend on row order."""
    prefix = f"{seed}\x1f".encode()
    return [xxhash.xxh3_64_intdigest(prefix + i.encode()) for i in ids]


def equal_quotas(sizes: dict[str, int], k: int) -> dict[str, int]:
    """k split as evenly as the strata allow: small strata give all they have, the rest share the
    remainder (the extra ones go to the values first in sort order)."""
    quotas = {s: 0 for s in sizes}
    left, open_ = k, sorted(sizes)
    while left > 0 and open_:
        share, extra = divmod(left, len(open_))
        nxt = []
        for j, s in enumerate(open_):
            want = share + (1 if j < extra else 0)
            got = min(want, sizes[s] - quotas[s])
            quotas[s] += got
            left -= got
            if quotas[s] < sizes[s]:
                nxt.append(s)
        if nxt == open_ and share == 0 and extra == 0:
            break
        open_ = nxt
    return quotas


# ------------------------------------------------------------------------- the select stage's work

def select_rows(frame: pl.DataFrame, k: int, seed: int, strategy: str = "s1", if_fewer: str = "error",
                per_problem: int | None = None, domain_column: str = "domain",
                length_column: str = "thinking_tokens", must_keep: str | None = None,
                domain_weights: dict[str, float] | None = None, by: str | None = None, descending: bool = True,
                order_by: str | None = None, quotas: dict[str, int] | None = None, on: str = "problem",
                model: str | None = None) -> Outcome:
    """trace_id, `selected`, `select_rank` (1 = chosen first) and drop_reason for every row of
    `frame`: k rows chosen by `strategy` (s1, top, stratified, diverse; the select stage's keys say
    what each argument does), after keeping the best `per_problem` traces of each problem."""
    choice = _Choice(frame.sort("trace_id"), k, seed, strategy, if_fewer, per_problem, domain_column,
                     length_column, must_keep, domain_weights, by, descending, order_by, quotas, on, model)
    return choice.run()


@dataclass
class _Choice:
    frame: pl.DataFrame
    k: int
    seed: int
    strategy: str
    if_fewer: str
    per_problem: int | None
    domain_column: str
    length_column: str
    must_keep: str | None
    domain_weights: dict[str, float] | None
    by: str | None
    descending: bool
    order_by: str | None
    quotas: dict[str, int] | None
    on: str
    model: str | None
    result: Outcome = field(default_factory=lambda: Outcome(pl.DataFrame()))

    def run(self) -> Outcome:
        frame, extra = self.frame, None
        if self.per_problem is not None:
            frame, extra = self._per_problem(frame)
        n = frame.height
        if n < self.k and self.if_fewer == "error":
            raise BadInput(f"k = {self.k} but only {n:,} rows are left at this stage "
                           f"(lower k, or set if_fewer: all to keep them all)")
        k = min(self.k, n)
        order = getattr(self, f"_{self.strategy}")(frame, k)
        rank = np.full(n, -1, np.int64)
        rank[np.asarray(order, np.int64)] = np.arange(1, len(order) + 1)
        reason = f"not selected ({self.strategy}, k = {self.k})"
        out = frame.select("trace_id").with_columns(pl.Series("select_rank", rank)).with_columns(
            (pl.col("select_rank") > 0).alias("selected"),
            pl.when(pl.col("select_rank") > 0).then(pl.col("select_rank")).otherwise(None).alias("select_rank"),
        ).with_columns(pl.when(pl.col("selected")).then(None).otherwise(pl.lit(reason)).cast(pl.String).alias(DROP))
        stats = self.result.stats
        stats.update({"strategy": self.strategy, "k": self.k, "available": n, "selected": len(order)})
        if n < self.k:
            stats["short_by"] = self.k - n
        out = out.select("trace_id", "selected", "select_rank", DROP)
        if extra is not None:
            stats["problems"] = n if self.per_problem == 1 else int(frame["problem_id"].n_unique())
            out = pl.concat([out, extra.select(
                "trace_id", pl.lit(False).alias("selected"), pl.lit(None, pl.Int64).alias("select_rank"),
                pl.lit(f"another trace of the problem ranks higher (per_problem: {self.per_problem})")
                .cast(pl.String).alias(DROP))])
        self.result.columns = out
        return self.result

    def _per_problem(self, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(the best `per_problem` traces of each problem, the others)."""
        keys, desc = [], []
        if "verdict" in frame.columns:
            keys.append((pl.col("verdict") == "correct").fill_null(False))
            desc.append(True)
        else:
            self.result.warnings.append("per_problem: no verdict column (add a verify stage before select): the "
                                       "traces of a problem are not ranked by correctness")
        keys.append(pl.col("gold").is_not_null() & (pl.col("gold").str.strip_chars() != ""))
        desc.append(True)
        s = self.strategy
        own = self.length_column if s == "s1" else self.by if s in ("top", "stratified") else None
        if own is not None and own in frame.columns:
            keys.append(pl.col(own))
            desc.append(True if s == "s1" else self.descending)
        keys.append(pl.col("trace_id"))
        desc.append(False)
        ranked = frame.sort(keys, descending=desc, nulls_last=True).with_columns(
            pl.int_range(pl.len()).over("problem_id").alias("_in_problem"))
        best = ranked.filter(pl.col("_in_problem") < self.per_problem).drop("_in_problem").sort("trace_id")
        rest = ranked.filter(pl.col("_in_problem") >= self.per_problem).select("trace_id")
        if rest.height == 0:
            self.result.warnings.append(f"per_problem: {self.per_problem}: no problem has more traces than that here")
        return best, rest

    # ------------------------------------------------------------------------------ strategies

    @staticmethod
    def _column(frame: pl.DataFrame, name: str, hint: str = "") -> pl.Series:
        if name not in frame.columns:
            raise BadInput(f"needs column {name!r}{hint} (columns so far: {', '.join(frame.columns)})")
        return frame[name]

    def _s1(self, frame: pl.DataFrame, k: int) -> list[int]:
        domains = self._column(frame, self.domain_column, " (add a domain stage before select)")
        lengths = self._column(frame, self.length_column, " (add a budget stage before select)")
        if domains.null_count() == frame.height:
            self.result.warnings.append(f"{self.domain_column} is null in every row: one domain, no diversity")
        if lengths.null_count() == frame.height:
            self.result.warnings.append(f"{self.length_column} is null in every row: no ranking by length")
        must = None
        if self.must_keep:
            must = _predicate(frame, self.must_keep)
            self.result.stats["must_keep"] = int(sum(must))
            if not any(must):
                self.result.warnings.append(f"must_keep matches no row ({self.must_keep})")
        return s1_select(frame["trace_id"].to_list(), domains.cast(pl.String).fill_null("").to_list(),
                         lengths.cast(pl.Float64).fill_null(0.0).to_list(), k, self.seed, must, self.domain_weights)

    def _top(self, frame: pl.DataFrame, k: int) -> list[int]:
        col = self._column(frame, self.by)
        df = pl.DataFrame({"_i": np.arange(frame.height), "_v": col, "trace_id": frame["trace_id"]})
        df = df.sort(["_v", "trace_id"], descending=[self.descending, False], nulls_last=True)
        return df["_i"].head(k).to_list()

    def _stratified(self, frame: pl.DataFrame, k: int) -> list[int]:
        strata = self._column(frame, self.by).cast(pl.String).fill_null("(null)")
        key = (self._column(frame, self.order_by) if self.order_by
               else pl.Series(hash_rank(frame["trace_id"].to_list(), self.seed), dtype=pl.UInt64))
        df = pl.DataFrame({"_i": np.arange(frame.height), "_s": strata, "_v": key, "trace_id": frame["trace_id"]})
        desc = self.descending if self.order_by else False
        df = df.sort(["_s", "_v", "trace_id"], descending=[False, desc, False], nulls_last=True)
        sizes = dict(df.group_by("_s").len().iter_rows())
        quotas = self.quotas if self.quotas is not None else equal_quotas(sizes, k)
        unknown = sorted(set(quotas) - set(sizes))
        if self.quotas is not None and unknown:
            raise BadInput(f"quotas name value(s) {', '.join(unknown)} absent from column {self.by!r}")
        short = {s: q - sizes.get(s, 0) for s, q in quotas.items() if q > sizes.get(s, 0)}
        if short and self.if_fewer == "error":
            s, q = next(iter(sorted(short.items())))
            raise BadInput(f"quota for {self.by} = {s!r} is {quotas[s]} but only {sizes.get(s, 0)} rows have it")
        df = df.with_columns(pl.int_range(pl.len()).over("_s").alias("_r"))
        df = df.filter(pl.col("_r") < pl.col("_s").replace_strict(quotas, default=0, return_dtype=pl.Int64))
        self.result.stats["quotas"] = {s: min(q, sizes.get(s, 0)) for s, q in sorted(quotas.items())}
        return df.sort(["_r", "_s"])["_i"].to_list()

    def _diverse(self, frame: pl.DataFrame, k: int) -> list[int]:
        from curate import semantic

        texts = self._column(frame, self.on).cast(pl.String).fill_null("").to_list()
        vectors = semantic.embed(texts, self.model)
        first = int(np.argmin(hash_rank(frame["trace_id"].to_list(), self.seed)))
        return k_center(vectors.astype(np.float64), k, first)


def _predicate(frame: pl.DataFrame, where: str) -> list[bool]:
    # Parsed as one expression and run where no file can be reached (curate.sandbox).
    import duckdb

    from curate import sandbox

    expr = sandbox.expression(where, "must_keep")
    keep = duckdb.CaseExpression(expr, duckdb.ConstantExpression(True)).otherwise(duckdb.ConstantExpression(False))
    try:
        out = sandbox.over_frame(frame, [keep.alias("keep")], "must_keep")
    except BadInput as exc:
        raise BadInput(f"must_keep predicate failed: {str(exc).removeprefix('must_keep: ')}") from None
    return out["keep"].to_list()
