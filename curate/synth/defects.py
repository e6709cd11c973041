"""Planted defects: what curation has to find, at configured rates, each recorded in `meta`.

Problem-level defects copy an earlier original problem: an exact duplicate (the same text, or the
same up to case, punctuation and whitespace, so `normalize_for_dedup` maps both to one string) or a
near-duplicate (renamed people and things, reworded, premises reordered, a sentence added; the
numbers and so the answer stay). Trace-level defects change one sample: a wrong final answer,
no `\\boxed{}`, a cut-off trace (`finish_reason = 'length'`), a repetition loop, Chinese sentences
in the reasoning (as R1 writes), a very long or a very short trace.

Trace-level defects are drawn columnar (numpy) for all rows at once; the text edits are per row.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from curate.synth.families import RENAMEABLE, Problem, pick
from curate.text import normalize_for_dedup


class DefectRates(BaseModel):
    """Defect rates. `duplicate` and `near_duplicate` are fractions of problem instances; the others
    are fractions of trace rows (marginal rates: defects that exclude each other are drawn so each
    still hits its own rate)."""

    model_config = ConfigDict(extra="forbid")

    duplicate: float = Field(0.05, ge=0.0, le=0.5)
    near_duplicate: float = Field(0.05, ge=0.0, le=0.5)
    wrong_answer: float = Field(0.2, ge=0.0, le=0.9)
    missing_boxed: float = Field(0.03, ge=0.0, le=1.0)
    truncated: float = Field(0.03, ge=0.0, le=0.5)
    repetition: float = Field(0.02, ge=0.0, le=1.0)
    mixed_language: float = Field(0.03, ge=0.0, le=1.0)
    long: float = Field(0.03, ge=0.0, le=1.0)
    short: float = Field(0.03, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _exclusive_fit(self) -> DefectRates:
        if self.truncated + self.missing_boxed > 1:
            raise ValueError("truncated + missing_boxed must be at most 1 (a row has one ending)")
        if self.long + self.short > 1:
            raise ValueError("long + short must be at most 1 (a row has one length class)")
        if self.wrong_answer > 1 - self.truncated:
            raise ValueError("wrong_answer must be at most 1 - truncated (a truncated row has no answer)")
        return self


# How much more often a harder problem gets a wrong answer (difficulty 1..5), before normalising.
WRONG_BY_DIFFICULTY = np.array([0.0, 0.4, 0.7, 1.0, 1.3, 1.6])


@dataclass(frozen=True)
class RowDefects:
    """Per-row defect flags and the row's length factor, one numpy array each."""

    truncated: np.ndarray
    missing_boxed: np.ndarray
    wrong_answer: np.ndarray
    repetition: np.ndarray
    mixed_language: np.ndarray
    long: np.ndarray
    short: np.ndarray
    length: np.ndarray  # expected number of extra re-verification paragraphs


def plan_rows(rates: DefectRates, difficulty: np.ndarray, rng: np.random.Generator) -> RowDefects:
    """Draw every row's trace-level defects at once.

    Wrong answers are likelier on harder problems but keep the configured marginal rate; a
    truncated row has no final answer, so wrong answers are drawn among the others at
    `wrong_answer / (1 - truncated)`. Truncated traces are the long ones (they hit the limit).
    """
    n = len(difficulty)
    ending = rng.random(n)
    truncated = ending < rates.truncated
    missing_boxed = (ending >= rates.truncated) & (ending < rates.truncated + rates.missing_boxed)
    weight = WRONG_BY_DIFFICULTY[difficulty]
    p_wrong = rates.wrong_answer * weight / weight.mean() / max(1e-9, 1 - rates.truncated)
    wrong = ~truncated & (rng.random(n) < np.minimum(p_wrong, 1.0))
    size = rng.random(n)
    long, short = size < rates.long, (size >= rates.long) & (size < rates.long + rates.short)
    repetition = rng.random(n) < rates.repetition
    mixed = rng.random(n) < rates.mixed_language
    length = rng.lognormal(np.log(0.6 + 0.5 * difficulty), 0.6)
    length = np.where(wrong, length * 1.5, length)
    length = np.where(truncated, length * 3 + 4, length)
    length = np.where(long, rng.uniform(30, 80, n), length)
    return RowDefects(truncated, missing_boxed, wrong, repetition, mixed, long, short, length)


# ---------------------------------------------------------------------------- exact duplicates

def duplicate_text(rng: random.Random, text: str) -> tuple[str, str]:
    """The same problem again, maybe with only case, punctuation or whitespace changed; returns the
    text and the variant's name. Every variant normalises (`normalize_for_dedup`) to the original."""
    variant = pick(rng, ("identical", "case", "punctuation", "whitespace"))
    if variant == "case":
        new = text.lower() if text != text.lower() else text[:1].upper() + text[1:]
    elif variant == "punctuation":
        new = text[:-1] if text[-1:] in ".?" else text + "."
    elif variant == "whitespace":
        new = _respace(rng, text)
    else:
        new = text
    if new == text and variant != "identical" or normalize_for_dedup(new) != normalize_for_dedup(text):
        variant, new = "whitespace", _respace(rng, text)
    return new, variant


def _respace(rng: random.Random, text: str) -> str:
    gap = pick(rng, ("  ", "\n", " \n "))
    return text.replace(". ", "." + gap, 1).replace("$ ", "$" + gap, 1) + pick(rng, (" ", "\n", "  "))


# ------------------------------------------------------------------------------ near-duplicates

