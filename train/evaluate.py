"""`distillery eval`: sample n answers per benchmark problem, verify them, report pass@1 and pass@k.

    OUT/samples.parquet   one row per sample in the trace schema (+ verdict, correct, pred_answer,
                          subject, level): `distillery sql OUT/samples.parquet`, or reuse the rows as
                          difficulty attempts
    OUT/summary.json      {"pass@1", "pass@k": {k: value}, "per_subject": [...], "per_level": [...], …}

pass@1 is the mean correctness over all n samples of every problem; pass@k is Chen et al. (2021)'s
unbiased estimator 1 - C(n-c, k) / C(n, k), averaged over problems.

Generation goes through `generate()`, the one place that knows about back-ends: a transformers
loop today (`hf`), vLLM when asked (`vllm`, imported lazily). Budget forcing (s1): `max_thinking`
ends the thinking after N tokens with "\\n</think>\\n\\n" and lets the model answer; `min_wait`
replaces an early end of thinking with "Wait" up to K times.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from curate.errors import BadInput, require

BENCHMARKS = {"math500": "math500.jsonl", "aime24": "aime24.jsonl", "aime25": "aime25.jsonl",
              "amc23": "amc23.jsonl", "gsm8k": "gsm8k_test.jsonl"}
THINK_CLOSE = "</think>"
FORCE_CLOSE = "\n</think>\n\n"
SUMMARY = "summary.json"
SAMPLES = "samples.parquet"


@dataclass
class GenConfig:
    n: int = 4
    max_new_tokens: int = 1024
    temperature: float = 0.6
    top_p: float = 0.95
    max_thinking: int | None = None
    min_wait: int = 0
    batch_size: int = 16
    seed: int = 0


@dataclass
class Sample:
    text: str            # everything the model wrote after the prompt (forced strings included)
    tokens: int
    finish_reason: str   # stop | length
    waits: int = 0
    forced_close: bool = False


# ------------------------------------------------------------------------------------ benchmarks

def benchmark_dir() -> Path:
    env = os.environ.get("DISTILLERY_BENCHMARKS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "benchmarks"


def resolve_bench(bench: str) -> tuple[str, Path]:
    if bench in BENCHMARKS:
        path = benchmark_dir() / BENCHMARKS[bench]
        if not path.is_file():
            raise BadInput(f"--bench {bench}: {path} not found (set DISTILLERY_BENCHMARKS to the benchmarks folder)")
        return bench, path
    path = Path(bench)
    if not path.exists():
        raise BadInput(f"--bench {bench}: not a known benchmark ({', '.join(BENCHMARKS)}) nor a file or folder")
    return path.stem, path


def load_bench(bench: str, limit: int | None = None) -> tuple[str, list[dict]]:
    from curate import store

    name, path = resolve_bench(bench)
    # a file, or a trace folder (e.g. a held-out `distillery synth` split: gold, several samples
    # per problem, of which the first is taken)
    table = store.read_table(path) if path.is_file() else store.read_parquet_files(store.parquet_files(path))
    if "answer" not in table.column_names and "gold" in table.column_names:
        table = table.rename_columns(["answer" if c == "gold" else c for c in table.column_names])
    for col in ("problem", "answer"):
        if col not in table.column_names:
            raise BadInput(f"{path}: no {col!r} column (columns: {', '.join(table.column_names)})")
    keep = [c for c in ("id", "problem", "answer", "subject", "level") if c in table.column_names]
    rows, seen = [], set()
    for row in table.select(keep).to_pylist():
        if row["problem"] in seen:
            continue
        seen.add(row["problem"])
        rows.append(row)
    if limit:
        rows = rows[:limit]
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row.get("problem"), str) or not row["problem"].strip():
            raise BadInput(f"{path}: row {i}: empty problem")
        out.append({"id": str(row.get("id", i)), "problem": row["problem"],
                    "answer": None if row["answer"] is None else str(row["answer"]),
                    "subject": row.get("subject"), "level": None if row.get("level") is None else str(row["level"])})
    return name, out


# --------------------------------------------------------------------------------------- metrics

def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of one problem with n samples, c correct (Chen et al. 2021)."""
    if k > n:
        raise ValueError(f"k={k} > n={n}")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def ks_for(n: int) -> list[int]:
    ks = [k for k in (1, 2, 4, 8, 16, 32, 64, 128) if k <= n]
    return ks if n in ks else [*ks, n]


