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
no attempts at all is announced (`on_missing`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import Field, model_validator

from curate import store
from curate.errors import BadInput
from curate.stages import DROP, Stage, StageConfig, StageContext, register
from curate.verify import verify_batch


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


def load_attempts(path: Path, students: list[str] | None) -> pl.DataFrame | None:
    if not path.exists():
        return None
    try:
        table = store.load_traces(path, check_ids=False)
    except BadInput as exc:
        if "no parquet" in str(exc).lower() or "no .parquet" in str(exc).lower():
            return None
        raise
    df = pl.from_arrow(table).select("problem_id", "teacher", "gold", "response", "meta")
    if students is not None:
        df = df.filter(pl.col("teacher").is_in(students))
    return df


@register
class Difficulty(Stage):
    name = "difficulty"
    execution = "problems"
    Config = DifficultyConfig
    version = 2  # pass rates over graded attempts only; limo by pass rate

    def run(self, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        cfg = self.config
        path = Path(cfg.attempts) if cfg.attempts else self._default_path(ctx)
        problems = frame.select("problem_id", pl.col("gold").alias("_pgold")).unique("problem_id", keep="first")
        attempts, source, announced = None, "students", False
        if cfg.attempts_from != "samples":
            attempts = load_attempts(path, cfg.students) if path is not None else None
            if attempts is not None:
                attempts = attempts.join(problems, on="problem_id", how="inner")
            if attempts is None or attempts.height == 0:
                where = f"in {path}" if path is not None else "(no attempts path)"
                # s1 drops what is solved: the teachers solve every problem whose trace is kept, so
                # their own samples are no stand-in for students there.
                fallback = cfg.attempts_from == "auto" and cfg.mode != "s1"
                if fallback:
                    ctx.nothing_to_do(f"no student attempts {where}: pass rates from the teachers' own samples "
                                      f"of each problem (attempts_from: samples)")
                else:
                    ctx.nothing_to_do(f"no student attempts {where} for these {problems.height:,} problems: "
                                      f"no pass rate, every problem {'passes' if cfg.missing == 'keep' else cfg.missing + 's'}"
                                      f" (missing: {cfg.missing})")
                attempts, announced = None, not fallback
        if attempts is None and not announced:
            attempts, source = self._samples(problems, frame, ctx), "samples"
            if attempts.height and attempts["problem_id"].n_unique() == attempts.height:
                ctx.nothing_to_do("every problem has one sample: a pass rate over the samples is that "
                                  "sample's own verdict")
        if attempts is None:
            attempts = pl.DataFrame(schema={"trace_id": pl.String, "problem_id": pl.String, "teacher": pl.String,
                                            "gold": pl.String,
                                            "response": pl.String, "meta": pl.String, "_pgold": pl.String})
        golds = attempts.select(pl.coalesce("gold", "_pgold"))["gold"]
        if cfg.grade == "verify":
            # An attempt with no gold cannot be graded: it does not count (null, not wrong).
            has_gold = golds.is_not_null() & (golds.str.strip_chars() != "")
            attempts, golds = attempts.filter(has_gold), golds.filter(has_gold)
            verdicts = verify_batch(golds.to_list(), attempts["response"].to_list(), timeout=cfg.timeout_s,
                                    workers=cfg.workers)
            ok = [v.verdict == "correct" for v in verdicts]
        else:
            # An attempt whose meta says nothing about correctness is ungraded, not wrong.
            marks = attempts["meta"].str.json_path_match("$.correct")
            attempts = attempts.filter(marks.is_in(["true", "false"]))
            ok = marks.filter(marks.is_in(["true", "false"])).eq("true").to_list()
        attempts = attempts.with_columns(pl.Series("_ok", ok, pl.Boolean))
        per = attempts.group_by("problem_id").agg(
            pl.len().cast(pl.Int32).alias("attempts"),
            pl.col("_ok").sum().cast(pl.Int32).alias("solved"),
            pl.col("teacher").filter(pl.col("_ok")).unique().sort().str.join(",").alias("solved_by"),
        ).with_columns((pl.col("solved") / pl.col("attempts")).alias("pass_rate"))
        out = frame.select("trace_id", "problem_id").join(per, on="problem_id", how="left", maintain_order="left")
        no_attempts = out["attempts"].is_null()
        without = int(out.filter(no_attempts)["problem_id"].n_unique())
        if cfg.missing == "error" and no_attempts.any():
            raise ctx.error(f"{int(no_attempts.sum()):,} row(s) have no graded attempts ({source}) "
                            f"(e.g. problem_id {out.filter(no_attempts)['problem_id'][0]})")
        if without and not announced:
            ctx.nothing_to_do(f"{without:,} of {problems.height:,} problems have no gradable attempt ({source}; "
                              f"no gold answer or no attempt): no pass rate, missing: {cfg.missing}")
        out = out.with_columns(pl.col("attempts").fill_null(0), pl.col("solved").fill_null(0),
                               pl.when(pl.col("solved_by") == "").then(None).otherwise(pl.col("solved_by"))
                               .alias("solved_by"), pl.lit(source).alias("attempts_from"))
        if source == "samples" and cfg.mode == "limo":
            # A teacher's sample says nothing about how hard its own problem is: LIMO's "solved
            # in at most 3 of 32 tries" is judged on the problem's *other* samples.
            own = attempts.select("trace_id", pl.lit(1).alias("_own_n"), pl.col("_ok").cast(pl.Int32).alias("_own_ok"))
            out = out.join(own, on="trace_id", how="left", maintain_order="left").with_columns(
                (pl.col("attempts") - pl.col("_own_n").fill_null(0)).alias("_n"),
                (pl.col("solved") - pl.col("_own_ok").fill_null(0)).alias("_s"))
        else:
            out = out.with_columns(pl.col("attempts").alias("_n"), pl.col("solved").alias("_s"))
        reason = self._reason(pl.col("_n") == 0)
        out = out.with_columns(reason.cast(pl.String).alias(DROP))
        ctx.stats.update({"mode": cfg.mode, "attempts_from": source, "attempt_rows": attempts.height,
                          "grade": cfg.grade, "problems": int(problems.height),
                          "problems_without_attempts": without,
                          "problems_kept": int(out.filter(pl.col(DROP).is_null())["problem_id"].n_unique())})
        return out.select("trace_id", "attempts", "solved", "pass_rate", "solved_by", "attempts_from", DROP)

    def _samples(self, problems: pl.DataFrame, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        """Every input sample of these problems (earlier stages may have dropped some; the pass rate
        is over what the teachers wrote), as attempts; the stage's own rows when there is no input."""
        cols = ["trace_id", "problem_id", "teacher", "gold", "response", "meta"]
        if ctx.input_path is not None:
            rows = pl.from_arrow(store.load_traces(ctx.input_path, check_ids=False).select(cols))
        else:
            rows = frame.select(cols)
        return rows.join(problems, on="problem_id", how="inner")

    def _default_path(self, ctx: StageContext) -> Path | None:
        if ctx.input_path is None:
            return None
        base = ctx.input_path if ctx.input_path.is_dir() else ctx.input_path.parent
        return base / "attempts"

    def _reason(self, none: pl.Expr) -> pl.Expr:
        cfg = self.config
        if cfg.mode == "s1":
            bad = pl.col("solved") > 0
            text = pl.concat_str(pl.lit("solved by a student model ("), pl.col("solved_by"), pl.lit(")"))
        elif cfg.mode == "window":
            bad = (pl.col("pass_rate") <= cfg.lo) | (pl.col("pass_rate") >= cfg.hi)
            text = pl.lit(f"pass rate outside ({cfg.lo}, {cfg.hi})")
        else:
            # LIMO's "1-3 of 32" as a pass rate, so any number of attempts reads the same; the lower
            # count is only meaningful with as many tries as LIMO made.
            too_easy = (pl.col("_s") / pl.col("_n")) > cfg.max_solved / cfg.of
            too_hard = (pl.col("_n") >= cfg.of) & (pl.col("_s") < cfg.min_solved)
            bad = too_easy | too_hard
            text = pl.when(too_easy).then(pl.lit(f"solved in more than {cfg.max_solved} of {cfg.of} attempts"))\
                .otherwise(pl.lit(f"solved in fewer than {cfg.min_solved} of {cfg.of}+ attempts"))
        expr = pl.when(none & (cfg.missing == "drop")).then(pl.lit("no graded attempts"))
        return expr.when(~none & bad).then(text).otherwise(None)
