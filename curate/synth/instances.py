"""The problem instances of the corpus: originals drawn from the families, and exact and near
duplicates of earlier originals at the planted rates; how many samples each instance gets."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

import numpy as np

from curate import schema
from curate.errors import BadInput
from curate.synth import defects
from curate.synth.answers import forms_of
from curate.synth.config import SynthConfig
from curate.synth.families import FAMILIES, Problem, pick
from curate.text import normalize_for_dedup


@dataclass(frozen=True)
class Instance:
    """One problem instance: an original, or a duplicate / near-duplicate of an earlier original."""

    problem: Problem
    text: str
    gold_form: str
    gold: str
    edits: tuple[str, ...] = ()
    dup_of: str | None = None  # problem_id of the original
    kind: str = "original"  # original, duplicate, near_duplicate
    heldout_of: str | None = None  # a held-out problem planted in the corpus: its problem_id there
    heldout_copy: str | None = None  # verbatim | reworded


def sample_counts(cfg: SynthConfig, rng: np.random.Generator) -> np.ndarray:
    """Samples per instance (1 + binomial, so the mean is samples_mean), trimmed to total exactly n."""
    top = cfg.samples_max - 1
    p = (cfg.samples_mean - 1) / top if top else 0.0
    counts = np.empty(0, dtype=np.int64)
    while counts.sum() < cfg.n:
        counts = np.concatenate([counts, 1 + rng.binomial(top, p, size=max(16, cfg.n // 3))])
    ends = np.cumsum(counts)
    last = int(np.searchsorted(ends, cfg.n))
    counts = counts[: last + 1]
    counts[-1] -= ends[last] - cfg.n
    return counts


def draw_instances(cfg: SynthConfig, count: int, nrng: np.random.Generator, rng: random.Random) -> list[Instance]:
    """Draw the problem instances: originals from the families, copies of earlier originals at the
    duplicate and near-duplicate rates. No two originals share a normalised text (a collision would
    be an unrecorded duplicate)."""
    u = nrng.random(count)
    d_rate, n_rate = cfg.defects.duplicate, cfg.defects.near_duplicate
    kinds = np.where(u < d_rate, 1, np.where(u < d_rate + n_rate, 2, 0))
    kinds[0] = 0
    families = nrng.choice(len(cfg.families), size=count)
    difficulty = nrng.integers(1, 6, size=count)
    which = nrng.random(count)
    seen: set[str] = set()
    originals: list[Instance] = []
    out: list[Instance] = []
    for i in range(count):
        if kinds[i] == 0:
            problem = fresh(cfg.families[families[i]], int(difficulty[i]), rng, seen)
            forms = forms_of(problem.answer)
            gold_form = next(iter(forms)) if rng.random() < 0.5 else pick(rng, list(forms))
            inst = Instance(problem, problem.text, gold_form, forms[gold_form])
            originals.append(inst)
        else:
            src = originals[int(which[i] * len(originals))]
            pid = schema.problem_id(src.text)
            if kinds[i] == 1:
                text, variant = defects.duplicate_text(rng, src.text)
                inst = Instance(src.problem, text, src.gold_form, src.gold, (variant,), pid, "duplicate")
            else:
                problem, edits = defects.near_duplicate(rng, src.problem, seen.__contains__)
                seen.add(normalize_for_dedup(problem.text))
                inst = Instance(problem, problem.text, src.gold_form, src.gold, tuple(edits), pid, "near_duplicate")
        out.append(inst)
    return out


MAX_DRAWS = 200  # draws of one family at its five levels before widening its numbers
WIDER = 1000     # further draws with ever wider numbers before giving up


def fresh(family: str, difficulty: int, rng: random.Random, seen: set[str], widen: bool = True) -> Problem:
    """A problem of `family` whose normalised text is new (added to `seen`). Small problem spaces
    run out at easy levels first, so repeated collisions move up a difficulty level; a family whose
    five levels are exhausted (quadratics past ~200K rows) draws from wider ranges (the families'
    bounds grow past level 5), labelled level 5, so a million-row pool exists. The widening only
    starts where the generator used to give up, so every smaller pool keeps its bytes."""
    make = FAMILIES[family]
    for attempt in range(MAX_DRAWS + (WIDER if widen else 0)):
        level = min(5, difficulty + attempt // 25) if attempt < MAX_DRAWS else 6 + (attempt - MAX_DRAWS) // 25
        problem = make(rng, level)
        key = normalize_for_dedup(problem.text)
        if key not in seen:
            seen.add(key)
            return problem if level <= 5 else replace(problem, difficulty=5)
    raise BadInput(f"synth: family {family} ran out of distinct problems after {attempt + 1} draws; "
                   f"ask for fewer rows (--n) or more families")
