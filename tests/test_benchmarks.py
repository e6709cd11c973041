"""curate.benchmarks: one resolution order for every command (explicit path, $DISTILLERY_BENCHMARKS,
the user cache, the hub), offline found out once and said in one line, and `distillery benchmarks`."""

import json

import pyarrow as pa
import pytest

from conftest import run_cli
from curate import benchmarks, store
from curate.errors import BadInput


def _write(folder, name, problem):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps({"id": "x1", "problem": problem, "answer": "1"}) + "\n")
    return folder / name


def test_resolution_order_path_then_env_then_cache(tmp_path, monkeypatch):
    cache = tmp_path / "xdg" / "distillery" / "benchmarks"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert benchmarks.cache_dir() == cache
    cached = _write(cache, "math500.jsonl", "from the cache")
    assert benchmarks.path("math500") == ("math500", cached)
    env = _write(tmp_path / "env", "math500.jsonl", "from the env folder")
    monkeypatch.setenv("DISTILLERY_BENCHMARKS", str(env.parent))
    assert benchmarks.path("math500") == ("math500", env)
    given = _write(tmp_path / "given", "math500.jsonl", "from bench_dir")
    assert benchmarks.path("math500", given.parent)[1] == given
    # An explicit path wins over every folder; a folder of Parquet shards is a benchmark too.
    assert benchmarks.path(str(cached)) == ("math500", cached)
    # The registry's file names (gsm8k_test.jsonl) and any NAME.jsonl in a folder.
    gsm = _write(env.parent, "gsm8k_test.jsonl", "gsm")
    assert benchmarks.path("gsm8k")[1] == gsm and benchmarks.path("gsm8k_test")[1] == gsm
    own = _write(env.parent, "mine.jsonl", "mine")
    assert benchmarks.read("mine")[:2] == ("mine", own)


def test_a_folder_of_trace_shards(tmp_path):
    folder = tmp_path / "heldout"
    store.write_parquet(pa.table({"problem_id": ["p1"], "problem": ["What is 1 + 1?"]}), folder / "s-00000.parquet")
    name, where, table = benchmarks.read(str(folder))
    assert (name, where, table.num_rows) == ("heldout", folder, 1)


def test_offline_is_one_line_and_no_hub(tmp_path, monkeypatch):
    # The tests' hub is offline (HF_HUB_OFFLINE): a registry name with no local copy is one error
    # that names the folders looked in and the command that fills the cache.
    with pytest.raises(BadInput) as exc:
        benchmarks.path("aime25")
    line = str(exc.value)
    assert "\n" not in line and "cache " in line and "distillery benchmarks pull aime25" in line
    assert "out of reach (offline)" in line
    with pytest.raises(BadInput, match="not a registry name"):
        benchmarks.pull("nonesuch")
    with pytest.raises(BadInput, match="hub is out of reach"):
        benchmarks.pull("aime25")
    assert not benchmarks.cache_dir().joinpath("aime25.jsonl").exists()


def test_answers_from_hub_columns():
    gsm, math = benchmarks.REGISTRY["gsm8k"], benchmarks.REGISTRY["math_test_full"]
    assert benchmarks._answers(gsm, ["She has 3 + 4 = <<3+4=7>>7.\n#### 1,007", None]) == ["1007", None]
    assert benchmarks._answers(math, ["So it is $\\boxed{\\frac{1}{2}}$."]) == ["\\frac{1}{2}"]


def test_benchmarks_command(tmp_path, capsys, bench_folder):
    code, out, err = run_cli(["benchmarks", "list"], capsys)
    assert code == 0, err
    assert f"$DISTILLERY_BENCHMARKS: {bench_folder}" in out
    lines = {line.split()[0]: line for line in out.splitlines() if not line.startswith("looked")}
    assert set(lines) == set(benchmarks.REGISTRY)
    assert str(bench_folder / "math500.jsonl") in lines["math500"] and lines["amc23"].rstrip().endswith("-")
    code, out, _ = run_cli(["benchmarks", "path", "aime24"], capsys)
    assert code == 0 and out.strip() == str(bench_folder / "aime24.jsonl")
    code, _, err = run_cli(["benchmarks", "path", "amc23"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "benchmarks pull amc23" in err
    code, _, err = run_cli(["benchmarks", "pull", "amc23"], capsys)
    assert code == 2 and "out of reach" in err and len(err.strip().splitlines()) == 1


def test_package_names_no_development_folder():
    """Nothing in the package knows ../shared or a machine path: tests and CI point
    $DISTILLERY_BENCHMARKS at the real files."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    hits = [f"{p.relative_to(root)}:{i}" for pkg in ("curate", "train") for p in sorted((root / pkg).rglob("*.py"))
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if "shared/data" in line or "/work/" in line or '"shared"' in line]
    assert hits == []
