"""Rubrics: weighted criteria scored 0..1 per trace, combined into one `score` (weighted mean).

A rubric is a YAML file (`rubrics/*.yaml`, or any path):

```yaml
name: reasoning_quality
criteria:
  - {name: self_verification, weight: 2, check: self_verification, params: {target: 3}}
  - {name: long_enough, weight: 1, sql: "least(thinking_tokens / 2000.0, 1.0)"}
  - {name: clarity, weight: 1, judge: "Rate the clarity of this reasoning 0-10: {thinking}"}
```
A criterion is exactly one of: `check` (a built-in below, with `params`), `sql` (a DuckDB expression
over the columns so far, clipped to 0..1, null = 0), or `judge` (an LLM-judge prompt template: it
needs the generation back-end, which this install lacks; accepted here, refused when scored).

Built-in checks (phrase rates are per 1,000 thinking tokens: `thinking_tokens` when a budget stage
ran, else words × 1.3; a rate at `target` or above scores 1):
has_boxed, verified (verdict = 'correct'), in_budget, no_loop, single_language,
self_verification, exploratory, connectives (adaptive granularity: "so", "therefore", …),
step_structure (paragraphs that are steps, against `target` steps), length (a column against
`target`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from curate import resources
from curate.errors import BadInput
from curate.outcome import Outcome
from curate.schema import DROP

RUBRICS_DIR = Path(__file__).resolve().parent.parent / "rubrics"

PHRASES = {
    "self_verification": r"(?i)\b(?:let me (?:double[- ]?)?check|double[- ]check|let me verify|verify|re-?check|"
                         r"sanity[- ]check|wait,|make sure|confirm)",
    "exploratory": r"(?i)\b(?:perhaps|maybe|might|alternatively|what if|suppose|let me try|another (?:way|approach)|"
                   r"hmm|could)\b",
    "connectives": r"(?i)\b(?:therefore|thus|hence|so|because|since|which means|it follows)\b",
}
STEP = r"(?im)^\s*(?:step\s*\d+|\d+[.)]\s|first|second|third|next|then|now|finally|after that|to begin)\b"
CHECKS = ("has_boxed", "verified", "in_budget", "no_loop", "single_language", "self_verification",
          "exploratory", "connectives", "step_structure", "length")
DEFAULT_TARGETS = {"self_verification": 2.0, "exploratory": 4.0, "connectives": 10.0, "step_structure": 5.0}


class Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    weight: float = Field(1.0, ge=0)
    check: str | None = None
    sql: str | None = None
    judge: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_kind(self):
        kinds = [k for k in ("check", "sql", "judge") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("a criterion has exactly one of check, sql, judge")
        if self.check is not None and self.check not in CHECKS:
            raise ValueError(f"unknown check {self.check!r} (built-in: {', '.join(CHECKS)})")
        if self.sql is not None:  # one expression, never a statement: checked when the rubric loads
            from curate import sandbox

            try:
                sandbox.expression(self.sql, "sql")
            except BadInput as exc:
                raise ValueError(str(exc)) from None
        return self


@dataclass(frozen=True)
class Rubric:
    name: str
    criteria: tuple[Criterion, ...]
    source: str
    description: str | None = None


def known_rubrics() -> list[str]:
    return resources.known(RUBRICS_DIR)


def load_rubric(name: str) -> Rubric:
    path, data = resources.load_named_yaml(name, RUBRICS_DIR, "rubric")
    items = data.get("criteria") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise BadInput(f"{path}: a rubric needs a non-empty 'criteria' list")
    criteria = []
    for i, item in enumerate(items):
        try:
            criteria.append(Criterion.model_validate(item))
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(x) for x in err["loc"])
            raise BadInput(f"{path}: criterion {i + 1}{' ' + loc if loc else ''}: {err['msg']}") from None
    names = [c.name for c in criteria]
    if len(set(names)) != len(names):
        raise BadInput(f"{path}: criterion names repeat")
    if sum(c.weight for c in criteria) <= 0:
        raise BadInput(f"{path}: criteria weights sum to 0")
    return Rubric(str(data.get("name", path.stem)), tuple(criteria), str(path), data.get("description"))


# ------------------------------------------------------------------------------------ scoring

def _thousand_tokens(frame: pl.DataFrame) -> pl.Expr:
    if "thinking_tokens" in frame.columns:
        tokens = pl.col("thinking_tokens").cast(pl.Float64)
    else:
        tokens = pl.col("thinking").fill_null("").str.count_matches(r"\S+").cast(pl.Float64) * 1.3
    return pl.max_horizontal(tokens, pl.lit(1.0)) / 1000.0


def _need(frame: pl.DataFrame, column: str, check: str, stage: str) -> None:
    if column not in frame.columns:
        raise BadInput(f"check {check} needs column {column!r}: add a {stage} stage before the rubric")


def check_expr(c: Criterion, frame: pl.DataFrame) -> pl.Expr:
    """A Polars expression scoring `c` (a built-in check) in 0..1 over `frame`."""
    p, name = c.params, c.check
    thinking = pl.col("thinking").fill_null("")
    if name == "has_boxed":
        return pl.col("response").fill_null("").str.contains(r"\\(?:boxed|fbox)\b").cast(pl.Float64)
    if name == "verified":
        _need(frame, "verdict", name, "verify")
        return (pl.col("verdict") == "correct").fill_null(False).cast(pl.Float64)
    if name == "in_budget":
        _need(frame, "in_budget", name, "budget")
        return pl.col("in_budget").fill_null(False).cast(pl.Float64)
    if name == "no_loop":
        _need(frame, "looping", name, "budget")
        return (~pl.col("looping").fill_null(True)).cast(pl.Float64)
    if name == "single_language":
        if "script_ratio" in frame.columns:
            ratio = pl.col("script_ratio")
        else:
            from curate.tokens import script_ratio_expr

            ratio = script_ratio_expr("thinking")
        return (ratio <= float(p.get("max_ratio", 0.001))).cast(pl.Float64)
    if name in PHRASES:
        rate = thinking.str.count_matches(p.get("pattern", PHRASES[name])).cast(pl.Float64) / _thousand_tokens(frame)
        return pl.min_horizontal(rate / float(p.get("target", DEFAULT_TARGETS[name])), pl.lit(1.0))
    if name == "step_structure":
        steps = thinking.str.count_matches(STEP).cast(pl.Float64)
        return pl.min_horizontal(steps / float(p.get("target", DEFAULT_TARGETS[name])), pl.lit(1.0))
    if name == "length":
        column = p.get("column", "thinking_tokens")
        if column not in frame.columns:
            raise BadInput(f"check length needs column {column!r} (a budget stage makes thinking_tokens)")
        target = float(p.get("target", 2000))
        return pl.min_horizontal(pl.col(column).cast(pl.Float64).fill_null(0.0) / target, pl.lit(1.0))
    raise BadInput(f"unknown check {name!r}")  # pragma: no cover - validated on load


def score(frame: pl.DataFrame, rubric: Rubric, prefix: str = "rubric_", score_column: str = "score") -> pl.DataFrame:
    """trace_id, one column per criterion (0..1), and the weighted mean as `score_column`."""
    judges = [c.name for c in rubric.criteria if c.judge is not None]
    if judges:
        raise BadInput(f"rubric {rubric.name}: criterion {judges[0]} is an LLM judge, which needs the "
                       f"generation back-end (curate.generate), not available in this install")
    checks = [check_expr(c, frame).fill_null(0.0).round(6).alias(prefix + c.name)
              for c in rubric.criteria if c.check is not None]
    out = frame.select("trace_id", *checks)
    sqls = [c for c in rubric.criteria if c.sql is not None]
    if sqls:
        # Each criterion is one parsed expression, evaluated where no file can be reached.
        import duckdb

        from curate import sandbox

        exprs = []
        for c in sqls:
            value = sandbox.expression(c.sql, f"rubric {rubric.name}: criterion {c.name}").cast(duckdb.sqltypes.DOUBLE)
            clipped = duckdb.FunctionExpression("least", duckdb.FunctionExpression(
                "greatest", duckdb.CoalesceOperator(value, duckdb.ConstantExpression(0.0)),
                duckdb.ConstantExpression(0.0)), duckdb.ConstantExpression(1.0))
            exprs.append(duckdb.FunctionExpression("round", clipped, duckdb.ConstantExpression(6))
                         .alias(prefix + c.name))
        try:
            extra = sandbox.over_frame(frame, exprs, "sql")
        except BadInput as exc:
            raise BadInput(f"rubric {rubric.name}: SQL criterion failed: {str(exc).removeprefix('sql: ')}") from None
        out = pl.concat([out, extra], how="horizontal")
    total = sum(c.weight for c in rubric.criteria)
    weighted = sum(pl.col(prefix + c.name) * c.weight for c in rubric.criteria)
    return out.select("trace_id", *[prefix + c.name for c in rubric.criteria],
                      (weighted / total).round(6).alias(score_column))


def apply(frame: pl.DataFrame, name: str, prefix: str = "rubric_", score_column: str = "score",
          min_score: float | None = None) -> Outcome:
    """The rubric stage's work: `score` with rubric `name` (rubrics/ or a path), and drop_reason for
    rows scoring below `min_score` (none dropped when it is None)."""
    rubric = load_rubric(name)
    out = score(frame, rubric, prefix, score_column)
    reason = pl.lit(None, pl.String)
    if min_score is not None:
        reason = pl.when(pl.col(score_column) < min_score).then(
            pl.lit(f"rubric {rubric.name} score below {min_score}")).otherwise(reason)
    out = out.with_columns(reason.alias(DROP))
    counts = sums(out, score_column)
    return Outcome(out, summary(name, counts), counts=counts)


MICRO = 10**6  # every criterion and score is rounded to 6 decimals: a whole number of millionths


def sums(out: pl.DataFrame, score_column: str = "score") -> dict:
    """`out`'s (`score`'s columns) row count and, per column, its values' sum in millionths: whole
    numbers, which batches add up exactly, so the means do not depend on how the rows were cut."""
    criteria = [c for c in out.columns if c not in ("trace_id", score_column, DROP)]
    totals = out.select([(pl.col(c) * MICRO).round(0).cast(pl.Int64).sum().alias(c)
                         for c in [score_column, *criteria]]).row(0, named=True) if out.height else {}
    return {"rows": out.height, "score_micro": int(totals.get(score_column) or 0),
            "criteria_micro": {c: int(totals.get(c) or 0) for c in criteria}}


def summary(name: str, counts: dict) -> dict:
    """The manifest's stats of scored rows from `sums` (added up over batches): the mean score and
    each criterion's mean, exact, rounded half to even to 4 decimals."""
    n = counts["rows"]

    def mean(total: int) -> float:
        return float(round(Fraction(total, n * MICRO), 4))

    return {"rubric": load_rubric(name).name,
            "mean_score": mean(counts["score_micro"]) if n else None,
            "criteria_means": {c: mean(v) for c, v in counts["criteria_micro"].items()} if n else {}}
