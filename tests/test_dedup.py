"""dedup: planted duplicates, keep policies, problem-level semantics, incremental index, semantic,
the stage in a recipe, and the command's one-line errors."""

import json

import numpy as np
import polars as pl
import pytest

from conftest import ListingMapper, brute_force_pairs, run_cli, templated_texts, trace_table
from curate import recipe, run, store
from curate.dedup import dedup_table
from curate.errors import BadInput

PROBLEMS = [
    "A bag holds 5 red marbles and 7 blue marbles. Two marbles are drawn at random without replacement. "
    "What is the probability that both marbles drawn are red? Express your answer as a common fraction.",
    "A train leaves the station at nine in the morning and travels at sixty miles per hour toward a city "
    "three hundred miles away. A second train leaves the city at ten. When do the two trains meet?",
    "Find the number of ordered pairs of positive integers (a, b) such that the least common multiple "
    "of a and b is 200 and their greatest common divisor is 10. Justify every step of the count.",
    "A regular hexagon is inscribed in a circle of radius 4. Compute the area of the region inside the "
    "circle but outside the hexagon, leaving your answer in terms of pi and in simplest radical form.",
    "The sum of the first n odd positive integers is known to be a perfect square for every n. Prove "
    "this claim by induction, then use it to compute the sum of all odd integers from 1 to 99.",
    "How many distinct arrangements of the letters of the word BANANA are there in which no two of the "
    "letters A stand next to each other? Give a complete count and explain the method you used.",
]


def planted() -> pl.DataFrame:
    """Problems 0..5 distinct, plus an edited copy of 1 and of 4."""
    problems = list(PROBLEMS)
    problems.append(problems[1].replace("trains meet?", "trains meet each other?"))
    problems.append(problems[4] + " Show your work.")  # copy of 4
    return pl.DataFrame({"id": [f"p{i}" for i in range(8)], "problem": problems,
                         "thinking": ["x" * k for k in (5, 1, 5, 5, 1, 5, 9, 9)],
                         "verdict": ["correct", "wrong", "correct", "correct", "correct", "correct",
                                     "correct", "wrong"],
                         "score": [1.0, 2.0, 1.0, 1.0, 3.0, 1.0, 5.0, None]})


def kept(frame, result):
    out = pl.concat([frame, result.columns], how="horizontal")
    return out.filter(pl.col("dup_cluster").is_not_null()).select("id", "dup_of", "dup_sim", "drop_reason")


def test_planted_near_duplicates_found():
    frame = planted().drop("verdict")  # the policy alone: file order
    res = dedup_table(frame, method="minhash", threshold=0.8)
    out = pl.concat([frame, res.columns], how="horizontal")
    dropped = out.filter(pl.col("drop_reason").is_not_null())["id"].to_list()
    assert dropped == ["p6", "p7"]  # the edited copies
    assert out.filter(pl.col("id") == "p6")["dup_of"].item() == "p1"
    assert out.filter(pl.col("id") == "p7")["dup_of"].item() == "p4"
    assert res.stats["clusters"] == 2 and res.stats["bands"] == 16 and res.stats["rows"] == 8
    sims = out.filter(pl.col("id").is_in(["p1", "p6"])).sort("id")["dup_sim"].to_list()
    assert sims[0] == 1.0 and 0.8 <= sims[1] < 1.0


@pytest.mark.parametrize("keep,survivors,verdicts", [
    ("first", {"p1", "p4"}, False),
    ("longest", {"p6", "p7"}, False),
    ("first", {"p6", "p4"}, True),  # a correct verdict first: p1 and p7 are wrong
    ("longest", {"p6", "p4"}, True),
    ("verified", {"p6", "p4"}, True),
    ("score", {"p6", "p4"}, True),  # p6 scores 5 > 2; p4 scores 3 > null
])
def test_keep_policies(keep, survivors, verdicts):
    frame = planted() if verdicts else planted().drop("verdict")
    out = kept(frame, dedup_table(frame, method="minhash", keep=keep))
    assert set(out.filter(pl.col("drop_reason").is_null())["id"]) == survivors
    assert set(out["dup_of"]) == survivors


def test_keep_policy_needs_its_column():
    with pytest.raises(BadInput, match="keep 'verified' needs a 'verdict' column"):
        dedup_table(planted().drop("verdict"), keep="verified")


