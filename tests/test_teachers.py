"""Teachers side by side: two synthetic teachers on the same problems (one answers wrong twice as
often), the `teachers` query's numbers against a hand count, the report section and its costs."""

from __future__ import annotations

import polars as pl
import pytest

from conftest import run_cli
from curate import recipe as recipes
from curate import run as runner
from curate import sql
from curate.synth import DefectRates, SynthConfig, generate

pytestmark = pytest.mark.slow   # a two-teacher run with verify and budget: ~10 s

RECIPE = """
name: teachers
seed: 0
stages:
  - verify: {workers: 1}
  - budget: {tokenizer: "builtin:minilm"}
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from curate import store

    root = tmp_path_factory.mktemp("teachers")
    a = generate(SynthConfig(n=300, seed=2, teacher="teacher-a", attempts=False, wrong_gold=0.0)).traces
    b = generate(SynthConfig(n=300, seed=2, teacher="teacher-b", attempts=False, wrong_gold=0.0,
                             defects=DefectRates(wrong_answer=0.5))).traces
    store.save_traces(a, root / "traces", prefix="a")
    store.save_traces(b, root / "traces", prefix="b")
    runner.run(recipes.parse(RECIPE), root / "traces", root / "run")
    return root / "run"


def test_teachers_query_matches_a_hand_count(run):
    con = sql.connect(run)
    got = {r["teacher"]: r for r in sql.run_named(con, "teachers").to_pylist()}
    assert set(got) == {"teacher-a", "teacher-b"}
    traces = pl.read_parquet(run / "traces.parquet")
    for name, row in got.items():
        mine = traces.filter(pl.col("teacher") == name)
        graded = mine.filter(pl.col("verdict").is_not_null())
        assert row["problems"] == mine["problem_id"].n_unique() and row["samples"] == mine.height
        assert row["accuracy"] == pytest.approx((graded["verdict"] == "correct").mean(), abs=5e-4)
        solved = graded.group_by("problem_id").agg((pl.col("verdict") == "correct").any().alias("s"))
        assert row["pass_at_k"] == pytest.approx(solved["s"].mean(), abs=5e-4)
        assert row["truncation_rate"] == pytest.approx((mine["finish_reason"] == "length").mean(), abs=5e-4)
        assert row["unboxed_rate"] == pytest.approx((~mine["response"].str.contains("\\boxed{", literal=True)).mean(),
                                                    abs=5e-4)
        assert row["loop_rate"] == pytest.approx(mine["looping"].cast(pl.Float64).mean(), abs=5e-4)
        assert row["thinking_words_p50"] <= row["thinking_words_p95"]
    assert got["teacher-a"]["accuracy"] > got["teacher-b"]["accuracy"] + 0.15
    # problems only one teacher solved
    solved = (traces.filter(pl.col("verdict") == "correct").group_by("problem_id")
              .agg(pl.col("teacher").unique().alias("t")).filter(pl.col("t").list.len() == 1))
    only = solved["t"].list.first().value_counts()
    counts = dict(zip(only["t"].to_list(), only["count"].to_list()))
    assert got["teacher-a"]["only_it_solved"] == counts.get("teacher-a", 0) > 0
    assert got["teacher-b"]["only_it_solved"] == counts.get("teacher-b", 0)


def test_report_section_and_prices(run, tmp_path, capsys):
    prices = tmp_path / "prices.yaml"
    prices.write_text("teacher-a: {input: 0.55, output: 2.19}\n")
    code, _, err = run_cli(["report", run, "--prices", prices, "--out", tmp_path / "r.html"], capsys)
    assert code == 0, err
    html = (tmp_path / "r.html").read_text()
    section = html[html.index('id="teachers"'):]
    section = section[:section.index("</section>")]
    assert "teacher-a" in section and "teacher-b" in section and "cost_usd" in section
    assert "No price for: teacher-b" in section
    con = sql.connect(run)
    a = next(r for r in sql.run_named(con, "teachers").to_pylist() if r["teacher"] == "teacher-a")
    cost = (a["input_words"] * 0.55 + a["output_words"] * 2.19) / 1e6
    assert f"{cost:,.2f}" in section
    for text, words in [("teacher-a: {input: x, output: 1}\n", "input price 'x'"),
                        ("teacher-a: 3\n", "expected {input"), ("[1, 2]\n", "expected a mapping")]:
        prices.write_text(text)
        code, _, err = run_cli(["report", run, "--prices", prices, "--out", tmp_path / "bad.html"], capsys)
        assert code == 2 and words in err and len(err.strip().splitlines()) == 1, err
        assert not (tmp_path / "bad.html").exists()
