"""Worker processes that extract and judge answers under a hard time limit.

sympy can run for ever on a hostile answer, a regex on a hostile response, and signal-based time
limits only work in the main thread of the main process. Here the parent keeps the clock instead:
each worker (a plain `python -m curate.verify.worker` subprocess) runs one task at a time
(extracting an answer from a response, or judging a pair) and reports each result as it is
reached; a worker that has not reported within the limit is killed (SIGKILL) and replaced, its
task becomes a `timeout`, and the rest of its queue goes back to the others. This works from any
thread, needs no `if __name__ == "__main__"` guard in the caller's script, and no judged text ever
runs as code: workers only extract, parse and compare.

Workers start in parallel and take extraction tasks at once; they take judge tasks once they
report that sympy is imported. `cache` keeps every judged (gold, answer) pair for the pool's
life, so a run that grades the same answers again (the difficulty stage) judges each once.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import os
import selectors
import subprocess
import sys
import time
from pathlib import Path

from curate.verify.options import Options

MAX_START_FAILURES = 3
START_LIMIT_SECONDS = 120  # a worker imports sympy in about a second; far longer means it is stuck


class WorkerError(RuntimeError):
    """Workers die before they are ready (a broken environment, not a hostile answer)."""


class VerifyError(RuntimeError):
    """A bug in the verifier's own code, met on some task: it surfaces, never becomes a verdict."""


class _Worker:
    def __init__(self, options: Options):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "curate.verify.worker", json.dumps(dataclasses.asdict(options))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=_worker_env(),
        )
        self.fd = self.process.stdout.fileno()
        os.set_blocking(self.fd, False)
        self.buffer = b""
        self.ready = False
        self.judge_ready = False  # sympy imported
        self.queue: collections.deque[int] = collections.deque()
        self.since = 0.0  # when the pair at the head of the queue started

    def send(self, batch: list) -> None:
        self.process.stdin.write((json.dumps(batch) + "\n").encode())
        self.process.stdin.flush()

    def lines(self) -> list | None:
        """Messages that arrived; None when the worker's output ended (it died)."""
        try:
            data = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return []
        if not data:
            return None
        self.buffer += data
        *complete, self.buffer = self.buffer.split(b"\n")
        return [json.loads(line) for line in complete]

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        self._close_pipes()

    def stop(self) -> None:
        try:
            self.process.stdin.close()  # end of input: the worker's loop ends
        except OSError:
            pass
        try:
            self.process.wait(1)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._close_pipes()

    def _close_pipes(self) -> None:
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                pipe.close()
            except OSError:
                pass


def _worker_env() -> dict[str, str]:
    """The caller's environment, plus: this checkout of `curate` importable (it may not be
    installed), and a fixed hash seed so sympy's set orders, hence reasons, repeat run to run."""
    root = str(Path(__file__).resolve().parents[2])
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else ""), "PYTHONHASHSEED": "0"}


