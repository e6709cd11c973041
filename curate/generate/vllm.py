"""The vLLM back-end: the offline engine, imported only when this back-end is used.

Prompts are rendered with the engine's tokenizer and continued a step at a time through
`forcing.run_steps`, so budget forcing is the same code as for `hf` (a step is one `generate`
call over the whole batch). `--logprobs K` asks vLLM for `logprobs=K` per generated token; `score`
uses `prompt_logprobs` for teacher forcing. Tensor parallelism is the engine's
`tensor_parallel_size`; data parallelism its `data_parallel_size` (vLLM ≥ 0.8: one engine, several
replicas).
"""

from __future__ import annotations

from curate.errors import require
from curate.generate.backend import Backend, Completion, Job, OnDone, SamplingParams
from curate.generate.forcing import StepIn, StepOut, run_steps


class VLLMBackend(Backend):
    name = "vllm"

    def __init__(self, model: str, tensor_parallel: int = 1, data_parallel: int = 1, chunk: int = 4096, **engine):
        vllm = require("vllm", "vllm", "--backend vllm")
        from curate.generate.hf import check_model_path

        check_model_path(model)
        kwargs = dict(model=model, tensor_parallel_size=tensor_parallel, **engine)
        if data_parallel > 1:
            kwargs["data_parallel_size"] = data_parallel
        self.vllm = vllm
        self.llm = vllm.LLM(**kwargs)
        self.tok = self.llm.get_tokenizer()
        self.chunk = chunk
        self.params = SamplingParams()

    def run(self, jobs: list[Job], params: SamplingParams, on_done: OnDone) -> None:
        self.params = params
        from curate.generate.hf import render

        # chunks: the engine batches inside a chunk; shards are written between chunks
        for start in range(0, len(jobs), self.chunk):
            part = jobs[start:start + self.chunk]
            prompts = [render(self.tok, j.messages, params.system) for j in part]
            counts = [len(self.tok(p, add_special_tokens=False)["input_ids"]) for p in prompts]
            for job, comp in zip(part, run_steps(self.step, prompts, [j.seed for j in part], params.max_tokens,
                                                 params.forcing, counts)):
                on_done(job, comp)

    def step(self, reqs: list[StepIn]) -> list[StepOut]:
        p = self.params
        keep_special = "<|" in p.forcing.delims.open + p.forcing.delims.close
        sps = [self.vllm.SamplingParams(n=1, temperature=p.temperature, top_p=p.top_p, max_tokens=r.budget,
                                        seed=r.seed, stop=[r.stop] if r.stop else None, logprobs=p.logprobs,
                                        skip_special_tokens=not keep_special)
               for r in reqs]
        outs = self.llm.generate([r.prompt for r in reqs], sps, use_tqdm=False)
        res = []
        for r, out in zip(reqs, outs):
            o = out.outputs[0]
            if o.finish_reason == "length":
                why = "length"
            elif r.stop and o.stop_reason == r.stop:
                why = "stop"
            else:
                why = "eos"
            step = StepOut(o.text, len(o.token_ids), why)
            if p.logprobs and o.logprobs is not None:
                step.topk_ids, step.topk_logprobs = [], []
                for pos in o.logprobs:
                    best = sorted(pos.items(), key=lambda kv: -kv[1].logprob)[:p.logprobs]
                    step.topk_ids.append([int(t) for t, _ in best])
                    step.topk_logprobs.append([float(lp.logprob) for _, lp in best])
            res.append(step)
        return res

    def complete(self, chats, seeds, params: SamplingParams) -> list[Completion]:
        """Completions for chat prompts (what `distillery eval --backend vllm` uses)."""
        from curate.generate.hf import render

        self.params = params
        prompts = [render(self.tok, m, params.system) for m in chats]
        return run_steps(self.step, prompts, seeds, params.max_tokens, params.forcing)

    def prompt_topk(self, texts: list[str], starts: list[int], k: int) -> tuple[list, list]:
        """Teacher forcing: top-k at each token of text[i] from token starts[i] on (prompt_logprobs).
        Each position's top-k is for the token at that position, given everything before it."""
        sp = self.vllm.SamplingParams(max_tokens=1, prompt_logprobs=k, temperature=0.0)
        outs = self.llm.generate(texts, sp, use_tqdm=False)
        ids, lps = [], []
        for out, start in zip(outs, starts):
            row_i, row_l = [], []
            for pos in (out.prompt_logprobs or [])[start:]:
                best = sorted((pos or {}).items(), key=lambda kv: -kv[1].logprob)[:k]
                row_i.append([int(t) for t, _ in best])
                row_l.append([float(lp.logprob) for _, lp in best])
            ids.append(row_i)
            lps.append(row_l)
        return ids, lps
