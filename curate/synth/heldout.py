"""The default profile's held-out split, and the few held-out problems planted in the corpus.

`synth --heldout N` writes N problems the corpus never asks (a normalised text no instance has),
one clean teacher trace each, to OUT/heldout/: an eval set (`distillery eval --bench OUT/heldout`)
and a decontamination target (`decontam: {bench: [heldout]}`, found beside the input). Of them,
`contaminate` (default 5) also take the place of original problems of the corpus, with all their
samples, alternately verbatim and lightly reworded: the contamination a decontam stage must catch.
Their corpus rows carry `meta.heldout_of` (the held-out problem_id) and `meta.heldout_copy`
(verbatim | reworded); the held-out rows carry `meta.split = "heldout"`.

All randomness here comes from generators of its own, so the corpus of a config without
`heldout` is byte-identical to what it was before the split existed.
"""

from __future__ import annotations

import dataclasses
import random

import pyarrow as pa

from curate import schema
from curate.errors import BadInput
from curate.synth.answers import forms_of
from curate.synth.config import SynthConfig
from curate.synth.instances import Instance, fresh
from curate.synth.rows import ROW_DEFECTS, teacher_row, to_json, trace_table
from curate.text import normalize_for_dedup

DIR = "heldout"
# A light rewording keeps every word of the problem in order (an 8-gram overlap still finds it),
# as a pasted benchmark problem with a preamble or an instruction added would.
REWORDINGS = ("Here is a problem for you. {}", "{} Show your reasoning, then give the final answer.",
              "Please solve the following question carefully.\n\n{}")


NGRAM = 8  # decontamination's default: a held-out problem shares no word 8-gram with the corpus
DRAWS = 400  # candidates tried per held-out problem before the next family is tried


def _grams(text: str) -> set[tuple[str, ...]]:
    words = text.lower().split()
    return {tuple(words[i:i + NGRAM]) for i in range(max(1, len(words) - NGRAM + 1))}


def problems(cfg: SynthConfig, instances: list[Instance]) -> list[Instance]:
    """`cfg.heldout` fresh problems, families in turn, that share no normalised text and no word
    8-gram with a corpus instance (templates share wording: such a problem would be caught by
    decontamination without having been planted), nor with each other."""
    rng = random.Random(f"{cfg.seed}/heldout")
    seen = {normalize_for_dedup(inst.text) for inst in instances}
    taken = set().union(*(_grams(inst.text) for inst in instances))
    out: list[Instance] = []
    for i in range(cfg.heldout * len(cfg.families)):
        if len(out) == cfg.heldout:
            break
        family = cfg.families[i % len(cfg.families)]
        for _ in range(DRAWS):
            try:
                problem = fresh(family, rng.randint(1, 5), rng, seen, widen=False)
            except BadInput:  # the family ran out of new problems at its own levels
                break
            grams = _grams(problem.text)
            if len(problem.text.split()) >= NGRAM and not grams & taken:
                taken |= grams
                forms = forms_of(problem.answer)
                gold_form = next(iter(forms))
                out.append(Instance(problem, problem.text, gold_form, forms[gold_form]))
                break
    if len(out) < cfg.heldout:
        raise ValueError(f"synth: found only {len(out)} held-out problems sharing no {NGRAM}-gram with the corpus; "
                         "ask for fewer")
    return out


def plant(cfg: SynthConfig, instances: list[Instance], held: list[Instance]) -> list[Instance]:
    """The corpus instances with `cfg.contaminate` original problems (none that another instance
    copies) replaced by held-out problems, alternately verbatim and reworded."""
    count = min(cfg.contaminate, len(held))
    copied = {inst.dup_of for inst in instances if inst.dup_of}
    candidates = [i for i, inst in enumerate(instances)
                  if inst.kind == "original" and schema.problem_id(inst.text) not in copied]
    rng = random.Random(f"{cfg.seed}/contaminate")
    chosen = sorted(rng.sample(candidates, min(count, len(candidates))))
    out = list(instances)
    for j, i in enumerate(chosen):
        h = held[j]
        reworded = j % 2 == 1
        text = rng.choice(REWORDINGS).format(h.text) if reworded else h.text
        out[i] = dataclasses.replace(h, text=text, heldout_of=schema.problem_id(h.text),
                                     heldout_copy="reworded" if reworded else "verbatim")
    return out


def table(cfg: SynthConfig, held: list[Instance]) -> pa.Table:
    """One clean teacher trace per held-out problem (no planted defect), meta.split = heldout."""
    rng = random.Random(f"{cfg.seed}/heldout-traces")
    clean = dict.fromkeys(ROW_DEFECTS, False)
    rows = []
    for inst in held:
        row, meta = teacher_row(inst, 0, clean, 1.0, rng)
        row["meta"] = to_json({**meta, "split": DIR})
        rows.append(row)
    return trace_table(rows, [cfg.teacher] * len(rows))
