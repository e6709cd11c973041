"""The chat `messages` a student trains on, built in one place.

`[{role: user, content: problem}, {role: assistant, content: OPEN + thinking + CLOSE + response}]`
with an optional system turn first. The delimiters default to R1's `<think>` tags; s1.1-style
students use `<|im_start|>think` / `<|im_start|>answer`.

Everything that renders a trace as a conversation goes through here: the run's export step
(`selected.parquet`'s `messages`), `distillery score` (the teacher's logprobs over the same text the
student will see), the ablation's per-arm selections and the training tests. A second builder
would let a student train on one text and be distilled on another.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from curate.text import R1, S1

# R1's layout (and Qwen3's): the thinking between tags on their own lines, a blank line before the
# answer. The tags themselves are curate.text's delimiters, the one home of each family's markers.
THINK_OPEN = f"{R1.open}\n"
THINK_CLOSE = f"\n{R1.close}\n\n"
# s1.1's layout (Qwen2.5 chat markers as section headers).
S1_OPEN = f"{S1.open}\n"
S1_CLOSE = f"\n{S1.close}\n"

MESSAGE = pl.Struct({"role": pl.String, "content": pl.String})


class MessagesConfig(BaseModel):
    """How a trace becomes a conversation: a recipe's `export` options."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    think_open: str = Field(THINK_OPEN, description="text before the thinking")
    think_close: str = Field(THINK_CLOSE, description="text between thinking and response")
    system: str | None = Field(None, description="optional system prompt")


DEFAULT = MessagesConfig()


def messages_expr(cfg: MessagesConfig = DEFAULT) -> pl.Expr:
    """A `messages` column (list of {role, content}) from the `problem`, `thinking` and `response` columns."""
    user = pl.struct(pl.lit("user").alias("role"), pl.col("problem").alias("content"))
    assistant = pl.struct(pl.lit("assistant").alias("role"),
                          pl.concat_str(pl.lit(cfg.think_open), pl.col("thinking"), pl.lit(cfg.think_close),
                                        pl.col("response")).alias("content"))
    turns = [user, assistant]
    if cfg.system is not None:
        turns.insert(0, pl.struct(pl.lit("system").alias("role"), pl.lit(cfg.system).alias("content")))
    return pl.concat_list(turns).alias("messages")


def conversations(table: pa.Table | pl.DataFrame, cfg: MessagesConfig = DEFAULT) -> list[list[dict]]:
    """Each row's messages as Python lists of dicts, for a tokenizer's chat template."""
    frame = table if isinstance(table, pl.DataFrame) else pl.from_arrow(table.select(["problem", "thinking", "response"]))
    return frame.select(messages_expr(cfg))["messages"].to_list()
