"""The embedded synthetic corpus: math problems with known answers, teacher traces with planted
defects, and student attempts. It is what the demo and the benchmarks run on without a network.

    cfg = SynthConfig(n=60_000, seed=0)
    result = write(cfg, "traces/")      # traces/synth-00000.parquet, traces/attempts/synth-00000.parquet
    print(result.summary())

Every row's `meta` (JSON) holds the truth a benchmark scores against: family, difficulty,
defects, correct (the boxed answer equals gold), the answer as written and its LaTeX form, and for
duplicates the problem_id of the original. Same config, same bytes: all randomness comes from
generators seeded by `seed` (numpy for the columnar draws, `random.Random` for the text).

Other profiles: `procedural` (`synth --profile procedural`): digit-by-digit arithmetic a tiny
student learns, for `distillery ablate`; `teachers` (`synth --profile teachers`, `teachers.py`): raw
outputs of six teachers, each in its own reasoning layout, for `distillery ingest`.

Modules: `answers` (values and their equivalent LaTeX forms), `families` (the problems),
`traces` (writing reasoning and attempts), `defects` (what is planted, and the rates).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from curate import schema, store
from curate.synth import defects, golds
from curate.synth.answers import Value, forms_of
from curate.synth.defects import DefectRates
from curate.synth.families import FAMILIES, Problem, pick
from curate.synth.traces import Sample, write_attempt, write_response, write_thinking
from curate.text import normalize_for_dedup

__all__ = ["DefectRates", "Student", "SynthConfig", "SynthResult", "generate", "write"]

# Base solve rates of a skill-1.0 student per family: easier families are solved more often.
DEFAULT_SOLVE_RATES = {"arithmetic": 0.9, "percentages": 0.85, "fractions": 0.8, "linear_equations": 0.75,
                       "sequences": 0.7, "systems": 0.6, "number_theory": 0.6, "geometry": 0.55,
                       "inequalities": 0.5, "combinatorics": 0.45, "quadratics": 0.4}
# Solve-rate multiplier by difficulty 1..5 (index 0 unused).
SOLVE_BY_DIFFICULTY = np.array([0.0, 1.2, 1.1, 1.0, 0.9, 0.8])
# One encoder for every row's meta (json.dumps with options builds a new encoder per call).
to_json = json.JSONEncoder(ensure_ascii=False).encode
# Chance that a correct trace writes its answer in the gold's own form (else another equivalent one).
SAME_FORM_AS_GOLD = 0.6


class Student(BaseModel):
    """A student model making attempts; `skill` scales every family's solve rate."""

    model_config = ConfigDict(extra="forbid")

    name: str
    skill: float = Field(gt=0.0, le=2.0)


class SynthConfig(BaseModel):
    """What to generate. Samples per problem instance are 1 + Binomial(samples_max - 1, ·) with mean
    `samples_mean`; `families` picks (uniformly) which families originals come from; attempts are
    made by `students` on every distinct problem, solved with probability
    solve_rates[family] × skill × a difficulty factor."""

    model_config = ConfigDict(extra="forbid")

    n: int = Field(60_000, ge=1, description="teacher trace rows, exactly")
    seed: int = Field(0, ge=0)
    samples_mean: float = Field(4.0, ge=1.0, description="mean samples per problem instance")
    samples_max: int = Field(9, ge=1, le=64)
    families: list[str] = Field(default_factory=lambda: list(FAMILIES))
    defects: DefectRates = Field(default_factory=DefectRates)
    teacher: str = "synth-teacher"
    attempts: bool = True
    students: list[Student] = Field(default_factory=lambda: [Student(name="synth-student-small", skill=0.6),
                                                             Student(name="synth-student-large", skill=1.0)])
    attempts_per_student: int = Field(3, ge=1, le=32)
    solve_rates: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_SOLVE_RATES))
    wrong_gold: float = Field(0.02, ge=0.0, le=0.5, description="share of original problems given a wrong "
                              "gold answer (recorded in meta.wrong_gold; see curate.synth.golds)")

    @field_validator("families")
    @classmethod
    def _known_families(cls, value: list[str]) -> list[str]:
        unknown = [f for f in value if f not in FAMILIES]
        if unknown or not value:
            raise ValueError(f"unknown families {unknown} (known: {', '.join(FAMILIES)})" if unknown
                             else "families must not be empty")
        return value

    @field_validator("solve_rates")
    @classmethod
    def _rates_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        bad = {k: v for k, v in value.items() if k not in FAMILIES or not 0 <= v <= 1}
        if bad:
            raise ValueError(f"solve_rates needs known families and rates in [0, 1]: {bad}")
        return {**DEFAULT_SOLVE_RATES, **value}

    @model_validator(mode="after")
    def _mean_fits(self) -> SynthConfig:
        if self.samples_mean > self.samples_max:
            raise ValueError(f"samples_mean {self.samples_mean} exceeds samples_max {self.samples_max}")
        return self


