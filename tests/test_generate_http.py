"""The openai back-end against a real HTTP server on 127.0.0.1 (the tiny model behind
`curate.generate.server`), with injected 429s, 500s, slow answers and dropped connections; and a
real `distillery generate` killed with SIGKILL at several points, then resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from curate import schema, store
from curate.generate import Forcing, SamplingParams, generate

pytest.importorskip("transformers")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def server(tiny_model):
    from curate.generate.server import Server

    with Server(str(tiny_model), port=0, slow_s=3.0) as s:
        yield s


@pytest.fixture
def problems_file(tmp_path):
    f = tmp_path / "problems.jsonl"
    f.write_text("".join(json.dumps({"problem": f"Add one to {i}.", "gold": str(i + 1)}) + "\n" for i in range(4)))
    return f


def _keys(out: Path) -> list[tuple[str, int]]:
    t = store.load_traces(out)
    return list(zip(t.column("problem_id").to_pylist(), t.column("sample_idx").to_pylist()))


def test_openai_survives_429_500_slow_and_dropped(server, problems_file, tmp_path):
    server.plan = ["ok", "429", "500", "ok", "slow", "drop", "partial", "ok"]
    before = dict(server.served)
    res = generate(problems_file, "tiny", tmp_path / "o", backend="openai", n=3,
                   params=SamplingParams(max_tokens=8, temperature=1.0), base_url=server.url, concurrency=4,
                   retries=10, backoff=0.01, timeout=1.5)
    keys = _keys(tmp_path / "o")
    assert len(keys) == len(set(keys)) == 12 and res.new == 12
    served = {k: server.served[k] - before[k] for k in server.served}
    assert all(served[f] > 0 for f in ("429", "500", "slow", "drop", "partial")), served
    assert res.stats.retries >= sum(served[f] for f in ("429", "500", "slow", "drop", "partial"))
    rows = store.load_traces(tmp_path / "o").to_pylist()
    assert all(r["teacher"] == "tiny" and r["completion_tokens"] >= 1 for r in rows)


def test_openai_logprobs_and_forcing_through_completions(server, tiny_model, problems_file, tmp_path):
    server.plan = ["ok"]
    generate(problems_file, "tiny", tmp_path / "lp", backend="openai", n=1, base_url=server.url,
             params=SamplingParams(max_tokens=6, temperature=1.0, logprobs=2), backoff=0.01)
    for r in store.load_traces(tmp_path / "lp").to_pylist():
        assert len(r["topk_ids"]) == r["completion_tokens"] and all(len(t) == 2 for t in r["topk_ids"])
    generate(problems_file, "tiny", tmp_path / "bf", backend="openai", n=1, base_url=server.url,
             tokenizer=str(tiny_model), backoff=0.01,
             params=SamplingParams(max_tokens=12, temperature=1.0, forcing=Forcing(max_thinking=3)))
    for r in store.load_traces(tmp_path / "bf").to_pylist():
        assert r["thinking_tokens"] <= 3 and r["completion_tokens"] <= 12


def test_reasoning_content_is_kept_apart(server, problems_file, tmp_path):
    server.plan, server.reasoning = ["ok"], True
    try:
        generate(problems_file, "tiny", tmp_path / "r", backend="openai", n=1, base_url=server.url,
                 params=SamplingParams(max_tokens=6), backoff=0.01)
    finally:
        server.reasoning = False
    rows = store.load_traces(tmp_path / "r").to_pylist()
    assert len(rows) == 4 and all(json.loads(r["meta"])["reasoning_apart"] for r in rows)


@pytest.mark.slow
def test_kill_9_at_several_points_then_resume(server, problems_file, tmp_path):
    server.plan = ["ok", "ok", "ok", "429"]
    out = tmp_path / "killed"
    argv = [sys.executable, "-m", "curate.cli", "generate", str(problems_file), "--model", "tiny", "--out", str(out),
            "--backend", "openai", "--base-url", server.url, "--n", "5", "--max-tokens", "6",
            "--temperature", "1.0", "--flush-every", "1", "--concurrency", "3"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def shards() -> int:
        return len(list(out.glob("gen-*.parquet"))) if out.is_dir() else 0

    kills = 0
    for target, delay in ((1, 0.0), (4, 0.05), (None, 0.0), (9, 0.0)):
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        start = shards()
        while proc.poll() is None and time.monotonic() < deadline:
            if (target is None and shards() > start) or (target is not None and shards() >= target):
                break
            time.sleep(0.01)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=30)
        keys = _keys(out) if shards() else []
        assert len(keys) == len(set(keys))           # never a sample twice, whenever it died
    assert kills >= 2
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    keys = _keys(out)
    assert len(keys) == len(set(keys)) == 20         # every problem has its 5 samples
    assert schema.validate(store.load_traces(out), "out") == []
    assert not list(out.glob(".*.tmp"))
    again = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and "0 samples generated" in again.stdout
