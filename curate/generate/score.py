"""`distillery score`: the teacher's top-k logprobs for existing traces, by teacher forcing.

Each row is rendered by `curate.messages`, as the run's export renders it for SFT (user = problem,
assistant = `<think>\\n` + thinking + `\\n</think>\\n\\n` + response, optional system), and for
every token of the assistant turn, end-of-turn included (the positions `distillery train kd` reads), the teacher's k most likely
ids and their logprobs given everything before: `topk_ids` (int32) and `topk_logprobs` (float16).
`hf`: one forward pass per row; `vllm`: `prompt_logprobs`. Ingested traces can feed distillation.

Output: OUT/<input shard name> for every input shard, written atomically; a rerun skips shards
already scored with the same model and k.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from curate import messages
from curate.errors import BadInput, require

META_KEY = "distillery.score"


def positions(tok, conv: list[dict]) -> tuple[list[int], list[int]]:
    """(token ids of the whole chat, positions of the assistant turn's tokens). The template's
    generation markers when it has them; else the tokens after the prompt up to end-of-turn."""
    template = getattr(tok, "chat_template", None) or ""
    if "generation" in template:
        enc = tok.apply_chat_template(conv, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
        ids, mask = list(enc["input_ids"]), enc["assistant_masks"]
        return ids, [i for i, m in enumerate(mask) if m and i > 0]
    prompt = tok.apply_chat_template(conv[:-1], tokenize=True, add_generation_prompt=True, return_dict=True)["input_ids"]
    ids = list(tok.apply_chat_template(conv, tokenize=True, return_dict=True)["input_ids"])
    pos = list(range(len(prompt), len(ids)))
    if tok.eos_token_id in ids[len(prompt):]:
        end = ids.index(tok.eos_token_id, len(prompt))
        pos = list(range(len(prompt), end + 1))
    return ids, pos


def score_hf(model, tok, convs: list[list[dict]], k: int) -> tuple[list, list]:
    torch = require("torch", "train", "distillery score")
    ids_out, lp_out = [], []
    model.eval()
    device = next(model.parameters()).device
    for conv in convs:
        ids, pos = positions(tok, conv)
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([ids], device=device)).logits[0].float()
        top = torch.log_softmax(logits[[p - 1 for p in pos]], dim=-1).topk(k, dim=-1)  # p is predicted at p - 1
        ids_out.append(top.indices.to(torch.int32).tolist())
        lp_out.append(top.values.to(torch.float16).float().tolist())
    return ids_out, lp_out


def score_vllm(engine, convs: list[list[dict]], k: int) -> tuple[list, list]:
    tok = engine.tok
    prepared = [positions(tok, c) for c in convs]
    sp = engine.vllm.SamplingParams(max_tokens=1, prompt_logprobs=k, temperature=0.0)
    outs = engine.llm.generate([{"prompt_token_ids": ids} for ids, _ in prepared], sp, use_tqdm=False)
    ids_out, lp_out = [], []
    for out, (_, pos) in zip(outs, prepared):
        plp = out.prompt_logprobs or []
        row_i, row_l = [], []
        for p in pos:
            best = sorted((plp[p] or {}).items(), key=lambda kv: -kv[1].logprob)[:k]
            row_i.append([int(t) for t, _ in best])
            row_l.append([float(lp.logprob) for _, lp in best])
        ids_out.append(row_i)
        lp_out.append(row_l)
    return ids_out, lp_out


@dataclass
class ScoreResult:
    out: Path
    rows: int
    shards: int
    skipped: int

    def summary(self) -> str:
        return (f"{self.rows:,} rows scored in {self.shards} shard(s), {self.skipped} already scored "
                f"→ {self.out}")


def score(traces: str | Path, model: str, out: str | Path, k: int = 8, backend: str = "hf",
          system: str | None = None, **engine) -> ScoreResult:
    from curate import schema, store
    from curate.generate.hf import check_model_path

    if backend not in ("hf", "vllm"):
        raise BadInput(f"--backend {backend}: score runs with hf or vllm")
    if not 1 <= k <= 100:
        raise BadInput("--k must be between 1 and 100")
    check_model_path(model)
    files = store.parquet_files(Path(traces))
    tables = [schema.conform(store.read_parquet(f), str(f)) for f in files]   # all checked before any work
    out = Path(out)
    tag = json.dumps({"model": model, "k": k, "system": system}, sort_keys=True)
    todo = []
    for f, t in zip(files, tables):
        target = out / f.name
        if target.is_file():
            import pyarrow.parquet as pq

            meta = pq.read_schema(target).metadata or {}
            if meta.get(META_KEY.encode(), b"").decode() == tag:
                continue
        todo.append((f, t, target))
    if not todo:
        return ScoreResult(out, 0, 0, len(files))
    if backend == "hf":
        from curate.generate.hf import HFBackend

        eng = HFBackend(model, **engine)
        run = lambda convs: score_hf(eng.model, eng.tok, convs, k)  # noqa: E731
    else:
        from curate.generate.vllm import VLLMBackend

        eng = VLLMBackend(model, **engine)
        run = lambda convs: score_vllm(eng, convs, k)  # noqa: E731
    rows = 0
    for _f, table, target in todo:
        ids, lps = run(messages.conversations(table, messages.MessagesConfig(system=system)))
        keep = [c for c in table.column_names if c not in ("topk_ids", "topk_logprobs")]
        table = table.select(keep)
        table = table.append_column("topk_ids", pa.array(ids, pa.list_(pa.list_(pa.int32()))))
        lp = pa.array(lps, pa.list_(pa.list_(pa.float32()))).cast(pa.list_(pa.list_(pa.float16())))
        table = schema.conform(table.append_column("topk_logprobs", lp), str(target))
        store.write_parquet(table, target, metadata={META_KEY: tag})
        rows += table.num_rows
    return ScoreResult(out, rows, len(todo), len(files) - len(todo))
