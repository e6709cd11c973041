"""Per-problem pass rates of student models from their attempts, and the filter on them (the
difficulty stage's work; its module says what each mode keeps).

Attempts are trace rows (`teacher` = the student's name) in a file or folder, by default the
`attempts/` folder beside the input traces; or the input's own samples of each problem. Each
attempt's final answer is graded by the verifier (`curate.verify`) against its gold, or the
problem's gold when it has none, or read from `meta.correct` (`grade: meta`). An attempt with no
gold to grade against does not count (a problem without gold has no pass rate, never 0).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate import store
from curate.errors import BadInput
from curate.outcome import Outcome
from curate.schema import DROP
from curate.verify import verify_batch

COLUMNS = ("attempts", "solved", "pass_rate", "solved_by", "attempts_from")
# The input columns the samples are graded on, as attempts.
SAMPLE_COLUMNS = ("trace_id", "problem_id", "teacher", "gold", "response", "meta")


def load_attempts(path: Path, students: list[str] | None, problem_ids: pl.Series | None = None
                  ) -> pl.DataFrame | None:
    """The attempt rows in `path` (those of `students` only, when given; of `problem_ids` only,
    when given); None when there are none. Each shard is checked against the trace schema as
    `store.load_traces` checks it (the same first error) and cut down before the next is read, so
    a part of the table (the Ray engine's partition of problems) holds one shard and its own
    problems' attempts, never every attempt."""
    from curate import schema

    if not path.exists():
        return None
    try:
        files = store.parquet_files(path)
    except BadInput as exc:
        if "no parquet" in str(exc).lower() or "no .parquet" in str(exc).lower():
            return None
        raise
    wanted = None if problem_ids is None else problem_ids.cast(pl.String).unique().implode()
    parts = []
    for f in files:
        df = pl.from_arrow(schema.conform(store.read_parquet(f), str(f), check_ids=False)).select(
            "problem_id", "teacher", "gold", "response", "meta")
        if students is not None:
            df = df.filter(pl.col("teacher").is_in(students))
        if wanted is not None:
            df = df.filter(pl.col("problem_id").is_in(wanted))
        parts.append(df)
    return pl.concat(parts, how="vertical")


def default_attempts(input_path: Path | None) -> Path | None:
    """Where attempts live by default: `attempts/` beside the input traces."""
    if input_path is None:
        return None
    base = input_path if input_path.is_dir() else input_path.parent
    return base / "attempts"


def pass_rates(frame: pl.DataFrame, input_path: Path | None = None, mode: str = "s1", attempts: str | None = None,
               attempts_from: str = "auto", students: list[str] | None = None, grade: str = "verify",
               lo: float = 0.1, hi: float = 0.9, min_solved: int = 1, max_solved: int = 3, of: int = 32,
               missing: str = "keep", timeout_s: float = 5.0, workers: int | None = None,
               samples: pl.DataFrame | None = None) -> Outcome:
    """trace_id, the COLUMNS and drop_reason for every row of `frame` (the difficulty stage's keys);
    `input_path` is the run's input (its attempts folder, its samples). `samples`: the input's rows
    of (at least) `frame`'s problems, SAMPLE_COLUMNS, where the caller read them (an engine, once
    for all its parts); None: read from `input_path` when needed."""
    path = Path(attempts) if attempts else default_attempts(input_path)
    where = f"in {path}" if path is not None else "(no attempts path)"
    problems = frame.select("problem_id", pl.col("gold").alias("_pgold")).unique("problem_id", keep="first")
    rows, source, announced = None, "students", False
    # No student attempt for these problems (0 or 1), this call's samples' rows and problems: a
    # summary's additive figures (see `summary`).
    no_students, sample_rows, sample_problems = 0, 0, 0
    if attempts_from != "samples":
        rows = load_attempts(path, students, problems["problem_id"]) if path is not None else None
        if rows is not None:
            rows = rows.join(problems, on="problem_id", how="inner")
        if rows is None or rows.height == 0:
            rows, announced, no_students = None, not _falls_back(attempts_from, mode), 1
    if rows is None and not announced:
        rows, source = _samples(problems, frame, input_path, samples), "samples"
        sample_rows, sample_problems = rows.height, rows["problem_id"].n_unique() if rows.height else 0
    if rows is None:
        rows = pl.DataFrame(schema={"trace_id": pl.String, "problem_id": pl.String, "teacher": pl.String,
                                    "gold": pl.String,
                                    "response": pl.String, "meta": pl.String, "_pgold": pl.String})
    golds = rows.select(pl.coalesce("gold", "_pgold"))["gold"]
    if grade == "verify":
        # An attempt with no gold cannot be graded: it does not count (null, not wrong).
        has_gold = golds.is_not_null() & (golds.str.strip_chars() != "")
        rows, golds = rows.filter(has_gold), golds.filter(has_gold)
        verdicts = verify_batch(golds.to_list(), rows["response"].to_list(), timeout=timeout_s, workers=workers)
        ok = [v.verdict == "correct" for v in verdicts]
    else:
        # An attempt whose meta says nothing about correctness is ungraded, not wrong.
        marks = rows["meta"].str.json_path_match("$.correct")
        rows = rows.filter(marks.is_in(["true", "false"]))
        ok = marks.filter(marks.is_in(["true", "false"])).eq("true").to_list()
    rows = rows.with_columns(pl.Series("_ok", ok, pl.Boolean))
    per = rows.group_by("problem_id").agg(
        pl.len().cast(pl.Int32).alias("attempts"),
        pl.col("_ok").sum().cast(pl.Int32).alias("solved"),
        pl.col("teacher").filter(pl.col("_ok")).unique().sort().str.join(",").alias("solved_by"),
    ).with_columns((pl.col("solved") / pl.col("attempts")).alias("pass_rate"))
    out = frame.select("trace_id", "problem_id").join(per, on="problem_id", how="left", maintain_order="left")
    no_attempts = out["attempts"].is_null()
    without = int(out.filter(no_attempts)["problem_id"].n_unique())
    missing_rows = int(no_attempts.sum())
    out = out.with_columns(pl.col("attempts").fill_null(0), pl.col("solved").fill_null(0),
                           pl.when(pl.col("solved_by") == "").then(None).otherwise(pl.col("solved_by"))
                           .alias("solved_by"), pl.lit(source).alias("attempts_from"))
    if source == "samples" and mode == "limo":
        # A teacher's sample says nothing about how hard its own problem is: LIMO's "solved
        # in at most 3 of 32 tries" is judged on the problem's *other* samples.
        own = rows.select("trace_id", pl.lit(1).alias("_own_n"), pl.col("_ok").cast(pl.Int32).alias("_own_ok"))
        out = out.join(own, on="trace_id", how="left", maintain_order="left").with_columns(
            (pl.col("attempts") - pl.col("_own_n").fill_null(0)).alias("_n"),
            (pl.col("solved") - pl.col("_own_ok").fill_null(0)).alias("_s"))
    else:
        out = out.with_columns(pl.col("attempts").alias("_n"), pl.col("solved").alias("_s"))
    reason = _reason(pl.col("_n") == 0, mode, lo, hi, min_solved, max_solved, of, missing)
    out = out.with_columns(reason.cast(pl.String).alias(DROP))
    stats = {"mode": mode, "attempts_from": source, "attempt_rows": rows.height,
             "grade": grade, "problems": int(problems.height),
             "problems_without_attempts": without,
             "problems_kept": int(out.filter(pl.col(DROP).is_null())["problem_id"].n_unique())}
    # `missing_first`: the smallest problem_id without a graded attempt, as a dict, which merges key by
    # key (each part's smallest: the summary takes the smallest of them, on any split of the problems).
    first = {} if not missing_rows else {str(out.filter(no_attempts)["problem_id"].min()): 1}
    counts = {"parts": 1, "problems": int(problems.height), "without": without, "no_students": no_students,
              "fallbacks": int(source == "samples" and attempts_from == "auto"), "sample_rows": sample_rows,
              "sample_problems": sample_problems, "missing_rows": missing_rows, "missing_first": first,
              "where": where}
    result = summary(counts, stats, missing)
    result.columns = out.select("trace_id", *COLUMNS, DROP)
    return result


def plan_parts(problem_ids: pl.Series, input_path: Path | None = None, attempts: str | None = None,
               attempts_from: str = "auto", students: list[str] | None = None, missing: str = "keep") -> dict:
    """What every part of a table split by problem runs `pass_rates` with (config values), decided
    once over the whole table, `problem_ids` its problems, as one `pass_rates` call decides them:
    `attempts_from: auto` becomes `students` where a student attempt exists for any of these
    problems (a part holding none would fall back to its own samples: pass rates one process never
    makes); where none exists it stays `auto`, and every part falls back (or not) alike.
    `missing: error` runs as `keep` in the parts (the same columns wherever error does not fail):
    `summary` raises it over the whole table's counts."""
    update = {"missing": "keep"} if missing == "error" else {}
    if attempts_from == "auto":
        path = Path(attempts) if attempts else default_attempts(input_path)
        have = _attempt_problems(path, students) if path is not None else None
        if have is not None and have.is_in(problem_ids.unique().implode()).any():
            update["attempts_from"] = "students"
    return update


def _attempt_problems(path: Path, students: list[str] | None) -> pl.Series | None:
    """The problem_id of every attempt in `path` (of `students`), reading two columns, not the
    texts; None where `load_attempts` finds no attempts. Anything odd in the files: what
    `load_attempts` makes of them (its error, as every part would raise it)."""
    if not path.exists():
        return None
    try:
        parts = [pl.from_arrow(pq.read_table(f, columns=["problem_id", "teacher"]))
                 .cast({"problem_id": pl.String, "teacher": pl.String}) for f in store.parquet_files(path)]
    except Exception:  # noqa: BLE001 - the whole read says what is wrong, in the local engine's words
        rows = load_attempts(path, students)
        return None if rows is None else rows["problem_id"]
    rows = pl.concat(parts, how="vertical")
    if students is not None:
        rows = rows.filter(pl.col("teacher").is_in(students))
    return rows["problem_id"]


def sample_columns(attempts_from: str, mode: str) -> tuple[str, ...]:
    """The input columns a part planned by `plan_parts` grades as samples (SAMPLE_COLUMNS, or none):
    there `auto` is left only where no student attempt exists, so it falls back wherever it may."""
    return SAMPLE_COLUMNS if attempts_from == "samples" or _falls_back(attempts_from, mode) else ()


def _falls_back(attempts_from: str, mode: str) -> bool:
    """No student attempt: pass rates from the samples instead? (s1 drops what is solved: the
    teachers solve every problem whose trace is kept, so their own samples are no stand-in there.)"""
    return attempts_from == "auto" and mode != "s1"


def summary(counts: dict, stats: dict, missing: str = "keep") -> Outcome:
    """`pass_rates`' stats (additive: `stats` as given) and warnings over a whole table, from its
    additive `counts`: the parts it ran in, problems, problems without a gradable attempt, parts
    that found no student attempt and parts that fell back to their samples for want of one, the
    samples' rows and problems, the rows without a graded attempt (and the smallest such problem),
    and `where` the attempts were looked for (the same in every part). `missing: error` with such
    rows raises here, from the whole table's counts. An engine that runs the stage per partition of
    problems decides the source for all of them first (`plan_parts`), adds the parts' counts up and
    calls this once."""
    result = Outcome(stats=stats, counts=counts)
    parts, problems, no_students = counts["parts"], counts["problems"], counts["no_students"]
    fallbacks = counts["fallbacks"]
    if fallbacks and fallbacks != parts:
        # Some parts fell back to their samples where the whole table has student attempts: their
        # pass rates are not the ones one process computes. `plan_parts` prevents this; an engine
        # that skipped it is wrong, not the input.
        raise RuntimeError(f"difficulty: student attempts {counts['where']} exist for the problems of "
                           f"{parts - fallbacks} of {parts} parts only, and attempts_from: auto fell back to the "
                           "samples in the others: the engine must decide the source first (plan_parts)")
    if missing == "error" and counts["missing_rows"]:
        raise BadInput(f"{counts['missing_rows']:,} row(s) have no graded attempts ({stats['attempts_from']}) "
                       f"(e.g. problem_id {min(counts['missing_first'])})")
    announced = no_students == parts and not fallbacks
    if fallbacks:
        result.warnings.append(f"no student attempts {counts['where']}: pass rates from the teachers' own "
                               f"samples of each problem (attempts_from: samples)")
    elif announced:
        result.warnings.append(
            f"no student attempts {counts['where']} for these {problems:,} problems: "
            f"no pass rate, every problem {'passes' if missing == 'keep' else missing + 's'}"
            f" (missing: {missing})")
    if counts["sample_rows"] and counts["sample_problems"] == counts["sample_rows"]:
        result.warnings.append("every problem has one sample: a pass rate over the samples is that "
                               "sample's own verdict")
    if counts["without"] and not announced:
        result.warnings.append(f"{counts['without']:,} of {problems:,} problems have no gradable attempt "
                               f"({stats['attempts_from']}; no gold answer or no attempt): no pass rate, "
                               f"missing: {missing}")
    return result


def _samples(problems: pl.DataFrame, frame: pl.DataFrame, input_path: Path | None,
             given: pl.DataFrame | None = None) -> pl.DataFrame:
    """Every input sample of these problems (earlier stages may have dropped some; the pass rate is
    over what the teachers wrote), as attempts, from `given` where the caller read them; `frame`'s
    own rows when there is no input."""
    cols = list(SAMPLE_COLUMNS)
    if input_path is None:
        rows = frame.select(cols)
    elif given is not None:
        rows = given.select(cols)
    else:
        rows = _input_rows(input_path, cols, problems["problem_id"])
    return rows.join(problems, on="problem_id", how="inner")


def _input_rows(path: Path, cols: list[str], problem_ids: pl.Series) -> pl.DataFrame:
    """`cols` of the input's rows of `problem_ids`, in the trace schema's types, read filtered file
    by file: a part of the table (the Ray engine's partitions of problems) holds its own problems'
    samples, and no one reads the texts it does not grade (thinking). The run checked the input
    when it loaded it; should a file not read now, the whole read says why, as it always did."""
    from curate import schema

    wanted = pc.field("problem_id").isin(problem_ids.unique().to_arrow())
    types = pa.schema([(c, schema.BY_NAME[c].type) for c in cols])
    try:
        tables = [pq.read_table(f, columns=cols, filters=wanted, partitioning=None).select(cols).cast(types)
                  for f in store.parquet_files(path)]
        table = pa.concat_tables(tables)
    except Exception:  # noqa: BLE001 - the whole read's own line
        table = store.load_traces(path, check_ids=False).select(cols)
        return pl.from_arrow(table).filter(pl.col("problem_id").is_in(problem_ids.implode()))
    return pl.from_arrow(table)


def _reason(none: pl.Expr, mode: str, lo: float, hi: float, min_solved: int, max_solved: int, of: int,
            missing: str) -> pl.Expr:
    if mode == "s1":
        bad = pl.col("solved") > 0
        text = pl.concat_str(pl.lit("solved by a student model ("), pl.col("solved_by"), pl.lit(")"))
    elif mode == "window":
        bad = (pl.col("pass_rate") <= lo) | (pl.col("pass_rate") >= hi)
        text = pl.lit(f"pass rate outside ({lo}, {hi})")
    else:
        # LIMO's "1-3 of 32" as a pass rate, so any number of attempts reads the same; the lower
        # count is only meaningful with as many tries as LIMO made.
        too_easy = (pl.col("_s") / pl.col("_n")) > max_solved / of
        too_hard = (pl.col("_n") >= of) & (pl.col("_s") < min_solved)
        bad = too_easy | too_hard
        text = pl.when(too_easy).then(pl.lit(f"solved in more than {max_solved} of {of} attempts"))\
            .otherwise(pl.lit(f"solved in fewer than {min_solved} of {of}+ attempts"))
    expr = pl.when(none & (missing == "drop")).then(pl.lit("no graded attempts"))
    return expr.when(~none & bad).then(text).otherwise(None)
