"""Where a recipe's stages run: in this process (`local`, the default) or on a Ray cluster (`ray`).

An engine holds the run's table (`Engine.load`: a `Table`): the runner (`curate.run`) asks it for
each stage's columns over the rows alive before the stage, to read or write the stage's cache
file, to join the columns onto every row, and to write traces.parquet and selected.parquet; the
runner keeps the bookkeeping (cache keys, the funnel, the manifest, publication) the same for both,
so a run folder does not depend on the engine that made it. The local engine's table is one
Polars frame in this process (`curate.engines.local`); the Ray engine's lives on the cluster, and
the driver holds only the spine (trace_id, dropped_by, drop_reason). Each stage class says how it
may be spread out (`Stage.execution`):

- `rows`: row-local; any split of the rows gives the same columns (format, filter, budget, ...);
- `problems`: per-problem aggregates; any split that keeps each problem's rows together gives the
  same columns (verify's pass rate, difficulty);
- `driver`: needs every row at once (dedup, selection, sampling, ...): runs in the driver process.

The `ray` engine lives in `curate.engines.ray_data` and is imported only when asked for, so the
local engine needs no Ray.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import polars as pl
import pyarrow as pa
import pyarrow.fs as pafs

from curate.errors import BadInput
from curate.stages import Stage, StageContext

ENGINES = ("local", "ray")
EngineName = Literal["local", "ray"]


@dataclass
class Inputs:
    """A run's input shards, checked to exist: local files (`fs` None) or paths inside a file
    system that `curate.remote` opened for a URI."""

    where: str  # the input as given, for messages
    files: list  # local Paths, or paths inside `fs`
    uri: str | None = None
    fs: pafs.FileSystem | None = None
    path: Path | None = None  # the local path (also for file:// URIs), else None


class Table(Protocol):
    """The run's rows as an engine holds them, between stages (see the module doc)."""

    rows: int

    @property
    def spine(self) -> pl.DataFrame:
        """trace_id, dropped_by and drop_reason of every row, in input order (the funnel's counts)."""

    def alive(self) -> int: ...

    def run_stage(self, stage: Stage, ctx: StageContext) -> Any:
        """The stage over the alive rows: its checked columns sorted by trace_id, in a form
        `write_stage` and `merge` take (a frame here, shards on a cluster)."""

    def cached(self, path: Path, key: str) -> Any | None: ...

    def write_stage(self, out: Any, path: Path, meta: dict[str, str]) -> None: ...

    def merge(self, out: Any, label: str) -> None: ...

    def write_outputs(self, export, traces: Path, selected: Path, meta: dict[str, str]) -> None: ...


class Engine(Protocol):
    name: str

    def load(self, inputs: Inputs) -> Table:
        """Read and check every input shard (one BadInput line naming the shard, before any write)."""

    def run_stage(self, stage: Stage, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        """The stage's output columns for `frame` (trace_id plus new columns), stats in ctx.stats."""

    def describe(self) -> dict:
        """What the manifest records about the engine (never part of any cache key)."""


class LocalEngine:
    name = "local"

    def load(self, inputs: Inputs) -> Table:
        from curate import remote, store
        from curate.engines.local import LocalTable

        # Ids are checked against their content by ingest, synth and `validate`; a run keys on them
        # and on the files' fingerprints only, so re-hashing every trace here would double a rerun.
        if inputs.fs is not None:
            table: pa.Table = remote.load_traces(inputs.uri, inputs.fs, inputs.files, check_ids=False)
        else:
            table = store.load_traces(inputs.path, check_ids=False)
        return LocalTable(table)

    def run_stage(self, stage: Stage, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        return stage.run(frame, ctx)

    def describe(self) -> dict:
        return {"name": "local"}


def get(name: str = "local", address: str | None = None, batch_rows: int | None = None,
        shuffle_rows: int | None = None) -> Engine:
    """The engine called `name`; bad settings are one BadInput line (exit 2), checked before any write."""
    if name == "local":
        if address is not None:
            raise BadInput("--address: only the ray engine connects to a cluster (add --engine ray)")
        return LocalEngine()
    if name == "ray":
        from curate.engines import ray_data

        return ray_data.RayEngine.connect(address, batch_rows=batch_rows, shuffle_rows=shuffle_rows)
    raise BadInput(f"--engine: unknown engine {name!r} (known: {', '.join(ENGINES)})")
