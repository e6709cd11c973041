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
judged once. Drops nothing: filtering is the job of a `filter` stage.
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import Field

from curate.stages import Stage, StageConfig, StageContext, register
from curate.verify import Options, verify_batch

THINKING_TAIL_CHARS = 4000  # where a final answer in the thinking would be


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
        options = Options(rel_tol=cfg.rel_tol, percent=cfg.percent, rounding=cfg.rounding,
                          min_digits=cfg.min_digits, decimal_comma=cfg.decimal_comma, ordered=cfg.ordered,
                          fallback_last_number=cfg.fallback_last_number)
        parts = []
        for lo in range(0, frame.height, BATCH):  # Python lists of one batch at a time, not whole columns
            part = frame.slice(lo, BATCH)
            thinking = part["thinking"].to_list() if "thinking" in part.columns else [None] * part.height
            texts, guess = [], []
            for response, thought in zip(part["response"].to_list(), thinking):
                if response and response.strip():
                    texts.append(response)
                    guess.append(True)
                elif cfg.thinking_fallback and thought:
                    # Reasoning ends in many things that are not answers: a box or a marker only.
                    texts.append(thought[-THINKING_TAIL_CHARS:])
                    guess.append(False)
                else:
                    texts.append(None)
                    guess.append(True)
            verdicts = verify_batch(part["gold"].to_list(), texts, timeout=cfg.timeout_s, workers=cfg.workers,
                                    options=options, guess=guess)
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
        no_gold = int((out["verdict"] == "no_gold").sum())
        if no_gold:
            what = ("no row has a gold answer: nothing was graded" if no_gold == out.height else
                    f"{no_gold:,} of {out.height:,} rows have no gold answer (verdict no_gold): not graded")
            ctx.nothing_to_do(what)
        if out.height and out["problem_id"].n_unique() == out.height:
            ctx.stats["problem_pass_rate"] = "one sample per problem: each row's own verdict"
        return out.drop("problem_id")
