"""The synthetic corpus: deterministic, schema-valid, and its recorded truth matches its content."""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter, defaultdict
from pathlib import Path

import pydantic
import pytest

from curate import schema, store
from curate.synth import SynthConfig, generate, write
from curate.synth.answers import Interval, Number, Pair, PiMultiple, RootSet, Surd
from curate.text import normalize_for_dedup

N = 3000


@pytest.fixture(scope="module")
def result():
    return generate(SynthConfig(n=N, seed=7))


@pytest.fixture(scope="module")
def rows(result):
    out = result.traces.to_pylist()
    for row in out:
        row["m"] = json.loads(row["meta"])
    return out


def last_boxed(text: str) -> str | None:
    """Contents of the last \\boxed{…}, braces matched."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, i = 0, start + len("\\boxed")
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i + 1:j]
    return None


def test_exact_row_count_valid_schema_and_families(result, rows):
    assert result.traces.num_rows == N
    assert schema.validate(result.traces, "synth") == []
    assert len({r["m"]["family"] for r in rows}) >= 10
    assert {r["teacher"] for r in rows} == {"synth-teacher"}
    assert all(r["source"] == f"synth/{r['m']['family']}" for r in rows)
    assert {r["finish_reason"] for r in rows} == {"stop", "length"}
    for key in ("family", "difficulty", "defects", "correct", "answer_form", "dup_of_problem"):
        assert all(key in r["m"] for r in rows), key


def test_samples_per_problem_vary_around_four(rows):
    k = Counter()  # samples per problem instance: sample_idx restarts at 0 for each instance
    instance = -1
    for r in rows:
        instance += r["sample_idx"] == 0
        k[instance] += 1
    assert all(r["sample_idx"] < 9 for r in rows)
    mean = sum(k.values()) / len(k)
    assert 3.5 < mean < 4.5 and len(set(k.values())) >= 6


def test_defect_rates_match_config(result, rows):
    rates = result.config.defects.model_dump()
    counts = Counter(d for r in rows for d in r["m"]["defects"])
    for name, rate in rates.items():
        spread = 5 if name in ("duplicate", "near_duplicate") else 1  # problem-level: rows come in groups
        tolerance = 4 * math.sqrt(rate * (1 - rate) * spread / N) + 0.005
        assert abs(counts[name] / N - rate) < tolerance, (name, counts[name] / N, rate)
    assert counts == result.defect_counts
    assert result.correct == sum(r["m"]["correct"] for r in rows)


def test_duplicates_normalise_to_their_original(rows):
    text_of = {r["problem_id"]: r["problem"] for r in rows if not r["m"]["dup_of_problem"]}
    dups = [r for r in rows if "duplicate" in r["m"]["defects"]]
    assert dups
    for r in dups:
        assert normalize_for_dedup(r["problem"]) == normalize_for_dedup(text_of[r["m"]["dup_of_problem"]])
    assert len({r["m"]["edits"][0] for r in dups}) >= 3  # identical, case, punctuation, whitespace


def test_near_duplicates_share_gold_but_not_text(rows):
    original = {r["problem_id"]: r for r in rows if not r["m"]["dup_of_problem"]}
    near = [r for r in rows if "near_duplicate" in r["m"]["defects"]]
    assert near
    for r in near:
        src = original[r["m"]["dup_of_problem"]]
        assert r["gold"] == src["gold"]
        assert r["m"]["family"] == src["m"]["family"]
        assert normalize_for_dedup(r["problem"]) != normalize_for_dedup(src["problem"])
    assert {"rename", "reword", "suffix"} <= {e for r in near for e in r["m"]["edits"]}


def test_near_duplicate_reorders_premises_and_keeps_the_answer():
    import random

    from curate.synth.defects import near_duplicate
    from curate.synth.families import FAMILIES

    rng = random.Random(0)
    problem = next(p for p in (FAMILIES["sequences"](rng, 2) for _ in range(200)) if p.reorderable > 1)
    edits, copy = [], problem
    while edits != ["reorder"]:
        copy, edits = near_duplicate(rng, problem, lambda text: False)
    assert copy.answer == problem.answer and copy.steps == problem.steps
    assert copy.sentences == (problem.sentences[1], problem.sentences[0], *problem.sentences[2:])


def test_originals_are_distinct(rows):
    originals = {r["problem"] for r in rows if not r["m"]["dup_of_problem"]}
    assert len({normalize_for_dedup(p) for p in originals}) == len(originals)


def test_truncated_rows_are_cut_off(rows):
    for r in rows:
        cut = "truncated" in r["m"]["defects"]
        assert (r["finish_reason"] == "length") == cut
        if cut:
            assert r["response"] == "" and r["m"]["answer"] is None and not r["m"]["correct"]
            assert r["thinking"][-1].isalnum()  # mid-word, so mid-sentence


def test_boxed_answer_agrees_with_correct_flag(rows):
    checked = 0
    for r in rows:
        boxed = last_boxed(r["response"])
        if "missing_boxed" in r["m"]["defects"] or "truncated" in r["m"]["defects"]:
            assert boxed is None and not r["m"]["correct"]
            continue
        assert boxed == r["m"]["answer"]
        if re.fullmatch(r"-?\d+", r["gold"]) and re.fullmatch(r"-?\d+(\{,\}\d{3})*", boxed):
            assert (int(boxed.replace("{,}", "")) == int(r["gold"])) == r["m"]["correct"], r
            checked += 1
    assert checked > N // 4


def test_correct_answers_use_varied_forms(rows):
    right = [r for r in rows if r["m"]["correct"]]
    assert 0.6 < len(right) / N < 0.85
    assert sum(r["m"]["answer"] != r["gold"] for r in right) > len(right) // 10
    assert len({r["m"]["answer_form"] for r in right}) >= 15


def test_text_defects_are_in_the_text(rows):
    for r in rows:
        defects = r["m"]["defects"]
        if "mixed_language" in defects:
            assert re.search(r"[\u4e00-\u9fff]", r["thinking"])
        else:
            assert not re.search(r"[\u4e00-\u9fff]", r["thinking"])
        if "repetition" in defects:
            unit = r["m"]["repetition"]["unit"]
            sep = "\n" if unit == "line" else "\n\n"
            parts = [p for p in r["thinking"].split(sep) if p]
            assert Counter(parts).most_common(1)[0][1] >= 12
        if "truncated" not in defects:
            assert r["response"].strip()
    lengths = defaultdict(list)
    for r in rows:
        lengths[r["m"]["length_class"]].append(len(r["thinking"]))
    mean = {k: sum(v) / len(v) for k, v in lengths.items()}
    assert mean["long"] > 5 * mean["normal"] > 25 * mean["short"]


def test_answer_forms_are_equivalent():
    from fractions import Fraction as F

    assert Number(F(1, 2)).forms() == {"frac": "\\frac{1}{2}", "dfrac": "\\dfrac{1}{2}", "slash": "1/2",
                                       "dfrac_short": "\\dfrac12", "decimal": "0.5"}
    assert Surd(F(2), 3).forms()["sqrt_combined"] == "\\sqrt{12}"
    assert PiMultiple(F(25, 4)).forms()["decimal_pi"] == "6.25\\pi"
    assert RootSet((F(1), F(2))).forms()["set"] == "\\{1, 2\\}"
    assert Interval(F(2), F(5), False, True).forms()["interval"] == "(2, 5]"
    assert Interval(F(2), F(5), False, True).forms()["inequality"] == "2 < x \\leq 5"
    assert Pair(F(3), F(-2)).forms()["equations"] == "x = 3, y = -2"


def test_percentage_wrong_answers_are_not_the_answer_with_its_sign_dropped():
    """`40\\%` written `0.4` or `40` is right (percent policy "either"), so no wrong value of a
    percentage problem may be 1/100 or 100 times its answer."""
    import random

    from curate.synth.families import percentages

    rng = random.Random(5)
    seen = 0
    for _ in range(400):
        problem = percentages(rng, rng.randint(1, 5))
        for w in problem.wrong:
            if w.percent or problem.answer.percent:
                seen += 1
                assert w.q not in (problem.answer.q, problem.answer.q * 100, problem.answer.q / 100), problem
    assert seen > 100


def test_attempts_follow_configured_solve_rates(result):
    cfg = result.config
    attempts = result.attempts.to_pylist()
    assert schema.validate(result.attempts, "attempts") == []
    assert {r["teacher"] for r in attempts} == {s.name for s in cfg.students}
    teacher_pids = set(result.traces.column("problem_id").to_pylist())
    assert {r["problem_id"] for r in attempts} == teacher_pids  # one set of attempts per distinct problem
    solved, total = Counter(), Counter()
    by_student = Counter()
    for r in attempts:
        m = json.loads(r["meta"])
        solved[m["family"]] += m["correct"]
        total[m["family"]] += 1
        by_student[r["teacher"]] += m["correct"]
        assert (last_boxed(r["response"]) == r["gold"]) <= m["correct"]  # same form as gold implies right
    measured = {f: solved[f] / total[f] for f in total}
    rates = cfg.solve_rates
    for a in measured:
        for b in measured:
            if rates[a] - rates[b] >= 0.25:
                assert measured[a] > measured[b], (a, b, measured)
    assert by_student["synth-student-large"] > by_student["synth-student-small"]


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path):
    def files(seed: int, name: str) -> dict[str, bytes]:
        out = tmp_path / name
        write(SynthConfig(n=800, seed=seed), out)
        return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.parquet"))}

    a, b, c = files(3, "a"), files(3, "b"), files(4, "c")
    assert list(a) == ["attempts/synth-00000.parquet", "synth-00000.parquet"]
    assert a == b
    assert a.keys() == c.keys() and all(a[k] != c[k] for k in a)
    assert store.load_traces(tmp_path / "a").num_rows == 800


def test_write_without_attempts_removes_stale_ones(tmp_path: Path):
    write(SynthConfig(n=100, seed=0), tmp_path)
    result = write(SynthConfig(n=100, seed=1, attempts=False), tmp_path)
    assert result.attempts is None
    assert not list((tmp_path / "attempts").glob("*.parquet"))
    assert "100 teacher traces" in result.summary()


def test_config_rejects_unknown_keys_and_bad_rates():
    with pytest.raises(pydantic.ValidationError):
        SynthConfig(n=10, bogus=1)
    with pytest.raises(pydantic.ValidationError):
        SynthConfig(n=10, defects={"truncated": 0.7, "missing_boxed": 0.5})
    with pytest.raises(pydantic.ValidationError):
        SynthConfig(n=10, families=["astrology"])
    cfg = SynthConfig(n=50, families=["arithmetic"], defects={"wrong_answer": 0.0, "duplicate": 0.0})
    rows = generate(cfg).traces.to_pylist()
    assert {json.loads(r["meta"])["family"] for r in rows} == {"arithmetic"}
    assert not any("wrong_answer" in json.loads(r["meta"])["defects"] for r in rows)


@pytest.mark.slow
def test_full_size_corpus_is_quick(tmp_path: Path):
    start = time.perf_counter()
    result = write(SynthConfig(n=60_000, seed=0), tmp_path)
    seconds = time.perf_counter() - start
    assert result.traces.num_rows == 60_000
    assert len(set(result.traces.column("trace_id").to_pylist())) == 60_000
    assert seconds < 60, seconds  # about 12 s on an idle laptop core; generous for shared machines


@pytest.mark.slow
def test_a_family_whose_levels_run_out_widens_its_numbers_instead_of_failing():
    """Quadratics has ~5,800 distinct problems at its five levels: a million-row pool (~23K per
    family) needs more. Past the point where the generator used to give up it draws wider numbers,
    still new texts, labelled level 5; without widening (the held-out split) it is one BadInput line."""
    import random

    from curate.errors import BadInput
    from curate.synth.instances import fresh
    from curate.text import normalize_for_dedup

    rng, seen, n = random.Random(0), set(), 0
    with pytest.raises(BadInput, match="quadratics ran out of distinct problems"):
        while True:
            fresh("quadratics", 5, rng, seen, widen=False)
            n += 1
    assert n > 1000
    more = [fresh("quadratics", 5, rng, seen) for _ in range(100)]
    assert {p.difficulty for p in more} == {5}
    keys = {normalize_for_dedup(p.text) for p in more}
    assert len(keys) == 100 and len(seen) == n + 100
