"""Writing teacher-style reasoning traces (DeepSeek-R1 style) and student attempts for a problem.

A teacher trace is `thinking` (an opener, the worked steps with asides, the occasional slip caught
by "Wait, let me double-check", checks, and more re-verification the longer the sample) and a short
`response` that ends with the final answer, normally in `\\boxed{}`. What to write is decided
beforehand (`Sample`): right or wrong value, the LaTeX form of the answer, a length factor, whether
to box. The thinking comes back as paragraphs so defects (`defects.py`) can edit it afterwards.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from curate.synth.answers import Value, forms_of
from curate.synth.families import TOPICS, Problem, Step, pick


@dataclass(frozen=True)
class Sample:
    """What one trace says: `value` written as `latex`, right or wrong, how long, boxed or not."""

    value: Value
    latex: str
    correct: bool
    length: float  # expected number of extra re-verification paragraphs
    short: bool = False
    boxed: bool = True


OPENERS = (
    "Okay, so I need to find {goal}. Let me read the problem again carefully.",
    "Alright, let's see. This is a question about {topic}, and it asks for {goal}.",
    "Okay, let me try to work this out. The problem says: \"{text}\"",
    "Hmm, let's tackle this step by step. We want {goal}.",
    "So the problem is asking for {goal}. Let me think about how to approach it.",
    "Okay, let's see. {text}\nSo I need {goal}.",
)
PLANS = (
    "I think the cleanest way is to just compute it directly, one piece at a time.",
    "Let me write down what we know and go from there.",
    "This looks like a standard {topic} problem, so let me set it up properly.",
    "I should be careful with the arithmetic here.",
    "",
)
LEADS = ("First,", "Let me start with", "To begin,", "Okay, first", "Then", "Next,", "Now", "So", "After that,",
         "Let me compute", "Now I need", "Moving on,")
ASIDES = ("Hmm.", "Okay.", "That seems right.", "Let me keep going.", "Good.", "Alright, so far so good.",
          "Let me make sure I'm not mixing anything up.", "Right.", "", "", "")
RECHECKS = ("Wait, let me double-check that.", "Wait, that doesn't look right.", "Hold on, let me recompute.",
            "Hmm, wait. Let me redo that step.")
CONCLUSIONS = ("So {goal} is {ans}.", "That means the answer is {ans}.", "Therefore, {goal} = {ans}.",
               "So I get {ans}.", "So the answer should be {ans}.")
CHECKS = ("Wait, let me double-check. {check}", "Let me verify this. {check}", "Just to be safe: {check}",
          "Let me check the answer another way. {check}")
BLIND_CHECKS = ("Let me double-check... yes, that looks consistent with what I did.",
                "I think that's right. The steps all follow.", "Hmm, does that make sense? I believe so.",
                "Let me quickly re-verify the last step. Yes, I'm fairly sure it holds.")
EXTRAS = (
    "Wait, let me re-read the question to make sure I'm answering what's asked. It wants {goal}. Yes, that's what I found.",
    "Hmm, is there any trick here? Maybe the wording hides a special case... No, I think it's straightforward.",
    "Let me sanity-check the size of the answer. Given the numbers in the problem, {ans} is plausible.",
    "Should I present it as {alt}? That's the same value as {ans}, just written differently. Either is fine.",
    "Actually, let me go back over the setup once more, in case I misread a number. No, the numbers are as I used them.",
    "Alternatively, I could think about it from the other direction, but I'd end up doing the same computation.",
    "Let me also make sure about signs, since that's where mistakes usually creep in. They look right.",
)
FINALS = ("So the final answer is {ans}.", "I'm fairly confident the answer is {ans}.", "Okay, I'm confident: {ans}.",
          "Final answer: {ans}.", "Alright, {ans} it is.")
RESPONSE_INTROS = ("To find {goal}, we proceed step by step.", "**Solution.**", "We solve this directly.",
                   "Here is the solution.", "We compute {goal}.")
BOXED_ENDINGS = ("Therefore, {goal} is $\\boxed{{{ans}}}$.", "**Final answer:** $\\boxed{{{ans}}}$",
                 "The answer is\n\\[\n\\boxed{{{ans}}}\n\\]", "$$\\boxed{{{ans}}}$$")
PLAIN_ENDINGS = ("Therefore, {goal} is ${ans}$.", "**Final answer:** {ans}", "The answer is {ans}.")


def _math(rng: random.Random, latex: str) -> str:
    """Inline math the way reasoning traces mix it: `\\( … \\)` or bare text."""
    return f"\\( {latex} \\)" if rng.random() < 0.5 else latex


def _say_step(rng: random.Random, step: Step, lead: str, value: str, slip: bool) -> str:
    body = f"{step.note}: " if step.note else ""
    if slip and step.miss:
        return (f"{lead} {body}{_math(rng, f'{step.expr} {step.rel} {step.miss}')}. {pick(rng, RECHECKS)} "
                f"{_math(rng, step.expr)}... actually that's {value}, not {step.miss}. I slipped there.")
    return f"{lead} {body}{_math(rng, f'{step.expr} {step.rel} {value}')}."


def _steps(problem: Problem, sample: Sample) -> list[tuple[Step, str]]:
    """Each step with the value the trace writes: a wrong sample carries its wrong value into the
    last step when that step states the answer (in any form), so the chain leads to the wrong result."""
    out = [(s, s.value) for s in problem.steps]
    if not sample.correct and out:
        right, wrong = forms_of(problem.answer), forms_of(sample.value)
        form = next((name for name, latex in right.items() if latex == out[-1][1]), None)
        if form is not None:
            out[-1] = (out[-1][0], wrong.get(form) or next(iter(wrong.values())))
    return out


def write_thinking(problem: Problem, sample: Sample, rng: random.Random) -> list[str]:
    """The reasoning, as paragraphs."""
    steps = _steps(problem, sample)
    goal = problem.goal
    ans = _math(rng, sample.latex)
    if sample.short:
        step, value = steps[-1]
        return [f"{step.expr} {step.rel} {value}. So the answer is {sample.latex}."]
    topic = TOPICS[problem.family]
    opener = pick(rng, OPENERS).format(goal=goal, topic=topic, text=problem.text)
    plan = pick(rng, PLANS).format(topic=topic)
    paragraphs = [f"{opener} {plan}".strip()]
    slip_chance = min(0.6, 0.15 + 0.08 * sample.length)
    current: list[str] = []
    for i, (step, value) in enumerate(steps):
        lead = LEADS[0 if i == 0 else rng.randrange(4, len(LEADS))]
        current.append(_say_step(rng, step, lead, value, rng.random() < slip_chance))
        current.append(pick(rng, ASIDES))
        if rng.random() < 0.4 or i == len(steps) - 1:
            paragraphs.append(" ".join(p for p in current if p))
            current = []
    paragraphs.append(pick(rng, CONCLUSIONS).format(goal=goal, ans=ans))
    paragraphs.append(pick(rng, CHECKS).format(check=problem.check) if sample.correct else pick(rng, BLIND_CHECKS))
    extras = int(sample.length + rng.random())
    forms = list(forms_of(sample.value).values())
    start = rng.randrange(len(EXTRAS))  # walk the reflections in turn, so none repeats back to back
    for j in range(extras):
        if rng.random() < 0.3:
            paragraphs.append(_redo(rng, steps))
        else:
            alt = _math(rng, pick(rng, forms))
            paragraphs.append(EXTRAS[(start + j) % len(EXTRAS)].format(goal=goal, ans=ans, alt=alt))
    paragraphs.append(pick(rng, FINALS).format(ans=ans))
    return paragraphs


def _redo(rng: random.Random, steps: list[tuple[Step, str]]) -> str:
    """A re-derivation paragraph: the steps again, tersely, as R1 does when it re-checks itself."""
    lines = [pick(rng, ("Let me redo the computation to be sure.", "Alternatively, let me recompute everything.",
                         "Wait, let me go through it once more."))]
    lines += [f"{step.expr} {step.rel} {value}." for step, value in steps]
    lines.append(pick(rng, ("Same result.", "Yes, it matches.", "Consistent.")))
    return "\n".join(lines)


def write_response(problem: Problem, sample: Sample, rng: random.Random) -> str:
    """The short solution after the reasoning, ending with the (boxed) final answer."""
    steps = _steps(problem, sample)
    shown = steps if len(steps) <= 3 else [steps[0], *steps[-2:]]
    lines = [pick(rng, RESPONSE_INTROS).format(goal=problem.goal), ""]
    display = rng.random() < 0.3
    for i, (step, value) in enumerate(shown, 1):
        lines.append(f"\\[ {step.expr} {step.rel} {value} \\]" if display else f"{i}. ${step.expr} {step.rel} {value}$")
    lines.append("")
    endings = BOXED_ENDINGS if sample.boxed else PLAIN_ENDINGS
    lines.append(pick(rng, endings).format(goal=problem.goal, ans=sample.latex))
    return "\n".join(lines)


def write_attempt(problem: Problem, sample: Sample, rng: random.Random) -> tuple[str, str]:
    """A student's attempt: a few lines of thinking and a boxed answer."""
    steps = _steps(problem, sample)
    thinking = " ".join(f"{step.expr} {step.rel} {value}." for step, value in steps[-2:])
    thinking = f"{pick(rng, ('I need', 'Find', 'We want'))} {problem.goal}. {thinking} So the answer is {sample.latex}."
    return thinking, f"The answer is $\\boxed{{{sample.latex}}}$."
