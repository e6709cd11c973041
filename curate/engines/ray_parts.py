"""A `driver` stage's parts of work as Ray tasks (`curate.parallel`).

The dedup family (exact_dedup, dedup, decontam) needs the whole table for a few small decisions
(the union-find on verified pairs, which n-grams are boilerplate), so the engine calls such a
stage once, in the driver process; inside it the libraries cut the heavy work into parts
(`curate.parallel.map_parts`): MinHash signatures, LSH bands, chunks of candidate pairs with
the shingles they need, hash partitions of a groupby (exact_dedup's normalised text, a cluster's
rows for the keep policy), blocks of rows against a benchmark's n-grams. `spread` runs each part
as one Ray task of one CPU, and puts a part list's `shared` value (a benchmark's n-gram table) in
the object store once for all of its tasks.

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

    def __init__(self, ray):
        self._ray = ray
        self._task = ray.remote(num_cpus=1)(_apply)

    def __call__(self, fn, parts: list, shared=_NOTHING) -> list:
        if len(parts) <= 1:  # one part: shipping it to a worker and back gains nothing
            return [fn(p) if shared is _NOTHING else fn(p, shared) for p in parts]
        TASKS[_name(fn)] += len(parts)
        ref = None if shared is _NOTHING else self._ray.put(shared)  # once, for every task
        return self._ray.get([self._task.remote(fn, p, ref, shared is not _NOTHING) for p in parts])


def _apply(fn, part, shared, has_shared: bool):
    return fn(part, shared) if has_shared else fn(part)


def _name(fn) -> str:
    while isinstance(fn, functools.partial):
        fn = fn.func
    return getattr(fn, "__qualname__", type(fn).__name__)


@contextlib.contextmanager
def spread(ray, batch_rows: int) -> Iterator[None]:
    """While in the block, libraries' parts run as Ray tasks, `batch_rows` rows (texts, pairs) a part."""
    with parallel.mapped(RayMapper(ray), batch_rows):
        yield
