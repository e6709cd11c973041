"""difficulty: per-problem pass rate of student models, from their attempts, and a filter on it.

```yaml
- difficulty: {mode: s1}                        # drop every problem a student solved (s1)
- difficulty: {mode: window, lo: 0.1, hi: 0.9}  # keep lo < pass rate < hi (open-r1)
- difficulty: {mode: limo, max_solved: 3}       # keep problems solved in at most 3 of 32 tries (LIMO)
- difficulty: {mode: s1, attempts_from: samples} # the teachers' own samples are the attempts
```
Attempts are trace rows (same schema; `teacher` = the student's name) in `attempts` (default: the
`attempts/` folder beside the input traces, which `distillery synth` writes; ingested or generated
attempts go there too). With `attempts_from: samples` (and by default, `auto`, in window and limo
modes when no student attempt exists for these problems) the attempts are the input's own samples of each problem, every
teacher's, before any stage dropped them: the pass rate is the share of the problem's samples that
are correct. Each attempt's final answer is graded by the verifier (`curate.verify`) against its
gold, or the problem's gold when the attempt has none; `grade: meta` reads `meta.correct` instead
(the synthetic corpus's truth; fast, for demos). An attempt with no gold to grade against does not
count (a problem without gold has no pass rate, never a pass rate of 0).

Modes: `s1` drops problems with a correct attempt; `window` keeps lo < pass rate < hi; `limo` keeps
problems solved in at most `max_solved` of `of` tries (pass rate <= max_solved / of, LIMO's 1-3 of
32) and, when there are at least `of` attempts, in at least `min_solved`; with fewer attempts an
unsolved problem is kept as hard (the teacher's verified trace shows it can be solved), so one
attempt per problem keeps the unsolved problems, never the solved ones. With the teachers' own
samples as attempts, limo judges each trace's problem on the *other* samples (a trace's own
success says nothing about how hard its problem is); a problem with one sample has none.

Columns: `attempts` (graded attempts), `solved` (correct ones), `pass_rate`, `solved_by` (students
with at least one correct attempt, comma-separated), `attempts_from` (students or samples). A
problem with no graded attempts has null pass rate and is kept, dropped or an error by `missing`;
no attempts at all is announced (`on_missing`). The work is `curate.difficulty.pass_rates`.
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import Field, model_validator

from curate.difficulty import pass_rates, plan_parts, sample_columns, summary
from curate.outcome import Outcome
from curate.stages import Stage, StageConfig, StageContext, register


class DifficultyConfig(StageConfig):
    mode: Literal["s1", "window", "limo"] = Field(
        "s1", description="s1: drop solved; window: lo < rate < hi; limo: solved in at most max_solved of `of` tries")
    attempts: str | None = Field(None, description="attempt traces (file or folder); default INPUT/attempts")
    attempts_from: Literal["auto", "students", "samples"] = Field(
        "auto", description="students: the attempts file/folder; samples: the input's own samples of each "
                            "problem (pass rate over them); auto: students where any exist, else samples "
                            "(window and limo modes: in s1 mode the teachers solve every problem they kept)")
    students: list[str] | None = Field(None, description="only these students' attempts (default: all)")
    grade: Literal["verify", "meta"] = Field("verify", description="grade attempts with the verifier, or read meta.correct")
    lo: float = Field(0.1, ge=0, le=1, description="window: pass rate must be above this")
    hi: float = Field(0.9, ge=0, le=1, description="window: pass rate must be below this")
    min_solved: int = Field(1, ge=0, description="limo: fewest correct of `of` attempts (checked with at least `of` attempts)")
    max_solved: int = Field(3, ge=0, description="limo: most correct of `of` attempts (pass rate <= max_solved / of)")
    of: int = Field(32, ge=1, description="limo: the number of tries min_solved and max_solved count against")
    missing: Literal["keep", "drop", "error"] = Field("keep", description="problems with no attempts")
    timeout_s: float = Field(5.0, gt=0, le=600, description="verifier time limit per answer")
    workers: int | None = Field(None, ge=1, description="verifier worker processes")

    @model_validator(mode="after")
    def _bounds(self):
        if self.lo >= self.hi:
            raise ValueError("window needs lo < hi")
        if self.max_solved > self.of:
            raise ValueError("limo needs max_solved <= of")
        if self.min_solved > self.max_solved:
            raise ValueError("limo needs min_solved <= max_solved")
        return self


@register
class Difficulty(Stage):
    name = "difficulty"
    execution = "problems"
    Config = DifficultyConfig
    version = 2  # pass rates over graded attempts only; limo by pass rate
    plan_reads = ("problem_id",)  # what `plan` reads of the alive rows: their problems

    def run(self, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        config = self.config.model_dump(exclude={"on_missing"})
        return ctx.take(pass_rates(frame, ctx.input_path, samples=ctx.input_rows, **config))

    def input_reads(self) -> tuple[str, ...]:
        """The samples' columns, where this (planned) config grades the input's samples."""
        return sample_columns(self.config.attempts_from, self.config.mode)

    def plan(self, frame: pl.DataFrame, ctx: StageContext) -> Difficulty:
        """The stage every partition runs: the attempts' source decided over the whole table's
        problems, `missing: error` left to `summarize` (`curate.difficulty.plan_parts`)."""
        cfg = self.config
        update = plan_parts(frame["problem_id"], ctx.input_path, cfg.attempts, cfg.attempts_from, cfg.students,
                            cfg.missing)
        return type(self)(cfg.model_copy(update=update))

    def summarize(self, frame: None, merged: Outcome) -> Outcome:
        """The warnings over every problem at once, from the partitions' counts added up (an engine
        that runs the stage per partition of problems calls this once); the stats are counts."""
        return summary(merged.counts, merged.stats, self.config.missing)
