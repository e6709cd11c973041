"""Bounds on a single value, so one hostile row cannot exhaust memory.

A trace whose problem, thinking or response is 100 MB is not a reasoning trace: tokenising it
(the budget stage) or shingling it (MinHash) would take gigabytes for one row. `validate` flags
such values and the `format` stage drops their rows with a reason naming the column and size, so
they never reach tokenizers and MinHash. The default, 1 MB per value, is ~250K tokens: ten times
the longest real teacher traces (32K-token R1 samples are ~130 KB).
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

MAX_TEXT_BYTES = 1_000_000
TEXT_COLUMNS = ("problem", "thinking", "response", "gold")


def oversized_reason(columns: list[str], limit: int) -> pl.Expr:
    """Per row: 'text over N bytes in COLUMN' for the first text column over `limit`, else null."""
    reason = pl.lit(None, pl.String)
    for c in reversed([c for c in TEXT_COLUMNS if c in columns]):
        reason = pl.when(pl.col(c).cast(pl.String).str.len_bytes().fill_null(0) > limit).then(
            pl.lit(f"text over {limit:,} bytes in {c}")).otherwise(reason)
    return reason


def oversized_values(table: pa.Table, limit: int) -> list[tuple[str, int, int, int]]:
    """(column, values over `limit`, first such row, its size in bytes) per text column that has any."""
    out = []
    for c in TEXT_COLUMNS:
        if c not in table.column_names or not pa.types.is_string(table.schema.field(c).type) \
                and not pa.types.is_large_string(table.schema.field(c).type):
            continue
        sizes = pc.binary_length(table.column(c))
        over = pc.greater(sizes, limit)
        n = pc.sum(over).as_py() or 0
        if n:
            first = pc.index(over, True).as_py()
            out.append((c, n, first, sizes[first].as_py()))
    return out
