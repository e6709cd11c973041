"""Generation shards: the settings hash that names them, the (problem, sample) pairs already in
them, the writer that flushes finished samples atomically, and the trace rows a shard holds.

    OUT/gen-<settings hash>-NNNNN.parquet   trace rows, written atomically as work completes
    OUT/gen-<settings hash>.json            the settings those shards were made with
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import xxhash

from curate.errors import BadInput
from curate.generate.backend import Completion, Job, SamplingParams

PREFIX = "gen"


def settings_hash(model: str, params: SamplingParams) -> str:
    text = json.dumps({"model": model, **params.settings()}, sort_keys=True)
    return xxhash.xxh3_64_hexdigest(text.encode())[:12]


def sample_seed(seed: int, pid: str, idx: int) -> int:
    return xxhash.xxh3_64_intdigest(f"{seed}:{pid}:{idx}".encode()) % (2 ** 31)


def shard_paths(out: Path, prefix: str) -> list[Path]:
    return sorted(out.glob(f"{prefix}-[0-9][0-9][0-9][0-9][0-9].parquet"))


def done_samples(shards: list[Path]) -> tuple[set[tuple[str, int]], int]:
    import pyarrow.parquet as pq

    done: set[tuple[str, int]] = set()
    truncated = 0
    for path in shards:
        try:
            t = pq.read_table(path, columns=["problem_id", "sample_idx", "finish_reason"])
        except (pa.ArrowException, OSError) as exc:
            raise BadInput(f"{path}: unreadable shard ({str(exc).splitlines()[0]}); move it away to resume") from exc
        done.update(zip(t.column("problem_id").to_pylist(), t.column("sample_idx").to_pylist()))
        truncated += sum(1 for f in t.column("finish_reason").to_pylist() if f == "length")
    return done, truncated


class ShardWriter:
    """Buffer finished samples; write a shard every `every` samples or `seconds`, and at the end."""

    def __init__(self, out: Path, prefix: str, first: int, rows_of: Callable[[list], pa.Table],
                 every: int, seconds: float, settings: dict | None = None):
        self.out, self.prefix, self.index, self.settings = out, prefix, first, settings
        self.rows_of, self.every, self.seconds = rows_of, max(1, every), seconds
        self.buffer: list = []
        self.last = time.monotonic()
        self.written: list[Path] = []

    def add(self, item) -> None:
        self.buffer.append(item)
        if len(self.buffer) >= self.every or time.monotonic() - self.last >= self.seconds:
            self.flush()

    def flush(self) -> None:
        from curate import store

        if not self.buffer:
            return
        table = self.rows_of(self.buffer)
        if self.settings is not None:      # beside the first shard, never before it
            store.write_text(json.dumps(self.settings, indent=2, sort_keys=True) + "\n",
                             self.out / f"{self.prefix}.json")
            self.settings = None
        path = self.out / f"{self.prefix}-{self.index:05d}.parquet"
        store.write_parquet(table, path)
        self.written.append(path)
        self.index += 1
        self.buffer = []
        self.last = time.monotonic()


def trace_table(items: list[tuple[Job, Completion]], problems: dict[str, dict], source: str, model: str,
          params: SamplingParams, backend: str, digest: str) -> pa.Table:
    from curate import layouts, schema

    cols: dict[str, list] = {k: [] for k in (
        "source", "problem", "gold", "thinking", "response", "teacher", "sample_idx", "finish_reason", "meta",
        "prompt_tokens", "completion_tokens", "thinking_tokens", "truncated", "temperature", "top_p", "max_tokens")}
    ids, lps = [], []
    for job, c in items:
        p = problems[job.problem_id]
        if c.reasoning is not None and (c.reasoning.strip() or layouts.markers_of(c.text) is None):
            # the server returned the reasoning apart (an empty one with tags in the text is read inline)
            s = layouts.split(c.text.strip(), layouts.COLUMN, reasoning=c.reasoning.strip())
            thinking, response, closed, layout = s.thinking, s.response, s.closed, s.layout
        else:
            # by the layout markers the output carries, else the delimiters' layout: an output with
            # none that hit the length limit is thinking that never closed (the template opened it)
            s = layouts.split_generated(c.text, params.forcing.delims, c.finish_reason)
            thinking, response, closed, layout = s.thinking, s.response, s.closed, s.layout
        meta = {"backend": backend, "settings": digest, "seed": job.seed, "system": params.system,
                "waits": c.waits, "forced_close": c.forced_close, "closed": closed, "layout": layout,
                "reasoning_apart": c.reasoning is not None}
        if params.forcing.active:
            meta["forcing"] = {"max_thinking": params.forcing.max_thinking, "min_thinking": params.forcing.min_thinking,
                               "min_wait": params.forcing.min_wait}
        if params.logprobs:
            meta["topk"] = {"k": params.logprobs, "of": "generated tokens"}
        for k, v in (("source", source), ("problem", p["problem"]), ("gold", p["gold"]), ("thinking", thinking),
                     ("response", response), ("teacher", model), ("sample_idx", job.sample_idx),
                     ("finish_reason", c.finish_reason), ("meta", json.dumps(meta, sort_keys=True)),
                     ("prompt_tokens", c.prompt_tokens), ("completion_tokens", c.completion_tokens),
                     ("thinking_tokens", c.thinking_tokens), ("truncated", c.finish_reason == "length"),
                     ("temperature", params.temperature), ("top_p", params.top_p), ("max_tokens", params.max_tokens)):
            cols[k].append(v)
        ids.append(c.topk_ids)
        lps.append(c.topk_logprobs)
    table = pa.table({
        **{k: cols[k] for k in ("source", "problem", "gold", "thinking", "response", "teacher")},
        "sample_idx": pa.array(cols["sample_idx"], pa.int32()),
        "finish_reason": cols["finish_reason"], "meta": cols["meta"],
        "prompt_tokens": pa.array(cols["prompt_tokens"], pa.int32()),
        "completion_tokens": pa.array(cols["completion_tokens"], pa.int32()),
        "thinking_tokens": pa.array(cols["thinking_tokens"], pa.int32()),
        "truncated": pa.array(cols["truncated"], pa.bool_()),
        "temperature": pa.array(cols["temperature"], pa.float32()),
        "top_p": pa.array(cols["top_p"], pa.float32()),
        "max_tokens": pa.array(cols["max_tokens"], pa.int32()),
    })
    if params.logprobs:
        table = table.append_column("topk_ids", pa.array(ids, pa.list_(pa.list_(pa.int32()))))
        lp = pa.array(lps, pa.list_(pa.list_(pa.float32()))).cast(pa.list_(pa.list_(pa.float16())))
        table = table.append_column("topk_logprobs", lp)
    table = schema.with_ids(table)
    return schema.conform(table, f"{source} shard")

