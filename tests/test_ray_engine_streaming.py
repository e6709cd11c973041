"""The Ray engine's file assembly (`store.write_parquet_stream`): pieces streamed through one writer
give the bytes `store.write_parquet` gives the whole table. Needs no Ray."""

from __future__ import annotations

import random

import polars as pl
import pyarrow as pa
import pytest

from curate import store


def _table(n: int) -> pa.Table:
    rng = random.Random(0)
    return pl.DataFrame({
        "trace_id": [f"{i:016x}" for i in range(n)],
        "thinking": ["Let me think. " * rng.randint(0, 200) + "сорок два" * (i % 3) for i in range(n)],
        "score": [rng.random() if i % 7 else None for i in range(n)],
        "messages": [[{"role": "user", "content": str(i)}] for i in range(n)],
    }).to_arrow()


def test_pieces_streamed_are_the_bytes_of_the_whole_table(tmp_path):
    table = _table(3 * store.ROW_GROUP_SIZE + 123)  # several row groups, pages split inside them
    meta = {"distillery.generation": "abc"}
    store.write_parquet(table, tmp_path / "whole.parquet", metadata=meta)
    rng, pieces, at = random.Random(1), [], 0
    while at < table.num_rows:  # ragged pieces, empty ones included, none aligned with a row group
        k = rng.choice([0, 1, 37, 5000, 20_000])
        pieces.append(table.slice(at, k))
        at += k
    path, rows = store.write_parquet_stream(iter(pieces), table.schema, tmp_path / "streamed.parquet", metadata=meta)
    assert rows == table.num_rows
    assert store.file_hash(path) == store.file_hash(tmp_path / "whole.parquet")


def test_an_empty_stream_is_the_bytes_of_an_empty_table(tmp_path):
    empty = _table(0)
    store.write_parquet(empty, tmp_path / "a.parquet")
    _, rows = store.write_parquet_stream([empty, empty], empty.schema, tmp_path / "b.parquet")
    assert rows == 0 and store.file_hash(tmp_path / "a.parquet") == store.file_hash(tmp_path / "b.parquet")


def test_a_failed_stream_leaves_no_file(tmp_path):
    def pieces():
        yield _table(10)
        raise RuntimeError("a worker died")

    with pytest.raises(RuntimeError, match="a worker died"):  # the error reaches the caller
        store.write_parquet_stream(pieces(), _table(0).schema, tmp_path / "out.parquet")
    assert list(tmp_path.iterdir()) == []
