"""format: flag traces whose form is broken, and drop them by default.

- `truncated`: finish_reason = 'length' (the teacher ran out of tokens);
- `unclosed_thinking`: reasoning with no answer after it, or a stray think tag left inside;
- `missing_boxed`: no `\\boxed{…}` / `\\fbox{…}` in the response.

- `oversized`: a problem, thinking, response or gold value over `max_text_bytes` (default 1 MB):
  dropped whatever `drop` says, so no later stage tokenises or shingles it (`curate.limits`).

Columns `fmt_truncated`, `fmt_unclosed_thinking`, `fmt_missing_boxed` are written for every row
the stage sees, so a later filter (or SQL) can use them whichever of them drop.
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import Field

from curate import limits
from curate.stages import DROP, Stage, StageConfig, StageContext, register

Flag = Literal["truncated", "unclosed_thinking", "missing_boxed"]
REASONS = {
    "truncated": "truncated (finish_reason = length)",
    "unclosed_thinking": "thinking never closed",
    "missing_boxed": "no \\boxed answer in the response",
}


class FormatConfig(StageConfig):
    drop: list[Flag] = Field(default_factory=lambda: ["truncated", "unclosed_thinking", "missing_boxed"],
                             description="which flags drop a row (the others are only recorded)")
    think_tags: list[str] = Field(default_factory=lambda: ["<think>", "</think>"],
                                  description="tags that must not be left inside thinking or response")
    max_text_bytes: int = Field(limits.MAX_TEXT_BYTES, gt=0,
                                description="rows with a text value longer than this are dropped (memory bound)")


@register
class Format(Stage):
    name = "format"
    execution = "rows"
    Config = FormatConfig

    def run(self, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        stray = pl.lit(False)
        for tag in self.config.think_tags:
            stray = stray | pl.col("thinking").str.contains(tag, literal=True) \
                | pl.col("response").str.contains(tag, literal=True)
        flags = frame.select(
            "trace_id",
            (pl.col("finish_reason") == "length").fill_null(False).alias("fmt_truncated"),
            ((pl.col("response").str.strip_chars() == "") | stray).alias("fmt_unclosed_thinking"),
            (~pl.col("response").str.contains(r"\\(?:boxed|fbox)\b")).alias("fmt_missing_boxed"),
        )
        # The first flag that drops, in the order above, is the recorded reason.
        reason = pl.lit(None, pl.String)
        for flag in reversed(list(REASONS)):
            if flag in self.config.drop:
                reason = pl.when(pl.col(f"fmt_{flag}")).then(pl.lit(REASONS[flag])).otherwise(reason)
        # Oversized values come first: one 100 MB text must not reach a tokenizer or MinHash.
        big = frame.select(limits.oversized_reason(frame.columns, self.config.max_text_bytes).alias("_big"))["_big"]
        ctx.stats["oversized"] = big.len() - big.null_count()
        return flags.with_columns(pl.coalesce(pl.lit(big), reason).alias(DROP))
