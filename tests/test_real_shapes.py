"""End to end on real-shaped teacher outputs (issue 14's "done when"): a corpus from `synth --profile
teachers` (six teachers, every reasoning layout, truncations, ill-posed problems without gold,
premise-removed variants, benchmark boilerplate) through `ingest`, then the `s1k`, `limo` and
`demo` recipes, checked against the truth each row carries in `meta.synth`:

- no row whose reasoning was lost at ingest;
- every empty or unclosed thinking flagged by `format`;
- every stage that had nothing to work on announced (console and manifest);
- one trace per problem in `s1k`, the verified one, never an ill-posed or premise-removed problem,
  and k rows covering k problems when the pool has them;
- no boilerplate problem dropped as contaminated, no premise-removed copy merged with its original.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pytest

from conftest import BENCHMARKS, needs_real_benchmarks, run_cli
from curate import recipe, run
from curate.synth import teachers

pytestmark = pytest.mark.slow

needs_benchmarks = needs_real_benchmarks
# The demo recipe decontaminating against the real benchmarks instead of synth's held-out split.
REAL_BENCH = "bench: [math500, aime24, aime25, amc23, gsm8k]"


def truth(frame: pl.DataFrame) -> pl.DataFrame:
    """The synth profile's truth per row, as columns."""
    synth = pl.col("meta").str.json_path_match
    return frame.with_columns(
        synth("$.synth.layout").alias("t_layout"), synth("$.synth.kind").alias("t_kind"),
        synth("$.synth.closed").alias("t_closed"), synth("$.synth.premise_removed_from").alias("t_removed_from"),
        synth("$.synth.planted").str.contains("truncated").alias("t_truncated"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("real")
    result = teachers.write(teachers.TeachersConfig(problems=60, seed=3), folder / "raw")
    from curate.cli import main

    for path in result.written:
        assert main(["ingest", str(path), "--out", str(folder / "traces"), "--name", path.stem]) == 0
    return folder


@pytest.fixture(scope="module")
def runs(corpus) -> dict[str, Path]:
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DISTILLERY_BENCHMARKS", os.environ.get("DISTILLERY_BENCHMARKS", str(BENCHMARKS)))
        for name in ("s1k", "limo", "demo"):
            res = run.run(recipe.load(name), corpus / "traces", corpus / name)
            assert res.rows_selected > 0, name
            out[name] = corpus / name
        if (BENCHMARKS / "math500.jsonl").is_file():
            text = (Path(recipe.__file__).parent / "recipes" / "demo.yaml").read_text()
            assert "bench: [heldout], missing: skip" in text
            real = recipe.parse(text.replace("bench: [heldout], missing: skip", REAL_BENCH), "demo-real.yaml")
            assert run.run(real, corpus / "traces", corpus / "demo-real").rows_selected > 0
            out["demo-real"] = corpus / "demo-real"
    return out


def traces(run_dir: Path) -> pl.DataFrame:
    return truth(pl.read_parquet(run_dir / "traces.parquet"))


def manifest(run_dir: Path) -> dict:
    return json.loads((run_dir / "manifest.json").read_text())


def test_no_reasoning_lost_at_ingest(corpus):
    rows = truth(pl.read_parquet(corpus / "traces" / "*.parquet"))
    assert set(rows["t_layout"]) == {"think", "think_no_open", "thought", "s1", "column", "none"}
    reasoned = rows.filter(pl.col("t_layout") != "none")
    # Every layout's reasoning lands in `thinking`, closed or cut off; none of its markers stay behind.
    assert (reasoned["thinking"].str.strip_chars() != "").all()
    for marker in ("<think>", "</think>", "<|begin_of_thought|>", "<|end_of_thought|>"):
        assert not reasoned["response"].str.contains(marker, literal=True).any(), marker
    assert not reasoned.filter(pl.col("t_layout") == "s1")["response"].str.starts_with("think\n").any()
    # A teacher that did not reason keeps its whole text as the response.
    plain = rows.filter(pl.col("t_layout") == "none")
    assert (plain["thinking"] == "").all() and (plain["response"].str.strip_chars() != "").all()


def test_every_empty_or_unclosed_thinking_is_flagged(runs):
    for name in ("limo", "demo"):  # the recipes with a format stage
        seen = traces(runs[name]).filter(pl.col("fmt_truncated").is_not_null())
        assert seen.height > 300
        unclosed = seen.filter(pl.col("t_closed") == "false")
        assert unclosed.height > 0 and unclosed["fmt_unclosed_thinking"].all()
        empty = seen.filter(pl.col("thinking").str.strip_chars() == "")
        assert empty.height > 0 and empty["fmt_empty_thinking"].all()
        kept = seen.filter(pl.col("dropped_by").is_null())
        assert (kept["thinking"].str.strip_chars() != "").all() and (kept["t_closed"] == "true").all()
    # s1k has no format stage: its quality filter and budget stage drop the same rows.
    kept = traces(runs["s1k"]).filter(pl.col("dropped_by").is_null())
    assert (kept["thinking"].str.strip_chars() != "").all() and (kept["t_closed"] == "true").all()


def test_every_no_op_stage_is_announced(runs):
    for name, stage, words in (("s1k", "difficulty", "no student attempts"), ("s1k", "verify", "no gold answer"),
                               ("limo", "difficulty", "teachers' own samples"),
                               ("demo", "difficulty", "no gradable attempt")):
        warnings = [w for s in manifest(runs[name])["stages"] if s["stage"].endswith(stage) for w in s["warnings"]]
        assert any(words in w for w in warnings), (name, stage, warnings)
    assert manifest(runs["s1k"])["warnings"]  # and in the run's own list


def test_s1k_one_verified_trace_per_problem(runs, corpus):
    t = traces(runs["s1k"])
    kept = t.filter(pl.col("dropped_by").is_null())
    available = t.filter(pl.col("dropped_by").is_null() | pl.col("drop_reason").str.starts_with("another trace"))
    assert kept["problem_id"].n_unique() == kept.height == available["problem_id"].n_unique()
    assert (kept["verdict"] == "correct").all() and kept["gold"].is_not_null().all()
    assert set(kept["t_kind"]) <= {"answerable", "boilerplate"}
    # The kept trace of each problem is its best: no other correct trace of it has longer thinking.
    rivals = available.filter(pl.col("dropped_by").is_not_null())
    best = kept.select("problem_id", pl.col("thinking_tokens").alias("best"))
    assert rivals.join(best, on="problem_id").filter(pl.col("thinking_tokens") > pl.col("best")).height == 0
    # k rows are k problems when the pool has more.
    text = recipe.resolve_path("s1k").read_text().replace("k: 1000", "k: 25").replace("if_fewer: all", "if_fewer: error")
    res = run.run(recipe.parse(text, "s1k.yaml"), corpus / "traces", corpus / "s1k25")
    sel = pl.read_parquet(corpus / "s1k25" / "selected.parquet")
    assert res.rows_selected == 25 and sel["problem_id"].n_unique() == 25


@needs_benchmarks
def test_no_boilerplate_decontamination_and_no_premise_merge(runs):
    t = traces(runs["demo-real"])
    assert t.filter(pl.col("t_kind") == "boilerplate").height > 10
    contaminated = t.filter(pl.col("contaminated_with").is_not_null())
    assert contaminated.height == 0, contaminated.select("problem", "contaminated_ngram").head(3)
    stats = next(s for s in manifest(runs["demo-real"])["stages"] if s["stage"].endswith("decontam"))["stats"]
    assert stats["boilerplate_ngrams"] > 0 and not stats["skipped_benchmarks"]
    # A premise-removed copy and its original are different problems: neither dedup merges them.
    removed = t.filter(pl.col("t_removed_from").is_not_null())
    assert removed.height > 0
    originals = set(removed["t_removed_from"])
    pairs = t.filter(pl.col("problem_id").is_in(list(originals)) | pl.col("t_removed_from").is_not_null())
    assert pairs.filter(pl.col("dropped_by").is_in(["01-exact_dedup", "02-dedup"])).height == 0
    # Unanswerable problems never reach a training set.
    for name in ("s1k", "limo", "demo"):
        kept = traces(runs[name]).filter(pl.col("dropped_by").is_null())
        assert not kept["t_kind"].is_in(["ill_posed", "premise_removed"]).any(), name


def test_cli_prints_the_warnings_and_report_shows_them(runs, corpus, capsys):
    code, _, err = run_cli(["curate", "s1k", "--input", corpus / "traces", "--out", runs["s1k"]], capsys)
    assert code == 0 and "warning: 07-difficulty: no student attempts" in err and "cached" in err
    from curate import report

    html = report.build(runs["s1k"])
    assert "Warnings" in html and "no student attempts" in html