def _group_metrics(correct_by_problem: dict[str, list[bool]], ks: list[int]) -> dict:
    probs = list(correct_by_problem.values())
    n_samples = sum(len(v) for v in probs)
    res = {"problems": len(probs), "samples": n_samples,
           "pass@1": sum(sum(v) for v in probs) / n_samples if n_samples else 0.0}
    res["pass@k"] = {str(k): sum(pass_at_k(len(v), sum(v), k) for v in probs) / len(probs) for k in ks} if probs else {}
    return res


def metrics(problems: list[dict], correct: list[list[bool]], n: int) -> dict:
    ks = ks_for(n)
    overall = _group_metrics({p["id"]: c for p, c in zip(problems, correct)}, ks)
    tables = {}
    for key in ("subject", "level"):
        groups: dict[str, dict[str, list[bool]]] = {}
        for p, c in zip(problems, correct):
            if p.get(key) is not None:
                groups.setdefault(str(p[key]), {})[p["id"]] = c
        tables[key] = [{key: g, **_group_metrics(v, ks)} for g, v in sorted(groups.items())]
    return {"pass@1": overall["pass@1"], "pass@k": overall["pass@k"], "k": ks, "problems": overall["problems"],
            "samples": overall["samples"], "per_subject": tables["subject"], "per_level": tables["level"]}


# ------------------------------------------------------------------------------------ generation

def split_thinking(text: str) -> tuple[str, str]:
    """(thinking, response) of a completion; no closing tag: all thinking, empty response."""
    body = text
    if body.lstrip().startswith("<think>"):
        body = body.lstrip()[len("<think>"):]
    if THINK_CLOSE in body:
        thinking, response = body.split(THINK_CLOSE, 1)
        return thinking.strip("\n"), response.strip()
    return body.strip("\n"), ""


def generate(model_path: str, prompts: list[list[dict]], cfg: GenConfig, backend: str = "hf") -> list[list[Sample]]:
    """n samples for each chat prompt. The one place that knows the back-ends."""
    if backend == "vllm":
        return _generate_vllm(model_path, prompts, cfg)
    if backend != "hf":
        raise BadInput(f"--backend {backend}: expected hf or vllm")
    return _generate_hf(model_path, prompts, cfg)


def _generate_vllm(model_path: str, prompts: list[list[dict]], cfg: GenConfig) -> list[list[Sample]]:
    vllm = require("vllm", "vllm", "--backend vllm")
    if cfg.max_thinking or cfg.min_wait:
        raise BadInput("--backend vllm: budget forcing (--max-thinking/--min-wait) runs with --backend hf for now")
    llm = vllm.LLM(model=model_path, seed=cfg.seed)
    params = vllm.SamplingParams(n=cfg.n, temperature=cfg.temperature, top_p=cfg.top_p,
                                 max_tokens=cfg.max_new_tokens, seed=cfg.seed)
    outs = llm.chat(prompts, params)
    return [[Sample(o.text, len(o.token_ids), "length" if o.finish_reason == "length" else "stop")
             for o in out.outputs] for out in outs]


def _load_hf(model_path: str):
    transformers = require("transformers", "train", "distillery eval")
    from train.sft import check_model

    check_model(model_path)
    try:
        tok = transformers.AutoTokenizer.from_pretrained(model_path, padding_side="left")
        model = transformers.AutoModelForCausalLM.from_pretrained(model_path)
    except (OSError, ValueError) as exc:
        raise BadInput(f"{model_path}: cannot load the model ({str(exc).splitlines()[0]})") from exc
    model.eval()
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok, model


def _eos_ids(tok, model) -> list[int]:
    ids = model.generation_config.eos_token_id
    ids = [] if ids is None else [ids] if isinstance(ids, int) else list(ids)
    if tok.eos_token_id is not None and tok.eos_token_id not in ids:
        ids.append(tok.eos_token_id)
    return ids


