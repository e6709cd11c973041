"""Keep or drop rows by a DuckDB SQL predicate over every column (the filter stage's work).

A row where `where` is NULL is dropped, as SQL's WHERE would; a row where `drop_where` is NULL is
kept. The predicate is parsed as one SQL expression, never spliced, and evaluated in a connection
that cannot reach files (`curate.sandbox`).
"""

from __future__ import annotations

import duckdb
import polars as pl

from curate import sandbox
from curate.errors import BadInput
from curate.outcome import Outcome
from curate.schema import DROP


def by_predicate(frame: pl.DataFrame, reason: str, where: str | None = None, drop_where: str | None = None,
                 what: str = "predicate") -> Outcome:
    """trace_id and drop_reason (`reason` for the dropped rows); give exactly one of `where` (rows
    to keep) or `drop_where` (rows to drop). `what` names the predicate in a parse error."""
    text = where if where is not None else drop_where
    reason_ = duckdb.ConstantExpression(reason)
    null = duckdb.ConstantExpression(None).cast(duckdb.sqltypes.VARCHAR)
    # CASE WHEN p: a NULL predicate takes the ELSE branch (dropped for where, kept for drop_where).
    if where is not None:
        case = duckdb.CaseExpression(sandbox.expression(where, what), null).otherwise(reason_)
    else:
        case = duckdb.CaseExpression(sandbox.expression(drop_where, what), reason_).otherwise(null)
    predicate = sandbox.expression(text, what)
    try:
        out = sandbox.over_frame(frame, [duckdb.ColumnExpression("trace_id"), case.alias(DROP),
                                         predicate.isnull().alias("_null")], "predicate")
    except BadInput as exc:
        raise BadInput(f"SQL predicate failed: {str(exc).removeprefix('predicate: ')}") from None
    result = summary({"rows": out.height, "null_rows": int(out["_null"].sum())}, where is not None)
    result.columns = out.drop("_null")
    return result


def summary(counts: dict, keep: bool) -> Outcome:
    """The warning of `by_predicate` over a whole table, from its additive `counts` (rows, rows where
    the predicate is NULL); `keep`: the predicate was `where`. An engine that filters in blocks adds
    the blocks' counts up and calls this once (NULL in one block is not NULL on every row)."""
    result = Outcome(counts=counts)
    # "verdict = 'correct'" over a verdict column that is NULL everywhere is no check at all.
    if counts["rows"] and counts["null_rows"] == counts["rows"]:
        result.warnings.append(f"the predicate is NULL on every row (is a column it reads empty?): "
                               f"{'every row dropped' if keep else 'no row dropped'}")
    return result