def test_keep_prefers_the_answerable_copy_over_file_order():
    # MATH-500-style: a problem and its premise-stripped (unanswerable) copy, the copy first in file
    # order and without gold. Another sentence count: not even a near duplicate.
    full = ("Let $x$ be a positive real number such that the product of $x$ and the number three more than it "
            "is exactly equal to the number that is four times the sum of them. What is the value of $x$?")
    stripped = "Let $x$ be a positive real number. What is the value of $x$?"
    frame = pl.DataFrame({"id": ["a", "b"], "problem": [stripped, full], "gold": [None, "6"]})
    assert dedup_table(frame, method="minhash", threshold=0.3).columns["drop_reason"].null_count() == 2
    # A copy with one premise sentence removed of three: the same numbers and most shingles.
    premise = "The field is twice as long as it is wide. "
    body = ("A farmer has a rectangular field. " + premise + "The field is fenced on all four sides with wire "
            "that costs 3 dollars per metre, and the total cost was 600 dollars. ")
    premise_gone = body.replace(premise, "The field is two times as long as it is wide. ")
    question = "How wide is the field in metres?"
    rows = pl.DataFrame({"id": ["copy", "orig"], "problem": [premise_gone + question, body + question],
                         "gold": [None, "60"], "verdict": ["no_gold", "correct"]})
    res = dedup_table(rows, method="minhash", threshold=0.5, ngram=3)
    out = pl.concat([rows, res.columns], how="horizontal")
    assert out.filter(pl.col("drop_reason").is_not_null())["id"].to_list() == ["copy"]  # kept: the answerable
    # With the premise removed it is another problem, even above the threshold.
    removed = body.replace(premise, "") + question
    both = pl.DataFrame({"id": ["removed", "orig"], "problem": [removed, body + question]})
    res = dedup_table(both, method="minhash", threshold=0.5, ngram=3)
    assert res.columns["drop_reason"].null_count() == 2 and res.stats["pairs_with_other_question"] == 1


def test_samples_of_one_problem_are_not_duplicates():
    table = pl.from_arrow(trace_table())
    res = dedup_table(table, method="minhash", threshold=0.8)
    out = pl.concat([table, res.columns], how="horizontal")
    # "What is 2 + 2?" (3 samples) and "what is 2 + 2" (1 sample) are one problem twice:
    # the first problem keeps all its samples, the other problem's row is dropped.
    group = out.filter(pl.col("dup_cluster").is_not_null())
    assert group.height == 4
    assert group.filter(pl.col("drop_reason").is_not_null())["problem"].to_list() == ["what is 2 + 2"]
    assert out["drop_reason"].drop_nulls().to_list() == ["exact duplicate"]
    # Same rows as exact dedup: the exact method agrees with the exact_dedup stage.
    exact = dedup_table(table, method="exact")
    assert exact.columns["drop_reason"].to_list() == res.columns["drop_reason"].to_list()


def test_incremental_dedup_against_saved_index(tmp_path):
    frame = planted().with_columns(pl.lit("correct").alias("verdict"))  # file order decides
    first = frame.filter(pl.col("id").is_in(["p0", "p1", "p2", "p3", "p6"]))
    index = tmp_path / "seen.parquet"
    r1 = dedup_table(first, method="minhash", save_index=index)
    assert r1.stats["index_size"] == 4  # p6 was a duplicate of p1 within the batch
    batch = frame.filter(pl.col("id").is_in(["p4", "p5", "p7"])).vstack(
        pl.DataFrame({"id": ["q1"], "problem": [frame["problem"][1] + " Simplify."], "thinking": ["x"],
                      "verdict": ["correct"], "score": [1.0]}))
    r2 = dedup_table(batch, method="minhash", index=index, save_index=index)
    out = pl.concat([batch, r2.columns], how="horizontal")
    q1 = out.filter(pl.col("id") == "q1").row(0, named=True)
    assert q1["dup_of"] == "p1" and q1["drop_reason"].startswith("near duplicate of an indexed row")
    assert out.filter(pl.col("id") == "p7")["dup_of"].item() == "p4"  # within the batch still
    assert r2.stats["index_matches"] == 1 and r2.stats["index_size"] == 6


