"""decontam on the ray engine as a `parts` stage: the rows' text stays on the workers (each block
matched, and its distinct problems shuffled for the boilerplate count, in Ray tasks), the driver
decides the boilerplate set from small counts, and the run folder is byte for byte the local
engine's: boilerplate, fuzzy-only matches and a benchmark problem pasted into several blocks.

One local Ray (2 CPUs) serves the whole module.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from conftest import run_cli, run_file_hash
from curate import store

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'distillery[ray]')")
pytestmark = pytest.mark.slow  # every test here starts or uses the module's Ray

BATCH = 7  # rows a block: 60 rows make 9 blocks

BENCH = {
    "copied": "Sara sells 7 red kites and 9 blue kites at the fair on Sunday. How many kites does she sell in all?",
    "wording": "Ann bakes cherry pies and sells them at the market near the old bridge today. How many pies are left?",
    "shared": "Lena paints the small wooden fence behind her grandmother's house every summer. How many days does it take?",
    "reworded": "A train leaves the station at 3 pm travelling at 60 miles per hour toward a city that is 240 miles away. "
                "When does it arrive?",
}


def _planted() -> dict[int, str]:
    """Row number -> the problem text planted there (the rest are synth's own problems)."""
    plant = {2: BENCH["copied"], 25: BENCH["copied"].upper(), 51: BENCH["copied"]}  # one pasted problem, 3 blocks
    for k, at in enumerate((6, 30, 44)):  # its 8-grams in 3 distinct input problems + the benchmark's: boilerplate
        plant[at] = f"Tom buys {k + 2} apples at the market near the old bridge today. How many apples does he have?"
    for at in (10, 33, 57):  # one input problem in three blocks counts once: its 8-grams with "shared" stay evidence
        plant[at] = "Max paints the small wooden fence behind her grandmother's house every summer with his dog. How long?"
    words = BENCH["reworded"].split()  # a comma every 6 words: no 8-gram in common, the same MinHash shingles
    plant[40] = " ".join(w + "," if k % 6 == 5 else w for k, w in enumerate(words))
    for at in range(14, 21):  # a whole block filtered out first: its problems must not count as input
        plant[at] = f"Skip me {at}: Kim paints the small wooden fence behind her grandmother's house every summer."
    return plant


RECIPE = """\
name: decontam-parts
stages:
  - filter: {{drop_where: "problem like 'Skip me%'", reason: set aside}}
  - decontam: {{bench: ["{bench}"], fuzzy: 0.5}}
"""


def _hashes(run: Path) -> dict[str, str]:
    files = ["traces.parquet", "selected.parquet", *sorted(f"stages/{p.name}" for p in (run / "stages").glob("*.parquet"))]
    return {f: run_file_hash(run / f) for f in files}


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, logging_level="ERROR", log_to_driver=False, include_dashboard=False)
    yield ray
    ray.shutdown()


def test_decontam_runs_on_the_blocks_and_the_driver_never_holds_their_text(local_ray, tmp_path, capsys):
    from curate.cli import main
    from curate.engines import ray_parts

    assert main(["synth", "--n", "60", "--seed", "2", "--out", str(tmp_path / "synth")]) == 0
    table = pl.read_parquet(tmp_path / "synth" / "synth-00000.parquet")
    assert table.height == 60
    problems = table["problem"].to_list()
    for at, text in _planted().items():
        problems[at] = text
    (tmp_path / "traces").mkdir()
    table.with_columns(pl.Series("problem", problems)).write_parquet(tmp_path / "traces" / "part-0.parquet")
    bench = tmp_path / "bench.jsonl"
    bench.write_text("".join(json.dumps({"id": k, "problem": v}) + "\n" for k, v in BENCH.items()))
    (tmp_path / "recipe.yaml").write_text(RECIPE.format(bench=bench))
    args = ["curate", tmp_path / "recipe.yaml", "--input", tmp_path / "traces"]

    code, _, err = run_cli([*args, "--out", tmp_path / "local"], capsys)
    assert code == 0, err
    before = dict(ray_parts.TASKS)
    code, _, err = run_cli([*args, "--out", tmp_path / "ray", "--engine", "ray", "--batch-rows", BATCH,
                                "--shuffle-rows", BATCH], capsys)
    assert code == 0, err
    ran = {k: v - before.get(k, 0) for k, v in ray_parts.TASKS.items()}

    assert _hashes(tmp_path / "ray") == _hashes(tmp_path / "local")
    manifests = [json.loads((tmp_path / run / "manifest.json").read_text()) for run in ("local", "ray")]
    stages = [{s["stage"]: (s["rows_in"], s["rows_out"], s["stats"], s["warnings"]) for s in m["stages"]}
              for m in manifests]
    assert stages[1] == stages[0]
    rows_in, rows_out, stats, warnings = stages[0]["02-decontam"]
    assert (rows_in, rows_out, warnings) == (53, 46, [])
    assert stats["contaminated_rows"] == {"bench": 7} and stats["benchmark_problems_matched"] == {"bench": 3}
    assert stats["boilerplate_ngrams"] >= 1

    # What each row got: the pasted problem in three blocks, the one input problem in three blocks
    # (counted once, so not boilerplate), the fuzzy-only rewording (no n-gram to show); never the
    # boilerplate phrase, nor the filtered block.
    out = pl.read_parquet(tmp_path / "ray" / "traces.parquet").join(
        table.select("trace_id").with_row_index("row"), on="trace_id")
    hit = out.filter(pl.col("contaminated_with").is_not_null()).sort("row")
    assert hit["row"].to_list() == [2, 10, 25, 33, 40, 51, 57]
    assert [w[0] for w in hit["contaminated_with"].to_list()] == ["bench:" + k for k in
                                                                  ("copied", "shared", "copied", "shared", "reworded",
                                                                   "copied", "shared")]
    assert hit.filter(pl.col("row") == 40)["contaminated_ngram"].to_list() == [None]
    assert hit.filter(pl.col("row") == 25)["contaminated_ngram"].to_list() == ["sara sells 7 red kites and 9 blue"]

    # The driver held no frame of rows, only the bytes of one shard of a file it was writing: no pull of the
    # stage's columns (the alive rows' problems), no part's columns fetched (only counts, the
    # boilerplate keys among the benchmarks' n-grams, the benchmark problems each part matched).
    held = manifests[1]["engine"]["driver"]["held"]
    assert list(held) == ["writing (one shard)"] and held["writing (one shard)"][0] <= store.ROW_GROUP_SIZE, held
    # 8 blocks with alive rows: each matched in a task and cut into the shuffle's 8 partitions of
    # distinct problems, each partition counted in a task, then each partition of n-grams.
    assert ran["_match_block"] == ran["_problem_pieces"] == ran["_problem_counts"] == ran["_boilerplate_keys"] == 8
