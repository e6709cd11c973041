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
from curate.outcome import Outcome
from curate.stages import Stage, StageConfig, StageContext, register


class RubricConfig(StageConfig):
    rubric: str = Field("reasoning_quality", description="name in rubrics/ or a YAML path")
    score_column: str = Field("score", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="column of the weighted score")
    prefix: str = Field("rubric_", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="prefix of per-criterion columns")
    min_score: float | None = Field(None, ge=0, le=1, description="drop rows scoring below this")


@register
class RubricStage(Stage):
    name = "rubric"
    execution = "rows"
    Config = RubricConfig

    def run(self, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        cfg = self.config
        return ctx.take(lib.apply(frame, cfg.rubric, cfg.prefix, cfg.score_column, cfg.min_score))

    def summarize(self, frame: None, merged: Outcome) -> Outcome:
        """The manifest's stats over every row at once (an engine that runs the stage in batches
        calls this on the blocks' sums added up); the library warns of nothing."""
        return Outcome(stats=lib.summary(self.config.rubric, merged.counts), warnings=merged.warnings)
