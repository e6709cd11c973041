"""export: the chat `messages` each kept row trains on; always the run's last stage.

`[{role: user, content: problem}, {role: assistant, content: OPEN + thinking + CLOSE + response}]`
with an optional system turn first. The delimiters default to R1's `<think>` tags; s1.1-style
students use `<|im_start|>think` / `<|im_start|>answer`.

Its output goes to `selected.parquet` only, not to `traces.parquet` (it would double the text).
"""

from __future__ import annotations

import polars as pl
from pydantic import Field

from curate.stages import Stage, StageConfig, StageContext, register


class ExportConfig(StageConfig):
    think_open: str = Field("<think>\n", description="text before the thinking")
    think_close: str = Field("\n</think>\n\n", description="text between thinking and response")
    system: str | None = Field(None, description="optional system prompt")


MESSAGE = pl.Struct({"role": pl.String, "content": pl.String})


def messages_expr(cfg: ExportConfig) -> pl.Expr:
    user = pl.struct(pl.lit("user").alias("role"), pl.col("problem").alias("content"))
    assistant = pl.struct(pl.lit("assistant").alias("role"),
                          pl.concat_str(pl.lit(cfg.think_open), pl.col("thinking"), pl.lit(cfg.think_close),
                                        pl.col("response")).alias("content"))
    turns = [user, assistant]
    if cfg.system is not None:
        turns.insert(0, pl.struct(pl.lit("system").alias("role"), pl.lit(cfg.system).alias("content")))
    return pl.concat_list(turns).alias("messages")


@register
class Export(Stage):
    name = "export"
    execution = "rows"
    Config = ExportConfig

    def run(self, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        return frame.select("trace_id", messages_expr(self.config))
