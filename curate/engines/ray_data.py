"""The `ray` engine: a recipe's stages on a Ray cluster, with the same stage code as the local engine.

The run's rows live on the cluster (`curate.engines.ray_table`): input shards read by Ray tasks
into blocks of `batch_rows` rows, `rows` stages run as a Ray Data `map_batches` over the blocks,
`problems` stages as a Ray Data groupby on `problem_id` (a sort shuffle on the key, then a
`map_batches` per partition), and every file of the run written by the workers as shards of row
groups that the driver joins as bytes. `parts` stages (the dedup family) get the blocks' alive rows where they lie
(`curate.parallel.Parts`) and shuffle them in Ray tasks (`ray_parts`), the driver seeing only
small results (checked pairs, counts). `driver` stages run here, in the driver process
(`RayEngine.run_stage`), on the columns they read of the alive rows.

The run folder's bytes do not depend on the engine, the number of workers or the batch size. A
stage's per-batch `ctx.stats` and its library's additive `ctx.counts` are merged (counts add up,
equal labels stay); a stage whose stats or warnings are not additive (a mean, a quantile, a warning
about the whole table) defines `summarize(out, frame, merged)`, which the engine calls once with
the merged `Outcome` (and, where it asks for them, the stage's columns gathered here and the alive
rows' `summary_reads` columns); the `Outcome` it returns is the stage's stats and warnings
(`curate.stages.Stage` and `curate.engines.ray_table` say more).

A stage error raised on a worker (`BadInput`: a missing column, a bad SQL predicate) comes back
as the same one line, not as a Ray traceback.
"""

from __future__ import annotations

import os

import polars as pl

from curate.engines.ray_table import RayTable
from curate.errors import BadInput
from curate.stages import Stage, StageContext

INLINE_BYTES = 1024  # a local Ray's max_direct_call_object_size (Ray's default: 100 KiB)
BATCH_ROWS = 8192  # rows per block: what one worker holds at once, besides the stage's own needs
# Blocks' rows per shuffle partition (a problems stage's partition, a dedup shuffle's partition, an
# output range), of the columns the stage reads. A shuffle from B blocks makes B x partitions Ray
# objects; at one block's rows a partition, 1M traces made 123 x 123 objects per shuffle, whose
# overhead cost more than the work (exact_dedup: 75 s on Ray against 5 s in one process).
SHUFFLE_BLOCKS = 8


def _import_ray():
    try:
        import ray
    except ImportError:
        raise BadInput("--engine ray: Ray is not installed; install the extra: "
                       "pip install 'distillery[ray]'") from None
    return ray


class RayEngine:
    name = "ray"

    def __init__(self, ray, batch_rows: int, address: str | None, shuffle_rows: int | None = None):
        self._ray = ray
        self.batch_rows = batch_rows
        self.shuffle_rows = batch_rows * SHUFFLE_BLOCKS if shuffle_rows is None else shuffle_rows
        self.address = address
        self._held: dict[str, tuple[int, int]] = {}  # what the driver held, by kind (describe())

    @classmethod
    def connect(cls, address: str | None = None, batch_rows: int | None = None,
                shuffle_rows: int | None = None) -> RayEngine:
        """Join the Ray cluster at `address` (`auto`, `HOST:PORT`, `ray://HOST:PORT`), or the one
        this process already joined, or (no address) start a local one on this machine's cores."""
        ray = _import_ray()
        batch_rows = BATCH_ROWS if batch_rows is None else batch_rows
        if batch_rows < 1:
            raise BadInput(f"--batch-rows: must be at least 1, found {batch_rows}")
        if shuffle_rows is not None and shuffle_rows < 1:
            raise BadInput(f"--shuffle-rows: must be at least 1, found {shuffle_rows}")
        _check_reachable(address)
        if not ray.is_initialized():
            kwargs = {"address": address, "logging_level": "ERROR", "log_to_driver": False}
            if address is None and not os.environ.get("RAY_ADDRESS"):
                # A local cluster: its workers import curate as this process does.
                path = os.pathsep.join(p for p in [os.environ.get("PYTHONPATH"), os.getcwd()] if p)
                kwargs["runtime_env"] = {"env_vars": {"PYTHONPATH": path}}
                # A task's value under this size goes back to its owner's (the driver's) own memory,
                # not the object store: a shuffle's many small pieces would all gather there.
                kwargs["_system_config"] = {"max_direct_call_object_size": INLINE_BYTES}
            try:
                ray.init(**kwargs)
            except Exception as exc:  # noqa: BLE001 - Ray raises many kinds for one cause
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise BadInput(f"--address {address or '(local)'}: cannot reach a Ray cluster ({first})") from None
        _configure_data()
        return cls(ray, batch_rows, address, shuffle_rows)

    def describe(self) -> dict:
        res = self._ray.cluster_resources()
        largest = max(self._held.items(), key=lambda kv: kv[1][0] * kv[1][1], default=None)
        return {"name": "ray", "address": self.address, "batch_rows": self.batch_rows,
                "shuffle_rows": self.shuffle_rows,
                "ray": self._ray.__version__, "cpus": int(res.get("CPU", 0)),
                "gpus": int(res.get("GPU", 0)), "nodes": len([n for n in self._ray.nodes() if n.get("Alive")]),
                # What the driver held besides the spine (trace_id, dropped_by, drop_reason of every
                # row): the largest frame of each kind, rows x columns, and the largest of all.
                "driver": {"held": {k: list(v) for k, v in sorted(self._held.items())},
                           "largest": None if largest is None else
                           {"what": largest[0], "rows": largest[1][0], "columns": largest[1][1]}}}

    def load(self, inputs) -> RayTable:
        """The input shards read by Ray tasks into blocks on the cluster (curate.engines.ray_table)."""
        self._held = {}
        return RayTable.load(self, inputs)

    def driver_held(self, what: str, rows: int, columns: int) -> None:
        """Record a frame the driver held (rows x columns), the largest of each kind kept."""
        if rows * columns >= self._held.get(what, (0, 0))[0] * self._held.get(what, (0, 0))[1]:
            self._held[what] = (rows, columns)

    # --------------------------------------------------------------------------------- stages

    def run_stage(self, stage: Stage, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        """A stage run here, in the driver, on the columns it reads of the alive rows
        (`RayTable.run_stage` pulled them); its library cuts its heavy work into parts, run as Ray
        tasks (`ray_parts`)."""
        from curate.engines import ray_parts

        with ray_parts.spread(self._ray, self.batch_rows, self.driver_held):
            return stage.run(frame, ctx)


def _configure_data() -> None:
    """Ray Data as the engine needs it: outputs in input order (`preserve_order`: a map's output
    blocks are its input blocks' order, which carries the run's bytes), no output block split
    (a map's output block goes back to the block it came from; Ray Data splits blocks over
    128 MiB, which 8,192 long traces can be), and no progress bars or per-pipeline log lines in a
    command's output (the run prints its own funnel)."""
    import logging

    import ray.data

    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True
    ctx.target_max_block_size = None
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    # A groupby's shuffle in tasks (sample the keys, cut into ranges, merge): Ray 2.60's default
    # (hash shuffle in actors) costs 2-5 s a stage to start, which small runs feel in every stage.
    ctx.shuffle_strategy = ray.data.context.ShuffleStrategy.SORT_SHUFFLE_PULL_BASED
    logging.getLogger("ray.data").setLevel(logging.ERROR)


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
