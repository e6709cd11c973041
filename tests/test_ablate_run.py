"""`distillery ablate` end to end on a small procedural pool: real curation, real TRL training of
tiny students in subprocesses (two at a time), real greedy eval, then the table, SQL and report."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from conftest import run_cli

pytestmark = pytest.mark.slow

TEACHER = "teacher:procedural-teacher"   # the pool's one teacher: an arm of its traces only
ARGS = ["--k", "24", "--baselines", f"random,longest,{TEACHER}", "--seeds", "2", "--model", "tiny",
        "--set", "max_steps=2", "--set", "max_length=128", "--set", "global_batch_size=4",
        "--set", "per_device_batch_size=4", "--max-new-tokens", "8", "--jobs", "2", "--eval-n", "2"]


@pytest.fixture(scope="module")
def ablation(tmp_path_factory) -> tuple[Path, Path, str]:
    from curate.cli import main

    root = tmp_path_factory.mktemp("ablate")
    pool = root / "pool"
    assert main(["synth", "--profile", "procedural", "--n", "300", "--heldout", "4", "--out", str(pool)]) == 0
    out = root / "run"
    args = ["ablate", "--pool", str(pool), "--recipe", "procedural", "--eval", str(pool / "heldout"),
            "--out", str(out), *ARGS]
    assert main(args) == 0
    return pool, out, " ".join(args)


def _students(out: Path) -> list[Path]:
    return sorted((out / "ablation" / "students").glob("*/seed-*"))


def test_every_arm_and_seed_trained_with_identical_settings(ablation):
    _, out, _ = ablation
    students = _students(out)
    assert [f"{p.parent.name}/{p.name}" for p in students] == [
        "longest/seed-0", "longest/seed-1", "random/seed-0", "random/seed-1", "recipe/seed-0", "recipe/seed-1",
        f"{TEACHER}/seed-0", f"{TEACHER}/seed-1"]
    configs, steps = {}, set()
    for student in students:
        summary = json.loads((student / "train_summary.json").read_text())
        config = dict(summary["config"])
        configs.setdefault(config.pop("seed"), []).append(config)
        steps.add(summary["global_step"])
        assert (student / "eval" / "summary.json").is_file()
    assert steps == {2}
    assert sorted(configs) == [0, 1]
    every = [c for group in configs.values() for c in group]
    assert all(c == every[0] for c in every), "arms must train with the same hyper-parameters"
    assert every[0]["max_steps"] == 2 and every[0]["max_length"] == 128


def test_selections_same_k_same_pool_recipe_is_its_selection(ablation):
    _, out, _ = ablation
    traces = pl.read_parquet(out / "traces.parquet")
    selected = set(pl.read_parquet(out / "selected.parquet")["trace_id"].to_list())
    for path in sorted((out / "ablation" / "selections").glob("*/seed-*.parquet")):
        rows = pl.read_parquet(path)
        assert rows.height == 24 and rows["trace_id"].n_unique() == 24
        assert set(rows["trace_id"].to_list()) <= set(traces["trace_id"].to_list())
        assert rows["messages"].list.len().min() == 2
        if path.parent.name == "recipe":
            assert set(rows["trace_id"].to_list()) == selected
    # the teacher arm: that teacher's traces of the recipe's problems first (one trace per problem
    # here, so the very rows the recipe chose)
    teacher = pl.read_parquet(out / f"ablation/selections/{TEACHER}/seed-0.parquet").join(
        traces.select("trace_id", "teacher"), on="trace_id")
    assert teacher["teacher"].unique().to_list() == ["procedural-teacher"]
    assert set(teacher["trace_id"].to_list()) == selected
    r0 = pl.read_parquet(out / "ablation/selections/random/seed-0.parquet")["trace_id"].to_list()
    r1 = pl.read_parquet(out / "ablation/selections/random/seed-1.parquet")["trace_id"].to_list()
    assert set(r0) != set(r1)


def test_summary_table_sql_and_report(ablation, capsys):
    _, out, _ = ablation
    summary = json.loads((out / "ablation" / "summary.json").read_text())
    assert [a["arm"] for a in summary["arms"]] == ["recipe", "random", "longest", TEACHER]
    assert {g["baseline"] for g in summary["gaps"]} == {"random", "longest", TEACHER}
    runs = pl.read_parquet(out / "ablation" / "runs.parquet")
    for arm in summary["arms"]:
        values = runs.filter(pl.col("arm") == arm["arm"]).sort("seed")["macro_pass_at_1"].to_list()
        assert arm["macro"]["values"] == pytest.approx(values)
    table = (out / "ablation" / "table.md").read_text()
    assert "| recipe" in table and "95% CI" in table and "excludes 0" in table and "(2 samples per problem)" in table
    assert 'data-chart="ablation"' in (out / "ablation" / "ablation.svg").read_text()
    assert 'class="error-bar"' in (out / "ablation" / "ablation.svg").read_text()
    # intervals: every arm's macro inside its own, every gap with one and a verdict on zero
    assert summary["eval_n"] == 2 and summary["interval"]["problems"] == 16 and summary["interval"]["seeds"] == [0, 1]
    for arm in summary["arms"]:
        assert arm["macro"]["ci"][0] <= arm["macro"]["mean"] <= arm["macro"]["ci"][1]
    for gap in summary["gaps"]:
        assert gap["ci"][0] <= gap["mean"] <= gap["ci"][1]
        assert gap["excludes_zero"] == (gap["ci"][0] > 0 or gap["ci"][1] < 0)
    problems = pl.read_parquet(out / "ablation" / "problems.parquet")
    assert problems.height == 8 * 16 and set(problems["samples"]) == {2}

    code, text, err = run_cli(["sql", out, "-q", "ablation", "--format", "csv"], capsys)
    assert code == 0, err
    lines = text.strip().splitlines()
    assert lines[0].startswith("arm,seeds,macro_mean") and len(lines) == 5
    assert "macro_ci_lo,macro_ci_hi,gap,gap_ci_lo,gap_ci_hi,gap_excludes_zero" in lines[0]
    code, text, err = run_cli(["sql", out, "-c", "SELECT kind, count(*) AS n FROM ablation_intervals GROUP BY kind "
                                                 "ORDER BY kind", "--format", "csv"], capsys)
    assert code == 0 and text.strip().splitlines()[1:] == ["arm,4", "gap,3"], err
    code, text, err = run_cli(["sql", out, "-q", "ablation_drops", "--format", "csv"], capsys)
    assert code == 0, err
    assert "(kept by the recipe)" in text
    code, text, err = run_cli(["sql", out, "-c", "SELECT count(*) AS n FROM ablation_samples", "--format", "csv"],
                              capsys)
    assert code == 0 and text.strip().splitlines()[1] == str(8 * 16 * 2)   # 4 held-out problems × 4 families × 2

    code, _, err = run_cli(["report", out], capsys)
    assert code == 0, err
    html = (out / "report.html").read_text()
    assert 'id="ablation"' in html and 'data-chart="ablation"' in html and "95% CI" in html


def test_rerun_keeps_finished_students(ablation, capsys):
    pool, out, _ = ablation
    model = next(_students(out)[0].glob("*.safetensors"))
    before = model.stat().st_mtime_ns
    code, text, err = run_cli(["ablate", "--pool", pool, "--recipe", "procedural", "--eval", pool / "heldout",
                               "--out", out, *ARGS], capsys)
    assert code == 0, err
    assert "8 of 8 students already trained and graded" in text
    assert model.stat().st_mtime_ns == before


def test_another_plan_in_the_same_folder_is_refused(ablation, capsys):
    pool, out, _ = ablation
    args = [a if a != "24" else "20" for a in ARGS]
    code, _, err = run_cli(["ablate", "--pool", pool, "--recipe", "procedural", "--eval", pool / "heldout",
                            "--out", out, *args], capsys)
    assert code == 2
    assert "another k" in err and len(err.strip().splitlines()) == 1


def test_a_failing_student_names_its_log(ablation, tmp_path, capsys):
    pool, _, _ = ablation
    out = tmp_path / "run"
    args = ["--k", "24", "--baselines", "random", "--seeds", "1", "--model", "tiny", "--set", "max_steps=2",
            "--set", "max_length=8"]   # every row is longer: train sft refuses them all
    code, _, err = run_cli(["ablate", "--pool", pool, "--recipe", "procedural", "--eval", pool / "heldout",
                            "--out", out, *args], capsys)
    assert code == 2
    line = err.strip()
    assert len(line.splitlines()) == 1 and "training failed" in line and "job.log" in line
    log = next(out.glob("ablation/students/*/seed-0/job.log")).read_text()
    assert "longer than max_length 8" in log
