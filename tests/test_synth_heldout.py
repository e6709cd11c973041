"""synth's held-out split: problems new to the corpus, a few planted back into it (verbatim and
reworded, recorded in meta), which the demo recipe's decontam stage finds offline, beside the input."""

import json

import polars as pl

from conftest import run_cli
from curate import recipe, run
from curate.decontam import decontaminate
from curate.synth import SynthConfig, generate, write


def _meta(table, key):
    return [json.loads(m).get(key) for m in table.column("meta").to_pylist()]


def test_without_heldout_nothing_changes():
    a, b = generate(SynthConfig(n=300, seed=4)), generate(SynthConfig(n=300, seed=4, contaminate=3))
    assert a.heldout is None and a.traces.equals(b.traces)
    assert not any(_meta(a.traces, "heldout_of"))


def test_heldout_problems_are_new_and_a_few_are_planted(tmp_path):
    res = generate(SynthConfig(n=600, seed=2, heldout=40, contaminate=4))
    held = pl.from_arrow(res.heldout)
    corpus = pl.from_arrow(res.traces).with_columns(
        pl.col("meta").str.json_path_match("$.heldout_of").alias("heldout_of"),
        pl.col("meta").str.json_path_match("$.heldout_copy").alias("copy"))
    assert held.height == 40 == held["problem_id"].n_unique()
    assert set(_meta(res.heldout, "split")) == {"heldout"} and res.planted == 4
    planted = corpus.filter(pl.col("heldout_of").is_not_null())
    assert planted["heldout_of"].n_unique() == 4 and set(planted["heldout_of"]) <= set(held["problem_id"])
    assert set(planted["copy"]) == {"verbatim", "reworded"}
    # Verbatim copies have the held-out problem's id; the rest of the corpus never asks one.
    verbatim = planted.filter(pl.col("copy") == "verbatim")
    assert (verbatim["problem_id"] == verbatim["heldout_of"]).all()
    others = corpus.filter(pl.col("heldout_of").is_null())
    assert not others["problem_id"].is_in(held["problem_id"].implode()).any()
    # Decontamination against the split finds exactly the planted rows (no template wording in common).
    held.write_parquet(tmp_path / "heldout.parquet")
    found = decontaminate(pl.from_arrow(res.traces), bench=[str(tmp_path / "heldout.parquet")]).columns
    hit = corpus.filter(found["drop_reason"].is_not_null())
    assert hit.height == planted.height and hit["heldout_of"].null_count() == 0
    assert generate(SynthConfig(n=600, seed=2, heldout=40, contaminate=4)).traces.equals(res.traces)


def test_demo_recipe_catches_the_planted_problems_offline(tmp_path, capsys):
    code, out, err = run_cli(["synth", "--n", "600", "--seed", "1", "--heldout", "30", "--contaminate", "3",
                              "--out", tmp_path / "traces"], capsys)
    assert code == 0, err
    assert "30 problems (heldout/), 3 of them planted" in out
    demo = recipe.load("demo")
    decontam = next(s for s in demo.stages if s.name == "decontam")
    text = f"name: d\nstages:\n  - decontam: {json.dumps(decontam.config.model_dump(mode='json', exclude={'on_missing'}))}\n"
    res = run.run(recipe.parse(text, "d.yaml"), tmp_path / "traces", tmp_path / "run")
    traces = pl.read_parquet(tmp_path / "run" / "traces.parquet").with_columns(
        pl.col("meta").str.json_path_match("$.heldout_of").alias("heldout_of"))
    dropped = traces.filter(pl.col("dropped_by") == "01-decontam")
    assert dropped.height > 0 and dropped["heldout_of"].null_count() == 0
    assert dropped["heldout_of"].n_unique() == 3
    assert traces.filter(pl.col("heldout_of").is_not_null() & pl.col("dropped_by").is_null()).height == 0
    stage = res.manifest["stages"][0]
    assert stage["stats"]["skipped_benchmarks"] == [] and stage["warnings"] == []
    assert stage["stats"]["benchmarks"] == {"heldout": 30}


def test_write_replaces_a_stale_heldout_split(tmp_path):
    write(SynthConfig(n=200, seed=0, heldout=10, attempts=False), tmp_path)
    assert list((tmp_path / "heldout").glob("synth-*.parquet"))
    write(SynthConfig(n=200, seed=0, attempts=False), tmp_path)
    assert not list((tmp_path / "heldout").glob("synth-*.parquet"))

