"""A recipe run: the folder it writes, every row kept with its reason, byte-identical reruns, cache."""

import json
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from curate import recipe, run, store
from curate.errors import BadInput

RECIPE = """
name: t
seed: 3
stages:
  - exact_dedup: {keep: first}
  - format: {}
  - filter: {drop_where: "length(thinking) < 20", reason: thinking too short}
  - sample: {n: 2, by: problem}
"""


def do_run(traces_dir: Path, out: Path, text: str = RECIPE, **kw):
    return run.run(recipe.parse(text, "t.yaml"), traces_dir, out, **kw)


def test_run_folder_contents(traces_dir, tmp_path):
    res = do_run(traces_dir, tmp_path / "run")
    out = tmp_path / "run"
    for name in ("recipe.yaml", "manifest.json", "traces.parquet", "selected.parquet"):
        assert (out / name).is_file(), name
    assert sorted(p.name for p in (out / "stages").iterdir()) == [
        "01-exact_dedup.parquet", "02-format.parquet", "03-filter.parquet", "04-sample.parquet"]
    traces = pl.read_parquet(out / "traces.parquet")
    assert traces.height == 12  # every input row stays
    reasons = dict(traces.group_by("dropped_by").len().iter_rows())
    assert reasons["01-exact_dedup"] == 1  # "what is 2 + 2" duplicates "What is 2 + 2?"
    # format: truncated, no boxed, stray think tag
    fmt = traces.filter(pl.col("dropped_by") == "02-format")["drop_reason"].sort().to_list()
    assert fmt == ["no \\boxed answer in the response", "thinking never closed",
                   "truncated (finish_reason = length)"]
    assert traces.filter(pl.col("dropped_by") == "03-filter")["drop_reason"].to_list() == ["thinking too short"]
    kept = traces.filter(pl.col("dropped_by").is_null())
    assert kept["problem_id"].n_unique() == 2  # sample kept two whole problems
    # a dropped row keeps the columns of the stages that saw it, and none of the later ones
    dup = traces.filter(pl.col("dropped_by") == "01-exact_dedup").row(0, named=True)
    assert dup["dup_of"] is not None and dup["fmt_truncated"] is None
    selected = pl.read_parquet(out / "selected.parquet")
    assert selected.height == kept.height == res.rows_selected
    assert selected.columns[0] == "messages" and "dropped_by" not in selected.columns
    msg = selected.row(0, named=True)["messages"]
    assert [m["role"] for m in msg] == ["user", "assistant"]
    assert msg[1]["content"].startswith("<think>\n") and "\n</think>\n\n" in msg[1]["content"]


def test_manifest_counts(traces_dir, tmp_path):
    do_run(traces_dir, tmp_path / "run")
    m = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert m["recipe"] == "t" and m["seed"] == 3 and m["rows_in"] == 12
    rows = [(s["stage"], s["rows_in"], s["rows_out"]) for s in m["stages"]]
    assert rows[0] == ("01-exact_dedup", 12, 11)
    for (_, _, out), (_, nxt, _) in zip(rows, rows[1:]):
        assert out == nxt  # each stage sees exactly the survivors of the one before
    assert m["stages"][1]["drops_by_reason"]["truncated (finish_reason = length)"] == 1
    assert m["rows_selected"] == rows[-1][2]
    assert set(m["versions"]) >= {"python", "distillery", "polars", "duckdb"}
    for name, info in m["outputs"].items():
        assert info["xxh3_64"] == store.file_hash(tmp_path / "run" / name)
    traces_file = next(iter(m["inputs"]))
    assert traces_file.endswith("hand-00000.parquet")


def test_rerun_is_byte_identical_and_cached(traces_dir, tmp_path):
    do_run(traces_dir, tmp_path / "a")
    first = {n: (tmp_path / "a" / n).read_bytes() for n in ("traces.parquet", "selected.parquet")}
    res = do_run(traces_dir, tmp_path / "a")
    assert all(s.cached for s in res.stages)
    for n, data in first.items():
        assert (tmp_path / "a" / n).read_bytes() == data
    # A fresh folder computes everything again and still lands on the same bytes.
    res = do_run(traces_dir, tmp_path / "b")
    assert not any(s.cached for s in res.stages)
    for n, data in first.items():
        assert (tmp_path / "b" / n).read_bytes() == data


