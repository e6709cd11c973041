"""Token budgets and degenerate-trace flags with a student's tokenizer (the budget stage's work).

`check` counts problem, thinking and response tokens (`curate.tokens`), bounds them, and flags
truncated, unclosed, looping and mixed-language traces; the first flag that drops, in REASONS'
order, is a row's drop_reason. A row over `max_total_tokens` would be truncated silently by SFT's
max_length, so it is dropped here with its reason instead.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import polars as pl

from curate import layouts, tokens
from curate.outcome import Outcome
from curate.schema import DROP

Flag = Literal["over_budget", "truncated", "unclosed_thinking", "looping", "mixed_language"]
REASONS = {
    "truncated": "truncated (finish_reason = length)",
    "unclosed_thinking": "thinking never closed",
    "over_budget": None,  # built from the bounds
    "looping": "repetition loop",
    "mixed_language": "mixed-language text",
}
COLUMNS = ("thinking_tokens", "response_tokens", "total_tokens", "in_budget", "truncated", "unclosed_thinking",
           "loop_score", "max_line_repeats", "looping", "script_ratio", "mixed_language")

# A quotation (of a problem in another language, a name, a phrase) is not the teacher switching
# language: a trace quoting one Russian phrase scored 0.0024 and was dropped as mixed-language.
QUOTED = r'“[^”\n]{0,300}”|«[^»\n]{0,300}»|„[^“”\n]{0,300}[“”]|"[^"\n]{0,300}"|`[^`\n]{0,300}`'


def check(frame: pl.DataFrame, tokenizer: str = "builtin:minilm", thinking_tokens: tuple[int, int] | None = None,
          max_total_tokens: int | None = None, template_tokens: int = 16, loop_ngram: int = 8,
          max_loop_score: float = 0.9, max_line_repeats: int = 5, max_script_ratio: float = 0.001,
          count_quoted: bool = False, drop: list[str] | tuple[str, ...] = tuple(REASONS)) -> Outcome:
    """trace_id, the COLUMNS and drop_reason for every row of `frame` (the budget stage's keys)."""
    tok = tokens.load_tokenizer(tokenizer)
    counts = tokens.measure(tok, frame, loop_ngram)  # in row batches, long texts in pieces
    quoted = (lambda c: pl.col(c)) if count_quoted else \
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
    total = pl.col("_problem_tokens") + pl.col("thinking_tokens") + pl.col("response_tokens") + template_tokens
    lo, hi = thinking_tokens or (None, None)
    ok = pl.lit(True)
    why = pl.lit(None, pl.String)
    if max_total_tokens is not None:
        ok = ok & (pl.col("total_tokens") <= max_total_tokens)
        why = pl.when(pl.col("total_tokens") > max_total_tokens).then(
            pl.lit(f"over {max_total_tokens} total tokens")).otherwise(why)
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
        ((pl.col("loop_score") > max_loop_score)
         | (pl.col("max_line_repeats") >= max_line_repeats)).alias("looping"),
        pl.max_horizontal("_s1", "_s2").round(6).alias("script_ratio"),
    ).with_columns((pl.col("script_ratio") > max_script_ratio).alias("mixed_language"))
    # The first flag that drops, in REASONS' order, is the recorded reason.
    reason = pl.lit(None, pl.String)
    for flag in reversed(list(REASONS)):
        if flag not in drop:
            continue
        if flag == "over_budget":
            reason = pl.when(~pl.col("in_budget")).then(pl.col("_over")).otherwise(reason)
        else:
            reason = pl.when(pl.col(flag)).then(pl.lit(REASONS[flag])).otherwise(reason)
    out = df.select("trace_id", *COLUMNS, reason.alias(DROP))
    counts = {"rows": frame.height, "finish_reason_null": frame["finish_reason"].null_count(),
              "thinking_tokens": _histogram(out["thinking_tokens"]), "total_tokens": _histogram(out["total_tokens"]),
              "flags": _flag_counts(out)}
    result = summary(tokenizer, counts)
    result.columns = out
    return result


def summary(tokenizer: str, counts: dict) -> Outcome:
    """The manifest's stats and warning from `check`'s additive `counts` (rows, rows without
    finish_reason, each token count's rows, the flags' rows): an engine that runs the stage in
    batches adds the batches' counts up (`ray_data.merge_stats`: numbers add, dicts key by key) and
    calls this once, so quantiles are over every row at once without gathering a column, and a
    null finish_reason in one block is not a null in every row."""
    result = Outcome(stats={
        "tokenizer": tokenizer,
        "thinking_tokens": quantiles(counts["thinking_tokens"]),
        "total_tokens": quantiles(counts["total_tokens"]),
        "flags": {c: counts["flags"][c] for c in FLAGS},
    }, counts=counts)
    if counts["rows"] and counts["finish_reason_null"] == counts["rows"]:
        result.warnings.append("finish_reason is null in every row: truncation by the length limit is not "
                               "visible here (only thinking never closed is)")
    return result


FLAGS = ("truncated", "unclosed_thinking", "looping", "mixed_language", "over_budget")


def _histogram(s: pl.Series) -> dict[int, int]:
    """How many rows have each value (token counts take few distinct values; adds up key by key)."""
    counts = s.value_counts()
    return dict(zip(counts[s.name].to_list(), counts["count"].to_list()))


def _flag_counts(out: pl.DataFrame) -> dict[str, int]:
    return {c: int(out[c].sum()) for c in FLAGS[:-1]} | {"over_budget": int((~out["in_budget"]).sum())}


def quantiles(histogram: dict[int, int]) -> dict:
    """min, p50, p90, max of the values a histogram counts; a quantile is the value at sorted
    position floor(q * (n - 1) + 0.5), as Polars' `quantile(q, "nearest")` picks it."""
    if not histogram:
        return {}
    values = np.array(sorted(histogram), np.int64)
    ends = np.cumsum([histogram[v] for v in values.tolist()])
    n = int(ends[-1])

    def at(q: float) -> int:
        return int(values[np.searchsorted(ends, math.floor(q * (n - 1) + 0.5), side="right")])

    return {"min": int(values[0]), "p50": at(0.5), "p90": at(0.9), "max": int(values[-1])}
