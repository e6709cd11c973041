"""verify: grade each trace's final answer against the problem's gold answer.

```yaml
- verify: {timeout_s: 5}
- filter: {where: "verdict = 'correct'", reason: wrong final answer}
```
Adds `pred_answer`, `verdict`, `verdict_reason` (see `curate.verify`) and `problem_pass_rate`: the
share of a problem's samples (among the rows this stage sees) that are correct, over the samples
that have a gold answer; null when the problem has no gold.

The answer is read from `response` by every rule of `curate.verify.extract` (in the workers, under
the time limit); `verdict_reason` names the rule. When `response` is empty or null (a truncated or
thinking-only sample), it is read from the end of `thinking`, but only from a `\\boxed{…}` or an
answer marker there, never guessed from a last line or number: reasoning ends with many things
that are not answers. One worker pool serves the stage, so each distinct (gold, answer) pair is
judged once (`curate.verify.traces`). Drops nothing: filtering is the job of a `filter` stage.
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import Field

from curate.outcome import Outcome
from curate.stages import Stage, StageConfig, StageContext, register
from curate.verify import Options
from curate.verify.traces import grade_traces, summary


class VerifyConfig(StageConfig):
    timeout_s: float = Field(5.0, gt=0, le=600, description="hard time limit per answer pair")
    workers: int | None = Field(None, ge=1, description="worker processes (default: one per core)")
    percent: Literal["either", "fraction", "strip"] = Field(
        "either", description="how 50% compares: either (50 and 0.5), fraction (0.5), strip (50)")
    rounding: Literal["given", "exact"] = Field(
        "given", description="given: a decimal answer compares at the precision it is written in (0.333 = 1/3)")
    min_digits: int = Field(3, ge=1, description="fewest significant digits of a rounded answer")
    decimal_comma: Literal["auto", "never"] = Field("auto", description="auto: 1,5 is 1.5 against a single number")
    ordered: bool = Field(False, description="bare lists (1, 2) must match in order")
    fallback_last_number: bool = Field(True, description="take the last number when no answer is marked")
    rel_tol: float = Field(1e-6, ge=0, lt=1, description="relative tolerance between numbers (never absolute)")
    thinking_fallback: bool = Field(True, description="read a boxed answer from thinking when response is empty")


@register
class Verify(Stage):
    name = "verify"
    execution = "problems"
    Config = VerifyConfig

    def run(self, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        cfg = self.config
        options = Options(rel_tol=cfg.rel_tol, percent=cfg.percent, rounding=cfg.rounding,
                          min_digits=cfg.min_digits, decimal_comma=cfg.decimal_comma, ordered=cfg.ordered,
                          fallback_last_number=cfg.fallback_last_number)
        return ctx.take(grade_traces(frame, options, cfg.timeout_s, cfg.workers, cfg.thinking_fallback))

    def summarize(self, frame: None, merged: Outcome) -> Outcome:
        """The stats and warnings over every problem at once, from the partitions' counts added up
        (an engine that grades per partition of problems calls this once)."""
        return summary(merged.counts)
