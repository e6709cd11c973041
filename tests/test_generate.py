"""distillery generate without a model: budget forcing on a scripted step, problems, shards,
resume, progress and bad input (fast; the model tests are in test_generate_hf/http.py)."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from conftest import run_cli
from curate.errors import BadInput
from curate.generate import Forcing, SamplingParams, Stats, generate, load_problems, settings_hash
from curate.generate.backend import Backend, Completion, delimiters
from curate.generate.forcing import StepIn, StepOut, run_steps
from curate.text import R1, S1


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Scripted:
    """A fake model: thinks `close_after` tokens then closes its thinking; answers in 2 tokens."""

    def __init__(self, close_after: int = 3):
        self.close_after = close_after
        self.calls: list[StepIn] = []

    def __call__(self, reqs: list[StepIn]) -> list[StepOut]:
        self.calls += reqs
        out = []
        for r in reqs:
            if r.stop is None and r.budget > 0 and "</think>" not in r.prompt and "Final" not in r.prompt:
                # unforced: one step, thinking and answer
                n = min(r.budget, self.close_after + 3)
                out.append(StepOut("<think>" + "a " * self.close_after + "</think> 42", n,
                                   "eos" if n == self.close_after + 3 else "length"))
            elif r.stop:
                if r.budget >= self.close_after + 1:
                    out.append(StepOut("a " * self.close_after, self.close_after + 1, "stop"))
                else:
                    out.append(StepOut("a " * r.budget, r.budget, "length"))
            else:
                out.append(StepOut(" 42", 2, "eos") if r.budget >= 2 else StepOut(" 4", r.budget, "length"))
        return out


def _one(forcing: Forcing, max_tokens: int = 100, close_after: int = 3) -> Completion:
    return run_steps(Scripted(close_after), ["<think>"], [0], max_tokens, forcing)[0]


def test_forcing_max_thinking_caps_the_thinking_and_forces_the_answer():
    c = _one(Forcing(max_thinking=2), close_after=5)
    assert c.thinking_tokens == 2 and c.forced_close and c.finish_reason == "stop"
    assert c.text.endswith("\n</think>\n\nFinal Answer: 42")
    assert c.completion_tokens == 4
    # thinking that closes on its own within the budget is left alone
    c = _one(Forcing(max_thinking=8), close_after=3)
    assert c.thinking_tokens == 4 and not c.forced_close and c.text == "a a a </think> 42"


def test_forcing_min_thinking_replaces_early_ends_with_wait():
    c = _one(Forcing(min_thinking=10), close_after=3)
    assert c.thinking_tokens >= 10 and c.waits == 2 and c.text.count("Wait") == 2
    assert c.text.count("</think>") == 1 and not c.forced_close
    # min and max together: the max wins, the thinking ends forced within its bound
    c = _one(Forcing(min_thinking=5, max_thinking=6), close_after=3)
    assert c.thinking_tokens == 6 and c.waits == 1 and c.forced_close
    # min_wait: exactly K waits whatever the length
    c = _one(Forcing(min_wait=3), close_after=3)
    assert c.waits == 3 and c.thinking_tokens == 16


def test_forcing_respects_max_tokens_and_s1_delimiters():
    c = _one(Forcing(min_wait=50, max_waits=50), max_tokens=9, close_after=3)
    assert c.completion_tokens <= 9 and c.finish_reason == "length"
    c = run_steps(Scripted(5), ["x"], [0], 100, Forcing(max_thinking=3, delims=S1))[0]
    assert "<|im_start|>answer\n\nFinal Answer:" in c.text


def test_unforced_is_one_step():
    step = Scripted(3)
    c = run_steps(step, ["p", "q"], [0, 1], 100, Forcing())
    assert len(step.calls) == 2 and all(r.stop is None for r in step.calls)
    assert c[0].finish_reason == "stop" and c[0].completion_tokens == 6


def test_delimiters_and_params():
    assert delimiters("r1") == R1 and delimiters("s1") == S1
    assert delimiters("<a>,</a>").close == "</a>"
    with pytest.raises(BadInput, match="delimiters"):
        delimiters("xml")
    with pytest.raises(BadInput, match="distillery score"):
        SamplingParams(logprobs=4, forcing=Forcing(max_thinking=8)).check()
    with pytest.raises(BadInput, match="min-thinking"):
        SamplingParams(forcing=Forcing(max_thinking=8, min_thinking=9)).check()
    # the hash covers what decides the samples, not n
    assert settings_hash("m", SamplingParams(seed=1)) != settings_hash("m", SamplingParams(seed=2))
    assert settings_hash("m", SamplingParams()) == settings_hash("m", SamplingParams())


def test_stats_line():
    s = Stats(total=10, skipped=2, done=4, tokens=400, retries=3, errors=1)
    line = s.line()
    assert "6/10 samples" in line and "3 retries" in line and "tok/s" in line and "ETA" in line


# --------------------------------------------------------------------------------- problems

def test_problems_from_a_file_and_a_benchmark_name(tmp_path, monkeypatch):
    f = tmp_path / "p.jsonl"
    f.write_text("".join(json.dumps({"question": f"Q{i}", "answer": str(i)}) + "\n" for i in range(3))
                 + json.dumps({"question": "Q0", "answer": "0"}) + "\n")
    name, rows = load_problems(f, problem_column="question")
    assert name == "p" and [r["gold"] for r in rows] == ["0", "1", "2"]   # repeated problem asked once
    with pytest.raises(BadInput, match="no 'problem' column"):
        load_problems(f)
    monkeypatch.setenv("DISTILLERY_BENCHMARKS", str(tmp_path))
    (tmp_path / "aime24.jsonl").write_text('{"id": "1", "problem": "p", "answer": "3"}\n')
    name, rows = load_problems("aime24")
    assert name == "aime24" and rows[0]["gold"] == "3"
    with pytest.raises(BadInput, match="math500"):
        load_problems("nonesuch")


# ------------------------------------------------------------------------ shards and resume

class Echo(Backend):
    """Answers at once; fails (like a crash) after `fail_after` completions."""

    name = "echo"

    def __init__(self, fail_after: int | None = None, truncate_every: int = 0):
        self.fail_after, self.truncate_every, self.seen = fail_after, truncate_every, 0

    def run(self, jobs, params, on_done):
        for job in jobs:
            if self.fail_after is not None and self.seen >= self.fail_after:
                raise RuntimeError("crash")
            self.seen += 1
            length = self.truncate_every and self.seen % self.truncate_every == 0
            on_done(job, Completion(f"<think>t {job.sample_idx} {job.seed}</think> \\boxed{{{job.sample_idx}}}",
                                    "length" if length else "stop", 5, 7))


@pytest.fixture
def problems_file(tmp_path):
    f = tmp_path / "problems.jsonl"
    f.write_text("".join(json.dumps({"problem": f"What is {i} + 1?", "gold": str(i + 1)}) + "\n" for i in range(5)))
    return f


def test_shards_resume_and_flags(problems_file, tmp_path):
    from curate import schema, store

    out = tmp_path / "traces"
    with pytest.raises(RuntimeError):
        generate(problems_file, "echo-model", out, n=3, flush_every=4, backend_obj=Echo(fail_after=10))
    table = store.load_traces(out)
    assert table.num_rows == 10           # what finished before the crash is kept
    res = generate(problems_file, "echo-model", out, n=3, flush_every=4, backend_obj=Echo(truncate_every=2))
    assert (res.new, res.skipped, res.rows) == (5, 10, 15)
    table = store.load_traces(out)
    keys = list(zip(table.column("problem_id").to_pylist(), table.column("sample_idx").to_pylist()))
    assert len(keys) == len(set(keys)) == 15
    assert schema.validate(table, "out") == []
    t = table.to_pylist()
    assert {r["teacher"] for r in t} == {"echo-model"} and t[0]["thinking"].startswith("t ")
    trunc = [r for r in t if r["finish_reason"] == "length"]
    assert trunc and all(r["truncated"] for r in trunc) and res.truncated == len(trunc)
    assert "truncated" in res.summary()
    assert {r["completion_tokens"] for r in t} == {7} and {r["prompt_tokens"] for r in t} == {5}
    assert all(abs(r["temperature"] - 0.6) < 1e-6 for r in t)
    # same command again: nothing to do; more samples: only the new ones
    assert generate(problems_file, "echo-model", out, n=3, backend_obj=Echo()).new == 0
    assert generate(problems_file, "echo-model", out, n=4, backend_obj=Echo()).new == 5
    # other settings: their own shards
    other = generate(problems_file, "echo-model", out, n=1, params=SamplingParams(seed=7), backend_obj=Echo())
    assert other.new == 5 and other.prefix != res.prefix
    assert len(list(out.glob(f"{res.prefix}.json"))) == 1
    from curate import validate
    assert validate.validate_path(out).ok


def test_topk_columns_are_compact(problems_file, tmp_path):
    from curate import store

    class WithTopk(Echo):
        def run(self, jobs, params, on_done):
            for job in jobs:
                on_done(job, Completion("hi", "stop", 1, 2, topk_ids=[[1, 2], [3, 4]], topk_logprobs=[[-0.1, -2.0]] * 2))

    generate(problems_file, "m", tmp_path / "o", n=1, params=SamplingParams(logprobs=2), backend_obj=WithTopk())
    table = store.load_traces(tmp_path / "o")
    assert table.schema.field("topk_ids").type == pa.list_(pa.list_(pa.int32()))
    assert table.schema.field("topk_logprobs").type == pa.list_(pa.list_(pa.float16()))
    assert table.column("topk_ids").to_pylist()[0] == [[1, 2], [3, 4]]


def test_cli_bad_input(problems_file, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "x"}\n')
    out = tmp_path / "o"
    cases = [
        (["generate", problems_file, "--model", "m", "--out", out, "--backend", "tgi"], "expected one of hf, openai, vllm"),
        (["generate", problems_file, "--model", tmp_path / "missing", "--out", out], "model path does not exist"),
        (["generate", bad, "--model", "m", "--out", out, "--backend", "openai"], "no 'problem' column"),
        (["generate", problems_file, "--model", "m", "--out", out, "--backend", "openai", "--delimiters", "x"],
         "--delimiters"),
        (["generate", problems_file, "--model", "m", "--out", out, "--backend", "openai", "--base-url",
          f"http://127.0.0.1:{free_port()}/v1", "--retries", "1", "--timeout", "2"], "connection refused"),
    ]
    try:
        import vllm  # noqa: F401
    except ImportError:
        cases.append((["generate", problems_file, "--model", "m", "--out", out, "--backend", "vllm"],
                      "distillery[vllm]"))
    cases.append((["score", tmp_path, "--model", "m", "--out", out, "--backend", "openai"], "hf or vllm"))
    for argv, needle in cases:
        code, _, err = run_cli(argv, capsys)
        assert code == 2 and needle in err and len(err.strip().splitlines()) == 1, (argv, err)
    assert not out.exists()


def test_one_writer_per_folder_whatever_the_settings(problems_file, tmp_path):
    """A second generate into a folder another process writes fails at once naming the holder's pid
    and command, even with other settings (its shards would interleave with the first's); once the
    holder is gone (kill -9 included) the next run takes the folder over and resumes."""
    import subprocess
    import sys

    out = tmp_path / "o"
    res = generate(problems_file, "m", out, n=1, backend_obj=Echo())
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from curate import locks\n"
         "with locks.writer(Path(sys.argv[1]), command='distillery generate HOLDER'):\n"
         "    print('held', flush=True); time.sleep(60)", str(out)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        for model, n in (("m", 2), ("other-model", 1)):
            with pytest.raises(BadInput, match=rf"pid {holder.pid}: distillery generate HOLDER"):
                generate(problems_file, model, out, n=n, backend_obj=Echo())
    finally:
        holder.kill()
        holder.wait()
    # The holder died holding it: the lock file still names it, and is taken over with a warning.
    from curate.errors import Notice

    with pytest.warns(Notice, match=rf"taking over the lock of pid {holder.pid}: distillery generate HOLDER"):
        assert generate(problems_file, "m", out, n=2, backend_obj=Echo()).new == 5 and res.new == 5


class Layouts(Backend):
    """Outputs as real teachers write them: R1-Distill without the opening tag, one cut off with no
    tag at all, an s1.1 one with its think/answer lines."""

    name = "layouts"
    TEXTS = ("Okay, 1 + 1 = 2.\n</think>\n\n\\boxed{2}", "Okay, so I need to add 2 and 1. That is",
             "think\nThree plus one is four.\nanswer\nAnswer: \\boxed{4}")

    def run(self, jobs, params, on_done):
        for i, job in enumerate(jobs):
            text = self.TEXTS[i % 3]
            on_done(job, Completion(text, "length" if i % 3 == 1 else "stop", 5, 7))


def test_generated_outputs_split_by_their_layout(problems_file, tmp_path):
    from curate import store

    out = tmp_path / "traces"
    generate(problems_file, "layout-model", out, n=1, backend_obj=Layouts())
    rows = store.load_traces(out).to_pylist()
    got = [(r["thinking"], r["response"], json.loads(r["meta"])["layout"], json.loads(r["meta"])["closed"])
           for r in rows]
    assert ("Okay, 1 + 1 = 2.", "\\boxed{2}", "think", True) in got
    # cut at the length limit with no tag: the template opened the thinking, it never closed
    assert ("Okay, so I need to add 2 and 1. That is", "", "think", False) in got
    # an s1.1 output generated with R1 delimiters is read by its own markers
    assert ("Three plus one is four.", "Answer: \\boxed{4}", "s1", True) in got
