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
`builtin:minilm` (ships with the package, works offline; see `curate.tokens`). The work is
`curate.budget.check`.
"""

from __future__ import annotations

import polars as pl
from pydantic import Field, field_validator

from curate import budget as lib
from curate.budget import REASONS, Flag
from curate.outcome import Outcome
from curate.stages import Stage, StageConfig, StageContext, register


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
    Config = BudgetConfig
    version = 2  # quoted text is not counted in script_ratio; unclosed thinking as curate.layouts says

    def needs(self) -> tuple[str, ...]:
        # Tokenizers load through transformers; builtin:minilm is the one the embed extra ships.
        return ("train", "embed") if self.config.tokenizer.startswith("builtin:") else ("train",)

    def run(self, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        return ctx.take(lib.check(frame, **self.config.model_dump(exclude={"on_missing"})))

    def summarize(self, frame: None, merged: Outcome) -> Outcome:
        """The manifest's stats and the warning over every row at once (an engine that runs the
        stage in batches calls this on the blocks' counts added up: token-count histograms, flags)."""
        return lib.summary(self.config.tokenizer, merged.counts)