def test_changed_stage_reruns_only_from_there(traces_dir, tmp_path):
    do_run(traces_dir, tmp_path / "r")
    changed = RECIPE.replace("length(thinking) < 20", "length(thinking) < 30")
    res = do_run(traces_dir, tmp_path / "r", changed)
    assert [s.cached for s in res.stages] == [True, True, False, False]
    # a changed input invalidates everything
    t = store.load_traces(traces_dir).slice(0, 10)
    store.save_traces(t, traces_dir, prefix="hand")
    res = do_run(traces_dir, tmp_path / "r", changed)
    assert not any(s.cached for s in res.stages)


def test_damaged_cache_is_recomputed(traces_dir, tmp_path):
    do_run(traces_dir, tmp_path / "r")
    before = (tmp_path / "r" / "traces.parquet").read_bytes()
    (tmp_path / "r" / "stages" / "02-format.parquet").write_bytes(b"garbage")
    res = do_run(traces_dir, tmp_path / "r")
    assert [s.cached for s in res.stages][:3] == [True, False, True] or not res.stages[1].cached
    assert (tmp_path / "r" / "traces.parquet").read_bytes() == before


def test_stage_files_carry_their_key(traces_dir, tmp_path):
    do_run(traces_dir, tmp_path / "r")
    meta = pq.read_schema(tmp_path / "r" / "stages" / "01-exact_dedup.parquet").metadata
    assert meta[b"distillery.recipe"] == b"t" and len(meta[b"distillery.stage_key"]) == 32


def test_refuses_another_recipes_folder(traces_dir, tmp_path):
    do_run(traces_dir, tmp_path / "r")
    other = RECIPE.replace("name: t", "name: other")
    with pytest.raises(BadInput, match=r"holds a run of recipe 't', not 'other'.*--overwrite"):
        do_run(traces_dir, tmp_path / "r", other)
    assert recipe.parse((tmp_path / "r" / "recipe.yaml").read_text()).name == "t"  # untouched
    (tmp_path / "r" / "student").mkdir()  # e.g. a student trained on the old selection
    do_run(traces_dir, tmp_path / "r", other, overwrite=True)
    assert recipe.parse((tmp_path / "r" / "recipe.yaml").read_text()).name == "other"
    assert not (tmp_path / "r" / "student").exists()


def test_refuses_a_folder_that_is_not_a_run(traces_dir, tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "notes.txt").write_text("mine")
    with pytest.raises(BadInput, match="not empty and is not a distillery run"):
        do_run(traces_dir, tmp_path / "r", overwrite=True)
    assert (tmp_path / "r" / "notes.txt").read_text() == "mine"


def test_bad_filter_sql_names_stage_and_line(traces_dir, tmp_path):
    text = RECIPE.replace("length(thinking) < 20", "no_such_column > 1")
    with pytest.raises(BadInput, match=r"t.yaml line 7: stage 03-filter: SQL predicate failed: .*no_such_column"):
        do_run(traces_dir, tmp_path / "r", text)
    assert not (tmp_path / "r" / "traces.parquet").exists()


def test_filter_where_keeps_matching_rows_and_drops_nulls(traces_dir, tmp_path):
    text = """
name: w
stages:
  - filter: {where: "CASE WHEN sample_idx = 0 THEN true WHEN sample_idx = 1 THEN NULL END", reason: not first}
"""
    do_run(traces_dir, tmp_path / "w", text)
    t = pl.read_parquet(tmp_path / "w" / "traces.parquet")
    assert set(t.filter(pl.col("dropped_by").is_null())["sample_idx"]) == {0}


def test_exact_dedup_policies_and_samples_per_problem(traces_dir, tmp_path):
    base = "name: d\nstages:\n  - exact_dedup: {keep: %s%s}\n"
    do_run(traces_dir, tmp_path / "first", base % ("first", ""))
    t = pl.read_parquet(tmp_path / "first" / "traces.parquet")
    # all three samples of the first-seen problem stay; the later lowercase copy goes
    kept = t.filter(pl.col("problem") == "What is 2 + 2?", pl.col("dropped_by").is_null())
    assert kept.height == 3
    dropped = t.filter(pl.col("dropped_by").is_not_null())
    assert dropped["problem"].to_list() == ["what is 2 + 2"]
    assert dropped["dup_of"][0] == kept["trace_id"][0]
    do_run(traces_dir, tmp_path / "one", base % ("longest", ", max_per_problem: 1"))
    t = pl.read_parquet(tmp_path / "one" / "traces.parquet")
    kept = t.filter(pl.col("dropped_by").is_null())
    assert kept["problem_id"].n_unique() == kept.height  # one sample per problem
    p1 = t.filter(pl.col("problem").str.to_lowercase().str.contains("what is 2"))
    longest = p1.sort(pl.col("thinking").str.len_chars(), descending=True).row(0, named=True)
    assert longest["dropped_by"] is None


