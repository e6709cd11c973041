"""filter: keep (or drop) rows by a DuckDB SQL predicate over every column so far.

```yaml
- filter: {where: "verdict = 'correct'", reason: wrong final answer}
- filter: {drop_where: "length(thinking) < 200", reason: thinking too short}
```
A row where `where` is NULL is dropped, as SQL's WHERE would; a row where `drop_where` is NULL is
kept.
"""

from __future__ import annotations

import duckdb
import polars as pl
from pydantic import Field, model_validator

from curate.stages import DROP, Stage, StageConfig, StageContext, register


class FilterConfig(StageConfig):
    where: str | None = Field(None, description="SQL predicate: rows where it holds are kept")
    drop_where: str | None = Field(None, description="SQL predicate: rows where it holds are dropped")
    reason: str = Field(min_length=1, description="drop_reason recorded for dropped rows")

    @model_validator(mode="after")
    def _one_predicate(self):
        if (self.where is None) == (self.drop_where is None):
            raise ValueError("give exactly one of 'where' (rows to keep) or 'drop_where' (rows to drop)")
        return self


@register
class Filter(Stage):
    name = "filter"
    Config = FilterConfig

    def run(self, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        cfg = self.config
        if cfg.where is not None:
            case = f"CASE WHEN coalesce(({cfg.where}), false) THEN NULL ELSE $reason END"
        else:
            case = f"CASE WHEN coalesce(({cfg.drop_where}), false) THEN $reason ELSE NULL END"
        predicate = cfg.where if cfg.where is not None else cfg.drop_where
        con = duckdb.connect()
        try:
            con.register("frame", frame.to_arrow())
            out = con.sql(f"SELECT trace_id, {case} AS {DROP}, ({predicate}) IS NULL AS _null FROM frame",
                          params={"reason": cfg.reason}).pl()
        except duckdb.Error as exc:
            msg = str(exc).strip().splitlines()[0]
            raise ctx.error(f"SQL predicate failed: {msg}") from exc
        finally:
            con.close()
        # "verdict = 'correct'" over a verdict column that is NULL everywhere is no check at all.
        if out.height and out["_null"].all():
            ctx.nothing_to_do(f"the predicate is NULL on every row (is a column it reads empty?): "
                              f"{'every row dropped' if cfg.where is not None else 'no row dropped'}")
        return out.drop("_null")
