"""Grade every trace of a table against its problem's gold (the verify stage's work).

The answer is read from `response` by every rule of `curate.verify.extract` (in the workers, under
the time limit). When `response` is empty or null (a truncated or thinking-only sample), it is read
from the end of `thinking`, but only from a `\\boxed{…}` or an answer marker there, never guessed
from a last line or number: reasoning ends with many things that are not answers.
`problem_pass_rate` is the share of a problem's samples that are correct, over the samples that
have a gold answer; null when the problem has no gold.
"""

from __future__ import annotations

import polars as pl

from curate.errors import BadInput
from curate.outcome import Outcome
from curate.verify.batch import verify_batch
from curate.verify.options import Options

THINKING_TAIL_CHARS = 4000  # where a final answer in the thinking would be
BATCH = 100_000  # rows whose texts are Python lists at once


def grade_traces(frame: pl.DataFrame, options: Options = Options(), timeout: float = 5.0,
                 workers: int | None = None, thinking_fallback: bool = True) -> Outcome:
    """trace_id, `pred_answer`, `verdict`, `verdict_reason` and `problem_pass_rate` for every row."""
    missing = [c for c in ("trace_id", "problem_id", "gold", "response") if c not in frame.columns]
    if missing:
        raise BadInput(f"needs column(s) {', '.join(missing)}")
    parts = []
    for lo in range(0, frame.height, BATCH):  # Python lists of one batch at a time, not whole columns
        part = frame.slice(lo, BATCH)
        thinking = part["thinking"].to_list() if "thinking" in part.columns else [None] * part.height
        texts, guess = [], []
        for response, thought in zip(part["response"].to_list(), thinking):
            if response and response.strip():
                texts.append(response)
                guess.append(True)
            elif thinking_fallback and thought:
                # Reasoning ends in many things that are not answers: a box or a marker only.
                texts.append(thought[-THINKING_TAIL_CHARS:])
                guess.append(False)
            else:
                texts.append(None)
                guess.append(True)
        verdicts = verify_batch(part["gold"].to_list(), texts, timeout=timeout, workers=workers,
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
    result = summary({"rows": out.height, "problems": out["problem_id"].n_unique() if out.height else 0,
                      "verdicts": dict(zip(counts["verdict"].to_list(), counts["len"].to_list()))})
    result.columns = out.drop("problem_id")
    return result


def summary(counts: dict) -> Outcome:
    """The stats and warnings of `grade_traces` over a whole table, from its additive `counts` (rows,
    problems, rows per verdict): an engine that grades per partition of problems adds the parts'
    counts up and calls this once."""
    verdicts = dict(sorted(counts["verdicts"].items()))
    rows, problems = counts["rows"], counts["problems"]
    result = Outcome(stats={"verdicts": verdicts}, counts=counts)
    no_gold = verdicts.get("no_gold", 0)
    if no_gold:
        result.warnings.append("no row has a gold answer: nothing was graded" if no_gold == rows else
                               f"{no_gold:,} of {rows:,} rows have no gold answer (verdict no_gold): not graded")
    if rows and problems == rows:
        result.stats["problem_pass_rate"] = "one sample per problem: each row's own verdict"
    return result
