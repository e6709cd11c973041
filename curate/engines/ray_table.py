"""The Ray engine's table: the run's rows in the cluster's object store, the driver holding a spine.

The rows live as blocks of at most `batch_rows` rows, in input order (input files in name order,
rows in file order), each block an Arrow table of every column so far plus `dropped_by` and
`drop_reason`. The object store holds them (and spills them to disk when memory runs short); the
driver holds object references and the *spine*: trace_id, dropped_by and drop_reason of every row,
and the block each row lives in, which is all the funnel and the manifest count.

- **input**: one Ray task per input shard reads it `batch_rows` rows at a time (local path, or a
  URI's file system as `curate.remote` opened it) into blocks, each checked against the trace
  schema as the local engine checks the shard (on any problem the shard is read again whole, for
  the local engine's exact message); the driver reads only the files' footers (row counts) and
  the trace ids, and checks that no id repeats.
- **`rows` stages**: a Ray Data `map_batches` over the blocks (one batch a whole block, in order,
  never split) runs the stage's own `run` on each block's alive rows; a task per output cuts it
  into the stage's output ranges and returns its notes, and a task per block merges the stage's
  columns into it (`curate.engines.local.merge` is row-local).
- **`problems` stages**: a Ray Data groupby on `problem_id`: the blocks' alive rows, each tagged
  with its block and row, cut into partitions of about `shuffle_rows` rows and sorted on
  `problem_id` (Ray Data's sort shuffle: a problem's rows land in one partition), then a
  `map_batches` of the stage over each partition, a problem's rows together and in input order;
  a task per partition cuts its columns back into the blocks the rows came from and into the
  output ranges of the stage's file.
- **the input's rows of a partition's problems** (`Stage.input_reads()`: difficulty's samples,
  dropped rows too, as the input files hold them) are read once per stage, by one task per input
  shard, and `union`ed into the groupby's dataset, so each partition gets its problems' input rows
  (`ctx.input_rows`), instead of every partition reading the input.
- **a batch's notes** (its stats, warnings, counts, error) travel as one more row of its output
  (`_with_meta`): Ray Data's outputs are tables, and drops one of no row.
- **a batched stage's decision over the whole table** (`Stage.plan`: difficulty's attempt source)
  is made once here, before its parts run, on the alive rows' `plan_reads` columns; every part
  runs the stage it returns (a copy of the config with the decision fixed).
- **a batched stage's stats and warnings**: each part's (block's, partition's) stats and the
  library's additive counts (`Outcome.counts`) are added up (`ray_data.merge_stats`). The parts run
  with `on_missing: warn`, so a part only collects its notes; a stage with `summarize` (see
  `curate.stages.Stage`) then makes the whole table's stats and warnings once, from the merged
  counts (and input columns, `summary_reads`, where counts are not enough); a stage without one
  keeps the merged stats and each distinct note once. Either way the warnings go through
  `ctx.nothing_to_do` here, so `on_missing: error` fails the run on a whole-table warning as the
  local engine does, and never on one part's.
- **`parts` stages** (the dedup family): the library is handed the blocks' alive rows (the columns
  the stage reads) as `curate.parallel.Parts` of object references, runs its shuffles as Ray tasks
  (`ray_parts`) and returns its columns as parts whose rows carry their input position
  (`parallel.POS`); a task per part cuts them back into the blocks. The rows never come here.
- **`driver` stages**: the columns the stage reads (`Stage.reads()`, default all) of the alive rows
  are pulled here, the stage runs in this process (`RayEngine.run_stage`), and its columns go back
  to the blocks.
- **outputs**: a stage's columns are range-partitioned on trace_id (bounds from the spine's sorted
  ids) and each range sorted in a task. Workers write every file of the run as shards: a task per
  row group (16,384 rows) takes its rows from the sorted ranges (a stage's file) or the blocks
  (traces.parquet, selected.parquet) and encodes them with `store.write_parquet`'s settings
  (`store.parquet_bytes`); the driver assembles the file from the shards as bytes, one shard at a
  time (`store.write_parquet_shards`: the shards' row groups, their footer offsets shifted), so
  the file is the local engine's byte for byte and no value is encoded twice.

The driver records the largest frame it held (`RayEngine.describe()["driver"]`), so a test can
tell that it never gathered the table.
"""

from __future__ import annotations

import base64
import pickle
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from curate import messages, parallel, store
from curate import schema as trace_schema
from curate import stages as registry
from curate.engines import local
from curate.errors import BadInput
from curate.outcome import Outcome
from curate.stages import Stage, StageContext

