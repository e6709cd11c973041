"""A file assembled from shards (`store.write_parquet_shards`, `curate.parquet_concat`): the Ray
engine's workers encode runs of row groups and the driver joins their bytes; the file must be the
bytes `store.write_parquet` gives the whole table. Needs no Ray."""

from __future__ import annotations

import io
import random

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate import parquet_concat, store

G = store.ROW_GROUP_SIZE


def _table(n: int) -> pa.Table:
    rng = random.Random(0)
    return pl.DataFrame({
        "trace_id": [f"{i:016x}" for i in range(n)],
        "thinking": ["Let me think. " * rng.randint(0, 200) + "сорок два" * (i % 3) for i in range(n)],
        "score": [rng.random() if i % 7 else None for i in range(n)],
        "messages": [[{"role": "user", "content": str(i)}] for i in range(n)],
    }).to_arrow()


def _shards(table: pa.Table, meta: dict[str, str], groups: list[int]) -> list[bytes]:
    """`table` cut into runs of `groups[k]` row groups, each encoded (the runs must cover it)."""
    schema, out, at = store.with_metadata(table.schema, meta), [], 0
    for k in groups:
        out.append(store.parquet_bytes(table.slice(at, k * G).replace_schema_metadata(schema.metadata)))
        at += k * G
    return out


def test_shards_joined_are_the_bytes_of_the_whole_table(tmp_path):
    table = _table(3 * G + 123)  # four row groups, the last short
    meta = {"distillery.generation": "abc"}
    store.write_parquet(table, tmp_path / "whole.parquet", metadata=meta)
    for groups in ([1, 1, 1, 1], [2, 2], [4], [1, 3]):
        path, rows = store.write_parquet_shards(_shards(table, meta, groups), tmp_path / "joined.parquet")
        assert rows == table.num_rows
        assert store.file_hash(path) == store.file_hash(tmp_path / "whole.parquet"), groups
    assert pq.read_table(path).equals(pq.read_table(tmp_path / "whole.parquet"))


def test_a_footer_read_and_written_again_is_the_same_bytes(tmp_path):
    # More than 15 row groups and columns of every kind: the long forms of Thrift's list header.
    table = pa.table({"i": pa.array(range(40_000), pa.int64()), "f": [0.5] * 40_000, "b": [True, False] * 20_000,
                      "s": [["x", None]] * 40_000})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=2_000, compression="zstd")
    data = (tmp_path / "t.parquet").read_bytes()
    fields, end = parquet_concat.footer(data)
    out = bytearray()
    parquet_concat._write(out, fields)
    assert bytes(out) == data[end:-8]


def test_spans_cover_every_row_once_in_row_groups():
    rng = random.Random(1)
    for _ in range(200):
        counts = [rng.choice([0, 1, 37, 5000, 20_000, G]) for _ in range(rng.randint(0, 12))]
        shards = store.shard_spans(counts, G)
        rows = [(i, at + r) for shard in shards for i, at, n in shard for r in range(n)]
        assert rows == [(i, r) for i, n in enumerate(counts) for r in range(n)]
        assert all(sum(n for _, _, n in s) == G for s in shards[:-1]) and all(n for s in shards for _, _, n in s)


def test_an_empty_table_is_one_shard_of_one_empty_row_group(tmp_path):
    empty = _table(0)
    store.write_parquet(empty, tmp_path / "a.parquet")
    _, rows = store.write_parquet_shards([store.parquet_bytes(empty)], tmp_path / "b.parquet")
    assert rows == 0 and store.file_hash(tmp_path / "a.parquet") == store.file_hash(tmp_path / "b.parquet")


def test_shards_that_disagree_or_a_failed_join_leave_no_file(tmp_path):
    table = _table(2 * G)
    good = _shards(table, {}, [1, 1])
    other = store.parquet_bytes(table.slice(G).drop(["score"]))
    with pytest.raises(parquet_concat.BadParquet, match="differs from the first"):
        store.write_parquet_shards([good[0], other], tmp_path / "out.parquet")
    with pytest.raises(parquet_concat.BadParquet, match="not a Parquet file"):
        store.write_parquet_shards([good[0], b"PAR1 nonsense"], tmp_path / "out.parquet")

    def shards():
        yield good[0]
        raise RuntimeError("a worker died")

    with pytest.raises(RuntimeError, match="a worker died"):  # the error reaches the caller
        store.write_parquet_shards(shards(), tmp_path / "out.parquet")
    assert list(tmp_path.iterdir()) == []


def test_the_joined_file_reads_as_the_table_by_row_group():
    table = _table(2 * G + 5)
    out = io.BytesIO()
    joined = parquet_concat.Concat(out)
    for shard in _shards(table, {}, [1, 1, 1]):
        joined.add(shard)
    joined.close()
    f = pq.ParquetFile(io.BytesIO(out.getvalue()))
    assert f.num_row_groups == 3 and f.metadata.num_rows == table.num_rows
    assert f.read_row_group(2).equals(table.slice(2 * G))
