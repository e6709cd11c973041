"""Trace folders given as URIs (curate.remote): read through pyarrow's file systems, same run."""

from __future__ import annotations

import json

from conftest import run_cli, run_file_hash
from curate import store

RECIPE = """\
name: uri
stages:
  - exact_dedup: {on: problem, keep: first}
  - format: {}
  - filter: {drop_where: "length(thinking) < 40", reason: short}
"""


def _hashes(run):
    return {f: run_file_hash(run / f) for f in ("traces.parquet", "selected.parquet", "stages/01-exact_dedup.parquet",
                                                  "stages/03-filter.parquet")}


def test_file_uri_input_gives_the_same_run_as_the_path(traces_dir, tmp_path, capsys):
    (tmp_path / "uri.yaml").write_text(RECIPE)
    # two shards, so the folder is read shard by shard
    table = store.load_traces(traces_dir)
    folder = tmp_path / "two"
    store.write_shards(table, folder, "part", rows_per_shard=7)
    code, _, err = run_cli(["curate", tmp_path / "uri.yaml", "--input", folder, "--out", tmp_path / "a"], capsys)
    assert code == 0, err
    code, _, err = run_cli(["curate", tmp_path / "uri.yaml", "--input", folder.as_uri(), "--out", tmp_path / "b"], capsys)
    assert code == 0, err
    assert _hashes(tmp_path / "a") == _hashes(tmp_path / "b")
    inputs = json.loads((tmp_path / "b" / "manifest.json").read_text())["inputs"]
    assert list(inputs) == [f"file://{folder}/part-00000.parquet", f"file://{folder}/part-00001.parquet"]
    local = json.loads((tmp_path / "a" / "manifest.json").read_text())["inputs"]
    assert [v["xxh3_64"] for v in inputs.values()] == [v["xxh3_64"] for v in local.values()]
    # a rerun from the path reuses the stages the URI run cached (same fingerprints, same keys)
    code, _, err = run_cli(["curate", tmp_path / "uri.yaml", "--input", folder, "--out", tmp_path / "b"], capsys)
    m = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert code == 0 and all(s["cached"] for s in m["stages"])


def test_bad_uris_are_one_line(traces_dir, tmp_path, capsys):
    (tmp_path / "uri.yaml").write_text(RECIPE)
    empty = tmp_path / "empty"
    empty.mkdir()
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really PAR1")
    cases = [((tmp_path / "nowhere").as_uri(), "no such file or folder"),
             (empty.as_uri(), "holds no .parquet files"),
             ((tmp_path / "bad.parquet").as_uri(), "bad.parquet"),
             ("nosuchscheme://bucket/traces", "nosuchscheme://bucket/traces")]
    for uri, words in cases:
        code, _, err = run_cli(["curate", tmp_path / "uri.yaml", "--input", uri, "--out", tmp_path / "run"], capsys)
        assert code == 2 and err.count("\n") == 1 and words in err, (uri, err)
        assert not (tmp_path / "run").exists()
