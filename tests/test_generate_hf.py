"""distillery generate and score on the transformers back-end, with a tiny model built here."""

from __future__ import annotations

import json

import pytest

from curate import schema, store
from curate.generate import Forcing, SamplingParams, generate

pytest.importorskip("transformers")


@pytest.fixture
def problems_file(tmp_path):
    f = tmp_path / "problems.jsonl"
    f.write_text("".join(json.dumps({"problem": f"Add one to {i}.", "answer": str(i + 1)}) + "\n" for i in range(3)))
    return f


def test_hf_generate_with_logprobs_and_resume(tiny_model, problems_file, tmp_path):
    out = tmp_path / "traces"
    params = SamplingParams(max_tokens=10, logprobs=3, temperature=1.0)
    res = generate(problems_file, str(tiny_model), out, backend="hf", n=2, params=params, batch_size=4)
    assert (res.new, res.rows) == (6, 6)
    table = store.load_traces(out)
    assert schema.validate(table, "out") == []
    rows = table.to_pylist()
    assert {r["gold"] for r in rows} == {"1", "2", "3"} and {r["sample_idx"] for r in rows} == {0, 1}
    for r in rows:
        assert r["finish_reason"] in ("stop", "length") and r["truncated"] == (r["finish_reason"] == "length")
        assert 1 <= r["completion_tokens"] <= 10 and r["prompt_tokens"] > 5
        assert len(r["topk_ids"]) == r["completion_tokens"] and all(len(t) == 3 for t in r["topk_ids"])
        assert all(lp[0] >= lp[1] >= lp[2] for lp in r["topk_logprobs"])
    again = generate(problems_file, str(tiny_model), out, backend="hf", n=2, params=params)
    assert again.new == 0 and again.rows == 6


def test_hf_budget_forcing_max(tiny_model, problems_file, tmp_path):
    """A model kept from ending its thinking (or its turn) on its own: every sample spends the
    budget, and we close the thinking for it, then the answer follows."""
    from curate.generate.hf import HFBackend

    backend = HFBackend(str(tiny_model), batch_size=4)
    ends = {backend.tok.convert_tokens_to_ids(t) for t in ("</think>", "<|im_end|>")} | {backend.tok.eos_token_id}
    backend.generate_kwargs = {"sequence_bias": {(t,): -100.0 for t in ends if t is not None}}
    params = SamplingParams(max_tokens=14, temperature=1.0, forcing=Forcing(max_thinking=4))
    generate(problems_file, str(tiny_model), tmp_path / "o", n=2, params=params, backend_obj=backend)
    rows = store.load_traces(tmp_path / "o").to_pylist()
    assert len(rows) == 6
    for r in rows:
        meta = json.loads(r["meta"])
        assert r["thinking_tokens"] == 4 and r["completion_tokens"] <= 14
        assert meta["forced_close"] and r["response"].startswith("Final Answer:")


def test_score_existing_traces(tiny_model, tmp_path, traces_dir):
    from transformers import AutoTokenizer

    from curate.generate.score import positions, score
    from curate.messages import conversations

    res = score(traces_dir, str(tiny_model), tmp_path / "scored", k=4)
    assert res.rows == 12 and res.shards == 1
    table = store.load_traces(tmp_path / "scored")
    tok = AutoTokenizer.from_pretrained(tiny_model)
    convs = conversations(table)
    for conv, ids in zip(convs, table.column("topk_ids").to_pylist()):
        assert len(ids) == len(positions(tok, conv)[1]) and all(len(t) == 4 for t in ids)
    assert score(traces_dir, str(tiny_model), tmp_path / "scored", k=4).skipped == 1


def test_hf_budget_forcing_min(tiny_model, problems_file, tmp_path):
    """A model pushed to end its thinking at once: every early end becomes "Wait" until the
    minimum is reached (the real transformers path: stop strings, batches, the replacement)."""
    from curate.generate.hf import HFBackend

    backend = HFBackend(str(tiny_model), batch_size=4)
    close = backend.tok.convert_tokens_to_ids("</think>")
    backend.generate_kwargs = {"sequence_bias": {(close,): 12.0}}
    params = SamplingParams(max_tokens=40, temperature=1.0, forcing=Forcing(min_thinking=6, max_waits=16))
    generate(problems_file, str(tiny_model), tmp_path / "o", n=2, params=params, backend_obj=backend)
    rows = store.load_traces(tmp_path / "o").to_pylist()
    assert len(rows) == 6
    for r in rows:
        meta = json.loads(r["meta"])
        assert meta["waits"] >= 1 and "Wait" in r["thinking"] and not meta["forced_close"]
        assert r["thinking_tokens"] >= 6 or meta["waits"] == 16 or r["finish_reason"] == "length"
        assert r["completion_tokens"] <= 40
