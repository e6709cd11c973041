"""Writing a run's file on Ray: workers' shards joined as bytes, against one writer in the driver.

    python bench/ray_write.py RUN/traces.parquet [--rounds 2]

The file's rows go into a local Ray's object store as blocks of 8,192 rows (as the Ray engine holds
a run's table). The baseline is the engine's earlier writer: the driver fetches every block and
streams it through one Parquet writer. The engine's writer (`RayTable._write`): a task per row group
encodes it (`store.parquet_bytes`), the driver joins the shards' bytes (`store.write_parquet_shards`).
Both in the same run, alternating; prints seconds, the ratio, and whether the bytes agree.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from curate import store  # noqa: E402
from curate.engines import ray_table  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", type=Path, help="a Parquet file (a run's traces.parquet)")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    import ray

    ray.init(num_cpus=2, logging_level="ERROR", log_to_driver=False, include_dashboard=False,
             _system_config={"max_direct_call_object_size": 1024})
    f = pq.ParquetFile(args.file)
    blocks, counts = [], []
    for rb in f.iter_batches(batch_size=8192):
        table = pa.Table.from_batches([rb]).combine_chunks()
        blocks.append(ray.put(table))
        counts.append(table.num_rows)
    schema, size = f.schema_arrow, store.ROW_GROUP_SIZE

    def one_writer(path: Path) -> None:  # the baseline: every block through one writer in the driver
        with pq.ParquetWriter(path, schema, compression="zstd") as writer:
            buffer, held = [], 0
            for ref in blocks:
                part = ray.get(ref)
                buffer.append(part)
                held += part.num_rows
                while held >= size:
                    table = pa.concat_tables(buffer)
                    writer.write_table(table.slice(0, size).combine_chunks(), row_group_size=size)
                    rest = table.slice(size)
                    buffer, held = ([rest] if rest.num_rows else []), rest.num_rows
            if held:
                writer.write_table(pa.concat_tables(buffer).combine_chunks(), row_group_size=size)

    def shards(path: Path) -> None:  # the engine's: workers encode row groups, the driver joins bytes
        encode = ray.remote(num_cpus=1)(ray_table.encode_shard)
        refs = [encode.remote(schema, spans, *[blocks[i] for i, _, _ in spans])
                for spans in store.shard_spans(counts, size)]
        store.write_parquet_shards((ray.get(r)[0] for r in refs), path)

    with tempfile.TemporaryDirectory() as tmp:
        paths = {"one writer": Path(tmp) / "a.parquet", "shards": Path(tmp) / "b.parquet"}
        seconds: dict[str, list[float]] = {k: [] for k in paths}
        for _ in range(args.rounds):
            for name, fn in (("one writer", one_writer), ("shards", shards)):
                t0 = time.perf_counter()
                fn(paths[name])
                seconds[name].append(time.perf_counter() - t0)
        same = store.file_hash(paths["one writer"]) == store.file_hash(paths["shards"])
    print(f"{sum(counts):,} rows in {len(blocks)} blocks, 2 CPUs")
    for name, s in seconds.items():
        print(f"{name:<11} " + "  ".join(f"{x:6.1f} s" for x in s))
    print(f"shards / one writer (best of {args.rounds}): {min(seconds['shards']) / min(seconds['one writer']):.2f}x;"
          f" same bytes: {same}")


if __name__ == "__main__":
    main()
