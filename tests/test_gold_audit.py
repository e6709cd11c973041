"""gold_audit: the verified majority of a problem's samples against its gold, on hand-made rows
(equivalent forms, too few samples, no gold), through the runner (keep, drop, replace recorded in
meta), and on the synthetic corpus's planted wrong golds (recall and precision)."""

from __future__ import annotations

import json

import polars as pl
import pytest

from curate import recipe as recipes
from curate import run as runner
from curate import schema, store
from curate.errors import BadInput
from curate.gold_audit import AuditOptions, audit


def rows(problem: str, gold: str | None, responses: list[str]) -> list[dict]:
    return [{"problem": problem, "gold": gold, "thinking": "Let me think.", "response": r, "source": "t",
             "teacher": f"teacher-{i % 2}", "sample_idx": i, "finish_reason": "stop", "meta": json.dumps({"i": i})}
            for i, r in enumerate(responses)]


def table() -> pl.DataFrame:
    data = (rows("A: what is one half?", "2", ["\\boxed{\\frac12}", "So \\boxed{0.5}", "\\boxed{1/2}", "\\boxed{3}"])
            + rows("B: two plus two?", "4", ["\\boxed{4}", "\\boxed{4}", "\\boxed{5}"])
            + rows("C: few samples?", "7", ["\\boxed{8}", "\\boxed{8}"])
            + rows("D: no gold?", None, ["\\boxed{1}", "\\boxed{1}", "\\boxed{1}"])
            + rows("E: split vote?", "9", ["\\boxed{1}", "\\boxed{2}", "\\boxed{3}", "\\boxed{1}"])
            + rows("F: cut off?", "6", ["", "", "\\boxed{6}"]))
    t = schema.conform(schema.with_ids(pl.DataFrame(data).to_arrow()), "test")
    return pl.from_arrow(t)


def by_problem(frame: pl.DataFrame, out: pl.DataFrame) -> dict[str, dict]:
    joined = frame.select("trace_id", "problem").join(out, on="trace_id")
    return {r["problem"][0]: r for r in joined.unique("problem", keep="first").to_dicts()}


def test_majority_groups_equivalent_forms_and_flags_only_confident_disagreement():
    frame = table()
    out, stats = audit(frame, AuditOptions(workers=1))
    assert out.height == frame.height and set(out.columns) >= {"trace_id", "majority_answer", "majority_share",
                                                              "gold_agrees", "gold_suspect"}
    p = by_problem(frame, out)
    # 1/2 in three forms is one answer (3 of 4), and the gold 2 differs
    assert p["A"]["majority_share"] == pytest.approx(0.75) and p["A"]["gold_agrees"] is False
    assert p["A"]["gold_suspect"] and p["A"]["majority_answer"] in ("\\frac12", "0.5", "1/2")
    assert p["B"]["gold_agrees"] is True and not p["B"]["gold_suspect"]
    assert p["C"]["gold_agrees"] is False and not p["C"]["gold_suspect"]          # only two samples
    assert p["D"]["gold_agrees"] is None and not p["D"]["gold_suspect"]           # nothing to compare with
    assert p["E"]["majority_share"] == pytest.approx(0.5) and not p["E"]["gold_suspect"]
    assert p["F"]["audit_answers"] == 1 and p["F"]["gold_agrees"] is True          # empty responses do not vote
    assert stats["suspect_problems"] == 1 and stats["suspect_rows"] == 4
    # stricter: two agreeing samples are enough
    loose, _ = audit(frame, AuditOptions(min_samples=2, workers=1))
    assert by_problem(frame, loose)["C"]["gold_suspect"]


RECIPE = """
name: audit-{action}
seed: 0
stages:
  - gold_audit: {{action: {action}, workers: 1}}
  - verify: {{workers: 1}}
  - filter: {{where: "verdict = 'correct'", reason: wrong final answer}}
"""


