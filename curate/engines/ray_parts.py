"""A library's parts of work as Ray tasks (`curate.parallel`).

The dedup family (exact_dedup, dedup, decontam) needs the whole table for a few small decisions
(the union-find on checked pairs, which n-grams are boilerplate). The engine hands such a stage
the blocks' rows where they lie (`curate.parallel.Parts`), and within `spread` its library's
`parallel.tasks` calls run as Ray tasks of one CPU whose values stay in the object store as
references (a shuffle: rows to the partition of their text, units into shards of MinHash's pair
search, rows to the partition of their cluster), fetched here only when the library asks (the
pairs that passed, counts). A library's parts are `--shuffle-rows` rows (the engine's
`shuffle_rows`): a shuffle makes (parts x partitions) objects, so fewer, larger ones cost less.
`parallel.map_parts` (chunks of pairs' Jaccard, a driver stage's parts) runs a part list as tasks
and brings the results back. A `shared` value (the
benchmarks' n-grams, the bands' followers) is put in the object store once for all of a call's
tasks.

`TASKS` counts the tasks started per library function, so a test can tell that a piece of work
ran on the cluster and not silently in the driver.
"""

from __future__ import annotations

import contextlib
import functools
from collections import Counter
from collections.abc import Iterator

from curate import parallel

TASKS: Counter = Counter()  # library function name -> Ray tasks started for it in this process
_NOTHING = object()


class RayMapper:
    """`mapper(fn, parts[, shared])` for `curate.parallel.mapped`: one Ray task per part."""

    def __init__(self, ray, held=None):
        self._ray = ray
        self._task = ray.remote(num_cpus=1)(_apply)
        self._call = ray.remote(num_cpus=1)(_call)
        self._held = held  # held(what, rows, columns): the engine's record of what the driver held

    def __call__(self, fn, parts: list, shared=_NOTHING) -> list:
        if len(parts) <= 1:  # one part: shipping it to a worker and back gains nothing
            return [fn(p) if shared is _NOTHING else fn(p, shared) for p in parts]
        TASKS[_name(fn)] += len(parts)
        ref = None if shared is _NOTHING else self._ray.put(shared)  # once, for every task
        return self._ray.get([self._task.remote(fn, p, ref, shared is not _NOTHING) for p in parts])

    def tasks(self, fn, calls: list[list], returns: int | None, fetch: bool, *shared) -> list:
        """`curate.parallel.tasks`: one task per call (`shared`, when given, put in the object
        store once); handles are object references, which Ray hands a task as their values."""
        TASKS[_name(fn)] += len(calls)
        ref = self._ray.put(shared[0]) if shared else None
        call = self._call.options(num_returns=returns or 1)
        out = [call.remote(fn, ref, bool(shared), returns == 1, *args) for args in calls]
        if returns == 1:
            out = [[r] for r in out]
        if not fetch:
            return out
        values = self.fetch([r for o in out for r in (o if returns else [o])])  # one round trip
        return values if not returns else [values[k * returns:(k + 1) * returns] for k in range(len(out))]

    def fetch(self, handles: list) -> list:
        values = self._ray.get(list(handles))
        if self._held is not None:
            for v in values:
                if hasattr(v, "height") and hasattr(v, "width"):  # a frame: the driver held it
                    self._held("library results (one part)", v.height, v.width)
        return values


def _call(fn, shared, has_shared: bool, one: bool, *args):
    value = fn(*args, shared) if has_shared else fn(*args)
    return value[0] if one else value  # returns=1: the sequence's one value is the task's value


def _apply(fn, part, shared, has_shared: bool):
    return fn(part, shared) if has_shared else fn(part)


def _name(fn) -> str:
    while isinstance(fn, functools.partial):
        fn = fn.func
    return getattr(fn, "__qualname__", type(fn).__name__)


@contextlib.contextmanager
def spread(ray, rows: int, held=None) -> Iterator[None]:
    """While in the block, libraries' parts run as Ray tasks, `rows` rows (texts, pairs, units) a
    part; `held(what, rows, columns)` records the frames the driver fetches."""
    with parallel.mapped(RayMapper(ray, held), rows):
        yield
