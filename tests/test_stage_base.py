"""The stage base owns the bookkeeping: a stage called through it is timed, its output checked and
ordered, its rows and drops counted; the extras a recipe's stages need are checked before stage 1."""

import json
import sys

import polars as pl
import pytest

from conftest import run_cli, trace_table
from curate import recipe, run
from curate import stages as registry
from curate.errors import BadInput
from curate.schema import DROP

SEMANTIC = "name: t\nstages:\n  - filter: {drop_where: \"length(thinking) < 5\", reason: short}\n" \
           "  - dedup: {method: semantic}\n"


@pytest.fixture
def no_embed(monkeypatch):
    """sentence-transformers as if not installed: importing it fails, as Python does for None."""
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)


def test_missing_extra_is_one_line_before_stage_one(traces_dir, tmp_path, capsys, no_embed):
    (tmp_path / "t.yaml").write_text(SEMANTIC)
    code, out, err = run_cli(["curate", tmp_path / "t.yaml", "--input", traces_dir, "--out", tmp_path / "run"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "line 4: stage 02-dedup needs the 'embed' extra (sentence_transformers not installed): " \
           "pip install 'distillery[embed]'" in err
    assert "01-filter" not in out + err and not (tmp_path / "run").exists()  # nothing ran, nothing written


def test_only_the_configurations_that_need_an_extra_ask_for_it(no_embed):
    ok = recipe.parse("name: t\nstages:\n  - dedup: {method: minhash}\n  - filter: {where: 'true', reason: x}\n", "t.yaml")
    registry.check_extras(ok.stages, ok.source)
    for text in (SEMANTIC, "name: t\nstages:\n  - domain: {taxonomy: synth}\n",
                 "name: t\nstages:\n  - budget: {tokenizer: 'builtin:minilm', thinking_tokens: [1, 10]}\n"):
        with pytest.raises(BadInput, match=r"pip install 'distillery\[embed\]'"):
            registry.check_extras(recipe.parse(text, "t.yaml").stages, "t.yaml")


def test_a_stage_called_through_the_base_is_timed_checked_and_ordered():
    frame = pl.from_arrow(trace_table()).sample(fraction=1.0, shuffle=True, seed=3)
    spec = recipe.parse("name: t\nstages:\n  - filter: {drop_where: \"sample_idx > 0\", reason: later sample}\n",
                        "t.yaml").stages[0]
    ctx = registry.StageContext(seed=0, label=spec.label, recipe="t.yaml", line=spec.line)
    out = spec.build()(frame, ctx)
    assert out["trace_id"].to_list() == sorted(frame["trace_id"].to_list()) and ctx.seconds >= 0
    full = frame.join(out, on="trace_id").with_columns(
        pl.when(pl.col(DROP).is_not_null()).then(pl.lit(spec.label)).alias(registry.DROPPED_BY))
    res = registry.Stage.result(ctx, frame.height, full, ctx.seconds, cached=False)
    later = int((frame["sample_idx"] > 0).sum())
    assert res.drops == {"later sample": later} and res.rows_out == frame.height - later
    # What a stage may not return: a trace_id twice, one it was not given, an input column.
    stage = spec.build()
    with pytest.raises(BadInput, match=r"t.yaml line 3: stage 01-filter: returned a trace_id twice"):
        stage.check_output(pl.concat([out, out]), frame, ctx)
    with pytest.raises(BadInput, match="returned 1 trace_id"):
        stage.check_output(out.with_columns(pl.lit("x").alias("trace_id")).head(1), frame, ctx)
    with pytest.raises(BadInput, match="may not overwrite column.s. problem"):
        stage.check_output(out.with_columns(pl.lit("x").alias("problem")), frame, ctx)


def test_the_manifest_keeps_the_bookkeeping(traces_dir, tmp_path):
    text = "name: t\nstages:\n  - filter: {drop_where: \"sample_idx > 0\", reason: later sample}\n"
    res = run.run(recipe.parse(text, "t.yaml"), traces_dir, tmp_path / "run")
    stage = json.loads((tmp_path / "run" / "manifest.json").read_text())["stages"][0]
    assert stage["rows_in"] == 12 and stage["dropped"] == sum(stage["drops_by_reason"].values()) > 0
    assert stage["seconds"] == res.stages[0].seconds and not stage["cached"]