@pytest.mark.slow
def test_semantic_pairs_paraphrases():
    pytest.importorskip("sentence_transformers")
    frame = pl.DataFrame({"problem": [
        "How many positive divisors does the number 36 have?",
        "What is the number of positive divisors of 36?",
        "A rectangle has a perimeter of 30 cm and a length of 9 cm. Find its area.",
        "Find the area of a rectangle whose perimeter is 30 cm and whose length is 9 cm.",
        "Name the capital city of France.",
    ]})
    res = dedup_table(frame, method="semantic", threshold=0.8)
    out = pl.concat([frame.with_row_index("row"), res.columns], how="horizontal")
    assert out["dup_of"].to_list() == ["0", "0", "2", "2", None]
    assert out["drop_reason"].to_list()[1].startswith("semantic duplicate")
    assert out["dup_sim"][1] >= 0.8


def test_dedup_stage_in_a_recipe(traces_dir, tmp_path):
    text = "name: t\nstages:\n  - dedup: {method: minhash, on: problem, threshold: 0.8, keep: longest}\n"
    res = run.run(recipe.parse(text, "t.yaml"), traces_dir, tmp_path / "run")
    traces = pl.read_parquet(tmp_path / "run" / "traces.parquet")
    assert traces.filter(pl.col("dropped_by") == "01-dedup").height == 1
    assert {"dup_cluster", "dup_of", "dup_sim"} <= set(traces.columns)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    stage = next(s for s in manifest["stages"] if s["stage"] == "01-dedup")
    assert stage["stats"]["clusters"] == 1 and stage["drops_by_reason"] == {"exact duplicate": 1}
    assert res.rows_selected == 11


def test_dedup_engine_option_is_accepted_but_says_it_is_unused():
    """`engine:` once chose where band keys were grouped (DuckDB for huge tables); MinHash now
    checks pairs band by band in bounded memory, so old recipes still load, get the same columns,
    and a recipe naming an engine is told it does nothing."""
    from curate.stages import StageContext

    frame = planted()
    got = {}
    for engine in ("auto", "duckdb"):
        spec = recipe.parse(f"name: t\nstages:\n  - dedup: {{threshold: 0.8, engine: {engine}}}\n", "t.yaml").stages[0]
        ctx = StageContext(seed=0)
        got[engine] = (spec.build().run(frame.with_columns(trace_id=pl.col("id")), ctx), ctx.warnings)
    assert got["auto"][0].equals(got["duckdb"][0]) and got["auto"][1] == []
    assert got["duckdb"][1] == ["dedup: engine: duckdb is no longer used (MinHash checks candidate pairs band by "
                                "band in memory, bounded per chunk); remove it from the recipe"]


def test_recipe_rejects_bands_not_dividing():
    with pytest.raises(BadInput, match="t.yaml line 3.*not divisible into 7 bands"):
        recipe.parse("name: t\nstages:\n  - dedup: {bands: 7}\n", "t.yaml")


# ---------------------------------------------------------------------------------- command

def test_dedup_command_writes_columns(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps({"problem": p}) for p in planted()["problem"]) + "\n")
    code, out, err = run_cli(["dedup", src, "--on", "problem", "--method", "minhash", "--threshold", "0.8",
                              "--out", tmp_path / "out.parquet"], capsys)
    assert code == 0, err
    assert "2 duplicate clusters, 2 rows dropped" in out
    table = pl.read_parquet(tmp_path / "out.parquet")
    assert table.columns == ["problem", "dup_cluster", "dup_of", "dup_sim", "drop_reason"]
    assert table["dup_of"].to_list()[6:] == ["1", "4"]


