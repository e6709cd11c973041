"""The transformers back-end: batched `generate()` with left padding, CPU or GPU (the default).

Budget forcing and the phases of a sample live in `forcing.py`; this module only knows how to
continue a batch of raw prompts (`step`). Top-k logprobs come from the raw logits (temperature 1,
before top-p), as vLLM reports them by default.
"""

from __future__ import annotations

from pathlib import Path

from curate.errors import BadInput, require
from curate.generate.backend import Backend, Completion, Job, OnDone, SamplingParams
from curate.generate.forcing import StepIn, StepOut, run_steps


def looks_local(name: str) -> bool:
    return name.startswith(("/", "./", "../", "~")) or Path(name).expanduser().exists() or name.count("/") > 1


def check_model_path(name: str) -> None:
    if looks_local(name):
        path = Path(name).expanduser()
        if not path.exists():
            raise BadInput(f"{name}: model path does not exist")
        if not (path / "config.json").is_file():
            raise BadInput(f"{name}: not a model folder (no config.json)")


def load_tokenizer(name: str, padding_side: str = "left"):
    transformers = require("transformers", "train", "the transformers back-end")
    check_model_path(name)
    try:
        tok = transformers.AutoTokenizer.from_pretrained(name, padding_side=padding_side)
    except (OSError, ValueError) as exc:
        raise BadInput(f"{name}: cannot load the tokenizer ({str(exc).splitlines()[0]})") from exc
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def render(tok, messages, system: str | None = None) -> str:
    """The raw prompt text of a chat, ending where the assistant starts."""
    msgs = list(messages)
    if system is not None and not any(m["role"] == "system" for m in msgs):
        msgs.insert(0, {"role": "system", "content": system})
    if not getattr(tok, "chat_template", None):
        raise BadInput("the tokenizer has no chat template; use an instruct model's tokenizer")
    return tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)


class HFBackend(Backend):
    name = "hf"

    def __init__(self, model: str, batch_size: int = 16, device: str | None = None, params: SamplingParams | None = None):
        torch = require("torch", "train", "the transformers back-end")
        transformers = require("transformers", "train", "the transformers back-end")
        self.model_name = model
        self.tok = load_tokenizer(model)
        transformers.utils.logging.disable_progress_bar()   # one progress line: ours
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        kwargs = {"dtype": torch.bfloat16} if device.startswith("cuda") else {}
        try:
            self.model = transformers.AutoModelForCausalLM.from_pretrained(model, **kwargs).to(device)
        except (OSError, ValueError) as exc:
            raise BadInput(f"{model}: cannot load the model ({str(exc).splitlines()[0]})") from exc
        self.model.eval()
        self.device = device
        self.batch_size = max(1, batch_size)
        self.generate_kwargs: dict = {}     # more model.generate() arguments (repetition_penalty, sequence_bias…)
        self.params = params or SamplingParams()
        ids = self.model.generation_config.eos_token_id
        ids = [] if ids is None else [ids] if isinstance(ids, int) else list(ids)
        if self.tok.eos_token_id is not None and self.tok.eos_token_id not in ids:
            ids.append(self.tok.eos_token_id)
        self.eos = ids

    # ------------------------------------------------------------------------------- generation

    def render(self, messages, system: str | None = None) -> str:
        return render(self.tok, messages, system)

    def run(self, jobs: list[Job], params: SamplingParams, on_done: OnDone) -> None:
        self.params = params
        for start in range(0, len(jobs), self.batch_size):
            chunk = jobs[start:start + self.batch_size]
            for job, comp in zip(chunk, self.complete([j.messages for j in chunk], [j.seed for j in chunk], params)):
                on_done(job, comp)

    def complete(self, chats: list, seeds: list[int], params: SamplingParams) -> list[Completion]:
        self.params = params
        prompts = [self.render(m, params.system) for m in chats]
        counts = [len(self.tok(p, add_special_tokens=False)["input_ids"]) for p in prompts]
        return run_steps(self.step, prompts, seeds, params.max_tokens, params.forcing, counts)

    def step(self, reqs: list[StepIn]) -> list[StepOut]:
        """Continue each prompt: batches of `batch_size`, one stop string per batch."""
        out: list[StepOut | None] = [None] * len(reqs)
        groups: dict[str | None, list[int]] = {}
        for i, r in enumerate(reqs):
            groups.setdefault(r.stop, []).append(i)
        for stop, idx in groups.items():
            for start in range(0, len(idx), self.batch_size):
                part = idx[start:start + self.batch_size]
                for i, o in zip(part, self._batch([reqs[i] for i in part], stop)):
                    out[i] = o
        return out  # type: ignore[return-value]

    def _batch(self, reqs: list[StepIn], stop: str | None) -> list[StepOut]:
        import torch

        p, tok = self.params, self.tok
        torch.manual_seed(reqs[0].seed)
        enc = tok([r.prompt for r in reqs], return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        k = p.logprobs or 0
        kwargs = dict(max_new_tokens=max(r.budget for r in reqs), do_sample=p.temperature > 0,
                      pad_token_id=tok.pad_token_id, eos_token_id=self.eos, return_dict_in_generate=True,
                      output_logits=bool(k))
        if p.temperature > 0:
            kwargs.update(temperature=p.temperature, top_p=p.top_p)
        if stop:
            kwargs.update(stop_strings=[stop], tokenizer=tok)
        kwargs.update(self.generate_kwargs)
        with torch.no_grad():
            gen = self.model.generate(**enc, **kwargs)
        new = gen.sequences[:, enc["input_ids"].shape[1]:].tolist()
        top = None
        if k:
            logp = torch.log_softmax(torch.stack(gen.logits, 1).float(), -1).topk(k, -1)
            top = (logp.indices.to(torch.int32).cpu(), logp.values.to(torch.float16).float().cpu())
        results = []
        for i, (r, ids) in enumerate(zip(reqs, new)):
            ids = ids[:r.budget]
            ended = next((j for j, t in enumerate(ids) if t in self.eos), None)
            if ended is not None:
                text, n, why = self.decode(ids[:ended]), ended + 1, "eos"
            else:
                text, n, why = self.decode(ids), len(ids), "length"
            if stop and stop in text:
                lo, hi = 1, len(ids) if ended is None else ended   # fewest tokens whose text holds the stop
                while lo < hi:
                    mid = (lo + hi) // 2
                    lo, hi = (lo, mid) if stop in self.decode(ids[:mid]) else (mid + 1, hi)
                n = hi
                text, why = self.decode(ids[:n]).split(stop, 1)[0], "stop"
            o = StepOut(text, n, why)
            if top is not None:
                o.topk_ids = top[0][i, :n].tolist()
                o.topk_logprobs = top[1][i, :n].tolist()
            results.append(o)
        return results

    def decode(self, ids: list[int]) -> str:
        """Text of generated ids; special tokens dropped unless a delimiter uses them (s1's
        `<|im_start|>think`)."""
        text = self.tok.decode(ids, skip_special_tokens=False)
        d = self.params.forcing.delims
        for s in self._specials():
            if s not in d.open and s not in d.close and s in text:
                text = text.replace(s, "")
        return text

    def _specials(self) -> list[str]:
        if not hasattr(self, "_special_list"):
            self._special_list = sorted(set(self.tok.all_special_tokens), key=len, reverse=True)
        return self._special_list
