"""distillery generate on Ray: the hf back-end with the tiny model in Ray actors, resumable shards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from conftest import run_cli
from curate import schema, store

pytest.importorskip("transformers")
pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'distillery[ray]')")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def problems_file(tmp_path):
    f = tmp_path / "problems.jsonl"
    f.write_text("".join(json.dumps({"problem": f"Add one to {i}.", "answer": str(i + 1)}) + "\n" for i in range(6)))
    return f


def _samples(out: Path) -> Counter:
    table = store.load_traces(out)
    assert schema.validate(table, "out") == []
    return Counter(zip(table.column("problem_id").to_pylist(), table.column("sample_idx").to_pylist()))


def _cli(*args) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    env.pop("RAY_ADDRESS", None)
    return subprocess.Popen([sys.executable, "-c", "import sys; from curate.cli import main; sys.exit(main())",
                             *map(str, args)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


@pytest.mark.slow
def test_generate_on_ray_replicas_killed_then_resumed_to_exactly_n(tiny_model, problems_file, tmp_path):  # noqa: F811
    out = tmp_path / "traces"
    args = ["generate", problems_file, "--model", tiny_model, "--backend", "hf", "--n", "4", "--out", out,
            "--max-tokens", "24", "--temperature", "1.0", "--flush-every", "2", "--batch-size", "2",
            "--engine", "ray", "--replicas", "2"]
    proc = _cli(*args)
    deadline = time.monotonic() + 300
    while len(list(out.glob("gen-*-[0-9]*.parquet"))) < 2:  # some samples on disk, most not yet
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver, its local Ray and both replicas
    proc.wait()
    before = _samples(out)
    assert 0 < sum(before.values()) < 24 and set(before.values()) == {1}
    again = _cli(*args)
    stdout, stderr = again.communicate(timeout=600)
    assert again.returncode == 0, stderr
    after = _samples(out)
    assert len(after) == 24 and set(after.values()) == {1}  # 6 problems x 4 samples, none twice
    assert {i for _, i in after} == {0, 1, 2, 3} and set(before) <= set(after)
    assert f"{sum(before.values())} already there" in stdout.replace(",", "")


def test_generate_ray_settings_are_one_line(tiny_model, problems_file, tmp_path, capsys):  # noqa: F811
    base = ["generate", problems_file, "--model", tiny_model, "--out", tmp_path / "o", "--max-tokens", "8"]
    cases = [(["--replicas", "2"], "only the ray engine"), (["--address", "auto"], "only the ray engine"),
             (["--engine", "spark"], "unknown engine"),
             (["--engine", "ray", "--address", "ray://127.0.0.1:1"], "no Ray cluster answers"),
             (["--engine", "ray", "--replicas", "0"], "at least 1")]
    for extra, words in cases:
        code, _, err = run_cli([*base, *extra], capsys)
        assert code == 2 and err.count("\n") == 1 and words in err, (extra, err)
        assert not (tmp_path / "o").exists()
