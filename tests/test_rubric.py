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
