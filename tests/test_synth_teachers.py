"""`synth --profile teachers`: raw outputs of several teachers, each in its own reasoning layout, with
every planted property recorded and true of the text."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import pytest

from curate import layouts, schema
from curate.synth import teachers
from curate.synth.teachers import COPRIME, SLOPE, TeachersConfig
from curate.text import normalize_for_dedup

CFG = TeachersConfig(problems=60, seed=3)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("teachers")
    result = teachers.write(CFG, out)
    rows = {}
    for path in result.written:
        rows[path.stem] = [json.loads(line) for line in path.read_text().splitlines()]
    return result, rows


def test_same_config_same_bytes(tmp_path, written):
    result, _ = written
    again = teachers.write(CFG, tmp_path)
    assert [p.read_bytes() for p in again.written] == [p.read_bytes() for p in result.written]
    other = teachers.write(TeachersConfig(problems=60, seed=4), tmp_path / "other")
    assert other.written[0].read_bytes() != result.written[0].read_bytes()


def test_one_file_per_teacher_in_its_layout(written):
    _, rows = written
    assert set(rows) == {t.name for t in CFG.teachers}
    by_layout = {t.layout: rows[t.name] for t in CFG.teachers}
    assert set(by_layout) == {"think", "think_no_open", "thought", "s1", "column", "none"}
    for layout, rs in by_layout.items():
        assert rs and all(r["synth"]["layout"] == layout for r in rs)
        done = [r for r in rs if r["synth"]["answered"]]
        assert done
        if layout == "think":
            assert all(r["response"].startswith("<think>\n") and "</think>" in r["response"] for r in done)
        if layout == "think_no_open":
            assert all("<think>" not in r["response"] and "\n</think>\n\n" in r["response"] for r in done)
        if layout == "thought":
            assert all(r["response"].startswith("<|begin_of_thought|>") and "<|end_of_solution|>" in r["response"]
                       for r in done)
        if layout == "s1":
            assert all(r["response"].startswith("think\n") and "\nanswer\nAnswer: " in r["response"] for r in done)
        if layout == "column":
            assert all(r["reasoning_content"] and "<think>" not in r["response"] for r in done)
        if layout == "none":
            assert all(layouts.markers_of(r["response"]) is None and "\\boxed" in r["response"] for r in done)
        # the planted layout is the one detection finds in the file
        texts = [r["response"] for r in rs]
        if layout != "column":
            assert layouts.detect(texts, [r.get("finish_reason") for r in rs]) == layout


def test_truncations_in_every_layout(written):
    _, rows = written
    for t in CFG.teachers:
        cut = [r for r in rows[t.name] if "truncated" in r["synth"]["planted"]]
        assert cut, t.name
        if t.records_finish:
            assert all(r["finish_reason"] == "length" for r in cut)
        else:
            assert all("finish_reason" not in r for r in rows[t.name])
        if t.layout == "think_no_open":   # R1-Distill cut off: no tag at all
            assert all("</think>" not in r["response"] and "<think>" not in r["response"] for r in cut)
        if t.layout == "think":
            assert all(r["response"].startswith("<think>") and "</think>" not in r["response"] for r in cut)
        if t.layout == "s1":
            assert all("\nanswer\n" not in r["response"] for r in cut)
        if t.layout == "thought":
            assert all("<|end_of_thought|>" not in r["response"] for r in cut)


def test_planted_problems(written):
    _, rows = written
    every = [r for rs in rows.values() for r in rs]
    kinds = Counter(r["synth"]["kind"] for r in every)
    assert {"answerable", "ill_posed", "premise_removed", "boilerplate"} <= set(kinds)
    for r in every:
        assert (r["gold"] is None) == (r["synth"]["kind"] in ("ill_posed", "premise_removed"))
        assert r["synth"]["answerable"] == (r["gold"] is not None)
    texts = {schema.problem_id(r["problem"]): r["problem"] for r in every}
    variants = [r for r in every if r["synth"]["kind"] == "premise_removed"]
    for r in variants:
        original = texts[r["synth"]["premise_removed_from"]]  # the original is in the corpus too
        removed = r["synth"]["removed"]
        assert removed in original and removed not in r["problem"]
        assert original.replace(removed + " ", "") == r["problem"]
        # close enough in words that MinHash takes them for one problem (word 5-gram Jaccard > 0.8)
        grams = [{tuple(w[i:i + 5]) for i in range(len(w) - 4)}
                 for w in (normalize_for_dedup(original).split(), normalize_for_dedup(r["problem"]).split())]
        assert len(grams[0] & grams[1]) / len(grams[0] | grams[1]) > 0.8
    phrases = Counter(r["synth"]["phrase"] for r in every if r["synth"]["kind"] == "boilerplate")
    assert set(phrases) == {SLOPE, COPRIME}
    assert all(r["synth"]["phrase"] in r["problem"] for r in every if r["synth"]["kind"] == "boilerplate")


def test_hard_problems_are_mostly_answered_wrong(written):
    _, rows = written
    solved = defaultdict(list)
    for r in (r for rs in rows.values() for r in rs):
        if r["synth"]["answered"] and r["synth"]["answerable"]:
            solved[r["synth"]["hard"]].append(not r["synth"]["wrong_answer"])
    rate = {hard: sum(v) / len(v) for hard, v in solved.items()}
    assert rate[True] < 0.45 < 0.85 < rate[False]


def test_several_teachers_answer_the_same_problems(written):
    _, rows = written
    teachers_of = defaultdict(set)
    for name, rs in rows.items():
        for r in rs:
            teachers_of[r["problem"]].add(name)
    assert max(len(v) for v in teachers_of.values()) >= 4
    assert sum(len(v) >= 2 for v in teachers_of.values()) > len(teachers_of) / 2
    # a teacher with several samples numbers them per problem
    r1 = Counter(r["problem"] for r in rows["deepseek-r1"])
    assert set(r1.values()) == {2}


def test_config_rejects_unknown_layout():
    with pytest.raises(ValueError, match="unknown"):
        TeachersConfig(teachers=[{"name": "x", "layout": "xml"}])


def test_cli_profile(tmp_path, capsys):
    from conftest import run_cli

    code, out, _ = run_cli(["synth", "--profile", "teachers", "--n", "8", "--seed", "1", "--out", tmp_path], capsys)
    assert code == 0 and "by 6 teachers" in out and "distillery ingest FILE --out TRACES --name TEACHER" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{t.name}.jsonl" for t in teachers.DEFAULT_TEACHERS)
    code, _, err = run_cli(["synth", "--profile", "nope", "--out", tmp_path / "x"], capsys)
    assert code == 2 and "expected default, procedural or teachers" in err
