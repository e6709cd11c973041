"""verify: grade each trace's final answer against the problem's gold answer.

```yaml
- verify: {timeout_s: 5}
- filter: {where: "verdict = 'correct'", reason: wrong final answer}
```
Adds `pred_answer`, `verdict`, `verdict_reason` (see `curate.verify`) and `problem_pass_rate`: the
share of a problem's samples (among the rows this stage sees) that are correct, over the samples
that have a gold answer; null when the problem has no gold.

The answer is read from `response`. When `response` is empty or null (a truncated or
thinking-only sample), it is read from the end of `thinking`, but only from a `\\boxed{…}` or an
answer marker there, never from a bare last line: reasoning ends with many things that are not
answers. Drops nothing: filtering is the job of a `filter` stage.
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import Field

from curate.stages import Stage, StageConfig, StageContext, register
from curate.verify import Options, extract_answer, verify_batch
from curate.verify.extract import after_last_marker, last_boxed

THINKING_TAIL_CHARS = 4000  # where a final answer in the thinking would be


class VerifyConfig(StageConfig):
    timeout_s: float = Field(5.0, gt=0, le=600, description="hard time limit per answer pair")
    workers: int | None = Field(None, ge=1, description="worker processes (default: one per core)")
    percent: Literal["either", "fraction", "strip"] = Field(
        "either", description="how 50% compares: either (50 and 0.5), fraction (0.5), strip (50)")
    fallback_last_number: bool = Field(False, description="take the last number when no answer is marked")
    rel_tol: float = Field(1e-6, ge=0, lt=1, description="relative tolerance between numbers")
    thinking_fallback: bool = Field(True, description="read a boxed answer from thinking when response is empty")


BATCH = 100_000  # rows whose texts are Python lists at once


@register
class Verify(Stage):
    name = "verify"
    execution = "problems"
    Config = VerifyConfig

    def run(self, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        cfg = self.config
        missing = [c for c in ("trace_id", "problem_id", "gold", "response") if c not in frame.columns]
        if missing:
            raise ctx.error(f"needs column(s) {', '.join(missing)}")
        options = Options(rel_tol=cfg.rel_tol, percent=cfg.percent, fallback_last_number=cfg.fallback_last_number)
        parts = []
        for lo in range(0, frame.height, BATCH):  # Python lists of one batch at a time, not whole columns
            part = frame.slice(lo, BATCH)
            thinking = part["thinking"].to_list() if "thinking" in part.columns else [None] * part.height
            preds = [self._answer(r, t, options) for r, t in zip(part["response"].to_list(), thinking)]
            verdicts = verify_batch(part["gold"].to_list(), preds, timeout=cfg.timeout_s, workers=cfg.workers,
                                    options=options, extract=False)
            parts.append(pl.DataFrame([
                pl.Series("pred_answer", [v.pred_answer for v in verdicts], pl.String),
                pl.Series("verdict", [v.verdict for v in verdicts], pl.String),
                pl.Series("verdict_reason", [v.reason for v in verdicts], pl.String)]))
        cols = pl.concat(parts) if parts else pl.DataFrame(schema={"pred_answer": pl.String, "verdict": pl.String,
                                                                   "verdict_reason": pl.String})
        out = pl.concat([frame.select("trace_id", "problem_id"), cols], how="horizontal")
        graded = pl.col("verdict") != "no_gold"
        out = out.with_columns(
            ((pl.col("verdict") == "correct") & graded).cast(pl.Float64).sum().over("problem_id")
            .truediv(graded.cast(pl.Float64).sum().over("problem_id"))
            .alias("problem_pass_rate")
        ).with_columns(pl.col("problem_pass_rate").fill_nan(None))
        counts = out.group_by("verdict").len().sort("verdict")
        ctx.stats.update({"verdicts": dict(zip(counts["verdict"].to_list(), counts["len"].to_list()))})
        return out.drop("problem_id")

    def _answer(self, response: str | None, thinking: str | None, options: Options) -> str | None:
        """The answer in the response; else a boxed or marked answer at the end of the thinking."""
        if response and response.strip():
            return extract_answer(response, options.fallback_last_number)
        if self.config.thinking_fallback and thinking:
            tail = thinking[-THINKING_TAIL_CHARS:]
            boxed = last_boxed(tail)
            if boxed is not None:
                return boxed.strip() or None
            return after_last_marker(tail)
        return None
