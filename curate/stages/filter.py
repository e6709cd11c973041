"""filter: keep (or drop) rows by a DuckDB SQL predicate over every column so far.

```yaml
- filter: {where: "verdict = 'correct'", reason: wrong final answer}
- filter: {drop_where: "length(thinking) < 200", reason: thinking too short}
```
A row where `where` is NULL is dropped, as SQL's WHERE would; a row where `drop_where` is NULL is
kept.

The predicate is parsed as one SQL expression when the recipe loads (anything else is an error at
its recipe line) and evaluated in a connection that cannot reach files (`curate.sandbox`,
through `curate.filtering`).
"""

from __future__ import annotations

import polars as pl
from pydantic import Field, field_validator, model_validator

from curate import filtering, sandbox
from curate.errors import BadInput
from curate.outcome import Outcome
from curate.stages import Stage, StageConfig, StageContext, register


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
        return ctx.take(filtering.by_predicate(frame, cfg.reason, cfg.where, cfg.drop_where, ctx.where))

    def summarize(self, frame: None, merged: Outcome) -> Outcome:
        """The warning over every row at once, from the blocks' counts added up (an engine that
        filters in blocks calls this once)."""
        return filtering.summary(merged.counts, self.config.where is not None)