DROPPED_BY, DROP = registry.DROPPED_BY, registry.DROP
# Stage label -> input shards read for its partitions (`Stage.input_reads()`) in this process: a test
# can tell that the input was read once per stage, not once per partition.
INPUT_READS: Counter = Counter()
BLOCK = "__distillery_block"  # the spine's column: which block a row lives in
ROW, SHARD = "__distillery_row", "__distillery_shard"  # a row's place in its block, an input row's shard
NOTE = "__distillery_note"  # a Ray Data batch's output: its stage notes, in one row (`_with_meta`)
# Stage label -> the Ray tasks its batches ran in (Ray's own task names, such as
# "MapBatches(_rows_batch)"), counted, in this process: a test can tell that a stage ran as a Ray
# Data operator.
RAN_IN: defaultdict[str, Counter] = defaultdict(Counter)
# How every stage runs over blocks as a Ray Data `map_batches`: one batch a whole block (a block
# holds `batch_rows` rows), Arrow in and out, one CPU a task.
MAP = {"batch_size": None, "batch_format": "pyarrow", "zero_copy_batch": True, "num_cpus": 1}


@dataclass
class StageOut:
    """A stage's columns as the Ray table holds them: `frame` on the driver (a driver stage), or
    per-block pieces on the cluster and `ranges`, the same rows sorted by trace_id in order."""

    schema: pl.Schema
    frame: pl.DataFrame | None = None
    pieces: list[list] | None = None  # per block: object refs of its rows' stage columns
    ranges: list | None = None  # object refs of sorted ranges (None: read from a cache file)


