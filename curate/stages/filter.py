"""filter: keep (or drop) rows by a DuckDB SQL predicate over every column so far.

```yaml
- filter: {where: "verdict = 'correct'", reason: wrong final answer}
- filter: {drop_where: "length(thinking) < 200", reason: thinking too short}
```
A row where `where` is NULL is dropped, as SQL's WHERE would; a row where `drop_where` is NULL is
kept.

The predicate is parsed as one SQL expression when the recipe loads (anything else is an error at
its recipe line) and evaluated in a connection that cannot reach files (`curate.sandbox`).
"""

from __future__ import annotations

import duckdb
import polars as pl
from pydantic import Field, field_validator, model_validator

from curate import sandbox
from curate.errors import BadInput
from curate.stages import DROP, Stage, StageConfig, StageContext, register


class FilterConfig(StageConfig):
    where: str | None = Field(None, description="SQL predicate: rows where it holds are kept")
    drop_where: str | None = Field(None, description="SQL predicate: rows where it holds are dropped")
    reason: str = Field(min_length=1, description="drop_reason recorded for dropped rows")

    @field_validator("where", "drop_where")
    @classmethod
    def _one_expression(cls, text: str | None) -> str | None:
        if text is not None:
            try:
                sandbox.expression(text, "predicate")
            except BadInput as exc:
                raise ValueError(str(exc).removeprefix("predicate: ")) from None
        return text

    @model_validator(mode="after")
    def _one_predicate(self):
        if (self.where is None) == (self.drop_where is None):
            raise ValueError("give exactly one of 'where' (rows to keep) or 'drop_where' (rows to drop)")
        return self


@register
class Filter(Stage):
    name = "filter"
    execution = "rows"
    Config = FilterConfig

    def run(self, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        cfg = self.config
        reason = duckdb.ConstantExpression(cfg.reason)
        null = duckdb.ConstantExpression(None).cast(duckdb.sqltypes.VARCHAR)
        # CASE WHEN p: a NULL predicate takes the ELSE branch (dropped for where, kept for drop_where).
        if cfg.where is not None:
            case = duckdb.CaseExpression(sandbox.expression(cfg.where, ctx.where), null).otherwise(reason)
        else:
            case = duckdb.CaseExpression(sandbox.expression(cfg.drop_where, ctx.where), reason).otherwise(null)
        predicate = sandbox.expression(cfg.where if cfg.where is not None else cfg.drop_where, ctx.where)
        try:
            out = sandbox.over_frame(frame, [duckdb.ColumnExpression("trace_id"), case.alias(DROP),
                                             predicate.isnull().alias("_null")], "predicate")
        except BadInput as exc:
            raise ctx.error(f"SQL predicate failed: {str(exc).removeprefix('predicate: ')}") from None
        # "verdict = 'correct'" over a verdict column that is NULL everywhere is no check at all.
        if out.height and out["_null"].all():
            ctx.nothing_to_do(f"the predicate is NULL on every row (is a column it reads empty?): "
                              f"{'every row dropped' if cfg.where is not None else 'no row dropped'}")
        return out.drop("_null")