@pytest.mark.parametrize("action", ["keep", "drop", "replace"])
def test_stage_actions_through_the_runner(tmp_path, action):
    frame = table()
    store.save_traces(frame.to_arrow(), tmp_path / "in", prefix="t")
    result = runner.run(recipes.parse(RECIPE.format(action=action)), tmp_path / "in", tmp_path / "run")
    traces = pl.read_parquet(tmp_path / "run" / "traces.parquet")
    a = traces.filter(pl.col("problem").str.starts_with("A:"))
    assert a["gold_suspect"].all()
    stats = result.manifest["stages"][0]["stats"]
    assert stats["suspect_problems"] == 1 and stats["action"] == action
    if action == "keep":
        assert a["gold"].to_list() == ["2"] * 4 and a["dropped_by"].to_list()[:3] == ["03-filter"] * 3
    elif action == "drop":
        assert a["dropped_by"].unique().to_list() == ["01-gold_audit"]
        assert a["drop_reason"][0].startswith("suspect gold: 0.75 of the samples say ")
    else:
        # the gold is the majority now, the old one is in meta, and verify graded against the new one
        assert a["gold"].unique().to_list() == a["majority_answer"].unique().to_list()
        for m in a["meta"].to_list():
            record = json.loads(m)["gold_audit"]
            assert record["replaced_gold"] == "2" and record["majority_share"] == 0.75
        assert a.filter(pl.col("dropped_by").is_null()).height == 3                   # the three halves
        others = traces.filter(~pl.col("problem").str.starts_with("A:"))
        assert others["gold"].to_list() == frame.filter(~pl.col("problem").str.starts_with("A:"))["gold"].to_list()
        assert all("gold_audit" not in json.loads(m) for m in others["meta"].to_list())
    if action == "keep":   # nothing to audit is said, not silent
        lone = tmp_path / "lone"
        store.save_traces(frame.filter(pl.col("sample_idx") == 0).to_arrow(), lone, prefix="t")
        res = runner.run(recipes.parse(RECIPE.format(action=action)), lone, tmp_path / "lone-run")
        assert "nothing to audit" in res.manifest["stages"][0]["stats"]["warning"]
        # ...as the stage's warning line too (manifest warnings), which `on_missing: error` refuses
        assert [w for w in res.manifest["warnings"] if w.startswith("01-gold_audit: no problem has")]
        strict = RECIPE.format(action=action).replace("gold_audit: {", "gold_audit: {on_missing: error, ", 1)
        with pytest.raises(BadInput, match="nothing to audit"):
            runner.run(recipes.parse(strict), lone, tmp_path / "lone-strict")
    # the named query lists exactly the suspect problem
    from curate import sql

    con = sql.connect(tmp_path / "run")
    found = sql.run_named(con, "suspect_golds").to_pylist()
    assert [r["problem"][:2] for r in found] == ["A:"]


@pytest.mark.slow
def test_recall_and_precision_on_planted_wrong_golds():
    """Eight samples per problem (n per teacher), 5% of problems with a planted wrong gold.
    Measured at seed 1, 20,000 rows: 140 planted, 132 found, 7 false alarms (recall 0.94,
    precision 0.95). The misses are split votes (share about 0.5), never too few samples."""
    from curate.synth import SynthConfig, generate

    result = generate(SynthConfig(n=20_000, seed=1, attempts=False, samples_mean=8, samples_max=16, wrong_gold=0.05))
    frame = pl.from_arrow(result.traces)
    out, _ = audit(frame, AuditOptions(workers=2))
    planted = frame.select("trace_id", "problem_id",
                           pl.col("meta").str.json_path_match("$.wrong_gold.planted_gold").is_not_null().alias("planted"))
    per = planted.join(out, on="trace_id").group_by("problem_id").agg(pl.col("planted").first(),
                                                                      pl.col("gold_suspect").first())
    hits = per.filter(pl.col("planted") & pl.col("gold_suspect")).height
    recall = hits / per["planted"].sum()
    precision = hits / per["gold_suspect"].sum()
    assert per["planted"].sum() > 50
    assert recall >= 0.9 and precision >= 0.9, (recall, precision)
