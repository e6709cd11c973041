"""budget: token counts with the *student's* tokenizer, bounds, and flags for degenerate traces.

```yaml
- budget: {tokenizer: Qwen/Qwen2.5-32B-Instruct, thinking_tokens: [256, 16384], max_total_tokens: 32768}
```
Columns: `thinking_tokens`, `response_tokens`, `total_tokens` (problem + thinking + response +
`template_tokens` for the chat template and think delimiters: what SFT will see), `in_budget`,
`truncated` (finish_reason = 'length'), `unclosed_thinking`, `loop_score` (repeated word 8-gram
ratio), `max_line_repeats`, `looping`, `script_ratio` (share of letters outside the main script, quoted
text not counted: a quoted foreign phrase is not a language switch), `mixed_language`.

`drop` names the flags that drop a row (default: every one); the others are only recorded. A row
over `max_total_tokens` would be truncated silently by SFT's max_length, so it is dropped here with
its reason instead. `tokenizer` is any Hugging Face name or local folder (a fast tokenizer), or
`builtin:minilm` (ships with the package, works offline; see `curate.tokens`).
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import Field, field_validator

from curate import layouts, tokens
from curate.stages import DROP, Stage, StageConfig, StageContext, register

Flag = Literal["over_budget", "truncated", "unclosed_thinking", "looping", "mixed_language"]
REASONS = {
    "truncated": "truncated (finish_reason = length)",
    "unclosed_thinking": "thinking never closed",
    "over_budget": None,  # built from the bounds
    "looping": "repetition loop",
    "mixed_language": "mixed-language text",
}


# A quotation (of a problem in another language, a name, a phrase) is not the teacher switching
# language: a trace quoting one Russian phrase scored 0.0024 and was dropped as mixed-language.
QUOTED = r'“[^”\n]{0,300}”|«[^»\n]{0,300}»|„[^“”\n]{0,300}[“”]|"[^"\n]{0,300}"|`[^`\n]{0,300}`'


class BudgetConfig(StageConfig):
    tokenizer: str = Field("builtin:minilm", description="student tokenizer: HF name, local folder, or builtin:minilm")
    thinking_tokens: tuple[int, int] | None = Field(None, description="[min, max] thinking tokens kept")
    max_total_tokens: int | None = Field(None, gt=0, description="SFT max_length: longer rows are dropped")
    template_tokens: int = Field(16, ge=0, description="tokens the chat template and delimiters add")
    loop_ngram: int = Field(8, ge=2, le=64, description="word n-gram length for loop_score")
    max_loop_score: float = Field(0.9, gt=0, le=1, description="loop_score above this is a loop")
    max_line_repeats: int = Field(5, ge=2, description="a line or paragraph repeated this many times in a row is a loop")
    max_script_ratio: float = Field(0.001, ge=0, le=0.5, description="minority-script share above this is mixed")
    count_quoted: bool = Field(False, description="count quoted text (“…”, \"…\", «…», `…`) in script_ratio; by default "
                                                  "a quoted foreign phrase is a quotation, not a language switch")
    drop: list[Flag] = Field(default_factory=lambda: list(REASONS), description="flags that drop a row")

    @field_validator("thinking_tokens")
    @classmethod
    def _ordered(cls, value):
        if value is not None and not 0 <= value[0] <= value[1]:
            raise ValueError("thinking_tokens is [min, max] with 0 <= min <= max")
        return value


@register
class Budget(Stage):
    name = "budget"
    execution = "rows"
    summary_reads = ()  # `summarize` reads only the stage's own columns
    Config = BudgetConfig
    version = 2  # quoted text is not counted in script_ratio; unclosed thinking as curate.layouts says

    def needs(self) -> tuple[str, ...]:
        # Tokenizers load through transformers; builtin:minilm is the one the embed extra ships.
        return ("train", "embed") if self.config.tokenizer.startswith("builtin:") else ("train",)

    def run(self, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        cfg = self.config
        tok = tokens.load_tokenizer(cfg.tokenizer)
        counts = tokens.measure(tok, frame, cfg.loop_ngram)  # in row batches, long texts in pieces
        quoted = (lambda c: pl.col(c)) if cfg.count_quoted else \
            (lambda c: pl.col(c).fill_null("").str.replace_all(QUOTED, " "))
        df = frame.select("trace_id", "finish_reason", "response", "thinking", "meta").with_columns(
            quoted("thinking").alias("_t1"), quoted("response").alias("_t2"),
            pl.Series("thinking_tokens", counts["thinking"], pl.Int64),
            pl.Series("response_tokens", counts["response"], pl.Int64),
            pl.Series("_problem_tokens", counts["problem"], pl.Int64),
            pl.Series("loop_score", counts["loop_score"], pl.Float64),
            pl.Series("max_line_repeats", counts["max_line_repeats"], pl.Int32),
        ).with_columns(
            tokens.script_ratio_expr("_t1").alias("_s1"),
            tokens.script_ratio_expr("_t2").alias("_s2"),
        )
        total = pl.col("_problem_tokens") + pl.col("thinking_tokens") + pl.col("response_tokens") + cfg.template_tokens
        lo, hi = cfg.thinking_tokens or (None, None)
        ok = pl.lit(True)
        why = pl.lit(None, pl.String)
        if cfg.max_total_tokens is not None:
            ok = ok & (pl.col("total_tokens") <= cfg.max_total_tokens)
            why = pl.when(pl.col("total_tokens") > cfg.max_total_tokens).then(
                pl.lit(f"over {cfg.max_total_tokens} total tokens")).otherwise(why)
        if hi is not None:
            ok = ok & pl.col("thinking_tokens").is_between(lo, hi)
            why = pl.when(pl.col("thinking_tokens") > hi).then(pl.lit(f"thinking over {hi} tokens")) \
                .when(pl.col("thinking_tokens") < lo).then(pl.lit(f"thinking under {lo} tokens")).otherwise(why)
        df = df.with_columns(total.alias("total_tokens")).with_columns(
            ok.alias("in_budget"), why.alias("_over"),
            (pl.col("finish_reason") == "length").fill_null(False).alias("truncated"),
            # The one rule format, validate and the truncated query use (curate.layouts.unclosed):
            # meta says so, a delimiter of any layout is left over, or thinking has nothing after it.
            layouts.unclosed().alias("unclosed_thinking"),
            ((pl.col("loop_score") > cfg.max_loop_score)
             | (pl.col("max_line_repeats") >= cfg.max_line_repeats)).alias("looping"),
            pl.max_horizontal("_s1", "_s2").round(6).alias("script_ratio"),
        ).with_columns((pl.col("script_ratio") > cfg.max_script_ratio).alias("mixed_language"))
        # The first flag that drops, in REASONS' order, is the recorded reason.
        reason = pl.lit(None, pl.String)
        for flag in reversed(list(REASONS)):
            if flag not in cfg.drop:
                continue
            if flag == "over_budget":
                reason = pl.when(~pl.col("in_budget")).then(pl.col("_over")).otherwise(reason)
            else:
                reason = pl.when(pl.col(flag)).then(pl.lit(REASONS[flag])).otherwise(reason)
        out = df.select("trace_id", "thinking_tokens", "response_tokens", "total_tokens", "in_budget", "truncated",
                        "unclosed_thinking", "loop_score", "max_line_repeats", "looping", "script_ratio",
                        "mixed_language", reason.alias(DROP))
        ctx.stats.update(self.summarize(out))
        if frame.height and frame["finish_reason"].null_count() == frame.height:
            ctx.nothing_to_do("finish_reason is null in every row: truncation by the length limit is not "
                              "visible here (only thinking never closed is)")
        return out

    def summarize(self, out: pl.DataFrame, frame: pl.DataFrame | None = None, merged: dict | None = None) -> dict:
        """The manifest's stats from the stage's columns (quantiles: over every row at once, which
        is why an engine that runs the stage in batches calls this on the gathered columns)."""
        return {
            "tokenizer": self.config.tokenizer,
            "thinking_tokens": _quantiles(out["thinking_tokens"]),
            "total_tokens": _quantiles(out["total_tokens"]),
            "flags": {c: int(out[c].sum()) for c in ("truncated", "unclosed_thinking", "looping", "mixed_language")}
            | {"over_budget": int((~out["in_budget"]).sum())},
        }


def _quantiles(s: pl.Series) -> dict:
    if s.len() == 0:
        return {}
    return {"min": int(s.min()), "p50": int(s.quantile(0.5, "nearest")), "p90": int(s.quantile(0.9, "nearest")),
            "max": int(s.max())}
