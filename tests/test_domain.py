"""domain: taxonomies from rubrics/domains/, zero-shot MiniLM classification, bad values."""

import polars as pl
import pytest

from curate import domains
from curate.errors import BadInput
from curate.stages import StageContext, get


def run_domain(problems, **cfg):
    cls = get("domain")
    frame = pl.DataFrame({"trace_id": [f"t{i}" for i in range(len(problems))], "problem": problems})
    ctx = StageContext(seed=0)
    return cls(cls.Config(**cfg)).run(frame, ctx), ctx


def test_shipped_taxonomies():
    assert {"msc", "synth"} <= set(domains.known_taxonomies())
    msc = domains.load_taxonomy("msc")
    assert "11" in msc.codes and "05" in msc.codes and len(msc.codes) > 50
    assert len(domains.load_taxonomy("synth").codes) == 11


def test_classifies_problems():
    problems = ["Find the remainder when 8^10 is divided by 9.",
                "How many ways can a committee of 3 be chosen from 10 people?",
                "Find the area of a triangle with base 6 and height 4.",
                "Find the remainder when 8^10 is divided by 9."]
    out, ctx = run_domain(problems, taxonomy="synth")
    assert out.columns == ["trace_id", "domain", "domain_name", "domain_score", "drop_reason"]
    assert out["domain"].to_list() == ["number_theory", "combinatorics", "geometry", "number_theory"]
    assert out["domain_score"][0] == out["domain_score"][3] and 0 < out["domain_score"][0] <= 1
    assert ctx.stats["texts_embedded"] == 3  # one embedding per distinct text
    out, _ = run_domain(problems[:2], taxonomy="msc")
    assert out["domain"].to_list() == ["11", "05"]
    assert out["domain_name"].to_list() == ["Number theory", "Combinatorics"]
    out, _ = run_domain(problems[:1], taxonomy="synth", min_score=0.99)
    assert out["drop_reason"][0] == "domain score below 0.99"


def test_bad_values(tmp_path):
    with pytest.raises(BadInput, match=r"taxonomy 'nope': no such file, and no built-in taxonomy .*msc"):
        run_domain(["x"], taxonomy="nope")
    with pytest.raises(BadInput, match="generation back-end"):
        run_domain(["x"], taxonomy="msc", method="llm")
    bad = tmp_path / "bad.yaml"
    bad.write_text("domains: []\n")
    with pytest.raises(BadInput, match="non-empty 'domains'"):
        domains.load_taxonomy(str(bad))


def test_grade_school_word_problems_are_elementary_not_game_theory():
    # GSM8K-style problems (money, shopping, wages) once landed in MSC 91 "Game theory, economics".
    problems = ["Janet's ducks lay 16 eggs per day. She eats three for breakfast and sells the rest at the "
                "farmers' market for $2 per egg. How much in dollars does she make every day?",
                "A store sells pencils at 3 for $1. Tom buys 12 pencils and pays with a $10 bill. "
                "How much change does he get?",
                "Maria earns $15 an hour and works 6 hours a day for 5 days. How much does she earn?",
                "John saves $40 a week. How many weeks does it take him to save $600 for a bike?"]
    out, _ = run_domain(problems, taxonomy="msc")
    assert "91" not in out["domain"].to_list()
    assert out["domain"].to_list().count("97") >= 3
    assert set(out.filter(pl.col("domain") == "97")["domain_name"]) == {"Mathematics education"}
