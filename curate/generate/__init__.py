"""`distillery generate`: a teacher answers every problem n times, into trace shards, resumably.

    OUT/gen-<settings hash>-NNNNN.parquet   trace rows, written atomically as work completes
    OUT/gen-<settings hash>.json            the settings those shards were made with

The settings hash covers the model and every sampling setting (temperature, top-p, max tokens,
seed, system prompt, logprobs, budget forcing), not n, the back-end, the URL or concurrency: the
same command run again reads the shards of its hash and skips every (problem_id, sample_idx)
already written; raising n adds only the missing samples. A shard is renamed into place whole, so
a run killed at any moment (kill -9 included) loses at most the samples not yet flushed, and
never writes one twice.

Rows are in the trace schema (`curate/schema.py`), plus `prompt_tokens`, `completion_tokens`,
`thinking_tokens`, `truncated`, `temperature`, `top_p`, `max_tokens` columns; `finish_reason =
'length'` rows are kept and flagged (`truncated = true`), and counted apart in the summary.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import xxhash

from curate.errors import BadInput
from curate.generate.backend import BACKENDS, Completion, Forcing, Job, SamplingParams, delimiters, make

__all__ = ["generate", "load_problems", "Forcing", "SamplingParams", "Stats", "GenerateResult", "settings_hash",
           "delimiters"]

PREFIX = "gen"


# ------------------------------------------------------------------------------------- problems

def load_problems(spec: str | Path, problem_column: str = "problem", gold_column: str | None = None,
                  bench_dir: str | Path | None = None, limit: int | None = None) -> tuple[str, list[dict]]:
    """(name, [{problem_id, problem, gold}]) from any table file with a problem column (gold:
    `gold_column`, else a `gold` or `answer` column if there is one), or a benchmark name
    (math500, aime24, …, found in the benchmark folder). Repeated problems are asked once."""
    from curate import schema, store
    from curate.dedup import BENCHMARK_FILES, BENCHMARKS_ENV, benchmark_dir

    path = Path(spec)
    if not path.exists():
        where = benchmark_dir(bench_dir)
        named = [where / BENCHMARK_FILES.get(str(spec), f"{spec}.jsonl"), where / f"{spec}.parquet"]
        path = next((p for p in named if p.is_file()), None)
        if path is None:
            raise BadInput(f"PROBLEMS {spec}: not a file, and no {named[0].name} in {where} "
                           f"(benchmarks: {', '.join(BENCHMARK_FILES)}; set {BENCHMARKS_ENV})")
        name = str(spec)
    else:
        name = path.name.split(".")[0]
    table = store.read_table(path)
    if problem_column not in table.column_names:
        raise BadInput(f"{path}: no {problem_column!r} column (columns: {', '.join(table.column_names)}); "
                       "name it with --problem-column")
    if gold_column is None:
        gold_column = next((c for c in ("gold", "answer") if c in table.column_names), None)
    elif gold_column not in table.column_names:
        raise BadInput(f"{path}: no {gold_column!r} column (columns: {', '.join(table.column_names)})")
    problems = table.column(problem_column).to_pylist()
    golds = table.column(gold_column).to_pylist() if gold_column else [None] * len(problems)
    rows, seen = [], set()
    for i, (p, g) in enumerate(zip(problems, golds)):
        if not isinstance(p, str) or not p.strip():
            raise BadInput(f"{path}: row {i}: column {problem_column!r} is empty or not text")
        pid = schema.problem_id(p)
        if pid in seen:
            continue
        seen.add(pid)
        rows.append({"problem_id": pid, "problem": p, "gold": None if g is None else str(g)})
        if limit and len(rows) >= limit:
            break
    return name, rows


# ---------------------------------------------------------------------------------------- stats

@dataclass
class Stats:
    """What the progress line shows: samples done, tokens/s, ETA, errors and retries so far."""

    total: int = 0
    skipped: int = 0            # already in the shards when the run started
    done: int = 0               # finished in this run
    tokens: int = 0
    truncated: int = 0
    retries: int = 0
    errors: int = 0             # failed attempts (HTTP errors, timeouts, dropped connections, a crash)
    started: float = field(default_factory=time.monotonic)

    @property
    def elapsed(self) -> float:
        return max(1e-9, time.monotonic() - self.started)

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.elapsed

    @property
    def eta_s(self) -> float | None:
        left = self.total - self.skipped - self.done
        return left * self.elapsed / self.done if self.done else None

    def line(self) -> str:
        eta = "?" if self.eta_s is None else f"{self.eta_s:,.0f} s"
        return (f"{self.skipped + self.done:,}/{self.total:,} samples ({self.skipped:,} resumed), "
                f"{self.tokens_per_s:,.1f} tok/s, ETA {eta}, {self.truncated} truncated, "
                f"{self.errors} errors, {self.retries} retries")


@dataclass
class GenerateResult:
    out: Path
    prefix: str
    rows: int                  # rows of these settings in OUT now
    new: int                   # written by this run
    skipped: int
    truncated: int             # rows with finish_reason = length, in OUT now
    shards: list[Path]
    stats: Stats

    def summary(self) -> str:
        trunc = (f"; {self.truncated:,} truncated (finish_reason = length, kept, truncated = true)"
                 if self.truncated else "")
        return (f"{self.new:,} samples generated, {self.skipped:,} already there, {self.rows:,} rows in "
                f"{self.out}/{self.prefix}-*.parquet{trunc}; {self.stats.tokens_per_s:,.1f} tok/s, "
                f"{self.stats.retries} retries")


# -------------------------------------------------------------------------------------- shards

def settings_hash(model: str, params: SamplingParams) -> str:
    text = json.dumps({"model": model, **params.settings()}, sort_keys=True)
    return xxhash.xxh3_64_hexdigest(text.encode())[:12]


def sample_seed(seed: int, pid: str, idx: int) -> int:
    return xxhash.xxh3_64_intdigest(f"{seed}:{pid}:{idx}".encode()) % (2 ** 31)


def _shards(out: Path, prefix: str) -> list[Path]:
    return sorted(out.glob(f"{prefix}-[0-9][0-9][0-9][0-9][0-9].parquet"))


def _done(shards: list[Path]) -> tuple[set[tuple[str, int]], int]:
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


class _Writer:
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


def _rows(items: list[tuple[Job, Completion]], problems: dict[str, dict], source: str, model: str,
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


# ----------------------------------------------------------------------------------- the command

def generate(problems: str | Path, model: str, out: str | Path, backend: str = "hf", n: int = 4,
             params: SamplingParams | None = None, *, problem_column: str = "problem",
             gold_column: str | None = None, bench_dir: str | Path | None = None, limit: int | None = None,
             flush_every: int = 32, flush_seconds: float = 30.0, progress: Callable[[Stats], None] | None = None,
             backend_obj=None, **backend_options) -> GenerateResult:
    """Sample `n` completions of `model` for every problem into OUT's shards; resumable."""
    params = params or SamplingParams()
    params.check()
    if backend not in BACKENDS:
        raise BadInput(f"--backend {backend}: expected one of {', '.join(BACKENDS)}")
    if n < 1:
        raise BadInput("--n must be at least 1")
    if backend in ("hf", "vllm"):
        from curate.generate.hf import check_model_path

        check_model_path(model)
    name, rows = load_problems(problems, problem_column, gold_column, bench_dir, limit)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out {out}: exists and is not a folder")
    digest = settings_hash(model, params)
    prefix = f"{PREFIX}-{digest}"
    with _run_lock(out, prefix):   # first: a second run must not touch this run's files
        for stale in out.glob(f".{prefix}*.tmp"):
            with contextlib.suppress(OSError):
                stale.unlink()   # left by a killed write: never a shard, safe to remove
        shards = _shards(out, prefix)
        done, _ = _done(shards)
        by_id = {r["problem_id"]: r for r in rows}
        jobs = [Job(r["problem_id"], j, ({"role": "user", "content": r["problem"]},),
                    sample_seed(params.seed, r["problem_id"], j))
                for r in rows for j in range(n) if (r["problem_id"], j) not in done]
        stats = Stats(total=len(rows) * n, skipped=len(rows) * n - len(jobs))
        first = int(shards[-1].stem.rsplit("-", 1)[1]) + 1 if shards else 0
        source = f"generate:{name}"
        writer = _Writer(out, prefix, first, lambda items: _rows(items, by_id, source, model, params, backend, digest),
                         flush_every, flush_seconds, {"model": model, "problems": str(problems), **params.settings()})
        if jobs:
            engine = backend_obj or make(backend, model, stats=stats, **backend_options)
            _run(jobs, writer, stats, params, progress, engine, close=backend_obj is None)
    final = _shards(out, prefix) if out.is_dir() else []
    done_now, truncated = _done(final)
    return GenerateResult(out, prefix, len(done_now), stats.done, stats.skipped, truncated, writer.written, stats)


