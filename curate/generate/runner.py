"""`distillery generate`: the command's loop. Jobs not yet in OUT's shards go to a back-end; each
finished sample is buffered and flushed into a shard (`curate.generate.shards`); one writer per
folder holds its lock (`curate.locks`); a failure keeps whatever finished, so the rerun resumes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from curate import locks
from curate.errors import BadInput
from curate.generate.backend import BACKENDS, Completion, Job, SamplingParams, make
from curate.generate.problems import load_problems
from curate.generate.shards import (
    PREFIX,
    ShardWriter,
    done_samples,
    sample_seed,
    settings_hash,
    shard_paths,
    trace_table,
)

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
    # One writer per folder (curate.locks): a second `distillery generate` into it, whatever its
    # settings, fails at once naming the holder's pid and command; the lock dies with its process
    # (kill -9 included), and the `.tmp` files a killed write left are removed once it is ours.
    with locks.writer(out, clean=(".",)):
        shards = shard_paths(out, prefix)
        done, _ = done_samples(shards)
        by_id = {r["problem_id"]: r for r in rows}
        jobs = [Job(r["problem_id"], j, ({"role": "user", "content": r["problem"]},),
                    sample_seed(params.seed, r["problem_id"], j))
                for r in rows for j in range(n) if (r["problem_id"], j) not in done]
        stats = Stats(total=len(rows) * n, skipped=len(rows) * n - len(jobs))
        first = int(shards[-1].stem.rsplit("-", 1)[1]) + 1 if shards else 0
        source = f"generate:{name}"
        writer = ShardWriter(out, prefix, first, lambda items: trace_table(items, by_id, source, model, params, backend, digest),
                         flush_every, flush_seconds, {"model": model, "problems": str(problems), **params.settings()})
        if jobs:
            engine = backend_obj or make(backend, model, stats=stats, **backend_options)
            _run(jobs, writer, stats, params, progress, engine, close=backend_obj is None)
    final = shard_paths(out, prefix) if out.is_dir() else []
    done_now, truncated = done_samples(final)
    return GenerateResult(out, prefix, len(done_now), stats.done, stats.skipped, truncated, writer.written, stats)


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

