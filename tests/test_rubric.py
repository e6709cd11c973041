"""rubric: built-in checks, SQL criteria, judge criteria refused clearly, shipped rubrics."""

import polars as pl
import pytest

from curate import rubric
from curate.errors import BadInput
from curate.stages import StageContext, get

GOOD = ("First, let me set it up. Wait, let me check the sum. Perhaps another way works. "
        "So the total is 4, therefore the answer is 4.\n\nNext, verify: yes.")


def frame():
    return pl.DataFrame({
        "trace_id": ["a", "b"], "thinking": [GOOD, "x = 4"], "response": ["\\boxed{4}", "4"],
        "thinking_tokens": [40, 3], "in_budget": [True, False], "looping": [False, True],
        "script_ratio": [0.0, 0.2], "verdict": ["correct", "incorrect"],
    })


def write(tmp_path, text):
    path = tmp_path / "r.yaml"
    path.write_text(text)
    return str(path)


def run_rubric(name, df=None, **cfg):
    cls = get("rubric")
    ctx = StageContext(seed=0)
    return cls(cls.Config(rubric=name, **cfg)).run(frame() if df is None else df, ctx), ctx


def test_checks_and_weighted_score(tmp_path):
    path = write(tmp_path, """
name: t
criteria:
  - {name: boxed, weight: 2, check: has_boxed}
  - {name: ok, weight: 1, check: verified}
  - {name: long, weight: 1, sql: "thinking_tokens / 80.0"}
""")
    out, ctx = run_rubric(path)
    assert out.columns == ["trace_id", "rubric_boxed", "rubric_ok", "rubric_long", "score", "drop_reason"]
    assert out["rubric_boxed"].to_list() == [1.0, 0.0]
    assert out["rubric_long"].to_list() == [0.5, 0.0375]
    assert out["score"].to_list() == [pytest.approx((2 + 1 + 0.5) / 4), pytest.approx(0.0375 / 4)]
    out, _ = run_rubric(path, min_score=0.5, score_column="q", prefix="c_")
    assert "q" in out.columns and "c_boxed" in out.columns
    assert out["drop_reason"].to_list() == [None, "rubric t score below 0.5"]


def test_shipped_rubrics():
    assert {"reasoning_quality", "format"} <= set(rubric.known_rubrics())
    out, _ = run_rubric("reasoning_quality")
    assert out["score"][0] > out["score"][1]
    assert out["rubric_self_verification"][0] > 0 and out["rubric_exploratory"][0] > 0
    assert out["rubric_no_loop"].to_list() == [1.0, 0.0]
    out, _ = run_rubric("format")
    assert out["score"].to_list() == [1.0, 0.2]


def test_judge_and_bad_rubrics(tmp_path):
    path = write(tmp_path, "criteria:\n  - {name: j, judge: 'Rate: {thinking}'}\n")
    assert rubric.load_rubric(path).criteria[0].judge  # accepted by the schema
    with pytest.raises(BadInput, match="LLM judge, which needs the generation back-end"):
        run_rubric(path)
    with pytest.raises(BadInput, match="unknown check 'nope'"):
        rubric.load_rubric(write(tmp_path, "criteria:\n  - {name: a, check: nope}\n"))
    with pytest.raises(BadInput, match="exactly one of check, sql, judge"):
        rubric.load_rubric(write(tmp_path, "criteria:\n  - {name: a, check: has_boxed, sql: '1'}\n"))
    with pytest.raises(BadInput, match="rubric 'missing': no such file"):
        run_rubric("missing")
    with pytest.raises(BadInput, match="needs column 'in_budget': add a budget stage"):
        run_rubric("format", df=frame().drop("in_budget"))


def test_means_come_from_exact_sums_that_any_cut_of_the_rows_adds_up_to(tmp_path):
    # An engine that scores in batches adds the batches' sums (whole millionths) and takes the
    # means once: the same figures for any cut, and exact (a tie rounds half to even).
    from curate.engines.ray_data import merge_stats

    path = write(tmp_path, "name: t\ncriteria:\n  - {name: long, weight: 1, sql: \"thinking_tokens / 7.0\"}\n")
    rows = pl.DataFrame({"trace_id": [f"t{i}" for i in range(50)], "thinking_tokens": [(i * 37) % 11 for i in range(50)]})
    whole = rubric.apply(rows, path)
    assert whole.stats == rubric.summary(path, whole.counts)
    assert whole.stats["mean_score"] == round(whole.columns["score"].mean(), 4)
    for cuts in ([0, 50], [0, 1, 50], [0, 7, 23, 24, 50]):
        parts = [rubric.apply(rows[a:b], path).counts for a, b in zip(cuts, cuts[1:])]
        assert merge_stats(parts) == whole.counts
        assert rubric.summary(path, merge_stats(parts)) == whole.stats
    # 0.0001 and 0: the mean is 0.00005 exactly, which rounds to 0.0 (a float mean, a hair above, to 0.0001)
    tie = rubric.apply(pl.DataFrame({"trace_id": ["a", "b"], "thinking_tokens": [0.0007, 0.0]}), path)
    assert tie.stats["mean_score"] == 0.0 and tie.stats["criteria_means"] == {"rubric_long": 0.0}
    assert rubric.apply(rows.head(0), path).stats == {"rubric": "t", "mean_score": None, "criteria_means": {}}
