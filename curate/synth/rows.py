"""Rows of the corpus: one teacher trace per (instance, sample) with its planted text defects and
its truth in `meta`, the student attempts, and the schema-conformed table they go into."""

from __future__ import annotations

import json
import random

import numpy as np
import pyarrow as pa

from curate import schema
from curate.synth import defects
from curate.synth.answers import Value, forms_of
from curate.synth.config import SOLVE_BY_DIFFICULTY, SynthConfig
from curate.synth.families import pick
from curate.synth.instances import Instance
from curate.synth.traces import Sample, write_attempt, write_response, write_thinking

# One encoder for every row's meta (json.dumps with options builds a new encoder per call).
to_json = json.JSONEncoder(ensure_ascii=False).encode
# Chance that a correct trace writes its answer in the gold's own form (else another equivalent one).
SAME_FORM_AS_GOLD = 0.6


def answer_form(rng: random.Random, value: Value, gold_form: str) -> tuple[str, str]:
    """(form, LaTeX) for writing `value`: the gold's form often, another equivalent form otherwise."""
    forms = forms_of(value)
    if gold_form in forms and rng.random() < SAME_FORM_AS_GOLD:
        return gold_form, forms[gold_form]
    form = pick(rng, list(forms))
    return form, forms[form]


def teacher_row(inst: Instance, sample_idx: int, flags: dict, length: float,
                 rng: random.Random) -> tuple[dict, dict]:
    """One teacher trace: decide the sample, write it, apply its text defects, record the truth."""
    problem = inst.problem
    wrong = flags["wrong_answer"]
    value = pick(rng, problem.wrong) if wrong else problem.answer
    form, latex = answer_form(rng, value, inst.gold_form)
    sample = Sample(value, latex, not wrong, float(length), short=flags["short"], boxed=not flags["missing_boxed"])
    paragraphs = write_thinking(problem, sample, rng)
    if flags["truncated"]:
        paragraphs, response, finish = defects.truncate(rng, paragraphs), "", "length"
    else:
        response, finish = write_response(problem, sample, rng), "stop"
    extra: dict = {}
    if flags["repetition"]:
        paragraphs, extra["repetition"] = defects.repetition_loop(rng, paragraphs)
    if flags["mixed_language"]:
        paragraphs, extra["chinese_lines"] = defects.mix_language(rng, paragraphs)
    thinking = "\n\n".join(paragraphs)
    names = [inst.kind] if inst.kind != "original" else []
    names += [name for name in ROW_DEFECTS if flags[name]]
    answered = not flags["truncated"]
    meta = {"family": problem.family, "difficulty": problem.difficulty, "template": problem.template,
            "defects": names, "correct": answered and sample.boxed and sample.correct,
            "answer_correct": answered and sample.correct, "answer": latex if answered else None,
            "answer_form": form if answered else None, "gold_form": inst.gold_form,
            "length_class": "long" if flags["long"] else "short" if flags["short"] else "normal",
            "dup_of_problem": inst.dup_of, "edits": list(inst.edits), **extra}
    if inst.heldout_of:  # only then: the meta of every other row keeps its bytes
        meta.update(heldout_of=inst.heldout_of, heldout_copy=inst.heldout_copy)
    return {"source": f"synth/{problem.family}", "problem": inst.text, "gold": inst.gold, "thinking": thinking,
            "response": response, "sample_idx": sample_idx, "finish_reason": finish,
            "meta": to_json(meta)}, meta


ROW_DEFECTS = ("wrong_answer", "missing_boxed", "truncated", "repetition", "mixed_language", "long", "short")
COLUMNS = ("source", "problem", "gold", "thinking", "response", "sample_idx", "finish_reason", "meta")


def trace_table(rows: list[dict], teachers: list[str]) -> pa.Table:
    """Rows to a schema-conformed trace table with content-hash ids."""
    data = {name: [r[name] for r in rows] for name in COLUMNS}
    table = pa.table({
        **{k: pa.array(data[k], pa.string()) for k in ("source", "problem", "gold", "thinking", "response")},
        "teacher": pa.array(teachers, pa.string()),
        "sample_idx": pa.array(data["sample_idx"], pa.int32()),
        "finish_reason": pa.array(data["finish_reason"], pa.string()),
        "meta": pa.array(data["meta"], pa.string()),
    })
    return schema.conform(schema.with_ids(table), "synth", check_ids=False)  # ids were just computed


def unique_row(row: dict, pid: str, seen: set[tuple]) -> bool:
    """Record what the row's trace_id hashes; False when an identical trace of the same problem came
    before (a short trace of an exact duplicate can repeat one), so the caller writes that row again.
    (Source and teacher are fixed per problem_id here, so they need not be part of the key.)"""
    key = (pid, row["sample_idx"], row["thinking"], row["response"])
    if key in seen:
        return False
    seen.add(key)
    return True


def attempts_table(cfg: SynthConfig, instances: list[Instance], pids: list[str]) -> pa.Table:
    """Student attempts, once per distinct problem text: each student tries `attempts_per_student`
    times and succeeds with probability family rate × skill × difficulty factor (clipped)."""
    rng = random.Random(f"{cfg.seed}/attempts")
    nrng = np.random.default_rng([cfg.seed, 2])
    distinct = list({pid: inst for pid, inst in zip(pids, instances)}.values())
    base = np.array([cfg.solve_rates[inst.problem.family] * SOLVE_BY_DIFFICULTY[inst.problem.difficulty]
                     for inst in distinct])
    rows, teachers = [], []
    for student in cfg.students:
        p = np.clip(base * student.skill, 0.01, 0.99)
        solved = nrng.random((len(distinct), cfg.attempts_per_student)) < p[:, None]
        for inst, tries in zip(distinct, solved.tolist()):
            problem = inst.problem
            for attempt, ok in enumerate(tries):
                value = problem.answer if ok else pick(rng, problem.wrong)
                form, latex = answer_form(rng, value, inst.gold_form)
                thinking, response = write_attempt(problem, Sample(value, latex, ok, 0.0), rng)
                meta = {"family": problem.family, "difficulty": problem.difficulty, "student": student.name,
                        "correct": ok, "answer": latex, "answer_form": form}
                rows.append({"source": f"synth/{problem.family}", "problem": inst.text, "gold": inst.gold,
                             "thinking": thinking, "response": response, "sample_idx": attempt,
                             "finish_reason": "stop", "meta": to_json(meta)})
                teachers.append(student.name)
    return trace_table(rows, teachers)
