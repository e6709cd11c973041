"""Teacher generation on Ray: N replicas of a back-end in Ray actors, fed by the driver.

`distillery generate … --engine ray --replicas N` runs the same back-end (`hf`, `vllm`, `openai`)
inside N actors, one model each (a vLLM replica asks Ray for `tensor_parallel` GPUs). The driver
keeps everything that makes generation resumable: it reads the shards already written, makes the
missing (problem, sample) jobs, hands them out in chunks, and writes every finished sample into the
same `gen-<hash>-NNNNN.parquet` shards as a one-machine run, through the same writer. Actors write
nothing, so a job killed anywhere (driver or actors, kill -9 included) loses only samples not yet
flushed and never writes one twice; the rerun generates exactly the missing ones.

Actors rather than `ray.data.llm`: budget forcing (s1) stops, edits and resumes a sample's text a
step at a time (`curate.generate.forcing`), which a map over prompts cannot express, and the same
actor path then serves every back-end and every setting.
"""

from __future__ import annotations

from curate.errors import BadInput
from curate.generate.backend import Backend, Job, OnDone, SamplingParams

CHUNK = 8  # jobs per call to a replica: small enough to spread, large enough for the hf batch


class _Replica:
    """One back-end in one actor."""

    def __init__(self, backend: str, model: str, options: dict):
        from curate.generate.backend import make

        self.engine = make(backend, model, **options)

    def run(self, jobs: list[Job], params: SamplingParams) -> list:
        done: list = []
        self.engine.run(jobs, params, lambda job, comp: done.append((job, comp)))
        return done

    def close(self) -> None:
        self.engine.close()


class RayReplicas(Backend):
    """A `Backend` whose work is done by `replicas` actors; the caller's `on_done` runs here."""

    name = "ray"

    def __init__(self, backend: str, model: str, replicas: int = 1, address: str | None = None,
                 chunk: int = CHUNK, **options):
        if replicas < 1:
            raise BadInput(f"--replicas: must be at least 1, found {replicas}")
        self.backend, self.model, self.replicas, self.chunk = backend, model, replicas, max(1, chunk)
        self.options = {k: v for k, v in options.items() if k != "stats"}  # progress stays on the driver
        from curate.engines.ray_data import RayEngine

        # Connects (or fails in one line) now, before anything is written; actors start on first use.
        self._ray = RayEngine.connect(address)._ray
        self._actors: list = []

    def _start(self) -> None:
        if self._actors:
            return
        ray = self._ray
        gpus = (self.options.get("tensor_parallel") or 1) if self.backend == "vllm" else 0
        cls = ray.remote(num_cpus=1, num_gpus=gpus)(_Replica)
        self._actors = [cls.remote(self.backend, self.model, self.options) for _ in range(self.replicas)]

    def run(self, jobs: list[Job], params: SamplingParams, on_done: OnDone) -> None:
        self._start()
        ray = self._ray
        chunks = [jobs[i:i + self.chunk] for i in range(0, len(jobs), self.chunk)]
        pending: dict = {}
        free = list(self._actors) * 2  # two chunks in flight per replica: no idle gap between calls
        # On an error the caller flushes what finished and closes us, which ends the work in flight.
        while chunks or pending:
            while chunks and free:
                actor = free.pop(0)
                pending[actor.run.remote(chunks.pop(0), params)] = actor
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                free.append(pending.pop(ref))
                for job, comp in _get(ray, ref):
                    on_done(job, comp)

    def close(self) -> None:
        for actor in self._actors:
            self._ray.kill(actor)
        self._actors = []


def _get(ray, ref) -> list:
    """A replica's results; its BadInput (a model folder that is not one) as the same one line."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, BadInput):
            raise BadInput(str(cause)) from None
        raise

