"""Hostile and broken input: one line, exit 2, nothing written, and no memory blow-up (issue 15)."""

from __future__ import annotations

import os
import resource

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import run_cli
from curate import recipe, safe_yaml, store
from curate.errors import BadInput


def _bomb(levels: int, width: int) -> str:
    """The billion laughs: each level a list of `width` aliases of the one before."""
    parts = ['l0: &l0 "lol"'] + [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]"
                                 for i in range(1, levels + 1)]
    return "{" + ", ".join(parts) + "}"


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("where", ["description", "filter"])
def test_yaml_alias_bomb_is_refused_quickly_with_a_short_line(tmp_path, where, capsys):
    bomb = _bomb(9, 9)
    if where == "description":
        text = f"name: bomb\ndescription: {bomb}\nstages:\n  - format: {{}}\n"
    else:
        text = f"name: bomb\nstages:\n  - filter: {{where: {bomb}, reason: r}}\n"
    path = tmp_path / "bomb.yaml"
    path.write_text(text)
    assert len(text) < 1000
    before = _maxrss_mb()
    code, out, err = run_cli(["curate", path, "--input", tmp_path / "nothing", "--out", tmp_path / "run"], capsys)
    assert code == 2 and err.count("\n") == 1 and len(err) < 300, err
    assert "alias" in err and "bomb.yaml line" in err
    assert _maxrss_mb() - before < 200  # nothing was expanded
    assert not (tmp_path / "run").exists()


def test_small_bomb_under_the_limits_still_gets_a_short_error(tmp_path, capsys):
    path = tmp_path / "five.yaml"
    path.write_text(f"name: five\ndescription: {_bomb(5, 5)}\nstages:\n  - format: {{}}\n")
    code, out, err = run_cli(["curate", path, "--input", tmp_path, "--out", tmp_path / "run"], capsys)
    assert code == 2 and len(err) < 300 and "'description' must be text" in err, err


def test_small_alias_use_still_loads():
    text = "name: ok\nstages:\n  - filter: &f {drop_where: 'length(thinking) < 3', reason: short}\n  - filter: *f\n"
    assert len(recipe.parse(text, "ok.yaml").stages) == 2


def test_recursive_alias_and_deep_nesting(tmp_path):
    with pytest.raises(BadInput, match="refers to itself"):
        safe_yaml.load("a: &a [*a]\n", "r.yaml")
    with pytest.raises(BadInput, match="nested too deeply|does not parse"):
        safe_yaml.load("[" * 100_000 + "]" * 100_000, "deep.yaml")


def test_python_tag_is_exit_2_naming_the_line(tmp_path, capsys):
    path = tmp_path / "tag.yaml"
    path.write_text("name: t\nstages:\n  - filter:\n      where: !!python/object/apply:os.system ['touch pwned']\n"
                    "      reason: r\n")
    code, out, err = run_cli(["curate", path, "--input", tmp_path, "--out", tmp_path / "run"], capsys)
    assert code == 2 and "tag.yaml line 4" in err and "python/object/apply" in err, err
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "run").exists()


def test_recipe_not_utf8_and_too_big(tmp_path, capsys):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: café\nstages:\n  - format: {}\n".encode("latin-1"))
    code, out, err = run_cli(["curate", path, "--input", tmp_path, "--out", tmp_path / "run"], capsys)
    assert code == 2 and "latin1.yaml" in err and "not UTF-8" in err and err.count("\n") == 1, err
    big = tmp_path / "big.yaml"
    big.write_text("name: big\ndescription: '" + "x" * (safe_yaml.MAX_BYTES + 10) + "'\nstages: [format]\n")
    code, out, err = run_cli(["curate", big, "--input", tmp_path, "--out", tmp_path / "run"], capsys)
    assert code == 2 and "limit" in err, err


def test_rubric_and_train_config_use_the_same_limits(tmp_path):
    from curate import rubric

    path = tmp_path / "r.yaml"
    path.write_text("name: r\ncriteria:\n  - !!python/name:os.system {}\n")
    with pytest.raises(BadInput, match="line 3.*not allowed"):
        rubric.load_rubric(str(path))
    from train import config

    cfg = tmp_path / "c.yaml"
    cfg.write_bytes(b"learning_rate: \xff\xfe\n")
    with pytest.raises(BadInput, match="not UTF-8"):
        config.load_config(str(cfg))


# ------------------------------------------------------------------------------ broken data files

def _bad_utf8_folder(folder, traces_dir):
    table = store.read_parquet(next(traces_dir.glob("*.parquet")))
    raw = [s.encode() for s in table["problem"].to_pylist()]
    raw[3] = b"caf\xe9 \xff"  # latin-1, as a non-Arrow writer may leave it
    bad = pa.array(raw, pa.binary()).view(pa.string())
    folder.mkdir()
    pq.write_table(table.set_column(table.schema.get_field_index("problem"), "problem", bad), folder / "x-00000.parquet")
    return folder


