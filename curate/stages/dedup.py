"""dedup: drop repeated and lightly edited problems (exact, MinHash or semantic).

```yaml
- dedup: {method: minhash, on: problem, threshold: 0.8}
- dedup: {method: semantic, threshold: 0.92, keep: verified}
- dedup: {method: minhash, index: seen.parquet, save_index: seen.parquet}   # incremental
```
Problems, not samples, are deduplicated: in a cluster of several problems the problem of the
best row (`keep`, after a row with a gold answer and a correct verdict) survives with all its
samples (see `curate.dedup`). With `same_math` (the default) a near-duplicate pair must have the
same numbers and formulas, and (minhash) as many premise sentences before a like question
sentence: a copy with a premise removed is another (often unanswerable) problem. Columns: `dup_cluster`,
`dup_of`, `dup_sim`; dropped rows get a `drop_reason`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import Field, model_validator

from curate.parallel import Parts
from curate.stages import Stage, StageConfig, StageContext, register


class DedupConfig(StageConfig):
    method: Literal["exact", "minhash", "semantic"] = Field("minhash", description="how problems are compared")
    on: str = Field("problem", description="text column compared")
    threshold: float | None = Field(None, gt=0, le=1,
                                    description="Jaccard (minhash) or cosine (semantic); default 0.8 / 0.9")
    keep: Literal["first", "last", "longest", "shortest", "verified", "score"] = Field(
        "first", description="which row's problem survives: input order, thinking length, "
                             "verdict == 'correct' first, or highest rubric score")
    ngram: int = Field(5, gt=0, description="words per shingle (minhash)")
    num_perm: int = Field(128, gt=0, description="MinHash permutations")
    bands: int | None = Field(None, gt=0, description="LSH bands (must divide num_perm); default from threshold")
    check: Literal["jaccard", "signature"] = Field("jaccard", description="candidate check: exact or estimate")
    seed: int = Field(1, description="datasketch permutation seed")
    # Kept so older recipes load and keep their cache keys (it is part of every run's key chain).
    engine: Literal["auto", "polars", "duckdb"] = Field(
        "auto", description="no longer used: MinHash groups band keys one band at a time in memory "
                            "(a recipe naming polars or duckdb gets a warning)")
    model: str | None = Field(None, description="sentence-transformers name or path (semantic); default MiniLM")
    index: Path | None = Field(None, description="saved MinHash index to dedup against")
    save_index: Path | None = Field(None, description="write the index, extended by this run's survivors")
    same_math: bool = Field(True, description="near-duplicates must have the same numbers and formulas, and as "
                                              "many premises before a like question sentence (another number, "
                                              "sign or premise makes another problem)")

    @model_validator(mode="after")
    def _bands_divide(self):
        if self.bands is not None and self.num_perm % self.bands:
            raise ValueError(f"num_perm {self.num_perm} is not divisible into {self.bands} bands")
        return self


@register
class Dedup(Stage):
    name = "dedup"
    Config = DedupConfig
    execution = "parts"  # curate.dedup shuffles the rows itself: by text, by LSH band key, by cluster
    version = 2  # same_math compares premises and the question; answerable rows kept first

    def reads(self) -> tuple[str, ...]:
        """The columns `run` reads (an engine that holds the table elsewhere pulls only these):
        the text, the problem, and what ranks the row a cluster keeps."""
        from curate.dedup import KEEP_NEEDS

        cfg = self.config
        ranked = (KEEP_NEEDS[cfg.keep],) if cfg.keep in KEEP_NEEDS else ()
        return ("trace_id", "problem_id", cfg.on, "gold", "verdict", *ranked)

    def needs(self) -> tuple[str, ...]:
        return ("embed",) if self.config.method == "semantic" else ()  # MiniLM, sentence-transformers

    def run(self, frame: pl.DataFrame | Parts, ctx: StageContext) -> pl.DataFrame | Parts:
        from curate.dedup import dedup_table

        if self.config.engine != "auto":
            ctx.warnings.append(f"dedup: engine: {self.config.engine} is no longer used (MinHash checks candidate "
                                "pairs band by band in memory, bounded per chunk); remove it from the recipe")
        columns = ctx.take(dedup_table(frame, **self.config.model_dump(exclude={"on_missing", "engine"})))
        if isinstance(columns, Parts):  # keyed by trace_id already
            return columns
        return pl.concat([frame.select("trace_id"), columns], how="horizontal")