class JudgePool:
    """A fixed number of judge workers; `run` judges pairs, each within `timeout` seconds."""

    def __init__(self, workers: int | None = None, timeout: float = 5.0, options: Options = Options()):
        self.size = max(1, workers or os.cpu_count() or 1)
        self.timeout = timeout
        self.options = options
        self._failures = 0
        self._workers = [_Worker(options) for _ in range(self.size)]
        self.cache: dict[tuple[str, str], tuple[str, str]] = {}

    def pids(self) -> list[int]:
        return [w.process.pid for w in self._workers]

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Block until every worker has started and imported sympy; for benchmarks and tests."""
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            for w in self._workers:
                selector.register(w.fd, selectors.EVENT_READ, w)
            while not all(w.judge_ready for w in self._workers) and time.monotonic() < deadline:
                for key, _ in selector.select(timeout=max(0.0, deadline - time.monotonic())):
                    w = key.data
                    messages = w.lines()
                    if messages is None:
                        raise WorkerError("a verify worker exited while starting")
                    w.ready = w.ready or "ready" in messages
                    w.judge_ready = w.judge_ready or "sympy" in messages
                    if w.judge_ready:
                        selector.unregister(w.fd)

    def judge(self, pairs: list[tuple[str, str]], progress=None, limits: list[float] | None = None
              ) -> list[tuple[str, str]]:
        """(verdict, reason) for each (gold, pred) of normalised answers, in order; pairs judged
        before by this pool come from its cache. `limits[i]`: seconds for pair i (default: timeout)."""
        limit_of = dict(zip(pairs, limits)) if limits is not None else {}
        todo = list(dict.fromkeys(p for p in pairs if p not in self.cache))
        tasks = [("j", g, p) for g, p in todo]
        limits_todo = [limit_of.get(p, self.timeout) for p in todo]
        judged: dict[tuple[str, str], tuple[str, str]] = {}
        for pair, limit, result in zip(todo, limits_todo, self.run(tasks, progress=progress, limits=limits_todo)):
            judged[pair] = ("timeout", result[1]) if result[0] == "timeout" else (result[1], result[2])
            if result[0] != "timeout" or limit >= self.timeout:  # a shortened try may do better later
                self.cache[pair] = judged[pair]
        return [judged[p] if p in judged else self.cache[p] for p in pairs]

    def run(self, tasks: list[tuple], progress=None, limits: list[float] | None = None) -> list[list]:
        """The result of each task (`curate.verify.worker` lists the kinds), in order:
        ["ok", *result], or ["timeout", reason]; `self.elapsed[i]` is the seconds task i took.
        `limits[i]` is task i's time limit (default: the pool's timeout). Raises VerifyError when a
        task met a bug."""
        pairs = tasks
        limit = limits if limits is not None else [self.timeout] * len(tasks)
        self.elapsed = [0.0] * len(tasks)
        results: list[list | None] = [None] * len(pairs)
        pending = collections.deque(range(len(pairs)))
        chunk = max(1, min(16, len(pairs) // (self.size * 4)))
        done = 0
        idle_since = time.monotonic()
        with selectors.DefaultSelector() as selector:
            while done < len(pairs):
                now = time.monotonic()
                for w in self._workers:
                    able = w.judge_ready if pending and pairs[pending[0]][0] == "j" else w.ready
                    if able and not w.queue and pending:
                        take = [pending.popleft() for _ in range(min(chunk, len(pending)))]
                        w.queue.extend(take)
                        w.since = now
                        w.send([[i, *pairs[i]] for i in take])
                busy = [w for w in self._workers if w.queue]
                if busy or not pending:
                    idle_since = now
                elif now - idle_since > START_LIMIT_SECONDS:  # work waits, and no worker can take it
                    self.close()
                    raise WorkerError(f"verify workers not ready to judge after {START_LIMIT_SECONDS} s")
                deadline = min((w.since + limit[w.queue[0]] for w in busy), default=now + self.timeout)
                for w in self._workers:
                    selector.register(w.fd, selectors.EVENT_READ, w)
                events = selector.select(timeout=max(0.0, deadline - now))
                for w in self._workers:
                    selector.unregister(w.fd)
                for key, _ in events:
                    w = key.data
                    messages = w.lines()
                    if messages is None:
                        done += self._replace(w, results, pending, "worker process died")
                        continue
                    for message in messages:
                        if message == "ready":
                            w.ready = True
                            continue
                        if message == "sympy":
                            w.judge_ready = True
                            continue
                        index, status, *result = message
                        if status == "error":
                            task = pairs[index]
                            self.close()
                            raise VerifyError(f"verifier bug on task {task[0]!r} {str(task[1:])[:200]}: {result[0]}")
                        results[index] = [status, *result]
                        w.queue.popleft()
                        finished = time.monotonic()
                        self.elapsed[index] = finished - w.since
                        w.since = finished
                        done += 1
                now = time.monotonic()
                for w in list(self._workers):
                    if w.queue and now - w.since > limit[w.queue[0]]:
                        self.elapsed[w.queue[0]] = now - w.since
                        done += self._replace(w, results, pending, f"no result within {limit[w.queue[0]]:g} s")
                if progress is not None:
                    progress(done, len(pairs))
        return results  # type: ignore[return-value]

    def _replace(self, w: _Worker, results, pending, reason: str) -> int:
        """Kill `w`, mark its current pair `timeout`, requeue the rest; returns pairs finished."""
        was_ready = w.ready
        w.kill()
        finished = 0
        if w.queue:
            results[w.queue.popleft()] = ["timeout", reason]
            finished = 1
            pending.extendleft(reversed(w.queue))
        if not was_ready:
            self._failures += 1
            if self._failures >= MAX_START_FAILURES:
                self.close()
                raise WorkerError(f"verify workers exit before they start ({sys.executable} -m curate.verify.worker)")
        self._workers[self._workers.index(w)] = _Worker(self.options)
        return finished

    def close(self) -> None:
        for w in self._workers:
            w.stop()
        self._workers = []

    def __enter__(self) -> JudgePool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