# Word edits that keep the meaning (applied to the sentence templates, so slots stay intact).
SYNONYMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Compute", ("Calculate", "Evaluate")), ("Find", ("Determine", "Work out")), ("What is", ("What's",)),
    ("How many", ("Exactly how many",)), ("Solve", ("Carefully solve",)), ("metres", ("meters",)),
    ("centimetres", ("centimeters",)), ("buys", ("purchases",)), ("gives", ("hands",)), ("holds", ("contains",)),
    ("sells", ("sells off",)), ("the equation", ("the equation below,",)), ("real", ("real-valued",)),
    ("Let", ("Suppose",)), ("has", ("has got",)), ("the value of", ("the exact value of",)),
)
SUFFIXES = ("Show your work.", "Give your answer in simplest form.", "Explain your reasoning.",
            "Justify your answer briefly.", "Be careful with the arithmetic.")


def near_duplicate(rng: random.Random, problem: Problem, taken: Callable[[str], bool]) -> tuple[Problem, list[str]]:
    """A light rewrite of `problem` with the same numbers (so the same answer) whose normalised
    text differs from every text so far (`taken`); returns it and the edits made."""
    used = " ".join(problem.sentences)
    renameable = [k for k in RENAMEABLE if "{" + k + "}" in used]
    rewordable = any(re.search(rf"\b{word}\b", used) for word, _ in SYNONYMS)
    options = ["suffix"] + (["reword"] * 2 if rewordable else []) + (["rename"] * 2 if renameable else []) + (["reorder"] if problem.reorderable > 1 else [])
    for _ in range(8):
        edits = sorted(set(rng.sample(options, min(len(options), rng.randint(1, 2)))))
        sentences, slots = list(problem.sentences), dict(problem.slots)
        for edit in edits:
            if edit == "rename":
                slots = _rename(rng, slots, renameable)
            elif edit == "reorder":
                head = sentences[: problem.reorderable]
                sentences[: problem.reorderable] = head[1:] + head[:1]
            elif edit == "reword":
                sentences = _reword(rng, sentences)
            else:
                sentences.append(pick(rng, SUFFIXES))
        candidate = replace(problem, sentences=tuple(sentences), slots=slots)
        if not taken(normalize_for_dedup(candidate.text)):
            return candidate, edits
    # Every rewrite collided with an earlier text (tiny problem spaces): a numbered note differs.
    sentences = (*problem.sentences, f"(Version {rng.randint(2, 999)}.)")
    return replace(problem, sentences=sentences), ["suffix"]


def _rename(rng: random.Random, slots: dict[str, str], keys: list[str]) -> dict[str, str]:
    slots = dict(slots)
    for key in keys:
        pool = [v for v in RENAMEABLE[key] if v not in slots.values()]
        slots[key] = pick(rng, pool)
    return slots


def _reword(rng: random.Random, sentences: list[str]) -> list[str]:
    text = "\n".join(sentences)
    hits = [(word, alts) for word, alts in SYNONYMS if re.search(rf"\b{word}\b", text)]
    for word, alts in rng.sample(hits, min(len(hits), rng.randint(1, 2))):
        text = re.sub(rf"\b{word}\b", pick(rng, alts), text, count=1)
    return text.split("\n")


# ------------------------------------------------------------------------------- trace defects

CHINESE = ("让我再检查一下。", "嗯，这里需要仔细一点。", "所以我们得到这个结果。", "等一下，我再算一遍。",
           "这一步应该没问题。", "好的，继续。", "首先，我们整理一下已知条件。", "这个答案看起来是合理的。",
           "我觉得这样做是对的。", "换一种方法验证一下。", "不对，我需要重新考虑。", "也就是说，结果不变。")


# The edits below never touch the last paragraph: it holds the conclusion, or the words a
# truncated trace was cut off in (truncation runs first), so a planted defect is never cut away
# and a cut trace still ends mid-word.

def mix_language(rng: random.Random, paragraphs: list[str]) -> tuple[list[str], int]:
    """Put 1–3 Chinese sentences into the reasoning (appended to, or standing between, paragraphs)."""
    paragraphs = list(paragraphs)
    count = rng.randint(1, 3)
    for _ in range(count):
        line = pick(rng, CHINESE)
        if len(paragraphs) > 1 and rng.random() < 0.5:
            i = rng.randrange(len(paragraphs) - 1)
            paragraphs[i] = f"{paragraphs[i]} {line}"
        else:
            paragraphs.insert(rng.randrange(len(paragraphs)), line)
    return paragraphs, count


def repetition_loop(rng: random.Random, paragraphs: list[str]) -> tuple[list[str], dict]:
    """Repeat one line or one whole paragraph many times in a row, as a looping model does."""
    i = rng.randrange(len(paragraphs) - 1) if len(paragraphs) > 1 else 0
    times = rng.randint(12, 60)
    if rng.random() < 0.5:
        unit = "line"
        sentences = [s for s in re.split(r"(?<=[.!?])\s+|\n", paragraphs[i]) if s]
        loop = "\n".join([pick(rng, sentences)] * times)
    else:
        unit = "paragraph"
        loop = "\n\n".join([paragraphs[i]] * times)
    at = i + 1 if len(paragraphs) > 1 else 0
    return [*paragraphs[:at], loop, *paragraphs[at:]], {"unit": unit, "times": times}


def truncate(rng: random.Random, paragraphs: list[str]) -> list[str]:
    """Cut the reasoning off mid-word, 30–95% of the way in, as a token limit does."""
    text = "\n\n".join(paragraphs)
    cut = max(1, int(len(text) * rng.uniform(0.3, 0.95)))
    for pos in (*range(cut, max(0, cut - 200), -1), *range(cut + 1, len(text))):
        if text[pos - 1].isalnum() and text[pos].isalnum():
            return text[:pos].split("\n\n")
    return text[:cut].split("\n\n")
