"""Flags of a trace whose form is broken (the format stage's work), and the reason that drops it.

- `truncated`: finish_reason = 'length' (the teacher ran out of tokens);
- `unclosed_thinking`: the reasoning was opened and never closed (`curate.layouts.unclosed`: the
  one rule format, budget, validate and the truncated query share);
- `empty_thinking`: no reasoning at all;
- `no_final_answer`: nothing after the reasoning (an empty response);
- `missing_boxed`: no `\\boxed{…}` / `\\fbox{…}` in the response;
- oversized: a text value over the byte limit (`curate.limits`), dropped whatever else is asked.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

from curate import layouts, limits
from curate.outcome import Outcome
from curate.schema import DROP

Flag = Literal["truncated", "unclosed_thinking", "empty_thinking", "no_final_answer", "missing_boxed"]
REASONS = {
    "truncated": "truncated (finish_reason = length)",
    "unclosed_thinking": "thinking never closed",
    "empty_thinking": "no thinking",
    "no_final_answer": "no final answer after the thinking",
    "missing_boxed": "no \\boxed answer in the response",
}


def flag(frame: pl.DataFrame, drop: list[str] | tuple[str, ...] = tuple(REASONS),
         think_tags: list[str] | tuple[str, ...] = layouts.STRAY_TAGS,
         max_text_bytes: int = limits.MAX_TEXT_BYTES) -> Outcome:
    """trace_id, a `fmt_<flag>` column per flag for every row, and drop_reason: an oversized value
    first, then the first flag of `drop` in REASONS' order."""
    flags = frame.select(
        "trace_id",
        (pl.col("finish_reason") == "length").fill_null(False).alias("fmt_truncated"),
        layouts.unclosed(think_tags).alias("fmt_unclosed_thinking"),
        (pl.col("thinking").fill_null("").str.strip_chars() == "").alias("fmt_empty_thinking"),
        (pl.col("response").fill_null("").str.strip_chars() == "").alias("fmt_no_final_answer"),
        (~pl.col("response").fill_null("").str.contains(r"\\(?:boxed|fbox)\b")).alias("fmt_missing_boxed"),
    )
    # The first flag that drops, in the order above, is the recorded reason.
    reason = pl.lit(None, pl.String)
    for name in reversed(list(REASONS)):
        if name in drop:
            reason = pl.when(pl.col(f"fmt_{name}")).then(pl.lit(REASONS[name])).otherwise(reason)
    # Oversized values come first: one 100 MB text must not reach a tokenizer or MinHash.
    big = frame.select(limits.oversized_reason(frame.columns, max_text_bytes).alias("_big"))["_big"]
    return Outcome(flags.with_columns(pl.coalesce(pl.lit(big), reason).alias(DROP)),
                   {"oversized": big.len() - big.null_count()})
