"""What `distillery synth` (the default profile) is asked for, and what it hands back: the
students and their solve rates, the corpus settings, and the result with its summary."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from curate.synth import golds
from curate.synth.defects import DefectRates
from curate.synth.families import FAMILIES

# Base solve rates of a skill-1.0 student per family: easier families are solved more often.
DEFAULT_SOLVE_RATES = {"arithmetic": 0.9, "percentages": 0.85, "fractions": 0.8, "linear_equations": 0.75,
                       "sequences": 0.7, "systems": 0.6, "number_theory": 0.6, "geometry": 0.55,
                       "inequalities": 0.5, "combinatorics": 0.45, "quadratics": 0.4}
# Solve-rate multiplier by difficulty 1..5 (index 0 unused).
SOLVE_BY_DIFFICULTY = np.array([0.0, 1.2, 1.1, 1.0, 0.9, 0.8])


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
    heldout: int = Field(0, ge=0, description="held-out problems (new to the corpus) written to OUT/heldout/, one "
                         "clean trace each (see curate.synth.heldout)")
    contaminate: int = Field(5, ge=0, description="of the held-out problems, how many are also planted in the "
                             "corpus (verbatim or reworded; meta.heldout_of), for decontamination to catch")
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
    heldout: pa.Table | None = None  # the held-out split (cfg.heldout > 0)
    planted: int = 0  # held-out problems planted in the corpus

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
        if self.heldout is not None:
            lines.append(f"held-out: {self.heldout.num_rows} problems (heldout/), {self.planted} of them planted in "
                         "the corpus (meta.heldout_of) for decontamination to catch")
        if self.written:
            lines.append("written: " + ", ".join(str(p) for p in self.written))
        return "\n".join(lines)
