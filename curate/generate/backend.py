"""One interface for every teacher back-end, and the settings every back-end shares.

A back-end turns `Job`s (one problem, one sample index, a chat prompt) into `Completion`s and hands
each to `on_done` as soon as it is finished, so the caller can write shards while work goes on.
`hf` and `vllm` work on raw prompt text a step at a time (see `forcing.run_steps`); `openai` talks
HTTP. Heavy packages (torch, transformers, vllm) are imported by the back-end that needs them only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from curate.errors import BadInput
from curate.text import R1, S1, Delimiters

BACKENDS = ("hf", "openai", "vllm")
FAMILIES = {"r1": R1, "s1": S1}


def delimiters(spec: str | Delimiters | None) -> Delimiters:
    """`r1`, `s1` or `OPEN,CLOSE`."""
    if spec is None:
        return R1
    if isinstance(spec, Delimiters):
        return spec
    if spec in FAMILIES:
        return FAMILIES[spec]
    if spec.count(",") == 1 and all(p.strip() for p in spec.split(",")):
        a, b = (p.strip() for p in spec.split(","))
        return Delimiters(a, b)
    raise BadInput(f"--delimiters {spec}: expected r1, s1 or OPEN,CLOSE")


@dataclass(frozen=True)
class Forcing:
    """Budget forcing (s1). `max_thinking`: end the thinking after N generated tokens, append the
    end-of-thinking delimiter and `final`, let the model answer. `min_thinking`: an end of thinking
    before N tokens becomes `wait` (at most `max_waits` times); `min_wait`: the first K ends of
    thinking become `wait` whatever their length."""

    max_thinking: int | None = None
    min_thinking: int | None = None
    min_wait: int = 0
    max_waits: int = 16
    wait: str = "Wait"
    final: str = "Final Answer:"
    delims: Delimiters = R1

    @property
    def active(self) -> bool:
        return bool(self.max_thinking or self.min_thinking or self.min_wait)

    def check(self) -> None:
        for name in ("max_thinking", "min_thinking"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise BadInput(f"--{name.replace('_', '-')} must be at least 1")
        if self.min_wait < 0 or self.max_waits < 0:
            raise BadInput("--min-wait must not be negative")
        if self.max_thinking and self.min_thinking and self.min_thinking > self.max_thinking:
            raise BadInput("--min-thinking is larger than --max-thinking")


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 0.6
    top_p: float = 0.95
    max_tokens: int = 32768
    seed: int = 0
    system: str | None = None
    logprobs: int | None = None          # top-k per generated token
    forcing: Forcing = field(default_factory=Forcing)

    def check(self) -> None:
        if self.temperature < 0:
            raise BadInput("--temperature must not be negative")
        if not 0 < self.top_p <= 1:
            raise BadInput("--top-p must be in (0, 1]")
        if self.max_tokens < 1:
            raise BadInput("--max-tokens must be at least 1")
        if self.logprobs is not None and not 1 <= self.logprobs <= 100:
            raise BadInput("--logprobs must be between 1 and 100")
        self.forcing.check()
        if self.logprobs and self.forcing.active:
            raise BadInput("--logprobs with budget forcing: the forced text has no teacher logprobs; "
                           "generate, then run `distillery score` on the traces")

    def settings(self) -> dict:
        """What decides the samples (the shard hash): not n, back-end, concurrency or URL."""
        d = asdict(self)
        d["forcing"]["delims"] = [self.forcing.delims.open, self.forcing.delims.close]
        return d


@dataclass(frozen=True)
class Job:
    problem_id: str
    sample_idx: int
    messages: tuple[dict, ...]
    seed: int = 0                         # per-sample seed: the same on every rerun


@dataclass
class Completion:
    text: str                             # everything after the prompt, forced strings included
    finish_reason: str                    # stop | length
    prompt_tokens: int = 0
    completion_tokens: int = 0            # generated tokens (forced strings not counted)
    thinking_tokens: int | None = None    # generated while thinking (budget forcing)
    reasoning: str | None = None          # the server returned the reasoning apart
    topk_ids: list | None = None
    topk_logprobs: list | None = None
    waits: int = 0
    forced_close: bool = False
    retries: int = 0


OnDone = Callable[[Job, Completion], None]


class Backend:
    """Generate completions for jobs; call `on_done(job, completion)` for each as it finishes."""

    name = "base"

    def run(self, jobs: list[Job], params: SamplingParams, on_done: OnDone) -> None:  # pragma: no cover
        raise NotImplementedError

    def close(self) -> None:
        pass


def make(name: str, model: str, **options) -> Backend:
    """The back-end called `name` for `model`; options each back-end understands (others ignored)."""
    if name == "hf":
        from curate.generate.hf import HFBackend

        return HFBackend(model, batch_size=options.get("batch_size") or 16, device=options.get("device"))
    if name == "openai":
        from curate.generate.openai_http import OpenAIBackend

        return OpenAIBackend(model, base_url=options.get("base_url"), concurrency=options.get("concurrency") or 64,
                             retries=options.get("retries", 8), timeout=options.get("timeout") or 600.0,
                             backoff=options.get("backoff", 0.5), tokenizer=options.get("tokenizer"),
                             stats=options.get("stats"))
    if name == "vllm":
        from curate.generate.vllm import VLLMBackend

        return VLLMBackend(model, tensor_parallel=options.get("tensor_parallel") or 1,
                           data_parallel=options.get("data_parallel") or 1)
    raise BadInput(f"--backend {name}: expected one of {', '.join(BACKENDS)}")
