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


CARD_RECIPE = """
name: carded
stages:
  - exact_dedup: {on: problem}
  - decontam: {bench: ["BENCH"]}
  - format: {}
  - budget: {tokenizer: "builtin:minilm"}
"""


@pytest.fixture
def carded_run(traces_dir, tmp_path):
    bench = tmp_path / "mybench.jsonl"
    bench.write_text(json.dumps({"problem": "Compute 3 * 5.", "answer": "15"}) + "\n")
    out = tmp_path / "carded"
    run.run(recipe.parse(CARD_RECIPE.replace("BENCH", str(bench)), "carded.yaml"), traces_dir, out)
    return out


def test_dataset_card_has_the_lineage(carded_run, tmp_path, capsys):
    manifest = json.loads((carded_run / "manifest.json").read_text())
    for fmt, out, card in [("parquet", tmp_path / "p" / "d.parquet", tmp_path / "p" / "README.md"),
                           ("jsonl", tmp_path / "j" / "d.jsonl", tmp_path / "j" / "README.md"),
                           ("hf", tmp_path / "hf", tmp_path / "hf" / "README.md")]:
        code, text, err = run_cli(["export", carded_run, "--format", fmt, "--out", out], capsys)
        assert code == 0, err
        assert f"card: {card}" in text
        md = card.read_text()
        assert md.startswith("---\nlicense: other\n")                      # source "hand": no known licence
        assert "distillery curate carded.yaml --input" in md
        assert f"distillery export {carded_run} --format {fmt} --out {out}" in md
        for path, info in manifest["inputs"].items():                      # fingerprints
            assert path in md and info["xxh3_64"] in md
        assert "| hand | 12 |" in md and "unknown: check the source's own card" in md
        assert "| hand-teacher | 12 |" in md
        for stage in manifest["stages"]:                                   # every drop reason, counted
            for reason, n in stage["drops_by_reason"].items():
                assert f"{reason}: {n:,}" in md, reason
        assert "| mybench | 1 | 2 | 1 |" in md                             # decontam per benchmark
        assert "counted with the budget stage's student tokenizer (builtin:minilm)" in md
        assert "## Recipe (as resolved)" in md and "name: carded" in md
    # a README.md distillery did not write is never replaced, and nothing is written
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "README.md").write_text("my notes\n")
    code, _, err = run_cli(["export", carded_run, "--format", "jsonl", "--out", tmp_path / "mine" / "d.jsonl"], capsys)
    assert code == 2 and "not a card distillery wrote" in err
    assert (tmp_path / "mine" / "README.md").read_text() == "my notes\n" and not (tmp_path / "mine" / "d.jsonl").exists()


def test_card_without_decontam_says_so(run_dir, tmp_path, capsys):
    assert run_cli(["export", run_dir, "--format", "jsonl", "--out", tmp_path / "x" / "d.jsonl"], capsys)[0] == 0
    md = (tmp_path / "x" / "README.md").read_text()
    assert "was **not** checked against benchmarks" in md and "words and punctuation marks" in md


def test_push_to_hub_without_network_is_one_line_and_exit_2(run_dir, tmp_path, capsys, monkeypatch):
    out = tmp_path / "pushed" / "d.jsonl"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, _, err = run_cli(["export", run_dir, "--format", "jsonl", "--out", out, "--push-to-hub", "me/set"], capsys)
    assert code == 2 and "HF_HUB_OFFLINE" in err and len(err.strip().splitlines()) == 1, err
    assert not out.parent.exists()
    # no offline flag, but nothing listens at the endpoint (a closed loopback port): one try, one line
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    code, _, err = run_cli(["export", run_dir, "--format", "jsonl", "--out", out, "--push-to-hub", "me/set"], capsys)
    assert code == 2 and "cannot reach the Hugging Face Hub at http://127.0.0.1:9" in err
    assert len(err.strip().splitlines()) == 1 and not out.parent.exists()
    code, _, err = run_cli(["export", run_dir, "--format", "jsonl", "--out", out, "--push-to-hub", "nobody"], capsys)
    assert code == 2 and "OWNER/NAME" in err
