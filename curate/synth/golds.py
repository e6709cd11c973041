"""Planted wrong gold answers: what the `gold_audit` stage has to find.

Real datasets carry wrong reference answers (the AM-Thinking team found them by comparing R1's
majority votes with the given answers). `plant` gives a share of the original problems a plausible
wrong gold (one of the problem's own wrong answers, in the gold's form where it has one); copies of
such a problem (duplicates, near-duplicates) carry the same wrong gold, as copies in a real dataset
would. The teacher still solves the real problem, so its majority disagrees with the gold.

`record` writes the truth into `meta` of every row of a planted problem (traces and attempts):
`wrong_gold: {true_gold, planted_gold, answer_true}`, and re-grades `correct` / `answer_correct`
against the gold the row now carries (what a verifier must say), keeping the truth in `answer_true`.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa

from curate import schema
from curate.synth.answers import Value, forms_of
from curate.synth.families import pick

to_json = json.JSONEncoder(ensure_ascii=False).encode


@dataclass(frozen=True)
class Planted:
    true_gold: str
    planted_gold: str
    value: Value        # the wrong value the planted gold writes

    @property
    def forms(self) -> set[str]:
        return set(forms_of(self.value).values())


def plant(instances: list, rate: float, seed: int) -> tuple[list, dict[str, Planted]]:
    """(instances with the planted golds, {problem_id of every planted instance: Planted})."""
    if rate <= 0:
        return instances, {}
    u = np.random.default_rng([seed, 17]).random(len(instances))
    rng = random.Random(f"{seed}/golds")
    by_original: dict[str, Planted] = {}
    out, planted = [], {}
    for inst, draw in zip(instances, u.tolist()):
        pid = schema.problem_id(inst.text)
        if inst.kind == "original" and draw < rate:
            value = pick(rng, inst.problem.wrong)
            forms = forms_of(value)
            text = forms.get(inst.gold_form) or next(iter(forms.values()))
            by_original[pid] = Planted(inst.gold, text, value)
        mark = by_original.get(pid if inst.kind == "original" else inst.dup_of)
        if mark is not None:
            # gold_form stays: it steers which forms the traces write (the same draws as unplanted)
            inst = replace(inst, gold=mark.planted_gold)
            planted[pid] = mark
        out.append(inst)
    return out, planted


def record(table: pa.Table | None, planted: dict[str, Planted]) -> tuple[pa.Table | None, int]:
    """(`table` with the truth in `meta` of the rows of planted problems, graded against the gold
    they carry (see the module docstring); the change in the number of correct rows)."""
    if table is None or not planted:
        return table, 0
    delta = 0
    pids = table.column("problem_id").to_pylist()
    metas = table.column("meta").to_pylist()
    for i, pid in enumerate(pids):
        mark = planted.get(pid)
        if mark is None:
            continue
        meta = json.loads(metas[i])
        answer = meta.get("answer")
        truth = meta.get("answer_correct", meta.get("correct"))
        matches = answer is not None and answer in mark.forms
        meta["wrong_gold"] = {"true_gold": mark.true_gold, "planted_gold": mark.planted_gold, "answer_true": truth}
        delta -= bool(meta.get("correct"))
        if "answer_correct" in meta:        # a teacher trace: correct also needs the answer boxed
            meta["correct"] = matches and "missing_boxed" not in meta.get("defects", [])
            meta["answer_correct"] = matches
        else:                               # a student attempt
            meta["correct"] = matches
        delta += meta["correct"]
        metas[i] = to_json(meta)
    return table.set_column(table.schema.get_field_index("meta"), "meta", pa.array(metas, pa.string())), delta


def summary_line(traces: pa.Table) -> str | None:
    """'wrong golds planted: N problems (M rows)' for a corpus that has them."""
    planted = [pid for pid, m in zip(traces.column("problem_id").to_pylist(), traces.column("meta").to_pylist())
               if '"wrong_gold"' in m]
    if not planted:
        return None
    return f"wrong golds planted (meta.wrong_gold): {len(set(planted))} problems, {len(planted)} rows"
