"""format: flag traces whose form is broken, and drop them by default.

- `truncated`: finish_reason = 'length' (the teacher ran out of tokens);
- `unclosed_thinking`: the reasoning was opened and never closed: meta says so (ingest's
  `thinking_closed: false`, generate's `closed: false`, which also covers a text whose closing tag
  alone is missing), or a delimiter is left inside thinking or response (a split that did not
  happen), or thinking with nothing after it where nothing says the thinking was closed;
- `empty_thinking`: no reasoning at all (a model that did not think, or a layout that was not
  recognised: ingest's meta `layout = 'unmatched'` rows land here);
- `no_final_answer`: nothing after the reasoning (an empty response);
- `missing_boxed`: no `\\boxed{…}` / `\\fbox{…}` in the response.

- `oversized`: a problem, thinking, response or gold value over `max_text_bytes` (default 1 MB):
  dropped whatever `drop` says, so no later stage tokenises or shingles it (`curate.limits`).

Columns `fmt_<flag>` are written for every row the stage sees, so a later filter (or SQL, or the
`truncated` query) can use them whichever of them drop. The first dropping flag in the order above
is the recorded reason (`curate.format`).
"""

from __future__ import annotations

import polars as pl
from pydantic import Field

from curate import layouts, limits
from curate.format import REASONS, Flag, flag
from curate.stages import Stage, StageConfig, StageContext, register


class FormatConfig(StageConfig):
    drop: list[Flag] = Field(default_factory=lambda: list(REASONS),
                             description="which flags drop a row (the others are only recorded)")
    think_tags: list[str] = Field(default_factory=lambda: list(layouts.STRAY_TAGS),
                                  description="delimiters that must not be left inside thinking or response")
    max_text_bytes: int = Field(limits.MAX_TEXT_BYTES, gt=0,
                                description="rows with a text value longer than this are dropped (memory bound)")


@register
class Format(Stage):
    name = "format"
    execution = "rows"
    Config = FormatConfig

    def run(self, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        cfg = self.config
        return ctx.take(flag(frame, cfg.drop, cfg.think_tags, cfg.max_text_bytes))
