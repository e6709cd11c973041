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
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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


def slices(items, size: int) -> list:
    """`items` (a list, array, Series or Arrow array) in consecutive slices of `size`."""
    return [items[lo:lo + size] for lo in range(0, len(items), size)]


# ----------------------------------------------------------------------- a table cut into parts
# A stage whose library shuffles the table itself (the dedup family: groups by normalised text, by
# LSH band key, by cluster) is handed the alive rows as `Parts`, not one frame: on the local engine
# one part, the frame itself; on an engine that spreads the work, references to blocks that stay
# on the workers, so the rows never meet in one process. The library then runs `tasks` over them
# (each task's values stay where they were made unless fetched) and fetches only small results.


@dataclass(frozen=True)
class Parts:
    """A table cut into parts, in input order: `handles` (the frames themselves here; object
    references where an engine spreads the work) and each part's row count (a library's output
    parts, whose rows carry `POS`, leave it empty)."""

    handles: list
    rows: list[int]

    @classmethod
    def of(cls, frame: pl.DataFrame) -> Parts:
        """A frame as parts: itself here; `part_size` rows a part where an engine spreads the work."""
        cut = slices(frame, part_size(max(frame.height, 1))) or [frame]
        return cls(cut, [p.height for p in cut])

    @property
    def offsets(self) -> list[int]:
        """The input position of each part's first row."""
        return [0, *itertools.accumulate(self.rows)][:len(self.rows)]

    def __len__(self) -> int:
        return sum(self.rows)


# The column a library's output parts carry: each row's position in the Parts it was given (the
# part's offset plus its row number), so an engine can put the rows back where they came from.
POS = "__distillery_pos"


def collect(out: list, given: pl.DataFrame | Parts) -> pl.DataFrame | Parts:
    """A library's output (handles of frames whose rows carry `POS`): given Parts, the output as
    Parts (an engine places each row by its POS); given a frame, one frame in its row order."""
    if isinstance(given, Parts):
        return Parts(list(out), [])
    return pl.concat(fetch(out), how="vertical_relaxed").sort(POS).drop(POS)


def tasks(fn: Callable, calls: list[list], shared: Any = _NOTHING, returns: int | None = None,
          fetch: bool = False) -> list:
    """`fn(*args)` (or `fn(*args, shared)`) for each `args` in `calls`, in order. An argument may
    be a handle an earlier `tasks` returned. Each call gives a handle to its value, or, given
    `returns` = k, a list of k handles (`fn` returns a sequence of k values); `fetch` gives the
    values themselves here. Here handles are the values; where an engine spreads the work, each
    call is a task (`shared` shipped once for all of them) and its values stay on the workers
    until fetched, so a library can shuffle a table that never meets in one process."""
    current = _MAP.get()
    if current is not None:
        return current[0].tasks(fn, calls, returns, fetch, *(() if shared is _NOTHING else (shared,)))
    out = [fn(*args) if shared is _NOTHING else fn(*args, shared) for args in calls]
    return out if returns is None else [list(v) for v in out]


def columns(parts: Parts) -> list[str]:
    """The column names of a table given as parts (its first part's)."""
    if not parts.handles:
        return []
    return tasks(_column_names, [[parts.handles[0]]], fetch=True)[0]


def _column_names(frame: pl.DataFrame) -> list[str]:
    return list(frame.columns)


def split(frame: pl.DataFrame, key: str | list[str], n: int) -> list[pl.DataFrame]:
    """`frame` cut into exactly `n` hash partitions on `key` (some may be empty), rows in order:
    one side of a shuffle, whose partition p meets every other part's partition p."""
    if n == 1:
        return [frame]
    keys = [key] if isinstance(key, str) else key
    return by_label(frame, frame.select(pl.struct(keys).hash(seed=0) % n).to_series(), n)


_LABEL = "__distillery_label"


def by_label(frame: pl.DataFrame, label, n: int) -> list[pl.DataFrame]:
    """`frame`'s rows cut by `label` (an integer per row, a Series or array; rows labelled outside
    0..n-1 are left out) into exactly `n` frames, rows in order: one pass, not a filter per piece."""
    groups = frame.with_columns(pl.Series(_LABEL, label)).partition_by(
        _LABEL, as_dict=True, include_key=False, maintain_order=True)
    empty = frame.clear()
    return [groups.get((p,), empty) for p in range(n)]


def fetch(handles: list) -> list:
    """The values behind `handles` (from `tasks`), here."""
    current = _MAP.get()
    return list(handles) if current is None else current[0].fetch(handles)