def _generate_hf(model_path: str, prompts: list[list[dict]], cfg: GenConfig) -> list[list[Sample]]:
    import torch

    tok, model = _load_hf(model_path)
    torch.manual_seed(cfg.seed)
    texts = [tok.apply_chat_template(p, tokenize=False, add_generation_prompt=True) for p in prompts]
    eos = _eos_ids(tok, model)
    sampling = dict(do_sample=cfg.temperature > 0, temperature=cfg.temperature or None,
                    top_p=cfg.top_p if cfg.temperature > 0 else None, pad_token_id=tok.pad_token_id,
                    eos_token_id=eos)
    if cfg.max_thinking or cfg.min_wait:
        return [[_forced(tok, model, t, cfg, sampling) for _ in range(cfg.n)] for t in texts]
    results: list[list[Sample]] = []
    per = max(1, cfg.batch_size // cfg.n)
    for start in range(0, len(texts), per):
        chunk = texts[start:start + per]
        enc = tok(chunk, return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.no_grad():
            out = model.generate(**enc, max_new_tokens=cfg.max_new_tokens, num_return_sequences=cfg.n, **sampling)
        new = out[:, enc["input_ids"].shape[1]:]
        for i in range(len(chunk)):
            row = []
            for j in range(cfg.n):
                ids = new[i * cfg.n + j].tolist()
                row.append(_sample(tok, ids, eos, cfg.max_new_tokens))
            results.append(row)
    return results


def _sample(tok, ids: list[int], eos: list[int], limit: int) -> Sample:
    ended = next((k for k, t in enumerate(ids) if t in eos), None)
    if ended is not None:
        return Sample(tok.decode(ids[:ended], skip_special_tokens=True), ended + 1, "stop")
    ids = [t for t in ids if t != tok.pad_token_id]
    return Sample(tok.decode(ids, skip_special_tokens=True), len(ids), "length" if len(ids) >= limit else "stop")


def _forced(tok, model, prompt: str, cfg: GenConfig, sampling: dict) -> Sample:
    """One sample with budget forcing, a phase at a time (thinking, then the answer)."""
    import torch

    written, used, waits, forced = "", 0, 0, False
    eos = sampling["eos_token_id"]

    def step(budget: int, stop_think: bool) -> tuple[str, int, str]:
        enc = tok(prompt + written, return_tensors="pt", add_special_tokens=False)
        extra = {"stop_strings": [THINK_CLOSE], "tokenizer": tok} if stop_think else {}
        with torch.no_grad():
            out = model.generate(**enc, max_new_tokens=budget, **sampling, **extra)
        ids = out[0, enc["input_ids"].shape[1]:].tolist()
        ended = next((k for k, t in enumerate(ids) if t in eos), None)
        if ended is not None:
            return tok.decode(ids[:ended], skip_special_tokens=True), ended + 1, "eos"
        text = tok.decode(ids, skip_special_tokens=True)
        if stop_think and THINK_CLOSE in text:
            return text, len(ids), "close"
        return text, len(ids), "length"

    think_budget = cfg.max_thinking or cfg.max_new_tokens
    while True:   # thinking
        left = min(think_budget - used, cfg.max_new_tokens - used)
        if left <= 0:
            break
        text, n, why = step(left, stop_think=True)
        used += n
        if why == "length":
            written += text
            break
        head = text.split(THINK_CLOSE, 1)[0] if why == "close" else text
        if waits < cfg.min_wait:   # early end of thinking: "Wait" instead, keep thinking
            written += head.rstrip() + "\nWait"
            waits += 1
            continue
        if why == "close":
            written += text          # thinking closed on its own: go on to the answer
        else:
            return Sample(written + text, used, "stop", waits, forced)
        break
    if THINK_CLOSE not in written.split("<think>")[-1] and used < cfg.max_new_tokens:
        written += FORCE_CLOSE
        forced = True
    left = cfg.max_new_tokens - used
    if left <= 0:
        return Sample(written, used, "length", waits, forced)
    text, n, why = step(left, stop_think=False)
    return Sample(written + text, used + n, "stop" if why == "eos" else "length", waits, forced)


# ------------------------------------------------------------------------------------- the command

@dataclass
class EvalResult:
    out: Path
    summary: dict

    def text(self) -> str:
        s = self.summary
        ks = ", ".join(f"pass@{k} {v:.3f}" for k, v in s["pass@k"].items())
        return (f"{s['bench']}: {s['problems']} problems × {s['n']} samples, pass@1 {s['pass@1']:.3f} ({ks}) "
                f"in {s['seconds']:.1f} s\n→ {self.out / SUMMARY}, {self.out / SAMPLES}")


def evaluate(model: str, bench: str, out: str | Path, n: int = 4, max_new_tokens: int = 1024,
             max_thinking: int | None = None, min_wait: int = 0, backend: str = "hf", limit: int | None = None,
             temperature: float = 0.6, seed: int = 0, timeout: float = 5.0, workers: int | None = None) -> EvalResult:
    from curate import schema, store
    from curate.verify import verify_batch

    if n < 1:
        raise BadInput("--n must be at least 1")
    if backend not in ("hf", "vllm"):
        raise BadInput(f"--backend {backend}: expected hf or vllm")
    if backend == "hf":
        from train.sft import check_model

        check_model(model)
    name, problems = load_bench(bench, limit)
    out = Path(out)
    start = time.perf_counter()
    cfg = GenConfig(n=n, max_new_tokens=max_new_tokens, temperature=temperature, max_thinking=max_thinking,
                    min_wait=min_wait, seed=seed)
    samples = generate(model, [[{"role": "user", "content": p["problem"]}] for p in problems], cfg, backend)
    flat = [(p, j, s) for p, row in zip(problems, samples) for j, s in enumerate(row)]
    parts = [split_thinking(s.text) for _, _, s in flat]
    # no closing tag: the answer may still be in the text (the verifier finds the last boxed answer)
    preds = [resp if resp else think for think, resp in parts]
    verdicts = verify_batch([p["answer"] for p, _, _ in flat], preds, timeout=timeout, workers=workers or 1)
    correct_flat = [v.verdict == "correct" for v in verdicts]
    correct, k = [], 0
    for row in samples:
        correct.append(correct_flat[k:k + len(row)])
        k += len(row)
    seconds = time.perf_counter() - start
    table = pa.table({
        "trace_id": [""] * len(flat), "problem_id": [""] * len(flat),
        "source": [f"eval:{name}"] * len(flat),
        "problem": [p["problem"] for p, _, _ in flat], "gold": [p["answer"] for p, _, _ in flat],
        "thinking": [t for t, _ in parts], "response": [r for _, r in parts],
        "teacher": [model] * len(flat), "sample_idx": pa.array([j for _, j, _ in flat], pa.int32()),
        "finish_reason": [s.finish_reason for _, _, s in flat],
        "meta": [json.dumps({"bench": name, "bench_id": p["id"], "tokens": s.tokens, "waits": s.waits,
                             "forced_close": s.forced_close, "backend": backend, "student": model,
                             "correct": ok, "answer": v.pred_answer}, sort_keys=True)
                 for (p, _, s), v, ok in zip(flat, verdicts, correct_flat)],
        "verdict": [v.verdict for v in verdicts], "correct": correct_flat,
        "pred_answer": [v.pred_answer for v in verdicts],
        "subject": [p["subject"] for p, _, _ in flat], "level": [p["level"] for p, _, _ in flat],
        "bench_id": [p["id"] for p, _, _ in flat], "tokens": pa.array([s.tokens for _, _, s in flat], pa.int32()),
    })
    table = schema.conform(schema.with_ids(table), f"{out / SAMPLES}")
    out.mkdir(parents=True, exist_ok=True)
    store.write_parquet(table, out / SAMPLES)
    summary = {"bench": name, "model": model, "backend": backend, "n": n, **metrics(problems, correct, n),
               "max_new_tokens": max_new_tokens, "max_thinking": max_thinking, "min_wait": min_wait,
               "temperature": temperature, "seed": seed, "seconds": round(seconds, 2),
               "mean_tokens": sum(s.tokens for _, _, s in flat) / len(flat),
               "finish_reasons": {r: sum(1 for _, _, s in flat if s.finish_reason == r)
                                  for r in sorted({s.finish_reason for _, _, s in flat})},
               "verdicts": {v: sum(1 for x in verdicts if x.verdict == v) for v in sorted({x.verdict for x in verdicts})}}
    store.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", out / SUMMARY)
    return EvalResult(out, summary)
