"""Shared fixtures: small trace tables built here, by hand, with known defects."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pytest

from curate import schema, store

# Tests never touch the network: hub lookups fail at once instead of retrying for minutes.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
BENCHMARKS = SHARED / "benchmarks"


def trace_rows() -> list[dict]:
    """Twelve rows over five problems with every defect the foundation stages look at."""
    def row(problem, thinking, response, gold="4", sample_idx=0, finish="stop", **meta):
        return {"source": "hand", "problem": problem, "gold": gold, "thinking": thinking,
                "response": response, "teacher": "hand-teacher", "sample_idx": sample_idx,
                "finish_reason": finish, "meta": json.dumps(meta, sort_keys=True)}

    p1 = "What is 2 + 2?"
    p2 = "Compute 3 * 5."
    p3 = "Solve x + 1 = 5 for x."
    long = "First, add the numbers carefully. " * 6
    return [
        row(p1, long + "2 + 2 = 4.", "The sum is \\boxed{4}."),
        row(p1, long + "Two plus two is 4. Wait, check: yes.", "\\boxed{4}", sample_idx=1),
        row(p1, long + "2 + 2 = 5?", "\\boxed{5}", sample_idx=2, wrong=True),
        row("what is 2 + 2", long + "It is 4.", "\\boxed{4}", dup=True),  # exact dup after normalising
        row(p2, long + "3 * 5 = 15.", "\\boxed{15}", gold="15"),
        row(p2, long + "3 * 5 = 15, so", "", gold="15", sample_idx=1, finish="length"),  # truncated
        row(p3, long + "x = 4.", "So x = 4.", sample_idx=0),  # no boxed
        row(p3, long + "x = 5 - 1 = 4.", "\\boxed{4}", sample_idx=1),
        row(p3, "x=4", "\\boxed{4}", sample_idx=2),  # thinking too short
        row("Find 10 / 2.", long + "10 / 2 = 5.", "\\boxed{5}", gold="5"),
        row("Find 10 / 2.", long + "Half of ten: 5.", "\\fbox{5}", gold="5", sample_idx=1),
        row("Evaluate 7 - 3.", long + "<think> 7 - 3 = 4.", "\\boxed{4}"),  # stray think tag
    ]


def trace_table(rows: list[dict] | None = None) -> pa.Table:
    return schema.conform(schema.with_ids(pa.Table.from_pylist(rows or trace_rows())), "fixture")


@pytest.fixture
def traces_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "traces"
    store.save_traces(trace_table(), folder, prefix="hand")
    return folder


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    from curate.cli import main

    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def run_file_hash(path: Path) -> str:
    """A run file's hash; a stage cache's over its rows and metadata less the seconds it took (a
    cache records its cost, which differs run to run; its rows and key must not)."""
    if path.parent.name != "stages":
        return store.file_hash(path)
    import pyarrow.parquet as pq
    import xxhash

    from curate import run

    table = pq.read_table(path)
    meta = {k: v for k, v in (table.schema.metadata or {}).items() if k != run.SECONDS_META.encode()}
    sink = pa.BufferOutputStream()
    pq.write_table(table.replace_schema_metadata(meta), sink)
    return xxhash.xxh3_64_hexdigest(sink.getvalue().to_pybytes())