class RayTable:
    def __init__(self, engine, blocks: list, spine: pl.DataFrame, inputs=None):
        self.engine, self.ray = engine, engine._ray
        self.inputs = inputs  # the input shards (curate.engines.Inputs), for a stage's `input_reads()`
        self.blocks = blocks
        self._spine = spine
        self.rows = spine.height

    # ------------------------------------------------------------------------------- input

    @classmethod
    def load(cls, engine, inputs) -> RayTable:
        ray, batch = engine._ray, engine.batch_rows
        from curate import remote

        counts = []
        for f in inputs.files:  # footers only: how many blocks each shard makes
            try:
                if inputs.fs is None:
                    counts.append(store.read_parquet_footer(Path(f)).num_rows)
                else:
                    counts.append(remote.shard_rows(inputs.uri, inputs.fs, f))
            except BadInput:
                counts.append(0)  # its task says what is wrong, in file order with the others' errors
        read = ray.remote(num_cpus=1)(_read_shard)
        calls = []
        for f, n in zip(inputs.files, counts):
            k = -(-n // batch)
            refs = read.options(num_returns=k + 1).remote(inputs.uri, inputs.fs, str(f), batch, k)
            refs = [refs] if k == 0 else refs
            calls.append((refs[:-1], refs[-1]))
        metas = ray.get([meta for _, meta in calls])  # every shard's error, schema and ids
        for meta in metas:  # the first shard's error, as the local engine reads them in order
            if meta["error"]:
                raise BadInput(meta["error"])
        schemas = [m["schema"] for m in metas]
        unified = schemas[0] if all(s.equals(schemas[0]) for s in schemas) else \
            pa.unify_schemas(schemas, promote_options="permissive")
        prepare = ray.remote(num_cpus=1)(_prepare)
        blocks, block_of = [], []
        for refs, _ in calls:
            for ref in refs:
                block_of.append(len(blocks))
                blocks.append(prepare.remote(ref, unified))
        ids = pl.concat([pl.from_arrow(pa.table({"trace_id": m["ids"]})) for m in metas])
        sizes = pl.Series(list(_block_sizes(counts, batch)), dtype=pl.Int64)
        spine = ids.with_columns(pl.int_range(len(sizes), dtype=pl.Int32).repeat_by(sizes).explode().alias(BLOCK)
                                 if len(sizes) else pl.lit(None, pl.Int32).alias(BLOCK),
                                 pl.lit(None, pl.String).alias(DROPPED_BY), pl.lit(None, pl.String).alias(DROP))
        # Ids unique in each shard (its blocks were checked apart), then across shards: the first
        # row repeating an earlier one, as schema.check says it.
        for m in metas:
            _unique_ids(pl.from_arrow(pa.table({"trace_id": m["ids"]})), m["where"])
        if len(inputs.files) > 1:
            _unique_ids(spine, inputs.where)
        return cls(engine, blocks, spine, inputs)

    # ------------------------------------------------------------------------------ the spine

    @property
    def spine(self) -> pl.DataFrame:
        return self._spine

    def alive(self) -> int:
        return self._spine[DROPPED_BY].null_count()

    def _alive_per_block(self, alive: bool = True) -> list[int]:
        """Rows per block: those alive, or (`alive` False) every row."""
        rows = self._spine.filter(pl.col(DROPPED_BY).is_null()) if alive else self._spine
        counts = dict(rows.group_by(BLOCK).len().iter_rows())
        return [counts.get(b, 0) for b in range(len(self.blocks))]

    # ------------------------------------------------------------------------------ stages

    def run_stage(self, stage: Stage, ctx: StageContext) -> StageOut:
        how = getattr(stage, "execution", "driver")
        alive = self.alive()
        if how == "parts" and alive:
            return self._by_parts(stage, ctx, alive)
        if how in ("driver", "parts"):
            frame = self._pull(stage.reads(), ctx.label)
            out = stage(frame, ctx, self.engine)  # timed, checked, sorted by trace_id
            return StageOut(out.schema, frame=out)
        t0 = time.perf_counter()
        if how == "problems":
            columns = self._columns()
            if "problem_id" not in columns:
                raise ctx.error("needs column(s) problem_id")
        parts = self._plan(stage, ctx)
        if not alive:  # no row to run on: the stage's columns on no row, as the local engine gives
            pieces, ranges, metas = self._on_no_rows(parts, ctx)
        elif how == "problems":
            pieces, ranges, metas = self._by_problems(parts, ctx, alive, columns)
        else:
            pieces, ranges, metas = self._by_rows(parts, ctx)
        for m in metas:
            RAN_IN[ctx.label][m["task"]] += 1
        errors = [m["error"] for m in metas if m["error"]]
        if errors:
            raise BadInput(sorted(errors)[0])
        schema = pl.concat([pl.DataFrame(schema=m["schema"]) for m in metas], how="vertical_relaxed").schema
        from curate.engines.ray_data import merge_stats

        # The parts' notes (each distinct one once), stats and counts added up; a stage's summary
        # replaces them with what its library says of the whole table.
        merged = Outcome(stats=merge_stats([m["stats"] for m in metas]),
                         warnings=list(dict.fromkeys(n for m in metas for n in m["warnings"])),
                         counts=merge_stats([m["counts"] for m in metas]))
        out = StageOut(schema, pieces=pieces, ranges=self._sorted_ranges(ranges, schema))
        summarize = getattr(stage, "summarize", None)
        if summarize is not None:  # stats over every row at once (quantiles, means, a whole-table warning)
            frame = None if stage.summary_reads == () else self._pull(stage.summary_reads, ctx.label + " (summary)")
            try:
                merged = summarize(frame, merged)
            except BadInput as exc:
                raise ctx.located(exc) from None
        ctx.stats.update(merged.stats)
        for note in merged.warnings:  # on_missing decides, here, on what the whole table showed
            ctx.nothing_to_do(note)
        ctx.seconds = round(time.perf_counter() - t0, 3)
        return out

    def _plan(self, stage: Stage, ctx: StageContext) -> Stage:
        """The stage every part runs: what its `plan` decides once over the whole table (the alive
        rows' `plan_reads` columns pulled here), or the stage itself."""
        plan = getattr(stage, "plan", None)
        if plan is None:
            return stage
        frame = None if stage.plan_reads == () else self._pull(stage.plan_reads, ctx.label + " (plan)")
        try:
            return plan(frame, ctx)
        except BadInput as exc:
            raise ctx.located(exc) from None

    def _by_rows(self, stage: Stage, ctx: StageContext) -> tuple[list[list], list[list], list[dict]]:
        """A Ray Data `map_batches` of the stage over the blocks, one batch a block (the blocks whose
        rows all dropped earlier are not run on nothing): per block its piece of the stage's
        columns, per output range its pieces, the blocks' metas."""
        from curate.engines.ray_data import one_cpu

        given = [b for b, n in enumerate(self._alive_per_block()) if n]
        data = self._data([self.blocks[b] for b in given]).map_batches(
            _rows_batch, fn_kwargs={"stage": one_cpu(stage), "ctx": ctx}, **MAP)
        clean, ranges, metas = self._cut_ranges(self._materialized(data, len(given), ctx))
        pieces: list[list] = [[] for _ in self.blocks]
        for b, ref in zip(given, clean):
            pieces[b] = [ref]
        return pieces, ranges, metas

    def _by_problems(self, stage: Stage, ctx: StageContext, alive: int, columns: list[str]
                     ) -> tuple[list[list], list[list], list[dict]]:
        """A Ray Data groupby on problem_id: the blocks' alive rows (tagged with their block and
        row) and the input's rows of `Stage.input_reads()` in one dataset, cut into partitions of
        about `shuffle_rows` alive rows and sorted on problem_id (Ray Data's sort shuffle puts a
        key's rows in one partition), then a `map_batches` of the stage over each partition, its
        problems whole. Its columns (each row tagged with its block) are cut back into the blocks
        and the output ranges, a Ray task per partition. Per block its pieces, per output range
        its pieces, the partitions' metas. `columns`: the blocks' (a partition's rows get them back,
        in this order, whatever the union made of them)."""
        from curate.engines.ray_data import one_cpu

        per_block = self._alive_per_block()
        tag = self.ray.remote(num_cpus=1)(_tag_alive)
        data = self._data([tag.remote(self.blocks[b], b) for b, n in enumerate(per_block) if n])
        given = self._input_rows(stage, ctx)
        if given:
            data = data.union(self._data(given))
        parts = max(1, -(-alive // self.engine.shuffle_rows))
        data = data.repartition(parts).sort("problem_id").map_batches(
            _problems_batch, fn_kwargs={"stage": one_cpu(stage), "ctx": ctx, "columns": columns,
                                        "given": list(stage.input_reads()) if given else None}, **MAP)
        outs = self._materialized(data, None, ctx)
        nb, bounds = len(self.blocks), self._range_bounds()
        nr = bounds.len() + 1
        cut = self.ray.remote(num_cpus=1)(_cut_part).options(num_returns=nb + nr + 1)
        done = [cut.remote(o, nb, bounds) for o in outs]
        metas = [m for m in self.ray.get([d[-1] for d in done]) if m is not None]  # None: no alive row there
        pieces = [[d[b] for d in done] for b in range(nb)]
        ranges = [[d[nb + r] for d in done] for r in range(nr)]
        return pieces, ranges, metas

    def _data(self, refs: list):
        """A Ray Data dataset of the Arrow tables behind `refs`, in order."""
        import ray.data

        return ray.data.from_arrow_refs(refs)

    def _materialized(self, data, blocks: int | None, ctx: StageContext) -> list:
        """The refs of `data`'s output blocks, in order; `blocks` the count a map over blocks must
        give (one per input block: each output is cut back into the block it came from)."""
        refs = data.materialize().to_arrow_refs()
        if blocks is not None and len(refs) != blocks:
            raise RuntimeError(f"{ctx.label}: Ray Data returned {len(refs)} blocks for {blocks}")
        return refs

    def _by_parts(self, stage: Stage, ctx: StageContext, alive: int) -> StageOut:
        """A stage whose library shuffles the rows itself (`curate.parallel.Parts`): it is handed
        the blocks' alive rows (the columns it reads) where they are, runs here with its parts as
        Ray tasks, and returns its columns as parts, each cut back into the blocks its rows live in."""
        from curate.engines import ray_parts

        t0 = time.perf_counter()
        take = self.ray.remote(num_cpus=1)(_alive_frame)
        reads = stage.reads()
        cols = None if reads is None else list(dict.fromkeys(["trace_id", *reads]))
        per_block = self._alive_per_block()
        given = [b for b, n in enumerate(per_block) if n]  # part k is block given[k]
        parts = parallel.Parts([take.remote(self.blocks[b], cols) for b in given], [per_block[b] for b in given])
        with ray_parts.spread(self.ray, self.engine.shuffle_rows, self.engine.driver_held):
            try:
                out = stage.run(parts, ctx)
            except BadInput as exc:
                raise ctx.located(exc) from None
        nb, bounds = len(self.blocks), self._range_bounds()
        nr = bounds.len() + 1
        # Each output row carries its position in `parts` (parallel.POS): that says its block.
        split = self.ray.remote(num_cpus=1)(_parts_to_blocks).options(num_returns=nb + nr + 1)
        cut = [split.remote(h, parts.offsets, given, alive, nb, bounds) for h in out.handles]
        metas = self.ray.get([c[-1] for c in cut])
        stray, total = sum(m["stray"] for m in metas), sum(m["rows"] for m in metas)
        if stray or total != alive:
            raise ctx.error(f"returned {total} rows for {alive} alive rows ({stray} not among them)")
        schema = pl.concat([pl.DataFrame(schema=m["schema"]) for m in metas], how="vertical_relaxed").schema
        pieces = [[c[b] for c in cut] for b in range(nb)]
        ranges = [[c[nb + r] for c in cut] for r in range(nr)]
        out = StageOut(schema, pieces=pieces, ranges=self._sorted_ranges(ranges, schema))
        ctx.seconds = round(time.perf_counter() - t0, 3)
        return out

    def _on_no_rows(self, stage: Stage, ctx: StageContext) -> tuple[list[list], list[list], list[dict]]:
        """Every row dropped earlier: the stage run once on none of the rows (a block's columns), as
        the local engine runs it on an empty frame (its columns, on no row; its notes)."""
        run = self.ray.remote(num_cpus=1)(_rows_batch)
        _, ranges, metas = self._cut_ranges([run.remote(self.blocks[0], stage, ctx)])
        return [[] for _ in self.blocks], ranges, metas

    def _input_rows(self, stage: Stage, ctx: StageContext) -> list:
        """The refs of each input shard's `stage.input_reads()` columns of every row (dropped ones
        too), tagged with the shard and row: read once per stage, by one task per shard, for every
        partition (none when the stage reads none, the run has no local input path, or a shard does
        not read now: each partition's library then reads the input itself, and says what is wrong)."""
        columns = stage.input_reads()
        if not columns or ctx.input_path is None or self.inputs is None:
            return []
        columns = list(dict.fromkeys([*columns, "problem_id"]))  # the groupby's key, whatever the stage reads
        read = self.ray.remote(num_cpus=1)(_read_input).options(num_returns=2)
        refs = [read.remote(self.inputs.fs, str(f), columns, k) for k, f in enumerate(self.inputs.files)]
        INPUT_READS[ctx.label] += len(refs)
        return [t for t, _ in refs] if all(self.ray.get([ok for _, ok in refs])) else []

    def _range_bounds(self) -> pl.Series:
        """The first trace_id of each output range but the first: the alive ids, sorted, cut every
        `shuffle_rows` rows (a stage's columns are written in these ranges, each sorted in a task)."""
        ids = self._spine.filter(pl.col(DROPPED_BY).is_null())["trace_id"].sort()
        step = self.engine.shuffle_rows
        return ids.gather_every(step, offset=step)

    def _cut_ranges(self, outs: list) -> tuple[list, list[list], list[dict]]:
        """The outputs of a `rows` stage's map (`_with_meta`), a task each: the stage's columns,
        per output range the refs of its rows in each, and each output's meta."""
        bounds = self._range_bounds()
        n = bounds.len() + 1
        split = self.ray.remote(num_cpus=1)(_split_ranges).options(num_returns=n + 2)
        cut = [split.remote(o, bounds) for o in outs]
        return [c[0] for c in cut], [[c[1 + r] for c in cut] for r in range(n)], self.ray.get([c[-1] for c in cut])

    def _sorted_ranges(self, ranges: list[list], schema: pl.Schema) -> list:
        """Each range's pieces (from `_cut_ranges`, or cut by the task that made them) sorted in a
        task: read in order, the stage's output sorted by trace_id, as the local engine writes it.
        A range holds at most `shuffle_rows` rows; its pieces come from the tasks that made the
        stage's columns (blocks, partitions), so a stage makes (those tasks x ranges) pieces."""
        sort = self.ray.remote(num_cpus=1)(_sort_range)
        return [sort.remote(schema, *pieces) for pieces in ranges]

    def _columns(self) -> list[str]:
        return self.ray.get(self.ray.remote(num_cpus=0)(_column_names).remote(self.blocks[0]))

    def _pull(self, columns, label: str) -> pl.DataFrame:
        """The alive rows' `columns` (None: all, without the runner's two), in input order, here."""
        task = self.ray.remote(num_cpus=1)(_alive_columns)
        cols = None if columns is None else list(dict.fromkeys(["trace_id", *columns]))
        refs = [task.remote(b, cols) for b, n in zip(self.blocks, self._alive_per_block()) if n] or \
               [task.remote(self.blocks[0], cols)]  # no row alive: the columns, on no row
        frame = pl.concat([pl.from_arrow(t) for t in self.ray.get(refs)], how="vertical", rechunk=True)
        self.engine.driver_held(label, frame.height, frame.width)
        return frame

    # ------------------------------------------------------------------------------ the cache

    def cached(self, path: Path, key: str) -> StageOut | None:
        if local.cache_key(path) != key:
            return None
        blocks = self._spine.select("trace_id", BLOCK)
        pieces: list[list] = [[] for _ in self.blocks]
        try:
            f = pq.ParquetFile(path)
            schema = pl.from_arrow(f.schema_arrow.empty_table()).schema
            for g in range(f.num_row_groups):  # one row group here at a time
                part = pl.from_arrow(f.read_row_group(g)).join(blocks, on="trace_id", how="inner",
                                                               maintain_order="left")
                self.engine.driver_held("cache file (one row group)", part.height, part.width)
                for (b,), rows in part.partition_by(BLOCK, as_dict=True, include_key=False).items():
                    pieces[b].append(self.ray.put(rows.to_arrow()))
        except (pa.ArrowException, OSError):
            return None  # a damaged cache is recomputed, never trusted
        return StageOut(schema, pieces=pieces)

    def write_stage(self, out: StageOut, path: Path, meta: dict[str, str]) -> None:
        if out.frame is not None:
            store.write_parquet(out.frame.to_arrow(), path, metadata=meta)
            return
        schema = pl.DataFrame(schema=out.schema).to_arrow().schema
        rows = self.ray.remote(num_cpus=0)(_num_rows)
        self._write(out.ranges, self.ray.get([rows.remote(r) for r in out.ranges]), schema, path, meta)

    # ------------------------------------------------------------------------------ merging

    def merge(self, out: StageOut, label: str) -> None:
        pieces = out.pieces
        if pieces is None:  # a driver stage's columns go to the blocks their rows live in
            pieces = [[] for _ in self.blocks]
            part = out.frame.join(self._spine.select("trace_id", BLOCK), on="trace_id", how="inner",
                                  maintain_order="left")
            for (b,), rows in part.partition_by(BLOCK, as_dict=True, include_key=False).items():
                pieces[b].append(self.ray.put(rows.to_arrow()))
        task = self.ray.remote(num_cpus=1)(_merge_block).options(num_returns=2)
        done = [task.remote(block, label, out.schema, *p) for block, p in zip(self.blocks, pieces)]
        self.blocks = [b for b, _ in done]
        marks = pl.concat([pl.from_arrow(t) for t in self.ray.get([s for _, s in done])], how="vertical")
        self._spine = self._spine.with_columns(marks[DROPPED_BY], marks[DROP])

    # ------------------------------------------------------------------------------ outputs

    def write_outputs(self, export: messages.MessagesConfig, traces: Path, selected: Path,
                      meta: dict[str, str]) -> None:
        select = self.ray.remote(num_cpus=1)(_selected_block)
        chosen = [select.remote(b, export) for b in self.blocks]
        schema_of = self.ray.remote(num_cpus=0)(_schema_of)
        for refs, counts, path in ((self.blocks, self._alive_per_block(alive=False), traces),
                                   (chosen, self._alive_per_block(), selected)):
            self._write(refs, counts, self.ray.get(schema_of.remote(refs[0])), path, meta)

    def _write(self, refs: list, counts: list[int], schema: pa.Schema, path: Path, meta: dict[str, str]) -> None:
        """The tables behind `refs` (`counts` rows each), in order, as one Parquet file with the bytes
        `store.write_parquet` gives their concatenation: workers encode shards of one row group each
        (`store.parquet_bytes`), and the driver joins them as bytes (`store.write_parquet_shards`),
        one shard at a time, never decoding or compressing a value."""
        schema = store.with_metadata(schema, meta)
        encode = self.ray.remote(num_cpus=1)(encode_shard)
        shards = [encode.remote(schema, spans, *[refs[i] for i, _, _ in spans])
                  for spans in store.shard_spans(counts, store.ROW_GROUP_SIZE)] or [encode.remote(schema, [])]
        store.write_parquet_shards(self._fetched(shards, len(schema)), path)

    def _fetched(self, shards: list, columns: int):
        """The shards' bytes, fetched one at a time, in order."""
        for ref in shards:
            data, rows = self.ray.get(ref)
            self.engine.driver_held("writing (one shard)", rows, columns)
            yield data


def _unique_ids(frame: pl.DataFrame, where: str) -> None:
    if frame["trace_id"].n_unique() == frame.height:
        return
    rows = frame.select("trace_id").with_row_index("_i")
    i, t = rows.filter(~pl.col("trace_id").is_first_distinct()).row(0)
    j = rows.filter(pl.col("trace_id") == t)["_i"][0]
    raise BadInput(f"{where}: row {i}: trace_id {t} repeats row {j}; trace ids must be unique")


def _block_sizes(counts: list[int], batch: int):
    for n in counts:
        for i in range(-(-n // batch)):
            yield min(batch, n - i * batch)


def _returns(values: list):
    """A task's values as Ray expects them for its num_returns (one value is not a tuple)."""
    return values[0] if len(values) == 1 else tuple(values)


# ------------------------------------------------------------------- what runs in Ray tasks

def _read_shard(uri: str | None, fs, path: str, batch: int, k: int):
    """One input shard, read and checked as the local engine does, in `k` blocks of `batch` rows;
    the last value says what was found (an error, the schema, the trace ids, the shard's name).
    Read `batch` rows at a time (the worker holds a row group and a block, not the shard); on any
    problem the shard is read again whole, as the local engine reads it, for its exact one line."""
    from curate import remote

    where = path if fs is None else remote.shard_name(uri, path)
    try:
        blocks, found = _stream_shard(fs, path, where, batch)
        if len(blocks) != k:
            raise ValueError(f"{len(blocks)} blocks where the footer says {k}")
    except Exception:  # noqa: BLE001 - the whole read says what is wrong, in the local engine's words
        try:
            if fs is None:
                table = trace_schema.conform(store.read_parquet(Path(path)), path, check_ids=False)
            else:
                table = remote.read_shard(uri, fs, path, check_ids=False)
        except BadInput as exc:
            return _returns([None] * k + [{"error": str(exc)}])
        blocks, found = [table.slice(i * batch, batch) for i in range(k)], table.schema
    ids = pa.chunked_array([b.column("trace_id") for b in blocks], type=found.field("trace_id").type)
    return _returns([*blocks, {"error": None, "schema": found, "ids": ids, "where": where}])


def _stream_shard(fs, path: str, where: str, batch: int) -> tuple[list[pa.Table], pa.Schema]:
    """The shard in blocks of `batch` rows, each checked against the trace schema (a problem is an
    exception; ids repeated across blocks are found on the driver), and the checked schema."""
    blocks: list[pa.Table] = []

    def checked(table: pa.Table) -> pa.Table:
        store.check_utf8(table, where)
        table = trace_schema.conform(table, where, check_ids=False)
        if blocks and not table.schema.equals(blocks[0].schema):
            raise ValueError("blocks of one shard disagree on their types")
        return table

    with (open(path, "rb") if fs is None else fs.open_input_file(path)) as f:
        pf = pq.ParquetFile(f)
        pending: list[pa.RecordBatch] = []
        held = 0
        for rb in pf.iter_batches(batch_size=batch):
            pending.append(rb)
            held += rb.num_rows
            while held >= batch:
                table = pa.Table.from_batches(pending, schema=pf.schema_arrow)
                blocks.append(checked(table.slice(0, batch).combine_chunks()))
                rest = table.slice(batch)
                pending, held = rest.to_batches(), rest.num_rows
        if held:
            blocks.append(checked(pa.Table.from_batches(pending, schema=pf.schema_arrow).combine_chunks()))
        found = blocks[0].schema if blocks else checked(pf.schema_arrow.empty_table()).schema
    return blocks, found


def _prepare(block: pa.Table, schema: pa.Schema) -> pa.Table:
    """A block with every shard's columns (as `pa.concat_tables(promote_options="permissive")`
    unifies them), in Polars' types, none dropped yet."""
    if not block.schema.equals(schema):
        cols = [block.column(f.name).cast(f.type) if f.name in block.column_names else pa.nulls(block.num_rows, f.type)
                for f in schema]
        block = pa.Table.from_arrays(cols, schema=schema)
    return local.start(pl.from_arrow(block)).to_arrow()


def _meta(ctx: StageContext, out: pl.DataFrame | None, error: str | None = None) -> dict:
    return {"error": error, "schema": None if out is None else out.schema, "stats": ctx.stats,
            "warnings": ctx.warnings, "counts": ctx.counts}


def _run(stage: Stage, ctx: StageContext, frame: pl.DataFrame) -> tuple[pl.DataFrame | None, dict]:
    # A part only collects its notes: what on_missing makes of them is decided on the driver, over
    # the whole table (one block's "no row has a gold answer" is not the table's).
    ctx = replace(ctx, stats={}, warnings=[], skipped=[], counts={}, on_missing="warn")
    try:
        out = stage.check_output(stage.run(frame, ctx), frame, ctx)
    except BadInput as exc:
        return None, _meta(ctx, None, str(ctx.located(exc)))
    return out, _meta(ctx, out)


def _with_meta(out: pl.DataFrame | None, meta: dict) -> pa.Table:
    """A Ray Data batch's output: the stage's columns (none where the stage failed) and one more
    row, its meta (`_meta`, pickled, in column NOTE; null trace_id), so that every output has a row
    (Ray Data drops outputs of no row) and the notes travel with the columns. The driver never
    fetches the table: the task that cuts it (`_split_ranges`, `_cut_part`) returns the meta."""
    meta["task"] = _task_name()
    note = pl.DataFrame({NOTE: [base64.b64encode(pickle.dumps(meta)).decode()]})
    return (note if out is None else pl.concat([out, note], how="diagonal")).to_arrow()


def _notes_apart(table: pa.Table) -> tuple[pl.DataFrame, dict | None]:
    """A batch's output (`_with_meta`) as the stage's columns and its meta (None: no meta row)."""
    frame = pl.from_arrow(table)
    if NOTE not in frame.columns:
        return frame, None
    note = frame[NOTE]
    found = note.drop_nulls()
    meta = pickle.loads(base64.b64decode(found[0])) if found.len() else None
    return frame.filter(note.is_null()).drop(NOTE), meta


def _task_name() -> str | None:
    import ray

    return ray.get_runtime_context().get_task_name()


def _rows_batch(block: pa.Table, stage: Stage, ctx: StageContext) -> pa.Table:
    """A `rows` stage over one block (a Ray Data batch): its columns for the block's alive rows."""
    return _with_meta(*_run(stage, ctx, local.alive(pl.from_arrow(block))))


def _tag_alive(block: pa.Table, b: int) -> pa.Table:
    """A block's alive rows, each tagged with its block and its row there (its input position)."""
    frame = local.alive(pl.from_arrow(block))
    return frame.with_columns(pl.lit(b, pl.Int32).alias(BLOCK), pl.int_range(frame.height, dtype=pl.Int64)
                              .alias(ROW)).to_arrow()


def _read_input(fs, path: str, columns: list[str], k: int):
    """Input shard `k`'s `columns` of every row (in the trace schema's, then Polars', types), each
    row tagged with the shard and its row there; and whether it read (if not, the stage's library
    reads the input itself, and says what is wrong)."""
    try:
        with (open(path, "rb") if fs is None else fs.open_input_file(path)) as f:
            table = pq.read_table(f, columns=columns)
        types = pa.schema([(c, trace_schema.BY_NAME[c].type) for c in columns])
        frame = pl.from_arrow(table.select(columns).cast(types))
    except Exception:  # noqa: BLE001 - the library's own read says what is wrong, in its words
        return pa.table({}), False
    frame = frame.with_columns(pl.lit(k, pl.Int32).alias(SHARD), pl.int_range(frame.height, dtype=pl.Int64).alias(ROW))
    return frame.to_arrow(), True


def _problems_batch(batch: pa.Table, stage: Stage, ctx: StageContext, columns: list[str],
                    given: list[str] | None) -> pa.Table:
    """A `problems` stage over one partition of the groupby (a Ray Data batch): every alive row of
    its problems, put back in input order, and (`given`: the `Stage.input_reads()` columns) the
    input's rows of those problems as `ctx.input_rows`, in input order. Its columns, each row
    tagged with its block; no meta where the partition holds no alive row."""
    frame = pl.from_arrow(batch)
    if SHARD in frame.columns:  # the input's rows came along (`union`): apart again
        rows = frame.filter(pl.col(SHARD).is_not_null()).sort(SHARD, ROW).select(given)
        ctx = replace(ctx, input_rows=rows)
        frame = frame.filter(pl.col(SHARD).is_null())
    if not frame.height:
        return pa.table({})
    frame = frame.sort(BLOCK, ROW).select([*[c for c in columns if c in frame.columns], BLOCK])
    out, meta = _run(stage, ctx, frame.drop(BLOCK))
    if out is not None:
        out = out.join(frame.select("trace_id", BLOCK), on="trace_id", how="left", maintain_order="left")
    return _with_meta(out, meta)


def _cut_part(part: pa.Table, nb: int, bounds: pl.Series):
    """A partition's output (`_with_meta`) cut back into the `nb` blocks its rows came from, then
    into the output ranges that start at `bounds`; and its meta (None: the partition had no alive
    row)."""
    out, meta = _notes_apart(part)
    if meta is None or not out.height:
        return _returns([pa.table({})] * (nb + bounds.len() + 1) + [meta])
    back = [p.drop(BLOCK).to_arrow() for p in parallel.by_label(out, out[BLOCK], nb)]
    return _returns([*back, *_ranges(out.drop(BLOCK), bounds), meta])


def _frame(pieces, schema: pl.Schema) -> pl.DataFrame:
    frames = [pl.from_arrow(p).cast(dict(schema)) for p in pieces if p.num_rows]
    return pl.concat(frames, how="vertical") if frames else pl.DataFrame(schema=schema)


def _split_ranges(piece: pa.Table, bounds: pl.Series):
    """A block's piece of a `rows` stage's output (`_with_meta`): the stage's columns, the same cut
    into the output ranges, and the meta."""
    frame, meta = _notes_apart(piece)
    if "trace_id" not in frame.columns:  # the stage failed there: its meta says why
        return _returns([pa.table({})] * (bounds.len() + 2) + [meta])
    return _returns([frame.to_arrow(), *_ranges(frame, bounds), meta])


def _ranges(frame: pl.DataFrame, bounds: pl.Series) -> list[pa.Table]:
    """`frame`'s rows in the output ranges that start at `bounds` (by trace_id)."""
    r = bounds.search_sorted(frame["trace_id"], side="right")
    return [p.to_arrow() for p in parallel.by_label(frame, r, bounds.len() + 1)]


def _sort_range(schema: pl.Schema, *pieces: pa.Table) -> pa.Table:
    return _frame(pieces, schema).sort("trace_id").to_arrow()


def _merge_block(block: pa.Table, label: str, schema: pl.Schema, *pieces: pa.Table):
    """The block with the stage's columns joined on (as the local engine joins them onto the whole
    table), and the block's dropped_by / drop_reason for the driver's spine."""
    full = local.merge(pl.from_arrow(block), _frame(pieces, schema), label)
    return full.to_arrow(), full.select(DROPPED_BY, DROP).to_arrow()


def _alive_frame(block: pa.Table, columns: list[str] | None) -> pl.DataFrame:
    """A `parts` stage's part: the block's alive rows, the columns it reads (those there are)."""
    return pl.from_arrow(_alive_columns(block, columns))


def _parts_to_blocks(part: pl.DataFrame, starts: list[int], given: list[int], alive: int, nb: int,
                     bounds: pl.Series):
    """A `parts` stage's output part cut into the `nb` blocks its rows live in, by each row's
    input position (`curate.parallel.POS`; part k of the input, from `starts[k]`, was block
    `given[k]`), then into the output ranges that start at `bounds`; and how many rows it had and
    how many were at no input position."""
    pos = part[parallel.POS]
    inside = ((pos >= 0) & (pos < alive)).to_numpy()
    block = np.asarray(given)[np.searchsorted(np.asarray(starts), pos.to_numpy(), side="right") - 1]
    frame = part.filter(inside).drop(parallel.POS)
    block = block[inside]
    back = [p.to_arrow() for p in parallel.by_label(frame, block, nb)]
    meta = {"rows": part.height, "stray": int((~inside).sum()), "schema": frame.schema}
    return _returns([*back, *_ranges(frame, bounds), meta])


def _alive_columns(block: pa.Table, columns: list[str] | None) -> pa.Table:
    frame = local.alive(pl.from_arrow(block))
    if columns is not None:
        frame = frame.select([c for c in columns if c in frame.columns])
    return frame.to_arrow()


def encode_shard(schema: pa.Schema, spans: list[tuple[int, int, int]], *tables: pa.Table) -> tuple[bytes, int]:
    """One shard of a file: the `spans` of `tables` (one table per span) as Parquet bytes with
    `schema` (its metadata the file's), and its rows."""
    parts = [t.slice(at, n).replace_schema_metadata(schema.metadata) for t, (_, at, n) in zip(tables, spans)]
    table = pa.concat_tables(parts) if parts else schema.empty_table()
    if not table.schema.equals(schema, check_metadata=True):
        table = table.cast(schema)
    return store.parquet_bytes(table), table.num_rows


def _num_rows(table: pa.Table) -> int:
    return table.num_rows


def _schema_of(table: pa.Table) -> pa.Schema:
    return table.schema


def _selected_block(block: pa.Table, export: messages.MessagesConfig) -> pa.Table:
    return local.selected(pl.from_arrow(block), export).to_arrow()


def _column_names(block: pa.Table) -> list[str]:
    return [c for c in block.column_names if c not in (DROPPED_BY, DROP)]