def test_sample_is_seeded_and_order_free(traces_dir, tmp_path):
    text = "name: s\nseed: %d\nstages:\n  - sample: {n: 5}\n"
    do_run(traces_dir, tmp_path / "a", text % 1)
    a = pl.read_parquet(tmp_path / "a" / "selected.parquet")["trace_id"].sort().to_list()
    # the same rows in reverse order: the same sample
    t = store.load_traces(traces_dir)
    rev = tmp_path / "rev"
    store.save_traces(t.take(list(reversed(range(t.num_rows)))), rev, prefix="x")
    do_run(rev, tmp_path / "b", text % 1)
    assert pl.read_parquet(tmp_path / "b" / "selected.parquet")["trace_id"].sort().to_list() == a
    do_run(traces_dir, tmp_path / "c", text % 2)
    assert pl.read_parquet(tmp_path / "c" / "selected.parquet")["trace_id"].sort().to_list() != a


def test_export_stage_configures_messages(traces_dir, tmp_path):
    text = """
name: e
stages:
  - export: {think_open: "<|im_start|>think\\n", think_close: "\\n<|im_start|>answer\\n", system: You are careful.}
"""
    do_run(traces_dir, tmp_path / "e", text)
    msg = pl.read_parquet(tmp_path / "e" / "selected.parquet")["messages"][0].to_list()
    assert msg[0] == {"role": "system", "content": "You are careful."}
    assert msg[2]["content"].startswith("<|im_start|>think\n")


def test_export_options_top_level(traces_dir, tmp_path):
    """`export` is the run's final step, not a stage: a top-level key, same messages as the older
    last-stage form, no stage file, no funnel line."""
    text = """
name: e
stages:
  - format: {}
export: {think_open: "<|im_start|>think\\n", think_close: "\\n<|im_start|>answer\\n", system: You are careful.}
"""
    res = do_run(traces_dir, tmp_path / "e", text)
    msg = pl.read_parquet(tmp_path / "e" / "selected.parquet")["messages"][0].to_list()
    assert msg[0] == {"role": "system", "content": "You are careful."}
    assert msg[2]["content"].startswith("<|im_start|>think\n")
    assert [s.label for s in res.stages] == ["01-format"]
    assert sorted(p.name for p in (tmp_path / "e" / "stages").iterdir()) == ["01-format.parquet"]
    # The resolved recipe holds the options at the top level, and loads again as it was.
    again = recipe.parse((tmp_path / "e" / "recipe.yaml").read_text(), "recipe.yaml")
    assert again.export.system == "You are careful." and [s.name for s in again.stages] == ["format"]


def test_export_must_be_last_and_given_once():
    with pytest.raises(BadInput, match="line 3: 'export' may appear once, as the last stage"):
        recipe.parse("name: x\nstages:\n  - export: {}\n  - format: {}\n", "x")
    with pytest.raises(BadInput, match="line 4: 'export' is given twice"):
        recipe.parse("name: x\nstages:\n  - format: {}\n  - export: {}\nexport: {}\n", "x")
    with pytest.raises(BadInput, match="line 4: stage 'export' has no key 'think'"):
        recipe.parse("name: x\nstages:\n  - format: {}\nexport: {think: a}\n", "x")


def test_outputs_get_the_usual_file_mode(traces_dir, tmp_path):
    import os
    import stat

    do_run(traces_dir, tmp_path / "r")
    umask = os.umask(0)
    os.umask(umask)
    mode = stat.S_IMODE((tmp_path / "r" / "traces.parquet").stat().st_mode)
    assert mode == 0o666 & ~umask  # not mkstemp's 0600