@dataclass
class SynthResult:
    config: SynthConfig
    traces: pa.Table
    attempts: pa.Table | None
    problems: int  # problem instances, duplicates included
    correct: int  # rows whose boxed answer equals gold
    defect_counts: Counter = field(default_factory=Counter)  # rows per defect
    written: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        families = Counter(json.loads(m)["family"] for m in self.traces.column("meta").to_pylist())
        lines = [f"{self.traces.num_rows} teacher traces over {self.problems} problems "
                 f"({len(families)} families), seed {self.config.seed}; "
                 f"{self.correct / self.traces.num_rows:.0%} correct",
                 "defects (rows): " + ", ".join(f"{k} {v}" for k, v in sorted(self.defect_counts.items()))]
        lines += [line for line in [golds.summary_line(self.traces)] if line]
        if self.attempts is not None:
            lines.append(f"attempts: {self.attempts.num_rows} rows by "
                         + ", ".join(s.name for s in self.config.students))
        if self.written:
            lines.append("written: " + ", ".join(str(p) for p in self.written))
        return "\n".join(lines)


# ---------------------------------------------------------------------------------- problems

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


def _sample_counts(cfg: SynthConfig, rng: np.random.Generator) -> np.ndarray:
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


def _instances(cfg: SynthConfig, count: int, nrng: np.random.Generator, rng: random.Random) -> list[Instance]:
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
            problem = _fresh(cfg.families[families[i]], int(difficulty[i]), rng, seen)
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


MAX_DRAWS = 200  # draws of one family before giving up on finding a new problem


