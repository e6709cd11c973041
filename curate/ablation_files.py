"""Where an ablation keeps its files inside a run folder, and how its numbers are written.

`distillery ablate` (train.ablate, train.ablation_table) writes these; `distillery report` and
`distillery sql` read them. The layout lives here, in curate, so that the readers need nothing
from train (curate never imports train: a report must not pay for torch):

    RUN/ablation/plan.json                       what was asked (arms, seeds, k, steps, eval)
    RUN/ablation/selections/ARM/seed-S.parquet   what each student trained on
    RUN/ablation/students/ARM/seed-S/            each student, its train_summary.json and eval/
    RUN/ablation/results.parquet  runs.parquet  problems.parquet  intervals.parquet
    RUN/ablation/summary.json  table.md  ablation.svg

(`sql/ablation_views.sql` names the same files for the SQL views.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ABLATION = "ablation"
PLAN = "plan.json"
RESULTS = "results.parquet"
RUNS = "runs.parquet"
PROBLEMS = "problems.parquet"
INTERVALS = "intervals.parquet"
SUMMARY = "summary.json"
TABLE = "table.md"
PLOT = "ablation.svg"
ALL = "(all)"  # the family of held-out problems that name none


@dataclass(frozen=True)
class Job:
    """One student: an arm (the recipe or a baseline) and a seed."""

    arm: str
    seed: int

    @property
    def name(self) -> str:
        return f"{self.arm}/seed-{self.seed}"


def folder(out: Path) -> Path:
    return Path(out) / ABLATION


def student_dir(out: Path, job: Job) -> Path:
    return folder(out) / "students" / job.arm / f"seed-{job.seed}"


def selection_file(out: Path, job: Job) -> Path:
    return folder(out) / "selections" / job.arm / f"seed-{job.seed}.parquet"


# ------------------------------------------------------------------ how summary numbers are written

def mean_sd(stat: dict, signed: bool = False) -> str:
    """`0.412 ± 0.031` from a summary's {mean, sd} (`n/a` without a mean; no ± with one seed)."""
    if stat["mean"] is None:
        return "n/a"
    mean = f"{stat['mean']:+.3f}" if signed else f"{stat['mean']:.3f}"
    return mean + (f" ± {stat['sd']:.3f}" if stat["sd"] is not None else "")


def interval(bounds: list[float], signed: bool = False) -> str:
    """`[0.380, 0.441]` from a summary's 95% interval."""
    fmt = "{:+.3f}" if signed else "{:.3f}"
    return f"[{fmt.format(bounds[0])}, {fmt.format(bounds[1])}]"