@contextlib.contextmanager
def _run_lock(out: Path, prefix: str):
    """One run per settings and folder: a second `distillery generate` of the same command into the
    same folder would write every sample twice. The lock dies with its process (kill -9 included).
    A run that wrote nothing leaves no folder behind."""
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    path = out / f".{prefix}.lock"
    handle = open(path, "a+")
    try:
        try:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:   # pragma: no cover - not POSIX: no lock
            pass
        except BlockingIOError:
            raise BadInput(f"{out}: another `distillery generate` with the same settings is writing here") from None
        yield
    finally:
        handle.close()
        if created and not any(p for p in out.iterdir() if p != path):
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                out.rmdir()


def _run(jobs, writer, stats, params, progress, engine, close: bool) -> None:
    stats.started = time.monotonic()     # tokens/s and ETA: generation, not model loading

    def on_done(job: Job, comp: Completion) -> None:
        stats.done += 1
        stats.tokens += comp.completion_tokens
        stats.truncated += comp.finish_reason == "length"
        writer.add((job, comp))
        if progress:
            progress(stats)

    if progress:
        progress(stats)
    try:
        engine.run(jobs, params, on_done)
    except BaseException:
        stats.errors += 1
        writer.flush()          # whatever finished is kept: the rerun resumes after it
        raise
    finally:
        if close:
            engine.close()
    writer.flush()
