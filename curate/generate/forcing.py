"""Budget forcing (s1) over any back-end that can continue raw prompt text, a step at a time.

A back-end supplies `step(requests) -> results`: continue each prompt for at most `budget` tokens,
stopping at `stop` (a string, excluded from the text) or at end-of-sequence. `run_steps` drives
every sample of a batch through its phases together, so a batched back-end (transformers, vLLM)
still sees batches:

    thinking  continue with stop = end-of-thinking, budget = what is left of max_thinking;
              an early end of thinking (fewer than min_thinking tokens, or one of the first
              min_wait) becomes "Wait" and thinking goes on; the budget spent: append the
              end-of-thinking delimiter and "Final Answer:" (forced close)
    answer    continue to end-of-sequence within what is left of max_tokens

Without forcing a sample is one step: no stop string, budget max_tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from curate.generate.backend import Completion, Forcing


@dataclass
class StepIn:
    prompt: str
    budget: int
    stop: str | None
    seed: int


@dataclass
class StepOut:
    text: str           # the continuation, without the stop string
    tokens: int         # tokens generated (the stop string's included)
    why: str            # eos | stop (the stop string) | length (budget spent)
    topk_ids: list | None = None
    topk_logprobs: list | None = None


Step = Callable[[list[StepIn]], list[StepOut]]


@dataclass
class _State:
    prompt: str
    seed: int
    written: str = ""
    used: int = 0
    think: int = 0
    waits: int = 0
    forced: bool = False
    phase: str = "think"
    finish: str = "stop"


def _close(f: Forcing) -> str:
    return f"\n{f.delims.close}\n\n{f.final}" if f.final else f"\n{f.delims.close}\n\n"


def run_steps(step: Step, prompts: list[str], seeds: list[int], max_tokens: int, forcing: Forcing,
              prompt_tokens: list[int] | None = None) -> list[Completion]:
    """One completion per prompt, with budget forcing when `forcing.active`."""
    if not forcing.active:
        outs = step([StepIn(p, max_tokens, None, s) for p, s in zip(prompts, seeds)])
        return [Completion(o.text, "length" if o.why == "length" else "stop",
                           prompt_tokens=(prompt_tokens or [0] * len(prompts))[i], completion_tokens=o.tokens,
                           topk_ids=o.topk_ids, topk_logprobs=o.topk_logprobs)
                for i, o in enumerate(outs)]
    states = [_State(p, s) for p, s in zip(prompts, seeds)]
    close = forcing.delims.close
    while True:
        live = [s for s in states if s.phase != "done"]
        if not live:
            break
        reqs: list[StepIn] = []
        for s in live:
            left = max_tokens - s.used
            if s.phase == "think":
                if forcing.max_thinking:
                    left = min(left, forcing.max_thinking - s.think)
                if left <= 0:                       # budget spent before this step: force the close
                    _force(s, forcing, max_tokens)
                    left = max_tokens - s.used
            if s.phase == "answer" and left <= 0:
                s.phase, s.finish = "done", "length"
            if s.phase == "done":
                continue
            reqs.append(StepIn(s.prompt + s.written, left, close if s.phase == "think" else None, s.seed + s.used))
        pending = [s for s in live if s.phase != "done"]
        if not reqs:
            continue
        for s, o in zip(pending, step(reqs)):
            s.used += o.tokens
            if s.phase == "answer":
                s.written += o.text
                s.phase, s.finish = "done", "length" if o.why == "length" else "stop"
                continue
            s.think += o.tokens
            if o.why == "length":
                s.written += o.text
                if s.used >= max_tokens:
                    s.phase, s.finish = "done", "length"
                else:
                    _force(s, forcing, max_tokens)
                continue
            early = (s.waits < forcing.min_wait
                     or (forcing.min_thinking and s.think < forcing.min_thinking and s.waits < forcing.max_waits))
            if early and (not forcing.max_thinking or s.think < forcing.max_thinking) and s.used < max_tokens:
                s.written += o.text.rstrip() + "\n" + forcing.wait
                s.waits += 1
            elif o.why == "stop":
                s.written += o.text + close
                s.phase = "answer"
            else:                                   # end of sequence while thinking: done
                s.written += o.text
                s.phase, s.finish = "done", "stop"
    return [Completion(s.written, s.finish, prompt_tokens=(prompt_tokens or [0] * len(prompts))[i],
                       completion_tokens=s.used, thinking_tokens=s.think, waits=s.waits, forced_close=s.forced)
            for i, s in enumerate(states)]


def _force(s: _State, forcing: Forcing, max_tokens: int) -> None:
    s.written += _close(forcing)
    s.forced = True
    s.phase = "answer"
