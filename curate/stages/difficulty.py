"""difficulty: per-problem pass rate of student models, from their attempts, and a filter on it.

```yaml
- difficulty: {mode: s1}                        # drop every problem a student solved (s1)
- difficulty: {mode: window, lo: 0.1, hi: 0.9}  # keep lo < pass rate < hi (open-r1)
- difficulty: {mode: limo, max_solved: 3}       # keep problems solved in 1..3 of the attempts (LIMO)
```
Attempts are trace rows (same schema; `teacher` = the student's name) in `attempts` (default: the
`attempts/` folder beside the input traces, which `distillery synth` writes; ingested or generated
attempts go there too). Each attempt's final answer is graded by the verifier (`curate.verify`)
against its gold, or the problem's gold when the attempt has none; `grade: meta` reads
`meta.correct` instead (the synthetic corpus's truth; fast, for demos).

Columns: `attempts`, `solved` (correct attempts), `pass_rate`, `solved_by` (students with at least
one correct attempt, comma-separated). A problem with no attempts has null pass rate and is kept,
dropped or an error by `missing`.
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
    mode: Literal["s1", "window", "limo"] = Field("s1", description="s1: drop solved; window: lo < rate < hi; limo: 1..max_solved")
    attempts: str | None = Field(None, description="attempt traces (file or folder); default INPUT/attempts")
    students: list[str] | None = Field(None, description="only these students' attempts (default: all)")
    grade: Literal["verify", "meta"] = Field("verify", description="grade attempts with the verifier, or read meta.correct")
    lo: float = Field(0.1, ge=0, le=1, description="window: pass rate must be above this")
    hi: float = Field(0.9, ge=0, le=1, description="window: pass rate must be below this")
    min_solved: int = Field(1, ge=0, description="limo: fewest correct attempts kept")
    max_solved: int = Field(3, ge=0, description="limo: most correct attempts kept")
    missing: Literal["keep", "drop", "error"] = Field("keep", description="problems with no attempts")
    timeout_s: float = Field(5.0, gt=0, le=600, description="verifier time limit per answer")
    workers: int | None = Field(None, ge=1, description="verifier worker processes")

    @model_validator(mode="after")
    def _bounds(self):
        if self.lo >= self.hi:
            raise ValueError("window needs lo < hi")
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

    def run(self, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        cfg = self.config
        path = Path(cfg.attempts) if cfg.attempts else self._default_path(ctx)
        attempts = load_attempts(path, cfg.students) if path is not None else None
        problems = frame.select("problem_id", pl.col("gold").alias("_pgold")).unique("problem_id", keep="first")
        if attempts is None:
            attempts = pl.DataFrame(schema={"problem_id": pl.String, "teacher": pl.String, "gold": pl.String,
                                            "response": pl.String, "meta": pl.String})
        attempts = attempts.join(problems, on="problem_id", how="inner")
        if cfg.grade == "verify":
            golds = attempts.select(pl.coalesce("gold", "_pgold"))["gold"].to_list()
            verdicts = verify_batch(golds, attempts["response"].to_list(), timeout=cfg.timeout_s, workers=cfg.workers)
            ok = [v.verdict == "correct" for v in verdicts]
        else:
            ok = attempts["meta"].str.json_path_match("$.correct").eq("true").fill_null(False).to_list()
        attempts = attempts.with_columns(pl.Series("_ok", ok, pl.Boolean))
        per = attempts.group_by("problem_id").agg(
            pl.len().cast(pl.Int32).alias("attempts"),
            pl.col("_ok").sum().cast(pl.Int32).alias("solved"),
            pl.col("teacher").filter(pl.col("_ok")).unique().sort().str.join(",").alias("solved_by"),
        ).with_columns((pl.col("solved") / pl.col("attempts")).alias("pass_rate"))
        out = frame.select("trace_id", "problem_id").join(per, on="problem_id", how="left", maintain_order="left")
        no_attempts = out["attempts"].is_null()
        if cfg.missing == "error" and no_attempts.any():
            raise ctx.error(f"{int(no_attempts.sum()):,} row(s) have no student attempts in {path} "
                            f"(e.g. problem_id {out.filter(no_attempts)['problem_id'][0]})")
        out = out.with_columns(pl.col("attempts").fill_null(0), pl.col("solved").fill_null(0),
                               pl.when(pl.col("solved_by") == "").then(None).otherwise(pl.col("solved_by"))
                               .alias("solved_by"))
        reason = self._reason(pl.col("attempts") == 0)
        out = out.with_columns(reason.cast(pl.String).alias(DROP))
        ctx.stats.update({"mode": cfg.mode, "attempt_rows": attempts.height, "grade": cfg.grade,
                          "problems": int(problems.height), "problems_without_attempts":
                          int(out.filter(pl.col("attempts") == 0)["problem_id"].n_unique()),
                          "problems_kept": int(out.filter(pl.col(DROP).is_null())["problem_id"].n_unique())})
        return out.select("trace_id", "attempts", "solved", "pass_rate", "solved_by", DROP)

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
            bad = (pl.col("solved") < cfg.min_solved) | (pl.col("solved") > cfg.max_solved)
            text = pl.lit(f"solved outside {cfg.min_solved}..{cfg.max_solved} of the attempts")
        expr = pl.when(none & (cfg.missing == "drop")).then(pl.lit("no student attempts"))
        return expr.when(~none & bad).then(text).otherwise(None)
