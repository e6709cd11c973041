"""`distillery eval`: sample n answers per benchmark problem, verify them, report pass@1 and pass@k.

    OUT/samples.parquet   one row per sample in the trace schema (+ verdict, correct, pred_answer,
                          subject, level): `distillery sql OUT/samples.parquet`, or reuse the rows as
                          difficulty attempts
    OUT/summary.json      {"pass@1", "pass@k": {k: value}, "per_subject": [...], "per_level": [...], …}

pass@1 is the mean correctness over all n samples of every problem; pass@k is Chen et al. (2021)'s
unbiased estimator 1 - C(n-c, k) / C(n, k), averaged over problems.

Generation goes through `generate()`, which calls the back-ends of `curate.generate` (`hf`:
transformers, `vllm`: imported lazily). Budget forcing (s1, `curate/generate/forcing.py`):
`max_thinking` ends the thinking after N tokens with "</think>" and "Final Answer:" and lets the
model answer; `min_wait` replaces an early end of thinking with "Wait" up to K times.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from curate import layouts
from curate.errors import BadInput

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

def resolve_bench(bench: str) -> tuple[str, Path]:
    """A benchmark name, file or folder, resolved by `curate.benchmarks` (as decontam and generate do)."""
    from curate import benchmarks

    try:
        return benchmarks.path(bench)
    except BadInput as exc:
        raise BadInput(f"--bench {exc}") from None


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
    if "subject" not in table.column_names and "meta" in table.column_names:
        # a trace folder (e.g. a synth held-out split): its family or domain grades per subject
        table = table.append_column("subject", pa.array([_meta_subject(m) for m in table.column("meta").to_pylist()],
                                                        pa.string()))
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


def _meta_subject(meta: str | None) -> str | None:
    try:
        data = json.loads(meta or "{}")
    except ValueError:
        return None
    value = data.get("family", data.get("domain")) if isinstance(data, dict) else None
    return None if value is None else str(value)


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


def pass1_ci(correct: list[list[bool]], seed: int = 0) -> dict:
    """pass@1's 95% interval: a bootstrap over problems, then over the samples within each drawn
    problem (`curate.stats`), seeded; with one sample per problem, over problems alone."""
    from curate import stats

    iv = stats.pass1_interval(correct, seed=seed)
    return {"lo": iv.lo, "hi": iv.hi, "level": stats.LEVEL, "resamples": stats.RESAMPLES, "seed": seed,
            "method": "bootstrap over problems, then over samples within each problem"}


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
    return {"pass@1": overall["pass@1"], "pass@1_ci": pass1_ci(correct) if correct else None,
            "pass@k": overall["pass@k"], "k": ks, "problems": overall["problems"],
            "samples": overall["samples"], "per_subject": tables["subject"], "per_level": tables["level"]}


# ------------------------------------------------------------------------------------ generation

def split_thinking(text: str) -> tuple[str, str]:
    """(thinking, response) of a completion (`curate.layouts.split_one`): by the layout markers it
    carries; with none, as `think_no_open` (the student's chat template opens the thinking), so an
    output with no closing tag is all thinking and an empty response."""
    part = layouts.split_one(text, layouts.THINK_NO_OPEN)
    return part.thinking, part.response


def generate(model_path: str, prompts: list[list[dict]], cfg: GenConfig, backend: str = "hf") -> list[list[Sample]]:
    """n samples for each chat prompt, through the generation back-ends of `curate.generate`
    (the transformers loop and budget forcing live there, shared with `distillery generate`)."""
    from curate.generate.backend import Forcing, SamplingParams

    if backend == "vllm":
        from curate.generate.vllm import VLLMBackend

        engine = VLLMBackend(model_path)
    elif backend == "hf":
        from curate.generate.hf import HFBackend

        engine = HFBackend(model_path, batch_size=cfg.batch_size)
    else:
        raise BadInput(f"--backend {backend}: expected hf or vllm")
    params = SamplingParams(temperature=cfg.temperature, top_p=cfg.top_p, max_tokens=cfg.max_new_tokens,
                            seed=cfg.seed, forcing=Forcing(max_thinking=cfg.max_thinking, min_wait=cfg.min_wait))
    chats = [p for p in prompts for _ in range(cfg.n)]
    comps = engine.complete(chats, [cfg.seed + i for i in range(len(chats))], params)
    samples = [Sample(c.text, c.completion_tokens, c.finish_reason, c.waits, c.forced_close) for c in comps]
    return [samples[i * cfg.n:(i + 1) * cfg.n] for i in range(len(prompts))]


# ------------------------------------------------------------------------------------- the command

@dataclass
class EvalResult:
    out: Path
    summary: dict

    def text(self) -> str:
        s = self.summary
        ks = ", ".join(f"pass@{k} {v:.3f}" for k, v in s["pass@k"].items())
        ci = s.get("pass@1_ci")
        band = f" [95% CI {ci['lo']:.3f}, {ci['hi']:.3f}]" if ci else ""
        return (f"{s['bench']}: {s['problems']} problems × {s['n']} samples, pass@1 {s['pass@1']:.3f}{band} ({ks}) "
                f"in {s['seconds']:.1f} s\n→ {self.out / SUMMARY}, {self.out / SAMPLES}")


def evaluate(model: str, bench: str, out: str | Path, n: int = 4, max_new_tokens: int = 1024,
             max_thinking: int | None = None, min_wait: int = 0, backend: str = "hf", limit: int | None = None,
             temperature: float = 0.6, seed: int = 0, timeout: float = 5.0, workers: int | None = None,
             batch_size: int = 16) -> EvalResult:
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
                    min_wait=min_wait, seed=seed, batch_size=batch_size)
    samples = generate(model, [[{"role": "user", "content": p["problem"]}] for p in problems], cfg, backend)
    flat = [(p, j, s) for p, row in zip(problems, samples) for j, s in enumerate(row)]
    parts = [split_thinking(s.text) for _, _, s in flat]
    # no closing tag: the answer may still be in the text, but only as a box or an answer marker
    # (the verifier guesses no last number from unfinished reasoning), as in the verify stage
    preds = [resp if resp else think for think, resp in parts]
    verdicts = verify_batch([p["answer"] for p, _, _ in flat], preds, timeout=timeout, workers=workers or 1,
                            guess=[bool(resp) for _, resp in parts])
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
                             "correct": ok, "answer": v.pred_answer, "verdict_reason": v.reason},
                            sort_keys=True)
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
