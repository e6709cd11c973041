"""`distillery export RUN --format jsonl|parquet|hf|sharegpt --out PATH`."""

import json

import polars as pl
import pytest

from curate import recipe, run
from tests.conftest import run_cli

RECIPE = """
name: t
stages:
  - format: {}
  - export: {think_open: "<|im_start|>think\\n", think_close: "\\n<|im_start|>answer\\n"}
"""


@pytest.fixture
def run_dir(traces_dir, tmp_path):
    out = tmp_path / "run"
    run.run(recipe.parse(RECIPE, "t.yaml"), traces_dir, out)
    return out


def test_export_formats(run_dir, tmp_path, capsys):
    selected = pl.read_parquet(run_dir / "selected.parquet")
    n = selected.height
    assert selected["messages"][0][1]["content"].startswith("<|im_start|>think\n")

    code, out, err = run_cli(["export", run_dir, "--format", "jsonl", "--out", tmp_path / "o.jsonl"], capsys)
    assert code == 0, err
    assert f"{n} rows" in out
    rows = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert len(rows) == n and rows[0]["messages"][0] == {"role": "user", "content": selected["problem"][0]}
    assert rows[0]["trace_id"] == selected["trace_id"][0]

    assert run_cli(["export", run_dir, "--format", "parquet", "--out", tmp_path / "o.parquet"], capsys)[0] == 0
    assert pl.read_parquet(tmp_path / "o.parquet").equals(selected)

    assert run_cli(["export", run_dir, "--format", "sharegpt", "--out", tmp_path / "s.json"], capsys)[0] == 0
    share = json.loads((tmp_path / "s.json").read_text())
    assert [t["from"] for t in share[0]["conversations"]] == ["human", "gpt"] and len(share) == n
    assert run_cli(["export", run_dir, "--format", "sharegpt", "--out", tmp_path / "s.jsonl"], capsys)[0] == 0
    assert len((tmp_path / "s.jsonl").read_text().splitlines()) == n

    assert run_cli(["export", run_dir, "--format", "hf", "--out", tmp_path / "hf"], capsys)[0] == 0
    import datasets

    ds = datasets.load_from_disk(str(tmp_path / "hf"))
    assert len(ds) == n and ds[0]["messages"][1]["role"] == "assistant"


def test_export_bad_input(run_dir, tmp_path, capsys):
    code, _, err = run_cli(["export", run_dir, "--format", "csv", "--out", tmp_path / "o"], capsys)
    assert code == 2 and "--format csv: unknown" in err
    code, _, err = run_cli(["export", tmp_path / "nothing", "--format", "jsonl", "--out", tmp_path / "o"], capsys)
    assert code == 2 and "not a run folder" in err
