"""The dedup family (exact_dedup, MinHash dedup, decontam) on the ray engine: its heavy parts run
as Ray tasks (curate.engines.ray_parts), and the run folder is byte for byte the local engine's,
duplicates across blocks included.

One local Ray (2 CPUs) serves the whole module.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from conftest import run_cli, run_file_hash
from curate import minhash

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'distillery[ray]')")
pytestmark = pytest.mark.slow  # every test here starts or uses the module's Ray


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, logging_level="ERROR", log_to_driver=False, include_dashboard=False)
    yield ray
    ray.shutdown()


@pytest.fixture
def tasks():
    """tasks(): the Ray tasks started per library function since the test began."""
    from curate.engines import ray_parts

    before = dict(ray_parts.TASKS)
    return lambda: {k: v - before.get(k, 0) for k, v in ray_parts.TASKS.items() if v > before.get(k, 0)}


def _spread(batch: int):
    from curate.engines import ray_parts

    return ray_parts.spread(ray, batch)


# Problem texts where copies sit far apart: with 5 rows a block, rows 0, 12 and 23 are in three blocks.
BASE = [f"Tom has {i} apples and buys {i + 3} more apples at the market near the old bridge today. "
        f"How many apples does Tom have now?" for i in range(25)]


def _table() -> pl.DataFrame:
    problems = list(BASE)
    problems[12] = problems[0].upper()  # the same problem after normalising, another problem_id
    problems[23] = problems[0] + " "
    problems[17] = problems[3].replace("old bridge", "old stone bridge")  # a near duplicate
    problems[21] = problems[3].replace("today", "this morning")
    problems[9] = problems[5]  # a second sample of problem 5, seven rows on
    return pl.DataFrame({
        "trace_id": [f"t{k:02d}" for k in range(len(problems))],
        "problem_id": [f"p{k:02d}" if k != 9 else "p05" for k in range(len(problems))],
        "problem": problems,
        "thinking": ["x" * ((k * 7) % 11 + 1) for k in range(len(problems))],
        "gold": [None if k == 0 else str(k) for k in range(len(problems))],
    })


def test_exact_dedup_groups_meet_across_blocks(local_ray, tasks):
    from curate.dedup import exact_problems

    frame = _table()
    for keep in ("first", "longest"):
        here = exact_problems(frame, keep=keep, max_per_problem=1)
        with _spread(5):
            there = exact_problems(frame, keep=keep, max_per_problem=1)
        assert there.columns.equals(here.columns) and there.stats == here.stats
        assert there.warnings == here.warnings
    dropped = dict(zip(here.columns["trace_id"], here.columns["drop_reason"]))
    # row 0 has no gold: the group of rows 0, 12 and 23 keeps 12's problem, found in another block
    assert dropped["t12"] is None and dropped["t00"] == dropped["t23"] == "exact duplicate of another problem"
    assert [dropped["t05"], dropped["t09"]] == ["more than 1 sample(s) of the problem", None]  # t09 thinks longer
    ran = tasks()  # 25 rows, 5 a part: 5 slices, 5 partitions of the key, 5 of problem_id
    assert ran["_exact_keys"] == ran["_exact_groups"] == ran["_sample_ranks"] == ran["_exact_columns"] == 2 * 5


def test_minhash_dedup_checks_and_keeps_in_tasks(local_ray, tasks):
    from curate.dedup import dedup_table

    frame = _table()
    for keep in ("first", "longest"):
        here = dedup_table(frame, ngram=3, threshold=0.5, keep=keep)
        with _spread(5):
            there = dedup_table(frame, ngram=3, threshold=0.5, keep=keep)
        assert there.columns.equals(here.columns) and there.stats == here.stats
    near = here.columns.with_columns(pl.Series("trace_id", frame["trace_id"])).filter(
        pl.col("drop_reason").str.starts_with("near duplicate"))
    assert {"t17", "t21"} & set(near["trace_id"]) and here.stats["pairs"] >= 2
    ran = tasks()  # 25 rows, 5 a part: 5 slices, 5 unit partitions, 5 cluster partitions (each run twice)
    assert ran["_rows_by_text"] == ran["_unit_part"] == ran["_rows_by_cluster"] == ran["_resolve_cluster_part"] == 10
    # the units' band keys and shingles gathered into shards of about 5 units, one task per LSH band
    # finds its followers, one task per (pair of shards, band) makes its pairs (each run twice)
    shards, bands = ran["_band_search"] // 2, here.stats["bands"]
    assert shards >= 2 and ran["band_followers"] == 2 * bands and ran["shard_followers"] == 2 * shards
    assert ran["band_pairs"] == 2 * bands * shards * (shards + 1) // 2


def test_dedup_variants_in_tasks_equal_local(local_ray, tmp_path):
    """A saved index (matched per unit partition, survivors' signatures from the cluster
    partitions), the signature check, the exact method, empty texts and rows without a
    problem_id give the local engine's columns, stats and index bytes."""
    from curate.dedup import dedup_table

    frame = _table().with_columns(
        pl.when(pl.int_range(pl.len()).is_in([4, 19])).then(pl.lit("  ")).otherwise(pl.col("problem")).alias("problem"))
    seen = frame.head(10)
    for kwargs in ({"check": "signature"}, {"method": "exact"}, {"same_math": False, "keep": "verified"}):
        args = {"ngram": 3, "threshold": 0.5, **kwargs}
        here = dedup_table(frame.with_columns(pl.lit("correct").alias("verdict")), **args)
        with _spread(5):
            there = dedup_table(frame.with_columns(pl.lit("correct").alias("verdict")), **args)
        assert there.columns.equals(here.columns) and there.stats == here.stats, kwargs
    here = dedup_table(seen, ngram=3, threshold=0.5, save_index=tmp_path / "a.parquet")
    with _spread(5):
        there = dedup_table(seen, ngram=3, threshold=0.5, save_index=tmp_path / "b.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    rest = frame.tail(15).drop("problem_id")
    here = dedup_table(rest, ngram=3, threshold=0.5, index=tmp_path / "a.parquet", save_index=tmp_path / "c.parquet")
    with _spread(5):
        there = dedup_table(rest, ngram=3, threshold=0.5, index=tmp_path / "a.parquet",
                            save_index=tmp_path / "d.parquet")
    assert there.columns.equals(here.columns) and there.stats == here.stats
    assert here.stats["index_matches"] > 0 and here.columns["drop_reason"].null_count() < 15
    assert (tmp_path / "c.parquet").read_bytes() == (tmp_path / "d.parquet").read_bytes()


def test_semantic_dedup_embeds_in_the_driver_and_keeps_in_tasks(local_ray, tasks):
    pytest.importorskip("sentence_transformers")
    from curate.dedup import dedup_table

    frame = pl.DataFrame({"problem": ["How many positive divisors does the number 36 have?", "",
                                      "What is the number of positive divisors of 36?", " ",
                                      "Name the capital city of France.", "How many positive divisors does 36 have?"]})
    here = dedup_table(frame, method="semantic", threshold=0.8)
    with _spread(2):
        there = dedup_table(frame, method="semantic", threshold=0.8)
    assert there.columns.equals(here.columns) and there.stats == here.stats
    assert here.columns["dup_of"].to_list() == ["0", None, "0", None, None, "0"]
    assert tasks()["_resolve_cluster_part"] == 3


def test_jaccard_in_parts_is_the_same_bits(local_ray, tasks):
    sk = minhash.sketch(BASE + ["", "x"], ngram=3)
    i, j = np.triu_indices(len(BASE) + 2, 1)
    want = minhash.jaccard(sk, i, j)
    with _spread(40):
        got = minhash.jaccard(sk, i, j)
    assert got.dtype == want.dtype and np.array_equal(got, want) and (want > 0).sum() > 20
    assert tasks() == {"_jaccard_part": -(-len(i) // 40)}


def test_decontam_blocks_count_boilerplate_once_per_problem(local_ray, tasks, tmp_path):
    from curate.decontam import decontaminate

    # "at the market near the old bridge today." is in the benchmark's second problem and in 20 distinct
    # input problems (of 25 rows: 12 is the benchmark's first problem pasted, 17 and 21 reword the
    # phrase, 23 and 9 repeat rows 0 and 5, 23 in another block): 21 problems, so boilerplate at 21,
    # not at 22 (where counting row 23 again, in its own block, would make it boilerplate).
    bench = tmp_path / "bench.jsonl"
    rows = [{"id": "a", "problem": "Sara sells 7 red kites and 9 blue kites at the fair on Sunday. How many kites?"},
            {"id": "b", "problem": "Ann sells pies at the market near the old bridge today. How many pies?"}]
    bench.write_text("".join(json.dumps(r) + "\n" for r in rows))
    frame = _table().with_columns(
        pl.when(pl.int_range(pl.len()) == 12).then(pl.lit(rows[0]["problem"])).otherwise(pl.col("problem"))
        .alias("problem"))
    for boilerplate in (3, 21, 22, None):
        for fuzzy in (None, 0.7):
            here = decontaminate(frame, bench=[str(bench)], boilerplate=boilerplate, fuzzy=fuzzy)
            with _spread(5):
                there = decontaminate(frame, bench=[str(bench)], boilerplate=boilerplate, fuzzy=fuzzy)
            assert there.columns.equals(here.columns) and there.stats == here.stats
            hit = here.columns["contaminated_with"].to_list()
            assert hit[12] == ["bench:a"]
            assert hit[1] == (None if boilerplate in (3, 21) else ["bench:b"]), (boilerplate, fuzzy)
            assert here.columns["contaminated_ngram"][12] == "sara sells 7 red kites and 9 blue"
    ran = tasks()  # 5 parts of 5 rows; where input problems count, a shuffle of them into 5 partitions
    assert ran["_match_block"] == 8 * 5
    assert ran["_problem_pieces"] == ran["_problem_counts"] == ran["_boilerplate_keys"] == 6 * 5


RECIPE = """\
name: dedup-family
stages:
  - format: {}
  - exact_dedup: {on: problem, keep: longest, max_per_problem: 3}
  - dedup: {method: minhash, on: problem, ngram: 3, threshold: 0.5, keep: shortest}
  - decontam: {bench: [heldout], fuzzy: 0.6}
"""


def _hashes(run: Path) -> dict[str, str]:
    files = ["traces.parquet", "selected.parquet", *sorted(f"stages/{p.name}" for p in (run / "stages").glob("*.parquet"))]
    return {f: run_file_hash(run / f) for f in files}


def _stats(run: Path) -> list:
    m = json.loads((run / "manifest.json").read_text())
    return [(s["stage"], s["rows_in"], s["rows_out"], s["drops_by_reason"], s["stats"], s["warnings"])
            for s in m["stages"]]


def test_dedup_family_recipe_on_ray_is_byte_identical(local_ray, tmp_path, capsys, tasks):
    from curate.cli import main

    assert main(["synth", "--n", "300", "--seed", "1", "--heldout", "30", "--out", str(tmp_path / "traces")]) == 0
    (tmp_path / "family.yaml").write_text(RECIPE)
    code, _, err = run_cli(["curate", tmp_path / "family.yaml", "--input", tmp_path / "traces",
                            "--out", tmp_path / "local"], capsys)
    assert code == 0, err
    code, _, err = run_cli(["curate", tmp_path / "family.yaml", "--input", tmp_path / "traces",
                            "--out", tmp_path / "ray", "--engine", "ray", "--batch-rows", "23"], capsys)
    assert code == 0, err
    assert _hashes(tmp_path / "ray") == _hashes(tmp_path / "local")
    stats = _stats(tmp_path / "ray")
    assert stats == _stats(tmp_path / "local")
    drops = {s[0].split("-", 1)[1]: s[3] for s in stats}
    assert drops["exact_dedup"] and drops["dedup"] and drops["decontam"]  # each stage had work to do
    for name in ("_exact_groups", "_sample_ranks", "band_pairs", "_resolve_cluster_part", "_match_block"):
        assert tasks().get(name, 0) >= 2, name
    # exact_dedup and dedup never pulled their rows into the driver: their parts stayed in the
    # cluster, and what the driver fetched was small (pairs, counts), never a frame of rows
    held = json.loads((tmp_path / "ray" / "manifest.json").read_text())["engine"]["driver"]["held"]
    assert not [k for k in held if "dedup" in k or "library results" in k], held
