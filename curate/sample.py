"""A seeded random subset of rows or of whole problems (the sample stage's work).

Each row (or problem) gets a rank from a hash of (seed, its id) (`curate.select.hash_rank`), and
the lowest ranks are kept: the choice does not depend on row order, and growing `n` only adds rows.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

from curate.outcome import Outcome
from curate.schema import DROP
from curate.select import hash_rank


def sample(frame: pl.DataFrame, seed: int, n: int | None = None, fraction: float | None = None,
           by: Literal["row", "problem"] = "row") -> Outcome:
    """trace_id and drop_reason (null for the sampled rows); give `n` or `fraction` of the units."""
    key = "trace_id" if by == "row" else "problem_id"
    units = frame.select(pl.col(key).unique()).sort(key)
    total = units.height
    n = n if n is not None else round(fraction * total)
    units = units.with_columns(pl.Series("_rank", hash_rank(units[key].to_list(), seed), pl.UInt64))
    chosen = units.sort(["_rank", key]).head(n).select(key)
    result = Outcome(pl.DataFrame(), {"units": by, "available": total, "kept": min(n, total)})
    if n >= total:
        result.warnings.append(f"a sample of {n:,} {by}s from {total:,}: every one kept")
    reason = f"not in the seeded sample of {n} {by}s"
    result.columns = frame.select(
        "trace_id",
        pl.when(pl.col(key).is_in(chosen[key].implode())).then(None).otherwise(pl.lit(reason))
        .cast(pl.String).alias(DROP))
    return result
