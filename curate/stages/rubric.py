"""rubric: score each trace by a rubric of weighted criteria (`rubrics/*.yaml`, see `curate.rubric`).

```yaml
- rubric: {rubric: reasoning_quality}                  # columns score, rubric_<criterion>…
- rubric: {rubric: format, score_column: format_score, min_score: 1.0}
```
Drops nothing unless `min_score` is set (rows scoring below it are dropped).
"""

from __future__ import annotations

import polars as pl
from pydantic import Field

from curate import rubric as lib
from curate.stages import DROP, Stage, StageConfig, StageContext, register


class RubricConfig(StageConfig):
    rubric: str = Field("reasoning_quality", description="name in rubrics/ or a YAML path")
    score_column: str = Field("score", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="column of the weighted score")
    prefix: str = Field("rubric_", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="prefix of per-criterion columns")
    min_score: float | None = Field(None, ge=0, le=1, description="drop rows scoring below this")


@register
class RubricStage(Stage):
    name = "rubric"
    execution = "rows"
    summary_reads = ()  # `summarize` reads only the stage's own columns
    Config = RubricConfig

    def run(self, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        cfg = self.config
        rubric = lib.load_rubric(cfg.rubric)
        out = lib.score(frame, rubric, cfg.prefix, cfg.score_column)
        reason = pl.lit(None, pl.String)
        if cfg.min_score is not None:
            reason = pl.when(pl.col(cfg.score_column) < cfg.min_score).then(
                pl.lit(f"rubric {rubric.name} score below {cfg.min_score}")).otherwise(reason)
        out = out.with_columns(reason.alias(DROP))
        ctx.stats.update(self.summarize(out))
        return out

    def summarize(self, out: pl.DataFrame, frame: pl.DataFrame | None = None, merged: dict | None = None) -> dict:
        """The manifest's stats from the stage's columns (means over every row at once, which is why
        an engine that runs the stage in batches calls this on the gathered columns)."""
        cfg = self.config
        s = out[cfg.score_column]
        criteria = [c for c in out.columns if c not in ("trace_id", cfg.score_column, DROP)]
        return {"rubric": lib.load_rubric(cfg.rubric).name,
                "mean_score": round(float(s.mean()), 4) if s.len() else None,
                "criteria_means": {c: round(float(out[c].mean()), 4) for c in criteria} if s.len() else {}}
