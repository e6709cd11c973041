"""Where a recipe's stages run: in this process (`local`, the default) or on a Ray cluster (`ray`).

An engine runs one stage over the rows alive before it and hands back the stage's columns; the
runner (`curate.run`) does everything else (caching, merging, writing) the same way for both, so
a run folder does not depend on the engine that made it. Each stage class says how it may be
spread out (`Stage.execution`):

- `rows`: row-local; any split of the rows gives the same columns (format, filter, budget, ...);
- `problems`: per-problem aggregates; any split that keeps each problem's rows together gives the
  same columns (verify's pass rate, difficulty);
- `driver`: needs every row at once (dedup, selection, sampling, ...): runs in the driver process.

The `ray` engine lives in `curate.engines.ray_data` and is imported only when asked for, so the
local engine needs no Ray.
"""

from __future__ import annotations

from typing import Literal, Protocol

import polars as pl

from curate.errors import BadInput
from curate.stages import Stage, StageContext

ENGINES = ("local", "ray")
EngineName = Literal["local", "ray"]


class Engine(Protocol):
    name: str

    def run_stage(self, stage: Stage, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        """The stage's output columns for `frame` (trace_id plus new columns), stats in ctx.stats."""

    def describe(self) -> dict:
        """What the manifest records about the engine (never part of any cache key)."""


class LocalEngine:
    name = "local"

    def run_stage(self, stage: Stage, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        return stage.run(frame, ctx)

    def describe(self) -> dict:
        return {"name": "local"}


def get(name: str = "local", address: str | None = None, batch_rows: int | None = None) -> Engine:
    """The engine called `name`; bad settings are one BadInput line (exit 2), checked before any write."""
    if name == "local":
        if address is not None:
            raise BadInput("--address: only the ray engine connects to a cluster (add --engine ray)")
        return LocalEngine()
    if name == "ray":
        from curate.engines import ray_data

        return ray_data.RayEngine.connect(address, batch_rows=batch_rows)
    raise BadInput(f"--engine: unknown engine {name!r} (known: {', '.join(ENGINES)})")
