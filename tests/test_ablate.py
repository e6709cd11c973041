"""ablate without training: the baselines on a curated procedural pool, a user's own baseline, the
table's numbers on a hand-made result, and bad input found before anything is written."""

from __future__ import annotations

import json
import math
import textwrap
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from conftest import run_cli
from curate import ablation_files
from curate import recipe as recipes
from curate import run as runner
from curate.errors import BadInput
from curate.synth import procedural
from train import ablation_table, baselines
from train.ablate import with_k

K = 100
BUILT_IN = ("random", "longest", "diverse", "unfiltered-top", "filtered-unbalanced")


@pytest.fixture(scope="module")
def curated(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("ablate")
    procedural.write(procedural.ProceduralConfig(n=1000, heldout=10, seed=0), base / "pool")
    recipe = with_k(recipes.load("procedural"), K)
    result = runner.run(recipe, base / "pool", base / "run")
    assert result.rows_selected == K
    frame = pl.read_parquet(base / "run" / "traces.parquet")
    return {"base": base, "pool_dir": base / "pool", "recipe": recipe, "frame": frame,
            "pool": baselines.Pool(frame, recipe, base / "run")}


def family(frame: pl.DataFrame) -> pl.Series:
    return frame["meta"].map_elements(lambda m: json.loads(m)["family"], return_dtype=pl.String)


def rows_of(pool: baselines.Pool, ids: list[str]) -> pl.DataFrame:
    return pool.frame.join(pl.DataFrame({"trace_id": ids, "_rank": range(len(ids))}), on="trace_id").sort("_rank")


# -------------------------------------------------------------------------------- baselines

def test_pool_groups_are_families(curated):
    pool = curated["pool"]
    assert pool.balancing_labels() == [s.label for s in curated["recipe"].stages if s.name == "select"]
    assert pool.groups().to_list() == family(pool.frame).to_list()


@pytest.mark.parametrize("name", BUILT_IN)
def test_baseline_returns_k_distinct_pool_ids_deterministically(curated, name):
    pool = curated["pool"]
    ids = baselines.select(name, pool, K, seed=0)
    assert len(ids) == K == len(set(ids))
    assert set(ids) <= set(pool.trace_ids.to_list())
    assert baselines.select(name, pool, K, seed=0) == ids
    # the pool frame's row order does not matter, only its rows
    shuffled = baselines.Pool(pool.frame.sample(fraction=1.0, shuffle=True, seed=11), pool.recipe, pool.run)
    assert shuffled.trace_ids.to_list() != pool.trace_ids.to_list()
    assert baselines.select(name, shuffled, K, seed=0) == ids


def test_random_depends_on_the_seed(curated):
    pool = curated["pool"]
    a, b = baselines.select("random", pool, K, 0), baselines.select("random", pool, K, 1)
    assert a != b and len(set(a) & set(b)) < K // 2
    assert baselines.select("random", pool, K, 1) == b
    # a smaller k is a prefix of the same order
    assert baselines.select("random", pool, 10, 0) == a[:10]


def test_longest_is_the_k_longest_thinking(curated):
    pool = curated["pool"]
    ids = baselines.select("longest", pool, K, 0)
    length = dict(zip(pool.trace_ids.to_list(), pool.frame["thinking"].fill_null("").str.len_chars().to_list()))
    chosen = [length[i] for i in ids]
    assert chosen == sorted(chosen, reverse=True)
    assert min(chosen) >= max(v for i, v in length.items() if i not in set(ids))
    assert max(chosen) == max(length.values())
    assert baselines.select("longest", pool, K, 5) == ids          # no randomness in it


def test_diverse_is_equal_per_family(curated):
    pool = curated["pool"]
    sizes = Counter(family(pool.frame).to_list())
    assert min(sizes.values()) >= K // 4                            # every family has enough rows
    ids = baselines.select("diverse", pool, K, 0)
    counts = Counter(family(rows_of(pool, ids)).to_list())
    assert set(counts) == set(procedural.FAMILIES)
    assert max(counts.values()) - min(counts.values()) <= 1
    # no quality filter: it picks rows the recipe dropped
    assert rows_of(pool, ids)["dropped_by"].is_not_null().sum() > 0
    assert set(baselines.select("diverse", pool, K, 1)) != set(ids)


def test_filtered_unbalanced_keeps_the_filters_not_the_balance(curated):
    pool = curated["pool"]
    select_label = pool.balancing_labels()[0]
    ids = baselines.select("filtered-unbalanced", pool, K, 0)
    chosen = rows_of(pool, ids)
    assert chosen["dropped_by"].drop_nulls().unique().to_list() in ([], [select_label])
    assert (chosen["dropped_by"].is_null() | (chosen["dropped_by"] == select_label)).all()
    counts = Counter(family(chosen).to_list())
    # the recipe's own k is equal per family; this one follows the pool's mix (addition about half)
    recipe_counts = Counter(family(pool.frame.filter(pl.col("dropped_by").is_null())).to_list())
    assert max(recipe_counts.values()) - min(recipe_counts.values()) <= 1
    assert counts.most_common(1)[0][0] == "addition"
    assert max(counts.values()) - min(counts.values()) > 10
    # too few rows pass for a larger k: bad input, not fewer rows
    passed = pool.frame.filter(pl.col("dropped_by").is_null() | (pl.col("dropped_by") == select_label)).height
    with pytest.raises(BadInput, match="filtered-unbalanced"):
        baselines.select("filtered-unbalanced", pool, passed + 1, 0)


def test_unfiltered_top_ranks_by_the_rubric_without_verifying(curated):
    pool = curated["pool"]
    ids = baselines.select("unfiltered-top", pool, K, 0)

    def score(r: dict) -> float:     # rubrics/worked_steps.yaml by hand: weights 2, 1, 1, 1
        lines = (r["thinking"] or "").split("\n")
        boxed = "\\boxed" in (r["response"] or "")
        return (2 * boxed + min(len(lines) / 4, 1) + (len(lines) == len(set(lines))) + 1) / 5

    scores = {r["trace_id"]: score(r) for r in pool.frame.to_dicts()}
    chosen = [scores[i] for i in ids]
    assert chosen == sorted(chosen, reverse=True)
    assert min(chosen) >= max(v for i, v in scores.items() if i not in set(ids))
    # the recipe's own scores agree where the row reached its rubric stage
    scored = rows_of(pool, ids).filter(pl.col("score").is_not_null())
    assert scored.height > 0
    for r in scored.to_dicts():
        assert r["score"] == pytest.approx(scores[r["trace_id"]])
    # it does not verify: wrong answers the recipe dropped are in it
    reasons = Counter(rows_of(pool, ids)["drop_reason"].to_list())
    assert reasons["wrong final answer"] > 0


def test_teacher_arm_takes_one_teachers_traces_on_the_recipes_problems_first(curated):
    pool = curated["pool"]
    frame = pool.frame
    other = frame.with_columns(pl.lit("teacher-b").alias("teacher"), (pl.col("trace_id") + "-b").alias("trace_id"))
    both = baselines.Pool(pl.concat([frame, other]), pool.recipe, pool.run)
    ids = baselines.select("teacher:teacher-b", both, K, seed=0)
    rows = rows_of(both, ids)
    assert rows["teacher"].unique().to_list() == ["teacher-b"] and len(set(ids)) == K
    recipe_problems = set(frame.filter(pl.col("dropped_by").is_null())["problem_id"].to_list())
    assert len(recipe_problems) >= K // 2
    # the recipe's problems come first, one sample each before any second one
    first = rows.head(len(recipe_problems))
    assert set(first["problem_id"].to_list()) == recipe_problems
    assert baselines.select("teacher:teacher-b", both, K, seed=0) == ids
    (own,) = frame["teacher"].unique().to_list()
    mine = baselines.select(f"teacher:{own}", both, K, seed=0)
    assert rows_of(both, mine)["teacher"].unique().to_list() == [own]
    with pytest.raises(BadInput, match="fewer than"):
        baselines.select("teacher:nobody", both, K, seed=0)
    with pytest.raises(BadInput, match="name the teacher"):
        baselines.resolve("teacher:")


def test_user_baseline_by_module_path(curated, tmp_path, monkeypatch):
    (tmp_path / "ablate_user_baselines.py").write_text(textwrap.dedent("""
        def first(pool, k, seed):
            return sorted(pool.trace_ids.to_list())[:k]

        def one_short(pool, k, seed):
            return sorted(pool.trace_ids.to_list())[:k - 1]

        def repeats(pool, k, seed):
            return [pool.trace_ids[0]] * k

        def strangers(pool, k, seed):
            return [f"not-a-trace-{i}" for i in range(k)]

        NOT_A_FUNCTION = 3
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    pool = curated["pool"]
    fn = baselines.resolve("ablate_user_baselines:first")
    assert callable(fn) and fn.__name__ == "first"
    assert baselines.select("ablate_user_baselines:first", pool, K, 0) == sorted(pool.trace_ids.to_list())[:K]
    with pytest.raises(BadInput, match=f"returned {K - 1} rows"):
        baselines.select("ablate_user_baselines:one_short", pool, K, 0)
    with pytest.raises(BadInput, match="1 distinct"):
        baselines.select("ablate_user_baselines:repeats", pool, K, 0)
    with pytest.raises(BadInput, match="not in the pool"):
        baselines.select("ablate_user_baselines:strangers", pool, K, 0)
    with pytest.raises(BadInput, match="not a function"):
        baselines.resolve("ablate_user_baselines:NOT_A_FUNCTION")
    with pytest.raises(BadInput, match="cannot import"):
        baselines.resolve("ablate_user_baselines:missing")
    with pytest.raises(BadInput, match="cannot import"):
        baselines.resolve("no_such_module_for_ablate:f")
    with pytest.raises(BadInput, match="unknown baseline"):
        baselines.resolve("bogus")


def test_with_k_changes_only_the_select_stage():
    recipe = recipes.load("procedural")
    lowered = with_k(recipe, 7)
    assert [s.config.k for s in lowered.stages if s.name == "select"] == [7]
    assert [s.config.k for s in recipe.stages if s.name == "select"] == [1000]     # the original is untouched
    assert [s.name for s in lowered.stages] == [s.name for s in recipe.stages]


# ------------------------------------------------------------------------- the table, by hand

# correct answers out of 10 per family: arm -> seed -> (f1, f2)
CORRECT = {"recipe": {0: (8, 6), 1: (10, 8)}, "random": {0: (5, 3), 1: (9, 9)}}
PLAN = {"arms": ["recipe", "random"], "k": 10, "eval": "x", "max_steps": 5}


def hand_result() -> tuple[pl.DataFrame, pl.DataFrame]:
    results, runs = [], []
    for arm, seeds in CORRECT.items():
        for seed, counts in seeds.items():
            for fam, c in zip(("f1", "f2"), counts):
                results.append({"arm": arm, "seed": seed, "family": fam, "problems": 10, "correct": c,
                                "pass_at_1": c / 10, "boxed_share": 1.0})
            runs.append({"arm": arm, "seed": seed, "macro_pass_at_1": sum(counts) / 20,
                         "micro_pass_at_1": sum(counts) / 20, "boxed_share": 0.5 + 0.25 * seed,
                         "steps": 5, "rows_trained": 10, "rows_over_max_length": 0})
    # rows in another order than arm/seed: summarize must pair by seed, not by position
    return pl.DataFrame(results).reverse(), pl.DataFrame(runs).reverse()


def test_summarize_hand_made():
    s = ablation_table.summarize(hand_result(), PLAN)
    assert s["reference"] == "recipe" and s["k"] == 10 and s["eval"] == "x" and s["max_steps"] == 5
    assert s["seeds"] == [0, 1] and s["families"] == ["f1", "f2"]
    recipe, rand = s["arms"]
    assert (recipe["arm"], rand["arm"], recipe["seeds"]) == ("recipe", "random", 2)
    # recipe macro: 0.7, 0.9; random: 0.4, 0.9
    assert recipe["macro"]["values"] == pytest.approx([0.7, 0.9])
    assert recipe["macro"]["mean"] == pytest.approx(0.8)
    assert recipe["macro"]["sd"] == pytest.approx(math.sqrt(0.02))          # sample sd, n - 1
    assert rand["macro"]["mean"] == pytest.approx(0.65)
    assert rand["macro"]["sd"] == pytest.approx(math.sqrt(0.125))
    assert recipe["boxed"]["mean"] == pytest.approx(0.625) and recipe["boxed"]["sd"] == pytest.approx(math.sqrt(0.03125))
    assert recipe["families"]["f1"]["mean"] == pytest.approx(0.9)
    assert recipe["families"]["f2"]["mean"] == pytest.approx(0.7)
    assert rand["families"]["f1"]["values"] == pytest.approx([0.5, 0.9])
    assert rand["families"]["f2"]["mean"] == pytest.approx(0.6)
    assert rand["families"]["f2"]["sd"] == pytest.approx(math.sqrt(0.18))
    assert recipe["steps"] == [5]
    [gap] = s["gaps"]
    assert gap["baseline"] == "random"
    assert gap["values"] == pytest.approx([0.3, 0.0])
    assert gap["mean"] == pytest.approx(0.15) and gap["sd"] == pytest.approx(math.sqrt(0.045))
    assert gap["wins"] == 1 and gap["seeds"] == 2                              # a tie is not a win
    json.dumps(s)                                                              # summary.json material


def test_summarize_one_seed_has_no_sd():
    results, runs = hand_result()
    s = ablation_table.summarize((results.filter(pl.col("seed") == 0), runs.filter(pl.col("seed") == 0)), PLAN)
    assert s["arms"][0]["macro"] == {"mean": pytest.approx(0.7), "sd": None, "values": pytest.approx([0.7])}
    assert s["gaps"][0]["sd"] is None and s["gaps"][0]["wins"] == 1
    text = ablation_table.render(s)
    assert text.startswith("k = 10 rows per arm, 5 steps each, 1 seed; ")
    recipe_row = next(line for line in text.splitlines() if line.startswith("| recipe"))
    assert cells(recipe_row)[:2] == ["recipe", "0.700"] and "±" not in recipe_row
    assert cells(text.splitlines()[-1]) == ["random", "+0.300", "1/1", "+0.300"]


def cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def test_render_hand_made():
    text = ablation_table.render(ablation_table.summarize(hand_result(), PLAN))
    lines = text.splitlines()
    assert lines[0] == "k = 10 rows per arm, 5 steps each, 2 seeds; mean ± sd over seeds; eval: x"
    assert lines[1] == ""
    assert cells(lines[2]) == ["arm", "macro pass@1", "micro pass@1", "boxed", "f1", "f2"]
    assert set(lines[3]) <= {"|", "-"}
    assert cells(lines[4]) == ["recipe", "0.800 ± 0.141", "0.800 ± 0.141", "0.625 ± 0.177", "0.900 ± 0.141",
                               "0.700 ± 0.141"]
    assert cells(lines[5]) == ["random", "0.650 ± 0.354", "0.650 ± 0.354", "0.625 ± 0.177", "0.700 ± 0.283",
                               "0.600 ± 0.424"]
    assert "gap in macro pass@1, recipe − baseline, paired by seed:" in lines
    assert cells(lines[-3]) == ["baseline", "gap", "recipe ahead", "per seed"]
    assert cells(lines[-1]) == ["random", "+0.150 ± 0.212", "1/2", "+0.300, +0.000"]
    assert len({len(line) for line in lines[2:6]}) == 1                        # columns line up
    assert text.endswith("\n")


def test_plot_hand_made():
    svg = ablation_table.plot(ablation_table.summarize(hand_result(), PLAN))
    assert svg.startswith("<svg ") and 'data-chart="ablation"' in svg.split(">", 1)[0]
    assert svg.rstrip().endswith("</svg>")
    assert svg.count("<circle") == 2 * 2                                       # arm × seed
    assert svg.count("<rect") == 2 and ">recipe<" in svg and ">random<" in svg


def graded(rates: dict[str, float], seeds: int = 2, per_family: int = 40) -> tuple:
    """(results, runs, problems) of arms that solve each held-out problem with its arm's rate; an
    arm named twin-of-X answers exactly as X did (no difference at all)."""
    import numpy as np

    rng = np.random.default_rng(0)
    results, runs, problems = [], [], []
    drawn: dict[str, np.ndarray] = {}
    for arm, rate in rates.items():
        twin = arm.removeprefix("twin-of-")
        drawn[arm] = drawn[twin].copy() if arm != twin else rng.random((seeds, 2, per_family)) < rate
        for seed in range(seeds):
            for f, fam in enumerate(("f1", "f2")):
                ok = drawn[arm][seed, f]
                problems += [{"arm": arm, "seed": seed, "family": fam, "bench_id": f"{fam}-{i}", "samples": 1,
                              "correct": int(c), "pass_at_1": float(c)} for i, c in enumerate(ok)]
                results.append({"arm": arm, "seed": seed, "family": fam, "problems": per_family,
                                "samples": per_family, "correct": int(ok.sum()), "pass_at_1": float(ok.mean()),
                                "boxed_share": 1.0})
            runs.append({"arm": arm, "seed": seed, "macro_pass_at_1": float(drawn[arm][seed].mean()),
                         "micro_pass_at_1": float(drawn[arm][seed].mean()), "boxed_share": 1.0, "steps": 5,
                         "rows_trained": 10, "rows_over_max_length": 0})
    return pl.DataFrame(results), pl.DataFrame(runs), pl.DataFrame(problems)


def test_intervals_call_a_planted_gap_and_a_planted_tie():
    plan = {**PLAN, "arms": ["recipe", "random", "twin-of-recipe"]}
    s = ablation_table.summarize(graded({"recipe": 0.8, "random": 0.3, "twin-of-recipe": 0.8}), plan)
    assert s["interval"]["level"] == 0.95 and s["interval"]["problems"] == 80 and s["interval"]["seeds"] == [0, 1]
    for arm in s["arms"]:
        lo, hi = arm["macro"]["ci"]
        assert lo <= arm["macro"]["mean"] <= hi
    gaps = {g["baseline"]: g for g in s["gaps"]}
    assert gaps["random"]["excludes_zero"] and gaps["random"]["ci"][0] > 0.3
    assert not gaps["twin-of-recipe"]["excludes_zero"] and gaps["twin-of-recipe"]["ci"] == [0.0, 0.0]
    json.dumps(s)
    text = ablation_table.render(s)
    lines = text.splitlines()
    assert cells(lines[2])[:3] == ["arm", "macro pass@1", "95% CI"]
    random_gap = next(cells(line) for line in lines if line.startswith("| random") and "yes" in line)
    assert random_gap[2] == ablation_files.interval(gaps["random"]["ci"], signed=True) and random_gap[3] == "yes"
    assert cells(lines[-3])[:4] == ["twin-of-recipe", "+0.000 ± 0.000", "[+0.000, +0.000]", "no"]
    assert "paired bootstrap" in lines[-1]
    svg = ablation_table.plot(s)
    assert svg.count('class="error-bar"') == 3 and "95% CI" in svg
    rows = ablation_table.interval_rows(s)
    assert rows.filter(pl.col("kind") == "gap")["excludes_zero"].to_list() == [True, False]
    # a student graded on other problems cannot be paired
    results, runs, problems = graded({"recipe": 0.8, "random": 0.3})
    problems = problems.filter(~((pl.col("arm") == "random") & (pl.col("bench_id") == "f1-0")))
    with pytest.raises(ValueError, match="other problems"):
        ablation_table.summarize((results, runs, problems), PLAN)


# -------------------------------------------------------------------------------- bad input

def ablate_args(curated, out: Path, **over) -> list[str]:
    opts = {"--pool": curated["pool_dir"], "--recipe": "procedural", "--k": "50", "--baselines": "random",
            "--model": "tiny", "--eval": curated["pool_dir"] / "heldout", "--seeds": "1", "--out": out, **over}
    return ["ablate", *(x for kv in opts.items() for x in kv)]


@pytest.mark.parametrize("over, words", [
    ({"--k": "5000"}, ["--k 5,000", "larger than the pool", "1,000 rows"]),
    ({"--baselines": "random,bogus"}, ["bogus", "unknown baseline"]),
    ({"--baselines": "random,recipe"}, ["--baselines", "'recipe'"]),
    ({"--baselines": "random,random"}, ["--baselines", "each baseline once"]),
    ({"--eval": "POOL"}, ["--eval", "also in the pool", "held-out"]),
    ({"--baselines": "no_such_module_for_ablate:f"}, ["cannot import"]),
    ({"--baselines": "random,teacher:nobody"}, ["teacher:nobody", "fewer than k = 50", "teachers: "]),
    ({"--recipe": "no-such-recipe"}, ["no-such-recipe"]),
])
def test_bad_input_writes_nothing(curated, tmp_path, capsys, over, words):
    out = tmp_path / "ablation-run"
    if over.get("--eval") == "POOL":
        over = {**over, "--eval": curated["pool_dir"]}
    code, _, err = run_cli(ablate_args(curated, out, **over), capsys)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
    for word in words:
        assert word in err, (word, err)
    assert not out.exists()


def test_good_input_passes_the_checks(curated, tmp_path):
    from train.ablate import AblateConfig, check_inputs

    cfg = AblateConfig(pool=curated["pool_dir"], recipe="procedural", k=50, baselines=list(BUILT_IN),
                       eval=str(curated["pool_dir"] / "heldout"), out=tmp_path / "run")
    recipe, pool, problems, _, steps = check_inputs(cfg)
    assert recipe.name == "procedural" and pool.num_rows == 1000
    assert len(problems) == 10 * len(procedural.FAMILIES) and steps >= 1
    assert not (tmp_path / "run").exists()


def test_sql_views_read_the_files_where_ablation_files_puts_them(tmp_path):
    """The ablation's layout has one home (curate.ablation_files); the SQL views name the same files."""
    import re

    text = (Path(__file__).resolve().parents[1] / "sql" / "ablation_views.sql").read_text()
    read = re.findall(r"getvariable\('ablation'\) \|\| '/([^']+)'", text)
    job = ablation_files.Job("arm", 0)
    made = [ablation_files.RUNS, ablation_files.RESULTS, ablation_files.PROBLEMS, ablation_files.INTERVALS,
            ablation_files.selection_file(tmp_path, job).relative_to(ablation_files.folder(tmp_path)),
            (ablation_files.student_dir(tmp_path, job) / "eval" / "samples.parquet")
            .relative_to(ablation_files.folder(tmp_path))]
    assert len(read) == len(made)
    for pattern, path in zip(read, made):
        assert Path(path).match(pattern), (pattern, path)
