"""The local engine's table: the whole run in one Polars frame in this process.

`curate.run` drives a run through a table an engine holds (`Engine.load`): the rows alive before a
stage, the stage's columns, their cache file, the join of those columns onto every row, the funnel's
counts and the run's two files. Here all of it is the one frame the runner always held; the Ray
engine's table (`curate.engines.ray_table`) keeps the same rows on the cluster instead, and the bytes
written are the same.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from curate import messages, store
from curate import stages as registry
from curate.stages import Stage, StageContext

DROPPED_BY = registry.DROPPED_BY
KEY_META = "distillery.stage_key"


def merge(full: pl.DataFrame, out: pl.DataFrame, label: str) -> pl.DataFrame:
    """Join a stage's columns onto every row. A column an earlier stage also wrote (two dedup
    stages both write dup_of) takes the later stage's value on the rows that stage saw. Row-local:
    the merge of a slice of the rows with their part of `out` is the slice of the merge."""
    new_cols = [c for c in out.columns if c not in ("trace_id", registry.DROP)]
    joined = full.join(out.rename({c: f"{c}__new" for c in out.columns if c != "trace_id"}),
                       on="trace_id", how="left", maintain_order="left")
    seen = pl.col("trace_id").is_in(out["trace_id"].implode())
    exprs = []
    for c in new_cols:
        if c in full.columns:
            exprs.append(pl.when(seen).then(pl.col(f"{c}__new")).otherwise(pl.col(c)).alias(c))
        else:
            exprs.append(pl.col(f"{c}__new").alias(c))
    if registry.DROP in out.columns:
        newly = pl.col(DROPPED_BY).is_null() & pl.col(f"{registry.DROP}__new").is_not_null()
        exprs += [pl.when(newly).then(pl.lit(label)).otherwise(pl.col(DROPPED_BY)).alias(DROPPED_BY),
                  pl.when(newly).then(pl.col(f"{registry.DROP}__new")).otherwise(pl.col(registry.DROP))
                  .alias(registry.DROP)]
    joined = joined.with_columns(exprs)
    return joined.drop([c for c in joined.columns if c.endswith("__new")])


def start(frame: pl.DataFrame) -> pl.DataFrame:
    """The run's table before stage 1: the input rows, none dropped."""
    return frame.with_columns(pl.lit(None, pl.String).alias(DROPPED_BY), pl.lit(None, pl.String).alias(registry.DROP))


def alive(full: pl.DataFrame) -> pl.DataFrame:
    """The rows no stage dropped, without the runner's two columns: what a stage is handed."""
    return full.filter(pl.col(DROPPED_BY).is_null()).drop(DROPPED_BY, registry.DROP)


def selected(full: pl.DataFrame, export: messages.MessagesConfig) -> pl.DataFrame:
    """selected.parquet's rows: the survivors with their chat `messages` first (only there: in
    traces.parquet it would double the text)."""
    kept = alive(full).with_columns(messages.messages_expr(export))
    return kept.select(["messages", *[c for c in kept.columns if c != "messages"]])


def cache_key(path: Path) -> str | None:
    """The key a stage's cache file was written under (None: missing or unreadable)."""
    if not path.is_file():
        return None
    try:
        meta = pq.read_schema(path).metadata or {}
    except (pa.ArrowException, OSError):
        return None
    return meta.get(KEY_META.encode(), b"").decode()


def read_cached(path: Path, key: str) -> pl.DataFrame | None:
    if cache_key(path) != key:
        return None
    try:
        return pl.from_arrow(pq.read_table(path))
    except (pa.ArrowException, OSError):
        return None  # a damaged cache is recomputed, never trusted


class LocalTable:
    """The run's rows as one frame in this process (what the runner always did)."""

    def __init__(self, table: pa.Table, engine=None):
        self.engine = engine  # where a stage's `run` runs (None: here; see Stage.__call__)
        self.rows = table.num_rows
        self.full = start(pl.from_arrow(table))

    @property
    def spine(self) -> pl.DataFrame:
        """trace_id, dropped_by and drop_reason of every row (here: the whole table)."""
        return self.full

    def alive(self) -> int:
        return self.full[DROPPED_BY].null_count()

    def run_stage(self, stage: Stage, ctx: StageContext) -> pl.DataFrame:
        return stage(alive(self.full), ctx, self.engine)  # timed, checked, sorted by trace_id

    def cached(self, path: Path, key: str) -> pl.DataFrame | None:
        return read_cached(path, key)

    def write_stage(self, out: pl.DataFrame, path: Path, meta: dict[str, str]) -> None:
        store.write_parquet(out.to_arrow(), path, metadata=meta)

    def merge(self, out: pl.DataFrame, label: str) -> None:
        self.full = merge(self.full, out, label)

    def write_outputs(self, export: messages.MessagesConfig, traces: Path, selected_path: Path,
                      meta: dict[str, str]) -> None:
        store.write_parquet(self.full.to_arrow(), traces, metadata=meta)
        store.write_parquet(selected(self.full, export).to_arrow(), selected_path, metadata=meta)
