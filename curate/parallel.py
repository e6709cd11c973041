"""Where a library's independent pieces of work run: here, one after the other, or (for the time
of a stage) on a cluster's workers, as an engine decides (`mapped`; curate.engines.ray_parts).

A library cuts its work into parts whose results do not depend on how the input was cut (a text's
MinHash signature, a chunk of candidate pairs' Jaccard, the rows of one hash partition of a
groupby) and calls `map_parts(fn, parts, shared)`: `[fn(part, shared) for part in parts]`, in
order. The local engine runs that loop here, on parts of the library's own default size (often one
part: the whole table); an engine that spreads it runs one task per part and ships `shared` (a
benchmark's n-gram table, the permutations) to the workers once. The same function runs in both
places, so the same input gives the same bits whatever the engine, the workers or the part size.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from typing import Any

import polars as pl

# (mapper, part size) while an engine spreads a stage's work; None: here, one part after another.
_MAP: contextvars.ContextVar = contextvars.ContextVar("distillery_map", default=None)
_NOTHING = object()


@contextlib.contextmanager
def mapped(mapper: Callable, batch: int) -> Iterator[None]:
    """Within the block, `map_parts` calls `mapper(fn, parts)` (or `mapper(fn, parts, shared)`),
    which returns `[fn(part) for part in parts]` (`fn(part, shared)`) in order, and libraries cut
    their work into parts of `batch` rows (`part_size`)."""
    token = _MAP.set((mapper, batch))
    try:
        yield
    finally:
        _MAP.reset(token)


def spread() -> bool:
    """Whether an engine spreads the work now (and parts are worth cutting at all)."""
    return _MAP.get() is not None


def part_size(default: int) -> int:
    """Rows per part: the engine's (its batch size) while one spreads the work, else `default`."""
    current = _MAP.get()
    return default if current is None else current[1]


def map_parts(fn: Callable, parts: list, shared: Any = _NOTHING) -> list:
    """`[fn(part) for part in parts]`, or `[fn(part, shared) ...]` when `shared` is given, in
    order: here, or one task per part on the engine that spreads the work."""
    current = _MAP.get()
    if current is None:
        return [fn(p) for p in parts] if shared is _NOTHING else [fn(p, shared) for p in parts]
    mapper = current[0]
    return mapper(fn, parts) if shared is _NOTHING else mapper(fn, parts, shared)


def n_parts(rows: int, default: int) -> int:
    """How many parts `rows` rows make at `part_size(default)` rows each (at least one)."""
    return max(1, -(-rows // part_size(default)))


def hash_parts(frame: pl.DataFrame, key: str | list[str], n: int) -> list[pl.DataFrame]:
    """`frame` cut into at most `n` hash partitions on `key` (the shuffle of a groupby): rows with
    equal keys meet in one part, and keep their order inside it. One part (the frame) when n == 1."""
    if n <= 1 or frame.height == 0:
        return [frame]
    keys = [key] if isinstance(key, str) else key
    part = (pl.struct(keys).hash(seed=0) % n).alias("__distillery_part")
    return frame.with_columns(part).partition_by("__distillery_part", maintain_order=True, include_key=False)


def slices(items, size: int) -> list:
    """`items` (a list, array, Series or Arrow array) in consecutive slices of `size`."""
    return [items[lo:lo + size] for lo in range(0, len(items), size)]
