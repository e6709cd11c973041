"""decontam: drop rows that share a word 8-gram with a benchmark problem (as s1 and open-r1 do).

```yaml
- decontam: {bench: [math500, aime24]}
- decontam: {bench: [math500, my/heldout.parquet], fuzzy: 0.7}
```
Benchmarks are named (math500, aime24, aime25, amc23, gsm8k, …: `curate.benchmarks` resolves them
from `bench_dir`, else $DISTILLERY_BENCHMARKS, then the user cache, then the hub) or given by path
(any JSONL/Parquet with a `problem` column, or a folder of trace shards); a relative path that is
not found is looked for beside the input (the held-out split `distillery synth --heldout` writes
there: `bench: [heldout]`). Column `contaminated_with` lists the matched benchmark ids;
`contaminated_ngram` the first n-gram that matched (null for a fuzzy-only match); the manifest
gets the contaminated rows per benchmark. An n-gram in `boilerplate` or more benchmark problems
(counted over the benchmarks, the distinct input problems and any `boilerplate_from` corpora) is
boilerplate and does not count:
"What is the slope of the line passing through" or "relatively prime positive integers. Find m+n"
is no sign that a problem was copied. A benchmark that cannot be found with `missing: skip` is
announced (`on_missing`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import Field

from curate.parallel import Parts
from curate.stages import Stage, StageConfig, StageContext, register


class DecontamConfig(StageConfig):
    bench: list[str] = Field(min_length=1, description="benchmark names or file paths")
    on: str = Field("problem", description="text column checked")
    ngram: int = Field(8, gt=0, description="words per n-gram shared with a benchmark problem")
    fuzzy: float | None = Field(None, gt=0, le=1, description="also MinHash Jaccard at least this")
    bench_dir: Path | None = Field(None, description="folder of named benchmarks")
    drop: bool = Field(True, description="drop contaminated rows (else only mark them)")
    boilerplate: int | None = Field(3, ge=2, description="an n-gram in at least this many benchmark problems "
                                                         "is boilerplate and does not count (null: every n-gram counts)")
    boilerplate_from: list[str] = Field(default_factory=lambda: ["input"], description="where else boilerplate is "
                                        "counted (not checked against): `input` (the distinct problems this stage "
                                        "sees), benchmark names or files")
    missing: Literal["error", "skip"] = Field(
        "error", description="a benchmark that cannot be found: error, or skip it with a warning "
                             "(the manifest lists skipped benchmarks)")


@register
class Decontam(Stage):
    name = "decontam"
    Config = DecontamConfig
    version = 2  # boilerplate n-grams do not count; the matched n-gram is kept
    execution = "parts"  # the library shuffles the rows itself: on Ray they stay on the workers

    def reads(self) -> tuple[str, ...]:
        """The columns `run` reads (an engine that holds the table elsewhere pulls only these)."""
        return ("trace_id", self.config.on)

    def run(self, frame: pl.DataFrame | Parts, ctx: StageContext) -> pl.DataFrame | Parts:
        from curate.decontam import decontaminate

        result = decontaminate(frame, **self.config.model_dump(exclude={"on_missing"}), beside=ctx.input_path,
                               warn=ctx.nothing_to_do)
        ctx.stats.update(result.stats)
        if isinstance(frame, Parts):  # the library's parts carry trace_id
            return result.columns
        return pl.concat([frame.select("trace_id"), result.columns], how="horizontal")