def test_no_op_stages_are_announced_and_can_be_errors(traces_dir, tmp_path, capsys):
    from conftest import run_cli

    text = ("name: quiet\nstages:\n  - difficulty: {mode: s1, attempts_from: students}\n"
            "  - filter: {where: \"verdict = 'correct'\", reason: wrong, on_missing: skip}\n")
    path = tmp_path / "quiet.yaml"
    path.write_text(text.replace(", on_missing: skip", ""))
    # The filter reads a column no stage wrote: DuckDB says so, at the recipe line.
    code, _, err = run_cli(["curate", path, "--input", traces_dir, "--out", tmp_path / "r0"], capsys)
    assert code == 2 and "quiet.yaml line 4: stage 02-filter" in err and not (tmp_path / "r0").exists()
    path.write_text("name: quiet\nstages:\n  - difficulty: {mode: s1, attempts_from: students}\n"
                    "  - filter: {drop_where: 'cast(NULL AS BOOLEAN)', reason: never}\n")
    code, out, err = run_cli(["curate", path, "--input", traces_dir, "--out", tmp_path / "r1"], capsys)
    assert code == 0, err
    assert "warning: 01-difficulty: no student attempts in" in err
    assert "warning: 02-filter: the predicate is NULL on every row" in err
    manifest = json.loads((tmp_path / "r1" / "manifest.json").read_text())
    assert [len(s["warnings"]) for s in manifest["stages"]] == [1, 1]
    assert manifest["warnings"][0].startswith("01-difficulty: no student attempts")
    # A cached rerun says it again.
    code, _, err = run_cli(["curate", path, "--input", traces_dir, "--out", tmp_path / "r1"], capsys)
    assert code == 0 and "warning: 01-difficulty: no student attempts" in err and "cached" in err
    # on_missing: error makes it one line, exit 2, naming the stage and its recipe line; nothing written.
    path.write_text("name: strict\nstages:\n  - difficulty: {mode: s1, attempts_from: students, on_missing: error}\n")
    code, _, err = run_cli(["curate", path, "--input", traces_dir, "--out", tmp_path / "r2"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "quiet.yaml line 3: stage 01-difficulty: no student attempts" in err and "(on_missing: error)" in err
    assert not (tmp_path / "r2").exists()
    # skip: the manifest has it, the console does not.
    path.write_text("name: calm\nstages:\n  - difficulty: {mode: s1, attempts_from: students, on_missing: skip}\n")
    code, _, err = run_cli(["curate", path, "--input", traces_dir, "--out", tmp_path / "r3"], capsys)
    assert code == 0 and "warning" not in err
    assert json.loads((tmp_path / "r3" / "manifest.json").read_text())["stages"][0]["skipped"]


def test_a_recipe_that_keeps_nothing_exits_2_with_the_funnel_and_writes_nothing(traces_dir, tmp_path, capsys):
    from conftest import run_cli

    path = tmp_path / "none.yaml"
    path.write_text("name: none\nstages:\n  - exact_dedup: {}\n  - filter: {where: 'false', reason: all gone}\n")
    code, _, err = run_cli(["curate", path, "--input", traces_dir, "--out", tmp_path / "run"], capsys)
    assert code == 2 and err.splitlines()[-1].startswith("error: ") and "[2/2] 02-filter" in err
    assert "recipe 'none' kept 0 of 12 rows, nothing written; funnel: 01-exact_dedup 12 → 11; " \
           "02-filter 11 → 0 (most: 'all gone' ×11)" in err
    assert not (tmp_path / "run").exists()
    # A failed run into an existing run folder leaves it as it was: no stages/ of the failed run.
    good = tmp_path / "none_ok.yaml"
    good.write_text("name: none\nstages:\n  - exact_dedup: {}\n")
    assert run_cli(["curate", good, "--input", traces_dir, "--out", tmp_path / "run"], capsys)[0] == 0
    before = sorted(p.name for p in (tmp_path / "run" / "stages").iterdir())
    assert run_cli(["curate", path, "--input", traces_dir, "--out", tmp_path / "run"], capsys)[0] == 2
    assert sorted(p.name for p in (tmp_path / "run" / "stages").iterdir()) == before


def test_a_sample_larger_than_its_input_is_announced(traces_dir, tmp_path):
    res = run.run(recipe.parse("name: s\nstages:\n  - sample: {n: 50}\n", "s.yaml"), traces_dir, tmp_path / "r")
    assert res.rows_selected == 12 and res.stages[0].warnings == ["a sample of 50 rows from 12: every one kept"]


def test_a_damaged_run_folder_is_an_error_naming_the_file(traces_dir, tmp_path):
    """A run folder whose recipe.yaml cannot be read is not silently 'a run of recipe ?': the
    error names the file; --overwrite replaces the folder."""
    out = tmp_path / "run"
    do_run(traces_dir, out)
    (out / "recipe.yaml").write_text("name: [unclosed\n")
    (out / ".distillery-run").unlink(missing_ok=True)
    with pytest.raises(BadInput, match=r"recipe\.yaml.*cannot tell which recipe this run folder belongs to"):
        do_run(traces_dir, out)
    assert do_run(traces_dir, out, overwrite=True).rows_selected > 0
    (out / ".distillery-run").write_text("{not json")
    with pytest.raises(BadInput, match=r"\.distillery-run: damaged run marker"):
        do_run(traces_dir, out)