def _fresh(family: str, difficulty: int, rng: random.Random, seen: set[str]) -> Problem:
    """A problem of `family` whose normalised text is new (added to `seen`). Small problem spaces
    run out at easy levels first, so repeated collisions move up a difficulty level."""
    make = FAMILIES[family]
    for attempt in range(MAX_DRAWS):
        problem = make(rng, min(5, difficulty + attempt // 25))
        key = normalize_for_dedup(problem.text)
        if key not in seen:
            seen.add(key)
            return problem
    raise ValueError(f"synth: family {family} ran out of distinct problems; ask for fewer rows or more families")


# ------------------------------------------------------------------------------------ traces

def _answer(rng: random.Random, value: Value, gold_form: str) -> tuple[str, str]:
    """(form, LaTeX) for writing `value`: the gold's form often, another equivalent form otherwise."""
    forms = forms_of(value)
    if gold_form in forms and rng.random() < SAME_FORM_AS_GOLD:
        return gold_form, forms[gold_form]
    form = pick(rng, list(forms))
    return form, forms[form]


def _teacher_row(inst: Instance, sample_idx: int, flags: dict, length: float,
                 rng: random.Random) -> tuple[dict, dict]:
    """One teacher trace: decide the sample, write it, apply its text defects, record the truth."""
    problem = inst.problem
    wrong = flags["wrong_answer"]
    value = pick(rng, problem.wrong) if wrong else problem.answer
    form, latex = _answer(rng, value, inst.gold_form)
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
    return {"source": f"synth/{problem.family}", "problem": inst.text, "gold": inst.gold, "thinking": thinking,
            "response": response, "sample_idx": sample_idx, "finish_reason": finish,
            "meta": to_json(meta)}, meta


ROW_DEFECTS = ("wrong_answer", "missing_boxed", "truncated", "repetition", "mixed_language", "long", "short")
COLUMNS = ("source", "problem", "gold", "thinking", "response", "sample_idx", "finish_reason", "meta")


def _table(rows: list[dict], teachers: list[str]) -> pa.Table:
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


def _unique(row: dict, pid: str, seen: set[tuple]) -> bool:
    """Record what the row's trace_id hashes; False when an identical trace of the same problem came
    before (a short trace of an exact duplicate can repeat one), so the caller writes that row again.
    (Source and teacher are fixed per problem_id here, so they need not be part of the key.)"""
    key = (pid, row["sample_idx"], row["thinking"], row["response"])
    if key in seen:
        return False
    seen.add(key)
    return True


def generate(cfg: SynthConfig) -> SynthResult:
    """Build the corpus in memory: exactly `cfg.n` teacher rows, plus student attempts if asked."""
    nrng = np.random.default_rng([cfg.seed, 1])
    counts = _sample_counts(cfg, nrng)
    instances = _instances(cfg, len(counts), nrng, random.Random(f"{cfg.seed}/problems"))
    instances, planted = golds.plant(instances, cfg.wrong_gold, cfg.seed)
    of_row = np.repeat(np.arange(len(counts)), counts)
    sample_idx = np.arange(cfg.n) - np.repeat(np.cumsum(counts) - counts, counts)
    difficulty = np.array([inst.problem.difficulty for inst in instances])[of_row]
    plan = defects.plan_rows(cfg.defects, difficulty, nrng)
    flags = {name: getattr(plan, name).tolist() for name in ROW_DEFECTS}
    lengths = plan.length.tolist()
    rng = random.Random(f"{cfg.seed}/traces")
    pids = [schema.problem_id(inst.text) for inst in instances]
    rows, seen, tally, correct = [], set(), Counter(), 0
    for i, (k, idx) in enumerate(zip(of_row.tolist(), sample_idx.tolist())):
        row_flags = {name: flags[name][i] for name in ROW_DEFECTS}
        row, meta = _teacher_row(instances[k], idx, row_flags, lengths[i], rng)
        while not _unique(row, pids[k], seen):
            row, meta = _teacher_row(instances[k], idx, row_flags, lengths[i], rng)
        rows.append(row)
        tally.update(meta["defects"])
        correct += meta["correct"]
    traces, regraded = golds.record(_table(rows, [cfg.teacher] * cfg.n), planted)
    attempts, _ = golds.record(_attempts(cfg, instances, pids) if cfg.attempts else None, planted)
    return SynthResult(cfg, traces, attempts, len(instances), correct + regraded, tally)


# ---------------------------------------------------------------------------------- attempts

def _attempts(cfg: SynthConfig, instances: list[Instance], pids: list[str]) -> pa.Table:
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
                form, latex = _answer(rng, value, inst.gold_form)
                thinking, response = write_attempt(problem, Sample(value, latex, ok, 0.0), rng)
                meta = {"family": problem.family, "difficulty": problem.difficulty, "student": student.name,
                        "correct": ok, "answer": latex, "answer_form": form}
                rows.append({"source": f"synth/{problem.family}", "problem": inst.text, "gold": inst.gold,
                             "thinking": thinking, "response": response, "sample_idx": attempt,
                             "finish_reason": "stop", "meta": to_json(meta)})
                teachers.append(student.name)
    return _table(rows, teachers)


# ------------------------------------------------------------------------------------- write

def write(cfg: SynthConfig, out: Path | str) -> SynthResult:
    """Generate, then write OUT/synth-NNNNN.parquet and (attempts) OUT/attempts/synth-NNNNN.parquet.

    Without attempts, stale synth attempt shards from an earlier run are removed: they would
    describe other problems."""
    out = Path(out)
    result = generate(cfg)
    result.written = store.save_traces(result.traces, out, prefix="synth")
    attempts_dir = out / "attempts"
    if result.attempts is not None:
        result.written += store.save_traces(result.attempts, attempts_dir, prefix="synth")
    else:
        for stale in attempts_dir.glob("synth-[0-9][0-9][0-9][0-9][0-9].parquet"):
            stale.unlink()
    return result