def test_invalid_utf8_in_a_parquet_column_is_one_line(traces_dir, tmp_path, capsys):
    bad = _bad_utf8_folder(tmp_path / "bad", traces_dir)
    (tmp_path / "r.yaml").write_text("name: r\nstages:\n  - format: {}\n")
    for args in (["curate", tmp_path / "r.yaml", "--input", bad, "--out", tmp_path / "run"],
                 ["validate", bad],
                 ["dedup", bad, "--out", tmp_path / "d.parquet"],
                 ["sql", bad, "-c", "SELECT max(problem) FROM traces"]):
        code, out, err = run_cli(args, capsys)
        assert code == 2, (args, out, err)
        assert ("column 'problem', row 3: text is not valid UTF-8" in err + out) or (args[0] == "sql" and "UTF" in err.upper()), (args, err, out)
        assert "panic" not in (err + out).lower() and "Traceback" not in err
    assert not (tmp_path / "run").exists() and not (tmp_path / "d.parquet").exists()


@pytest.mark.parametrize("name,text", [
    ("deep.json", '{"a":' * 100_000 + "1" + "}" * 100_000),
    ("deep.jsonl", '{"problem": "p", "x": ' + "[" * 100_000 + "]" * 100_000 + "}\n"),
])
def test_json_nested_100k_deep_is_one_line(tmp_path, name, text, capsys):
    (tmp_path / name).write_text(text)
    code, out, err = run_cli(["ingest", tmp_path / name, "--out", tmp_path / "out"], capsys)
    assert code == 2 and "nested too deeply" in err and name in err and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()


def test_hf_ingest_without_network_is_one_line(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env["HF_HOME"] = str(tmp_path / "hf")  # an empty cache
    env["HF_ENDPOINT"] = "http://127.0.0.1:9"  # nothing listens on the discard port: as without network
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    res = subprocess.run([sys.executable, "-m", "curate.cli", "ingest", "hf:simplescaling/s1K-1.1", "--preset", "s1k",
                          "--out", tmp_path / "out"], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 2, res.stderr
    assert res.stderr.count("\n") == 1 and "out of reach" in res.stderr, res.stderr
    assert not (tmp_path / "out").exists()


def test_baseline_with_the_wrong_signature_fails_before_anything_runs(traces_dir, tmp_path, capsys, monkeypatch):
    (tmp_path / "mybase.py").write_text("def pick(pool, k):\n    return []\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, err = run_cli(["ablate", "--pool", traces_dir, "--recipe", "demo", "--eval", traces_dir,
                              "--out", tmp_path / "abl", "--k", "2", "--baselines", "mybase:pick"], capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert "mybase:pick" in err and "(pool, k, seed)" in err and "(pool, k)" in err
    assert not (tmp_path / "abl").exists()


# ------------------------------------------------------------------------------- bounded memory

def test_oversized_text_flagged_by_validate_and_dropped_by_format(traces_dir, tmp_path, capsys):
    import polars as pl

    from curate import run

    table = store.read_parquet(next(traces_dir.glob("*.parquet")))
    problems = table["problem"].to_pylist()
    problems[2] = "Compute " + "1 + " * 400_000 + "1."  # 1.6 MB
    big = tmp_path / "big"
    big.mkdir()
    pq.write_table(table.set_column(table.schema.get_field_index("problem"), "problem", pa.array(problems)),
                   big / "x-00000.parquet")
    code, out, err = run_cli(["validate", big], capsys)
    assert code == 2 and "column 'problem': 1 value(s) over 1,000,000 bytes (first: row 2" in out, out
    code, out, err = run_cli(["validate", big, "--max-text-bytes", "2000000"], capsys)
    assert "over 2,000,000" not in out
    res = run.run(recipe.parse("name: b\nstages:\n  - format: {}\n  - budget: {}\n", "b.yaml"), big, tmp_path / "run")
    t = pl.read_parquet(tmp_path / "run" / "traces.parquet")
    row = t.filter(pl.col("trace_id") == table["trace_id"][2].as_py()).row(0, named=True)
    assert row["dropped_by"] == "01-format" and row["drop_reason"] == "text over 1,000,000 bytes in problem"
    assert res.manifest["stages"][0]["stats"]["oversized"] == 1


def test_long_texts_are_counted_in_pieces_with_the_same_count():
    from curate import tokens

    tok = tokens.load_tokenizer("builtin:minilm")
    text = ("Let x be the number of apples;  then 3x + 4 = 19, so x = 5.\n\nWait, check: 3·5 + 4 = 19. " * 4000)
    assert len(text) > 3 * tokens.PIECE_CHARS
    whole = len(tok.backend_tokenizer.encode(text, add_special_tokens=False).ids)
    short = len(tok.backend_tokenizer.encode("short one", add_special_tokens=False).ids)
    assert tokens.count_tokens(tok, [text, "short one", None]) == [whole, short, 0]