@pytest.mark.parametrize("args,message", [
    (["--on", "question"], "no column 'question' to deduplicate on"),
    (["--threshold", "0"], "threshold must be in (0, 1], got 0.0"),
    (["--threshold", "1.5"], "threshold must be in (0, 1], got 1.5"),
    (["--bands", "10"], "num_perm 128 is not divisible into 10 bands"),
    (["--method", "fuzzy"], "unknown dedup method 'fuzzy'"),
])
def test_dedup_command_bad_input(tmp_path, capsys, args, message):
    src = tmp_path / "in.jsonl"
    src.write_text('{"problem": "What is 2 + 2?"}\n')
    code, _, err = run_cli(["dedup", src, "--out", tmp_path / "o.parquet", *args], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert message in err
    assert not (tmp_path / "o.parquet").exists()


def test_dedup_command_empty_table(tmp_path, capsys):
    src = tmp_path / "empty.parquet"
    store.write_parquet(pl.DataFrame({"problem": []}, schema={"problem": pl.String}).to_arrow(), src)
    code, _, err = run_cli(["dedup", src, "--out", tmp_path / "o.parquet"], capsys)
    assert code == 2 and err.strip() == "error: the table to deduplicate is empty"


def test_near_duplicates_must_mention_the_same_math():
    """Templated problems that differ in one number are different problems."""
    import polars as pl

    from curate.dedup import dedup_table

    base = ("A farmer has {n} sheep and buys some more at the market on a sunny Tuesday "
            "morning before noon, so how many sheep does the farmer have now in total")
    frame = pl.DataFrame({"problem": [base.format(n=12), base.format(n=13), base.format(n=12) + " ?"]})
    guarded = dedup_table(frame, method="minhash", threshold=0.7)
    assert guarded.columns["drop_reason"].to_list() == [None, None, "exact duplicate"]
    assert guarded.stats["pairs_with_other_math"] >= 1
    loose = dedup_table(frame, method="minhash", threshold=0.7, same_math=False)
    assert loose.columns["drop_reason"].null_count() == 1  # 13 merged into 12's cluster


def test_same_math_ignores_rewording_but_not_signs():
    import polars as pl

    from curate.dedup import dedup_table

    frame = pl.DataFrame({"problem": [
        "Find $x$ such that $11x - 7 = -84$ and give the answer as an integer please.",
        "Work out $x$ such that $11x - 7 = -84$ and give the answer as an integer please.",
        "Find $x$ such that $11x + 7 = -84$ and give the answer as an integer please.",
    ]})
    res = dedup_table(frame, method="minhash", threshold=0.5, ngram=3)
    assert res.columns["drop_reason"].is_not_null().to_list() == [False, True, False]


def test_minhash_dedup_counts_equal_brute_force_on_templates():
    """On template-heavy problems (most pairs collide in many bands), the counts MinHash dedup
    reports equal an all-pairs reference (every band's candidates, exact Jaccard, then the same
    numbers, then a like question), here and with every part through a mapper."""

    from curate import parallel
    from curate.dedup import math_keys, question_shape, same_question
    from curate.text import normalize_for_dedup

    rng = np.random.default_rng(1)
    premised = [f"Note that x is real. Solve {a}x + {b} = {c} for real x." for a, b, c in rng.integers(1, 6, (40, 3))]
    texts, seen = [], set()
    for text in templated_texts(200) + premised:  # one text per problem (a unit each), none empty
        if (norm := normalize_for_dedup(text)) and norm not in seen:
            seen.add(norm)
            texts.append(text)
    math = math_keys(pl.Series([normalize_for_dedup(t) for t in texts]))
    pairs, _, _, similar = brute_force_pairs(texts, 3, 0.5, 64, math)
    shapes = [question_shape(t) for t in texts]
    kept = [p for p in pairs if same_question(shapes[p[0]], shapes[p[1]])]
    frame = pl.DataFrame({"problem": texts})
    here = dedup_table(frame, method="minhash", ngram=3, threshold=0.5)
    with parallel.mapped(ListingMapper(), 7):
        there = dedup_table(frame, method="minhash", ngram=3, threshold=0.5)
    assert there.columns.equals(here.columns) and there.stats == here.stats
    assert here.stats["units"] == len(texts)
    assert here.stats["pairs_with_other_math"] == similar - len(pairs) > 0
    assert here.stats["pairs_with_other_question"] == len(pairs) - len(kept) > 0
    assert here.stats["pairs"] == len(kept) > 0


def test_question_shape_tolerates_asking_words_not_another_question():
    from curate.dedup import question_shape, same_question

    a = question_shape("Let $a_1 = 4$. For $n \\ge 1$ let $a_{n+1} = 3a_n - 1$. Find $a_4$.")
    b = question_shape("Suppose $a_1 = 4$. For $n \\ge 1$ let $a_{n+1} = 3a_n - 1$. Work out $a_4$.")
    assert a == (2, frozenset({"a_4"})) and same_question(a, b)
    area = question_shape("A rectangle has sides 3 and 4. What is the area of the rectangle?")
    perimeter = question_shape("A rectangle has sides 3 and 4. What is the perimeter of the rectangle? Show your work.")
    assert area[0] == perimeter[0] == 1 and not same_question(area, perimeter)
    # An instruction after the question is not the question; a premise fewer is another problem.
    assert question_shape("Compute 3 * 5. Show your work.") == question_shape("Compute 3 * 5.")
    assert not same_question(question_shape("Tom has a bag. The bag is red. How many?"),
                              question_shape("Tom has a bag. How many?"))
