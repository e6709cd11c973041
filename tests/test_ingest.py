"""ingest: small files shaped like the real datasets (FORMATS.md), each imported by its preset."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import run_cli
from curate import ingest, schema
from curate.errors import BadInput
from curate.ingest.source import parse_hf
from curate.layouts import split_final_answer
from curate.verify.extract import last_boxed


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_parquet(path: Path, rows: list[dict]) -> Path:
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def rows_of(table: pa.Table) -> list[dict]:
    rows = table.to_pylist()
    for r in rows:
        r["meta"] = json.loads(r["meta"])
    return rows


def shard_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.parquet"))}


# ---------------------------------------------------------------------------------------- presets

S1K_V10 = {
    "question": "Find the remainder when 2^10 is divided by 7.",
    "solution": "Since 2^3 = 8 = 1 mod 7, 2^10 = 2 mod 7, so the answer is $\\boxed{2}$.",
    "cot_type": "math", "source_type": "AI-MO/NuminaMath-CoT/aops_forum",
    "metadata": "{'problem': 'x'}", "cot": None,
    "thinking_trajectories": ["2^3 is 8, which is 1 mod 7. So 2^10 = 2^9 * 2 = 2."],
    "attempt": "The remainder is 2.",
}


def s1k_11_rows() -> list[dict]:
    first = dict(S1K_V10,
                 gemini_thinking_trajectory="Gemini thinks: 2.", gemini_attempt="Gemini: 2",
                 deepseek_thinking_trajectory="Okay, 2^10 = 1024 = 146*7 + 2.\n**Final Answer**\n\\boxed{2}",
                 deepseek_attempt="The remainder is $\\boxed{2}$.",
                 gemini_grade="Yes", gemini_grade_reason="matches", deepseek_grade="Yes",
                 deepseek_grade_reason="correct")
    second = dict(first, question="What is the capital of France?", solution="Paris",
                  deepseek_thinking_trajectory="France's capital is Paris.", deepseek_attempt="Paris")
    third = dict(first, question="Explain why the sky is blue.",
                 solution="Rayleigh scattering: shorter wavelengths scatter more strongly,\nso blue dominates.",
                 deepseek_thinking_trajectory="Scattering goes as 1/lambda^4.",
                 deepseek_attempt="Because of Rayleigh scattering.")
    return [first, second, third]


def test_s1k_11_defaults_to_deepseek_and_derives_gold(tmp_path):
    src = write_parquet(tmp_path / "s1K-1.1.parquet", s1k_11_rows())
    table = ingest.load(src, preset="s1k")
    assert schema.validate(table, "x") == []
    rows = rows_of(table)
    assert [r["teacher"] for r in rows] == ["deepseek-r1"] * 3
    assert rows[0]["thinking"].startswith("Okay, 2^10") and rows[0]["response"] == "The remainder is $\\boxed{2}$."
    # Gold: the last \boxed of the reference solution, a short one-line solution, else null.
    assert [r["gold"] for r in rows] == ["2", "Paris", None]
    assert [r["source"] for r in rows] == ["s1K-1.1"] * 3
    assert [r["sample_idx"] for r in rows] == [0, 0, 0] and rows[0]["finish_reason"] is None
    meta = rows[0]["meta"]
    # Unmapped columns kept (the solution too); the other teacher's trace and grades left out.
    assert {"solution", "cot_type", "source_type", "metadata", "cot", "deepseek_grade",
            "deepseek_grade_reason", "layout"} == set(meta)
    assert meta["layout"] == "column"  # the trajectory is a reasoning column of its own
    assert meta["cot"] is None and meta["deepseek_grade"] == "Yes"


def test_s1k_gemini_choice_and_v10_columns(tmp_path):
    src = write_jsonl(tmp_path / "s1k11.jsonl", s1k_11_rows())
    rows = rows_of(ingest.load(src, preset="s1k", trace="gemini", teacher=None))
    assert rows[0]["thinking"] == "Gemini thinks: 2." and rows[0]["response"] == "Gemini: 2"
    assert rows[0]["teacher"] == "gemini-2.0-flash-thinking" and "gemini_grade" in rows[0]["meta"]
    assert "deepseek_grade" not in rows[0]["meta"]

    v10 = write_jsonl(tmp_path / "s1K.jsonl", [S1K_V10])
    (row,) = rows_of(ingest.load(v10, preset="s1k", teacher="gemini-exp-1219"))
    assert row["thinking"] == S1K_V10["thinking_trajectories"][0] and row["response"] == "The remainder is 2."
    assert row["teacher"] == "gemini-exp-1219"  # --teacher overrides the preset's default
    with pytest.raises(BadInput, match=r"s1K.jsonl: preset s1k with --trace deepseek needs columns "
                                       r"deepseek_thinking_trajectory, deepseek_attempt \(columns present: question"):
        ingest.load(v10, preset="s1k", trace="deepseek")
    with pytest.raises(BadInput, match=r"--trace claude: unknown for preset s1k \(known: deepseek, gemini\)"):
        ingest.load(v10, preset="s1k", trace="claude")


SYSTEM = "Your role as an assistant involves thoroughly exploring questions..."


def test_openthoughts_both_layouts(tmp_path):
    ot = "<|begin_of_thought|>\n\nAdd 2 and 2.\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n\\boxed{4}\n\n<|end_of_solution|>"
    rows = [
        {"system": SYSTEM, "conversations": [{"from": "user", "value": "What is 2+2?"},
                                             {"from": "assistant", "value": ot}]},
        {"system": SYSTEM, "conversations": [{"from": "human", "value": "What is 3+3?"},
                                             {"from": "gpt", "value": "<think>\n3+3=6\n</think>\n\n\\boxed{6}"}]},
        {"system": SYSTEM, "conversations": [{"from": "user", "value": "What is 4+4?"},
                                             {"from": "assistant", "value": "<think>4+4 is"}]},
    ]
    src = write_jsonl(tmp_path / "ot.jsonl", rows)
    result = ingest.ingest_to(src, tmp_path / "traces", preset="openthoughts")
    table = ingest.load(src, preset="openthoughts")
    assert schema.validate(table, "x") == []
    got = rows_of(table)
    assert [r["problem"] for r in got] == ["What is 2+2?", "What is 3+3?", "What is 4+4?"]
    assert [(r["thinking"], r["response"]) for r in got] == [("Add 2 and 2.", "\\boxed{4}"),
                                                            ("3+3=6", "\\boxed{6}"), ("4+4 is", "")]
    assert [r["teacher"] for r in got] == ["deepseek-r1", "unknown", "unknown"]
    assert got[0]["meta"] == {"system": SYSTEM, "layout": "thought"}
    assert [r["meta"]["layout"] for r in got] == ["thought", "think", "think"]
    # Never closed: not reported as complete, and counted in the summary.
    assert got[2]["meta"]["thinking_closed"] is False and got[2]["finish_reason"] is None
    assert "thinking_closed" not in got[1]["meta"]
    assert "1 row(s) whose thinking was never closed" in result.summary()


def openr1_rows() -> list[dict]:
    return [
        {"problem": "Compute 6*7.", "solution": "6*7=42", "answer": "42", "problem_type": "Algebra",
         "question_type": "math-word-problem", "source": "olympiads", "uuid": "u-1",
         "generations": ["<think>\n6*7=42\n</think>\n\n\\boxed{42}", "6 times 7 is 42</think>\\boxed{42}",
                         "<think>hmm, 6*7 = 41"],
         "is_reasoning_complete": [True, True, False], "correctness_math_verify": [True, True, False],
         "correctness_llama": None, "finish_reasons": ["stop", "stop", "length"], "correctness_count": 2,
         "messages": [{"role": "user", "content": "Compute 6*7."},
                      {"role": "assistant", "content": "<think>\n6*7=42\n</think>\n\n\\boxed{42}"}]},
        {"problem": "Compute 2^5.", "solution": "32", "answer": "32", "problem_type": "Algebra",
         "question_type": "math-word-problem", "source": "cn_contest", "uuid": "u-2",
         "generations": ["<think>2^5 = 32</think>\\boxed{32}", "<think>32 again</think>\\boxed{32}"],
         "is_reasoning_complete": [True, True], "correctness_math_verify": [True, False],
         "correctness_llama": [True, True], "finish_reasons": None, "correctness_count": 1,
         "messages": []},
    ]


def test_openr1_one_row_per_generation(tmp_path):
    src = write_parquet(tmp_path / "openr1.parquet", openr1_rows())
    result = ingest.ingest_to(src, tmp_path / "traces", preset="openr1-math")
    assert (result.rows_read, result.rows_written) == (2, 5)
    got = rows_of(ingest.load(src, preset="openr1-math"))
    assert schema.validate(ingest.load(src, preset="openr1-math"), "x") == []
    assert [r["sample_idx"] for r in got] == [0, 1, 2, 0, 1]
    assert [r["finish_reason"] for r in got] == ["stop", "stop", "length", None, None]
    assert [r["gold"] for r in got] == ["42", "42", "42", "32", "32"]
    assert {r["teacher"] for r in got} == {"deepseek-r1"}
    assert (got[0]["thinking"], got[0]["response"]) == ("6*7=42", "\\boxed{42}")
    assert (got[1]["thinking"], got[1]["response"]) == ("6 times 7 is 42", "\\boxed{42}")  # no opening tag
    assert (got[2]["thinking"], got[2]["response"]) == ("hmm, 6*7 = 41", "")
    # Per-generation values as scalars; row columns kept; the copied messages left out.
    m0, m2, m4 = got[0]["meta"], got[2]["meta"], got[4]["meta"]
    assert m0 == {"correctness_math_verify": True, "is_reasoning_complete": True, "correctness_llama": None,
                  "solution": "6*7=42", "problem_type": "Algebra", "question_type": "math-word-problem",
                  "source": "olympiads", "uuid": "u-1", "correctness_count": 2, "layout": "think"}
    assert m2["correctness_math_verify"] is False and m2["thinking_closed"] is False
    assert m4["correctness_math_verify"] is False and m4["correctness_llama"] is True
    assert "1 row(s) whose thinking was never closed" in result.summary()
    assert "2 problems → 5 generations" in result.summary()


def test_limo_splits_the_final_answer(tmp_path):
    rows = [
        {"question": "Find x if 2x = 10.", "answer": "5",
         "solution": "Okay, so 2x = 10.\n\nDividing, x = 5.\n\n**Final Answer**\n\\boxed{5}"},
        {"question": "Find y if y - 1 = 2.", "answer": 3,
         "solution": "We need y.\n\nAdding one gives y = 3.\n\nThus the answer is \\boxed{3}."},
        {"question": "Name a prime.", "answer": 2, "solution": "Two is prime."},
    ]
    table = ingest.load(write_jsonl(tmp_path / "limo.jsonl", rows[:1]), preset="limo")
    assert schema.validate(table, "x") == []
    # Parquet with an integer answer column: gold is text.
    got = rows_of(ingest.load(write_parquet(tmp_path / "limo.parquet", rows[1:]), preset="limo"))
    (first,) = rows_of(table)
    assert first["thinking"] == "Okay, so 2x = 10.\n\nDividing, x = 5." and first["response"] == "**Final Answer**\n\\boxed{5}"
    assert first["gold"] == "5" and first["teacher"] == "unknown" and first["meta"] == {"layout": "final_answer"}
    assert (got[0]["thinking"], got[0]["response"]) == ("We need y.\n\nAdding one gives y = 3.",
                                                        "Thus the answer is \\boxed{3}.")
    assert (got[1]["thinking"], got[1]["response"], got[1]["gold"]) == ("", "Two is prime.", "2")
    assert [r["meta"]["layout"] for r in got] == ["final_answer", "unmatched"]  # kept whole, flagged


def test_messages_with_tags_and_separate_reasoning(tmp_path):
    rows = [
        {"messages": [{"role": "system", "content": "Be brief.", "reasoning_content": None},
                      {"role": "user", "content": "What is 5-3?", "reasoning_content": None},
                      {"role": "assistant", "content": "<think>5-3=2</think>\n\\boxed{2}", "reasoning_content": None}],
         "num_tokens": 42, "source": "math"},
        {"messages": [{"role": "user", "content": "What is 9/3?", "reasoning_content": None},
                      {"role": "assistant", "content": "\\boxed{3}", "reasoning_content": "nine over three"}],
         "num_tokens": 17, "source": "math"},
        {"messages": [{"role": "user", "content": "Hi", "reasoning_content": None},
                      {"role": "assistant", "content": "Hello", "reasoning_content": None},
                      {"role": "user", "content": "What is 1+2?", "reasoning_content": None},
                      {"role": "assistant", "content": "<think>1+2=3</think>3", "reasoning_content": None}],
         "num_tokens": 9, "source": "chat"},
    ]
    got = rows_of(ingest.load(write_parquet(tmp_path / "mot.parquet", rows), preset="messages", source="mot"))
    assert [(r["problem"], r["thinking"], r["response"]) for r in got] == [
        ("What is 5-3?", "5-3=2", "\\boxed{2}"), ("What is 9/3?", "nine over three", "\\boxed{3}"),
        ("What is 1+2?", "1+2=3", "3")]
    assert got[0]["meta"] == {"num_tokens": 42, "source": "math", "system": "Be brief.", "layout": "think"}
    assert got[1]["meta"]["layout"] == "column"
    assert got[2]["meta"]["other_turns"] == [{"role": "user", "content": "Hi"},
                                             {"role": "assistant", "content": "Hello"}]
    assert {r["source"] for r in got} == {"mot"}


def test_generic_mapping_and_sample_idx_by_appearance(tmp_path):
    rows = [
        {"question": "Q1", "cot": "think a", "answer_text": "A", "answer": 1, "model": "m1", "extra": [1, 2]},
        {"question": "Q1", "cot": "think b", "answer_text": "B", "answer": 1, "model": "m1", "extra": None},
        {"question": "Q1", "cot": "think c", "answer_text": "C", "answer": 1, "model": "m2", "extra": None},
        {"question": "Q2", "cot": "think d", "answer_text": "D", "answer": 2.5, "model": None, "extra": None},
    ]
    src = write_jsonl(tmp_path / "mine.jsonl", rows)
    got = rows_of(ingest.load(src, preset="generic", teacher="fallback",
                              mapping="problem=question, thinking=cot,response=answer_text,gold=answer,teacher=model"))
    assert [r["sample_idx"] for r in got] == [0, 1, 0, 0]  # per (problem, teacher), in order
    assert [r["teacher"] for r in got] == ["m1", "m1", "m2", "fallback"]
    assert [r["gold"] for r in got] == ["1", "1", "1", "2.5"]
    assert got[0]["meta"] == {"extra": [1, 2], "layout": "column"} and got[1]["meta"] == {"extra": None, "layout": "column"}
    # Without a thinking column, R1 tags in the response are split.
    tagged = write_jsonl(tmp_path / "tagged.jsonl", [{"problem": "Q", "response": "<think>t</think>r", "k": 1}])
    (row,) = rows_of(ingest.load(tagged, preset="generic"))  # same-named columns need no --map
    assert (row["thinking"], row["response"], row["meta"]) == ("t", "r", {"k": 1, "layout": "think"})


def test_csv_and_parquet_folder_sources(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("problem,response,gold,idx\nWhat is 7?,<think>7</think>7,7,3\n", encoding="utf-8")
    (row,) = rows_of(ingest.load(csv, preset="generic", mapping="sample_idx=idx"))
    assert (row["sample_idx"], row["gold"], row["source"]) == (3, "7", "t")
    folder = tmp_path / "shards"
    folder.mkdir()
    write_parquet(folder / "a.parquet", openr1_rows()[:1])
    write_parquet(folder / "b.parquet", openr1_rows()[1:])
    table = ingest.load(folder, preset="openr1-math")
    assert table.num_rows == 5 and set(table.column("source").to_pylist()) == {"shards"}


def test_reingest_is_byte_identical_and_leaves_other_prefixes(tmp_path):
    src = write_parquet(tmp_path / "openr1.parquet", openr1_rows())
    out = tmp_path / "traces"
    out.mkdir()
    (out / "limo-00000.parquet").write_bytes(b"other")
    ingest.ingest_to(src, out, preset="openr1-math")
    first = shard_bytes(out)
    with pytest.raises(BadInput, match=r"traces: already holds 1 shard\(s\) of prefix openr1-math "
                                       r"\(openr1-math-00000.parquet\); --replace"):
        ingest.ingest_to(src, out, preset="openr1-math")
    assert shard_bytes(out) == first
    ingest.ingest_to(src, out, preset="openr1-math", replace=True)
    assert shard_bytes(out) == first and set(first) == {"limo-00000.parquet", "openr1-math-00000.parquet"}
    ingest.ingest_to(src, out, preset="openr1-math", name="r1")
    assert (out / "r1-00000.parquet").read_bytes() == first["openr1-math-00000.parquet"]


def test_helpers():
    assert last_boxed("a \\boxed{\\frac{1}{2}} b \\boxed{x^{2}}") == "x^{2}"
    assert last_boxed("\\boxed 7 done") == "7" and last_boxed("\\boxed{unclosed") is None
    assert last_boxed("no box") is None
    assert split_final_answer("one paragraph") == ("", "one paragraph")
    assert parse_hf("hf:open-r1/OpenR1-Math-220k:extended") == ("open-r1/OpenR1-Math-220k", "extended", "train")
    assert parse_hf("hf:GAIR/LIMO::test") == ("GAIR/LIMO", None, "test")


# -------------------------------------------------------------------------------------------- CLI

def test_cli_ingest(tmp_path, capsys):
    src = write_jsonl(tmp_path / "s1k.jsonl", s1k_11_rows())
    out = tmp_path / "traces"
    code, stdout, _ = run_cli(["ingest", src, "--preset", "s1k", "--out", out, "--trace", "deepseek"], capsys)
    assert code == 0 and "3 rows read" in stdout and "s1k-00000.parquet" in stdout
    code, stdout, _ = run_cli(["validate", out], capsys)
    assert code == 0


BAD_CASES = {
    "unknown preset": (["--preset", "nope"], "unknown preset 'nope' (known: generic, limo, messages, "
                                             "openr1-math, openthoughts, s1k)"),
    "missing column": (["--preset", "limo"], "preset limo needs column solution (columns present: question, conversations)"),
    "wrong type": (["--preset", "openthoughts"], "column conversations has type string, expected a list of {from, value} turns"),
    "bad map item": (["--map", "problem=question,cot"], "--map: item 'cot' is not KEY=COLUMN"),
    "unknown map key": (["--map", "problem=question,answer=x"], "--map: unknown key 'answer' in 'answer=x'"),
    "map column absent": (["--map", "problem=question,response=nope"],
                          "preset generic (from --map) needs column nope (columns present: question, conversations)"),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_cli_bad_input(tmp_path, capsys, case):
    src = write_jsonl(tmp_path / "bad.jsonl", [{"question": "Q?", "conversations": "not a list"}])
    out = tmp_path / "traces"
    args, message = BAD_CASES[case]
    code, _, err = run_cli(["ingest", src, "--out", out, *args], capsys)
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert not out.exists()


def test_cli_bad_rows_and_files(tmp_path, capsys):
    out = tmp_path / "traces"
    empty_problem = write_jsonl(tmp_path / "e.jsonl", [{"question": "ok", "solution": "s"},
                                                       {"question": "  ", "solution": "s"}])
    null_problem = write_jsonl(tmp_path / "n.jsonl", [{"question": None, "solution": "s"}])
    empty_file = tmp_path / "empty.jsonl"
    empty_file.write_text("")
    twice = write_jsonl(tmp_path / "d.jsonl", [{"problem": "Q", "response": "A", "sample_idx": 0}] * 2)
    no_turn = write_jsonl(tmp_path / "t.jsonl", [{"messages": [{"role": "user", "content": "Q"}]}])
    cases = [
        ([empty_problem, "--preset", "limo"], "e.jsonl: row 1: column question: the problem is empty"),
        ([null_problem, "--preset", "limo"], "n.jsonl: row 0: column question: the problem is null"),
        ([empty_file, "--preset", "limo"], "empty.jsonl: file is empty"),
        ([tmp_path / "absent.jsonl"], "absent.jsonl: no such file or folder"),
        ([no_turn, "--preset", "messages"], "t.jsonl: row 0: column messages has no assistant turn"),
        ([twice], "d.jsonl: row 1: trace_id"),
        ([null_problem, "--preset", "limo", "--map", "problem=q"], "--map applies to --preset generic, not limo"),
    ]
    for args, message in cases:
        code, _, err = run_cli(["ingest", *args, "--out", out], capsys)
        assert code == 2 and message in err and err.count("\n") == 1, (args, err)
        assert not out.exists()


def test_hf_source_that_cannot_load(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    code, _, err = run_cli(["ingest", "hf:no-such-org/no-such-dataset", "--preset", "limo",
                            "--out", tmp_path / "traces"], capsys)
    assert code == 2 and err.startswith("error: hf:no-such-org/no-such-dataset: cannot load the dataset")
    assert err.count("\n") == 1 and not (tmp_path / "traces").exists()


def test_hf_source_through_datasets(tmp_path, monkeypatch):
    # `datasets` also loads a local folder by name: the same code path as hf:org/name, offline.
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    folder = tmp_path / "limo-hub"
    folder.mkdir()
    write_jsonl(folder / "train.jsonl", [{"question": "Find x if 2x = 10.", "answer": "5",
                                         "solution": "2x = 10.\n\n**Final Answer**\n\\boxed{5}"}])
    (row,) = rows_of(ingest.load(f"hf:{folder}", preset="limo"))
    assert (row["gold"], row["response"], row["source"]) == ("5", "**Final Answer**\n\\boxed{5}", str(folder))


# ---------------------------------------------------------------------------- layouts, source, prefixes

def test_every_teacher_of_the_synth_corpus_keeps_its_reasoning(tmp_path):
    """`synth --profile teachers` writes each layout; auto-detection finds it and no reasoning is lost."""
    from curate.synth import teachers

    corpus = teachers.write(teachers.TeachersConfig(problems=40, seed=5), tmp_path / "raw")
    out = tmp_path / "traces"
    for path, cfg in zip(corpus.written, corpus.config.teachers):
        result = ingest.ingest_to(path, out, name=cfg.name)
        summary = result.summary()
        assert f"layout {cfg.layout} (detected in {path})" in summary, summary
        assert "fit no layout" not in summary
        rows = rows_of(ingest.load(path))
        cut = [r for r in rows if "truncated" in r["meta"]["synth"]["planted"]]
        done = [r for r in rows if r["meta"]["synth"]["answered"]]
        assert {r["meta"]["layout"] for r in rows} == {cfg.layout}
        if cfg.layout == "none":
            assert all(r["thinking"] == "" for r in rows)
            continue
        assert all(r["thinking"] and r["response"] for r in done), cfg.name       # nothing lost
        assert all(r["thinking"] and r["response"] == "" for r in cut), cfg.name
        assert all(r["meta"]["thinking_closed"] is False for r in cut), cfg.name  # flagged, whatever the finish
        unclosed = sum(r["meta"].get("thinking_closed") is False for r in rows)
        assert f"{unclosed:,} row(s) whose thinking was never closed" in summary
        for r in done:
            for tag in ("<think>", "</think>", "<|begin_of_thought|>", "<|begin_of_solution|>", "\nanswer\n"):
                assert tag not in r["thinking"] and tag not in r["response"], (cfg.name, tag)
    from curate import validate

    report = validate.validate_path(out)
    assert report.ok and not report.clean
    assert any("thinking never closed" in p for p in report.content)
    assert any(f.startswith("layouts (meta layout): think=") for f in report.facts)


def test_layout_option_and_unmatched_rows(tmp_path, capsys):
    rows = [{"problem": f"Q{i}", "response": f"<think>\nstep {i}\n</think>\n\n\\boxed{{{i}}}"} for i in range(3)]
    rows.append({"problem": "Q9", "response": "I did not think: \\boxed{9}"})
    src = write_jsonl(tmp_path / "r1.jsonl", rows)
    result = ingest.ingest_to(src, tmp_path / "traces")
    assert "layout think (detected in" in result.summary() and "3 of 4 rows fit it" in result.summary()
    assert "1 fit no layout: kept whole in response" in result.summary()
    got = rows_of(ingest.load(src))
    assert (got[3]["thinking"], got[3]["response"], got[3]["meta"]["layout"]) == (
        "", "I did not think: \\boxed{9}", "unmatched")
    # --layout none: the tags are not read, every row is response
    assert {r["meta"]["layout"] for r in rows_of(ingest.load(src, layout="none"))} == {"none"}
    code, _, err = run_cli(["ingest", src, "--out", tmp_path / "o", "--layout", "xml"], capsys)
    assert code == 2 and err.count("\n") == 1 and "--layout xml: expected one of auto, think" in err
    code, _, err = run_cli(["ingest", src, "--out", tmp_path / "o", "--preset", "s1k", "--layout", "think"], capsys)
    assert code == 2 and "--layout think: this preset reads a separate reasoning column" in err


def test_reasoning_content_column_and_r1_distill_file(tmp_path):
    rows = [{"problem": "Q1", "reasoning_content": "two and two", "response": "\\boxed{4}"},
            {"problem": "Q2", "reasoning_content": "", "response": "<think>inline</think>\\boxed{5}"}]
    got = rows_of(ingest.load(write_jsonl(tmp_path / "api.jsonl", rows)))
    assert [(r["thinking"], r["response"], r["meta"]["layout"]) for r in got] == [
        ("two and two", "\\boxed{4}", "column"), ("inline", "\\boxed{5}", "think")]
    distill = [{"problem": "Q1", "response": "Okay, 2 + 2 = 4.\n</think>\n\n\\boxed{4}", "finish_reason": "stop"},
               {"problem": "Q2", "response": "Okay, so 7 times 8 is", "finish_reason": None}]
    got = rows_of(ingest.load(write_jsonl(tmp_path / "distill.jsonl", distill)))
    assert got[1]["thinking"] == "Okay, so 7 times 8 is" and got[1]["meta"]["thinking_closed"] is False
    assert got[1]["finish_reason"] is None  # the data does not say why it stops


def test_source_option_wins_over_the_data(tmp_path):
    rows = [{"problem": "Q1", "response": "\\boxed{1}", "source": "openai/gsm8k"},
            {"problem": "Q2", "response": "\\boxed{2}", "source": None}]
    src = write_jsonl(tmp_path / "mixed.jsonl", rows)
    result = ingest.ingest_to(src, tmp_path / "traces", source="gsm8k")
    got = rows_of(ingest.load(src, source="gsm8k"))
    assert [r["source"] for r in got] == ["gsm8k", "gsm8k"]
    assert got[0]["meta"]["original_source"] == "openai/gsm8k" and "original_source" not in got[1]["meta"]
    assert ("source: gsm8k (--source; over the data's source column, whose 1 value(s) are kept in meta "
            "original_source)") in result.summary()
    # without the option the data's value counts, and the summary says so
    plain = ingest.ingest_to(src, tmp_path / "t2")
    assert [r["source"] for r in rows_of(ingest.load(src))] == ["openai/gsm8k", "mixed"]
    assert "source: the data's source column (openai/gsm8k); 1 row(s) without one: mixed" in plain.summary()


def test_existing_prefix_refuses_replaces_or_appends(tmp_path, capsys):
    first = write_jsonl(tmp_path / "a.jsonl", [{"problem": f"Q{i}", "response": f"\\boxed{{{i}}}"} for i in range(3)])
    second = write_jsonl(tmp_path / "b.jsonl", [{"problem": "Q9", "response": "\\boxed{9}"}])
    out = tmp_path / "traces"
    ingest.ingest_to(first, out)
    before = shard_bytes(out)
    code, _, err = run_cli(["ingest", second, "--out", out], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "traces: already holds 1 shard(s) of prefix generic (generic-00000.parquet); --replace" in err
    assert shard_bytes(out) == before  # nothing written, nothing lost
    code, stdout, _ = run_cli(["ingest", second, "--out", out, "--append"], capsys)
    assert code == 0 and "appended under prefix generic.2" in stdout
    assert set(shard_bytes(out)) == {"generic-00000.parquet", "generic.2-00000.parquet"}
    assert shard_bytes(out)["generic-00000.parquet"] == before["generic-00000.parquet"]
    # appending rows the folder already holds would repeat their trace ids
    code, _, err = run_cli(["ingest", first, "--out", out, "--append"], capsys)
    assert code == 2 and "--append: row 0 is already in" in err and err.count("\n") == 1
    code, _, err = run_cli(["ingest", second, "--out", out, "--append", "--replace"], capsys)
    assert code == 2 and "--replace and --append" in err
    code, stdout, _ = run_cli(["ingest", second, "--out", out, "--replace"], capsys)
    assert code == 0 and "replaced 1 shard(s) of prefix generic" in stdout
    assert len(ingest.load(out / "generic-00000.parquet", preset="generic")) == 1


def test_type_clash_names_the_field_and_lines(tmp_path, capsys):
    rows = [{"problem": "Q1", "response": "A", "info": {"tags": "algebra"}},
            {"problem": "Q2", "response": "B", "info": {"tags": None}},
            {"problem": "Q3", "response": "C", "info": {"tags": ["geometry"]}}]
    src = write_jsonl(tmp_path / "clash.jsonl", rows)
    code, _, err = run_cli(["ingest", src, "--out", tmp_path / "traces"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "clash.jsonl: field info.tags is text at line 1 and a list at line 3" in err
    assert not (tmp_path / "traces").exists()


def test_a_layout_that_would_lose_a_reasoning_field_is_refused(tmp_path):
    rows = [{"messages": [{"role": "user", "content": "Q"},
                          {"role": "assistant", "content": "\\boxed{3}", "reasoning_content": "nine over three"}]}]
    src = write_jsonl(tmp_path / "chat.jsonl", rows)
    with pytest.raises(BadInput, match=r"--layout think: 1 row\(s\) of .*chat.jsonl carry their reasoning"):
        ingest.load(src, preset="messages", layout="think")
    (row,) = rows_of(ingest.load(src, preset="messages", layout="column"))
    assert (row["thinking"], row["meta"]["layout"]) == ("nine over three", "column")


def test_validate_names_reasoning_left_unsplit(tmp_path, capsys):
    """What the pipeline did to s1.1 rows before layouts: thinking '' and the lines in the response."""
    from conftest import trace_table
    from curate import store

    rows = trace_table().to_pylist()[:2]
    rows[0].update(thinking="", response="think\nOkay, 2 + 2.\nanswer\nAnswer: \\boxed{4}")
    table = schema.with_ids(pa.Table.from_pylist(rows, schema=trace_table().schema))
    store.save_traces(table, tmp_path / "t", prefix="old")
    code, out, _ = run_cli(["validate", tmp_path / "t"], capsys)
    assert code == 0 and "no problems found" not in out
    assert "1 row(s) with s1.1 think/answer lines left in the response" in out
    assert "1 row(s) with empty thinking" in out
