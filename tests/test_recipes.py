"""The built-in s1k and limo recipes: on a synthetic corpus (every row accounted for, byte-identical
reruns, exactly k), and s1k on a small s1K-1.1-shaped file after `ingest --preset s1k`.
(The 60K-row run takes a minute or more on 2 cores: bench/curation.py does it, and prints how many
problems were left for the 1,000 — one trace per problem.)"""

import json

import polars as pl
import pyarrow.parquet as pq
import pytest

from curate import recipe, run, synth
from curate.errors import BadInput
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "traces"
    synth.write(synth.SynthConfig(n=3000, seed=3), out)
    return out


def s1k_with_k(k: int) -> recipe.Recipe:
    text = recipe.resolve_path("s1k").read_text()
    assert "k: 1000" in text and "if_fewer: all" in text
    return recipe.parse(text.replace("k: 1000", f"k: {k}").replace("if_fewer: all", "if_fewer: error"), "s1k.yaml")


def test_s1k_on_synth_keeps_exactly_k_and_accounts_for_every_row(corpus, tmp_path):
    res = run.run(s1k_with_k(15), corpus, tmp_path / "a")
    assert res.rows_in == 3000 and res.rows_selected == 15
    traces = pl.read_parquet(tmp_path / "a" / "traces.parquet")
    dropped = traces.filter(pl.col("dropped_by").is_not_null())
    assert dropped.height == 3000 - 15 and dropped["drop_reason"].null_count() == 0
    kept = traces.filter(pl.col("dropped_by").is_null())
    assert kept["selected"].all()
    # One trace per problem, verified correct, with a gold answer (the recipe's comments say so).
    assert kept["problem_id"].n_unique() == 15 and (kept["verdict"] == "correct").all()
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    stages = [s["stage"] for s in manifest["stages"]]
    assert stages == ["01-filter", "02-filter", "03-exact_dedup", "04-verify", "05-filter", "06-filter",
                      "07-difficulty", "08-budget", "09-domain", "10-select"]
    assert all({"rows_in", "rows_out", "seconds", "warnings"} <= set(s) for s in manifest["stages"])
    assert manifest["stages"][9]["rows_out"] == 15
    # A problem a student solved never survives difficulty (s1: drop what Qwen-7B/32B solve).
    kept = traces.filter(pl.col("dropped_by").is_null() | (pl.col("dropped_by") >= "08"))
    assert (kept["solved"] == 0).all()
    # A fresh run gives the same bytes.
    run.run(s1k_with_k(15), corpus, tmp_path / "b")
    for name in ("traces.parquet", "selected.parquet"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    # More than the rows left is one clear error.
    with pytest.raises(BadInput, match=r"s1k.yaml line \d+: stage 10-select: k = 100000 but only \d+ rows"):
        run.run(s1k_with_k(100000), corpus, tmp_path / "c")


def test_builtin_s1k_cli_keeps_all_when_short(corpus, tmp_path, capsys):
    code, out, err = run_cli(["curate", "s1k", "--input", corpus, "--out", tmp_path / "run"], capsys)
    assert code == 0, err
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    sel = manifest["stages"][9]
    # Every problem left keeps its best trace: fewer rows than k keeps them all, one per problem.
    problems = sel["stats"]["available"]
    assert sel["stats"]["short_by"] == 1000 - problems and sel["rows_out"] == problems < sel["rows_in"]
    assert pq.read_metadata(tmp_path / "run" / "selected.parquet").num_rows == problems


def s1k_11_rows():
    base = {"solution": "The answer is $\\boxed{2}$.", "cot_type": "math", "source_type": "AI-MO/NuminaMath-CoT",
            "metadata": "{}", "cot": None, "thinking_trajectories": ["t"], "attempt": "a",
            "gemini_thinking_trajectory": "g", "gemini_attempt": "g", "gemini_grade": "Yes",
            "gemini_grade_reason": "ok", "deepseek_grade": "Yes", "deepseek_grade_reason": "ok"}
    questions = ["Find the remainder when 2^10 is divided by 7.",
                 "How many subsets of a 5-element set have exactly 2 elements?",
                 "Find the area of a circle of radius 3.",
                 "Prove that the sum of two even integers is even.",
                 "A ball is thrown upward at 10 m/s. How high does it rise?",
                 "[asy] draw((0,0)--(1,1)); [/asy] Find the length of the segment.",  # dropped: asy
                 "See the figure ![](fig.png) and find x.",  # dropped: image
                 "What is the derivative of x^3?"]
    rows = []
    for i, q in enumerate(questions):
        thinking = " ".join(["Let me think about this step by step."] * (i + 2)) + f" So the answer is {i}."
        rows.append(dict(base, question=q, solution=f"The answer is $\\boxed{{{i}}}$.",
                         deepseek_thinking_trajectory=thinking,
                         deepseek_attempt=f"The answer is $\\boxed{{{i}}}$."))
    rows.append(dict(rows[0], deepseek_attempt=""))  # dropped: no response
    return rows


def test_s1k_on_an_ingested_s1k_11_file(tmp_path, capsys):
    src = tmp_path / "s1K-1.1.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in s1k_11_rows()))
    code, _, err = run_cli(["ingest", src, "--out", tmp_path / "traces", "--preset", "s1k"], capsys)
    assert code == 0, err
    code, _, err = run_cli(["curate", "s1k", "--input", tmp_path / "traces", "--out", tmp_path / "run"], capsys)
    assert code == 0, err
    traces = pl.read_parquet(tmp_path / "run" / "traces.parquet")
    assert traces.height == 9
    reasons = dict(traces.group_by("drop_reason").len().iter_rows())
    assert reasons["image or Asymptote figure in the problem"] == 2
    assert reasons["missing problem, thinking or response"] == 1
    selected = pl.read_parquet(tmp_path / "run" / "selected.parquet")
    assert selected.height == 6 and selected["domain"].null_count() == 0
    assert selected["messages"][0][1]["content"].startswith("<think>\n")


def test_limo_on_synth(corpus, tmp_path, capsys):
    code, _, err = run_cli(["curate", "limo", "--input", corpus, "--out", tmp_path / "run"], capsys)
    assert code == 0, err
    traces = pl.read_parquet(tmp_path / "run" / "traces.parquet")
    kept = traces.filter(pl.col("dropped_by").is_null())
    # LIMO's 1-3 of 32 as a pass rate: with the synthetic corpus's 2 attempts per problem only the
    # problems no student solved are hard (the teacher's correct trace shows they can be solved).
    assert kept.height > 0 and (kept["pass_rate"] <= 3 / 32).all() and (kept["attempts"] > 0).all()
    assert (kept["verdict"] == "correct").all()
    easy = traces.filter(pl.col("dropped_by").str.ends_with("difficulty"))
    assert easy.height > 0 and (easy["solved"] > 0).all()
    assert kept["score"].is_not_null().all()


def test_tokenizer_not_found_exits_2(corpus, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = tmp_path / "r.yaml"
    path.write_text("name: r\nstages:\n  - budget: {tokenizer: no-org/no-tokenizer}\n")
    code, _, err = run_cli(["curate", path, "--input", corpus, "--out", tmp_path / "run"], capsys)
    assert code == 2 and err.count("\n") == 1 and "tokenizer 'no-org/no-tokenizer' not found" in err
    path.write_text("name: r\nstages:\n  - domain: {taxonomy: nope}\n")
    code, _, err = run_cli(["curate", path, "--input", corpus, "--out", tmp_path / "run2"], capsys)
    assert code == 2 and "taxonomy 'nope'" in err
    path.write_text("name: r\nstages:\n  - select: {k: 0}\n")
    code, _, err = run_cli(["curate", path, "--input", corpus, "--out", tmp_path / "run3"], capsys)
    assert code == 2 and "r.yaml line 3: stage 'select', key 'k'" in err
