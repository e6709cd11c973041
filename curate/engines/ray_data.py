"""The `ray` engine: a recipe's stages over Ray Data, with the same stage code as the local engine.

- `rows` stages: the alive rows are cut into blocks of `batch_rows` in their order, and the
  stage's own `run` is mapped over them (`Dataset.map_batches` over Arrow batches, one block per
  call) on the cluster's workers;
- `problems` stages: the same, but the blocks are a hash partition on `problem_id` (the shuffle
  of a groupby), so each problem's rows meet in one call and per-problem aggregates come out as
  over the whole table;
- `driver` stages are called here, in the driver process, on the gathered columns; their
  libraries run the heavy parts as Ray tasks of `batch_rows` rows each (`ray_parts`: MinHash
  signatures, LSH bands, Jaccard checks, hash partitions of exact_dedup's and the keep policy's
  groupbys, decontam's n-gram matching and boilerplate counts).

The gathered columns are put back in the order of the rows given and handed to the runner, which
sorts and writes them exactly as for the local engine: the run folder's bytes do not depend on
the engine, the number of workers or the batch size. A stage's per-batch `ctx.stats` are merged
(counts add up, equal labels stay); a stage whose stats are not additive (a mean, a quantile, a
warning about the whole table) defines `summarize(out, frame, merged)`, which the engine calls
once on the gathered columns, the rows given and the merged stats, and whose answer is the stats.

A stage error raised on a worker (`BadInput`: a missing column, a bad SQL predicate) comes back
as the same one line, not as a Ray traceback.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import replace

import polars as pl
import pyarrow as pa

from curate.errors import BadInput
from curate.stages import Stage, StageContext

BATCH_ROWS = 8192  # rows per block: what one worker holds at once, besides the stage's own needs
_ERROR = "__distillery_error"
_STATS = "__distillery_stats"


def _import_ray():
    try:
        import ray
        import ray.data  # noqa: F401 - the Data library is the part we need
    except ImportError:
        raise BadInput("--engine ray: Ray is not installed; install the extra: "
                       "pip install 'distillery[ray]'") from None
    return ray


class RayEngine:
    name = "ray"

    def __init__(self, ray, batch_rows: int, address: str | None):
        self._ray = ray
        self.batch_rows = batch_rows
        self.address = address

    @classmethod
    def connect(cls, address: str | None = None, batch_rows: int | None = None) -> RayEngine:
        """Join the Ray cluster at `address` (`auto`, `HOST:PORT`, `ray://HOST:PORT`), or the one
        this process already joined, or (no address) start a local one on this machine's cores."""
        ray = _import_ray()
        batch_rows = BATCH_ROWS if batch_rows is None else batch_rows
        if batch_rows < 1:
            raise BadInput(f"--batch-rows: must be at least 1, found {batch_rows}")
        _check_reachable(address)
        if not ray.is_initialized():
            kwargs = {"address": address, "logging_level": "ERROR", "log_to_driver": False}
            if address is None and not os.environ.get("RAY_ADDRESS"):
                # A local cluster: its workers import curate as this process does.
                path = os.pathsep.join(p for p in [os.environ.get("PYTHONPATH"), os.getcwd()] if p)
                kwargs["runtime_env"] = {"env_vars": {"PYTHONPATH": path}}
            try:
                ray.init(**kwargs)
            except Exception as exc:  # noqa: BLE001 - Ray raises many kinds for one cause
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise BadInput(f"--address {address or '(local)'}: cannot reach a Ray cluster ({first})") from None
        # Ray Data logs every dataset's plan at INFO; a run prints its own per-stage lines.
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.execution_options.preserve_order = True
        return cls(ray, batch_rows, address)

    def describe(self) -> dict:
        res = self._ray.cluster_resources()
        return {"name": "ray", "address": self.address, "batch_rows": self.batch_rows,
                "ray": self._ray.__version__, "cpus": int(res.get("CPU", 0)),
                "gpus": int(res.get("GPU", 0)), "nodes": len([n for n in self._ray.nodes() if n.get("Alive")])}

    # --------------------------------------------------------------------------------- stages

    def run_stage(self, stage: Stage, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        how = getattr(stage, "execution", "driver")
        if how == "driver" or frame.height == 0:
            from curate.engines import ray_parts

            # The stage's library cuts its heavy work into parts, run as Ray tasks (ray_parts).
            with ray_parts.spread(self._ray, self.batch_rows):
                return stage.run(frame, ctx)
        if how == "problems" and "problem_id" not in frame.columns:
            raise ctx.error("needs column(s) problem_id")
        blocks = self._blocks(frame, by_problem=(how == "problems"))
        ds = self._ray.data.from_arrow([b.to_arrow() for b in blocks])
        mapped = ds.map_batches(_StageBatch(one_cpu(stage), ctx), batch_format="pyarrow", batch_size=None,
                                zero_copy_batch=True)
        parts, stats, errors, notes = [], [], [], []
        for ref in mapped.to_arrow_refs():
            table = self._ray.get(ref)
            if table.num_rows == 0:
                continue
            if _ERROR in table.column_names:
                errors.extend(v for v in table.column(_ERROR).to_pylist() if v)
                continue
            for v in table.column(_STATS).to_pylist():
                if v is not None:
                    carried = json.loads(v)
                    stats.append(carried["stats"])
                    notes.extend(("warnings", w) for w in carried["warnings"])
                    notes.extend(("skipped", w) for w in carried["skipped"])
            parts.append(pl.from_arrow(table.drop_columns([_STATS])))
        if errors:
            raise BadInput(sorted(errors)[0])
        out = pl.concat(parts, how="vertical_relaxed", rechunk=True) if parts else stage.run(frame.head(0), ctx)
        # The rows' own order, as the local engine would have returned them.
        out = frame.select("trace_id").join(out, on="trace_id", how="inner", maintain_order="left").rechunk()
        # A block's no-op notes (no gold, nothing to cut…) reach the run once each: identical notes
        # of several blocks are one line; notes with per-block counts stay one line per block.
        for kind, note in dict.fromkeys(notes):
            if note not in getattr(ctx, kind):
                getattr(ctx, kind).append(note)
        merged = merge_stats(stats)
        summarize = getattr(stage, "summarize", None)
        ctx.stats.update(summarize(out, frame, merged) if summarize is not None else merged)
        return out

    def _map_chunks(self, fn, chunks: list) -> list:
        """[fn(chunk) for chunk in chunks], in order, one Ray task per chunk."""
        if len(chunks) <= 1:
            return [fn(c) for c in chunks]
        task = self._ray.remote(num_cpus=1)(_apply)
        return self._ray.get([task.remote(fn, c) for c in chunks])

    def _blocks(self, frame: pl.DataFrame, by_problem: bool) -> list[pl.DataFrame]:
        n = max(1, -(-frame.height // self.batch_rows))
        if not by_problem:
            return [frame.slice(i * self.batch_rows, self.batch_rows) for i in range(n)]
        # One pass over the rows (not one filter per block); rows keep their order inside a block.
        part = (pl.col("problem_id").hash(seed=0) % n).alias("__distillery_part")
        return frame.with_columns(part).partition_by("__distillery_part", maintain_order=True, include_key=False)


def _check_reachable(address: str | None, timeout: float = 5.0) -> None:
    """Ray retries an address that does not answer for minutes (forever, for a GCS address):
    one TCP connect first turns that into one line at once."""
    if not address or address == "auto":
        return  # a local start, or the cluster this machine runs (Ray says at once if there is none)
    import socket

    hostport = address.removeprefix("ray://")
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise BadInput(f"--address {address}: expected auto, HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise BadInput(f"--address {address}: no Ray cluster answers at {hostport} ({why})") from None


def _apply(fn, chunk):
    return fn(chunk)


def one_cpu(stage: Stage) -> Stage:
    """The stage with its own worker pool (verify's sympy processes) sized to the one CPU Ray gives
    each task, unless the recipe chose a size: by default a pool has one process per core of the
    node, and a node running one task per core would run cores² processes (and time out answers
    that a calm machine grades). The pool's size changes no result and is in no cache key here:
    the runner keyed the stage on the recipe's config before it reached the engine."""
    cfg = stage.config
    if "workers" in type(cfg).model_fields and cfg.workers is None:
        return type(stage)(cfg.model_copy(update={"workers": 1}))
    return stage


class _StageBatch:
    """The function mapped over blocks: the stage's own `run`, its stats and errors carried back
    in two extra columns (Ray Data batches are tables, with no side channel)."""

    def __init__(self, stage: Stage, ctx: StageContext):
        self.stage, self.ctx = stage, ctx

    def __call__(self, batch: pa.Table) -> pa.Table:
        ctx = replace(self.ctx, stats={}, warnings=[], skipped=[])
        try:
            out = self.stage.run(pl.from_arrow(batch), ctx)
        except BadInput as exc:
            return pa.table({_ERROR: pa.array([str(ctx.located(exc))], pa.string())})
        carried = {"stats": ctx.stats, "warnings": ctx.warnings, "skipped": ctx.skipped}
        stats = [json.dumps(carried, sort_keys=True)] + [None] * (out.height - 1)
        table = out.to_arrow()
        if out.height == 0:  # the stats still travel, on no row: a one-row marker is dropped later
            return table
        return table.append_column(_STATS, pa.array(stats, pa.string()))


def merge_stats(parts: list[dict]) -> dict:
    """Per-batch stats as one: numbers add up, dicts merge key by key, other values that agree stay
    (a value that differs between batches, such as a mean, is left to the stage's `summarize`)."""
    merged: dict = {}
    for part in parts:
        for key, value in part.items():
            if key not in merged:
                merged[key] = value
            else:
                merged[key] = _merge(merged[key], value)
    return merged


def _merge(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a if a == b else None
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a + b
    if isinstance(a, dict) and isinstance(b, dict):
        return merge_stats([a, b])
    return a if a == b else None
