"""The numbers of an ablation: per arm and seed, per family, then mean ± sd and paired gaps.

    results.parquet   one row per arm × seed × family: problems, samples, correct, pass@1, boxed share
    problems.parquet  one row per arm × seed × held-out problem: samples, correct, pass@1
    runs.parquet      one row per arm × seed: macro and micro pass@1, boxed share, what trained
    intervals.parquet one row per arm and per gap: macro pass@1 (or gap), its 95% interval, and for
                      a gap whether the interval excludes zero
    summary.json      per arm: mean ± sd (over seeds) of macro / micro pass@1 and boxed share, and
                      per family, and the macro's 95% interval; per baseline: the recipe's gap,
                      paired by seed (mean ± sd, wins) and its 95% interval
    table.md          the same as text (printed by `distillery ablate`), ablation.svg its plot

Intervals: a paired bootstrap (`curate.stats.paired_intervals`) over the held-out problems
(resampled within their family, so the macro keeps every family) and the seeds, the same draws for
every arm; a problem's score is its pass@1 over its `--eval-n` samples. A gap whose interval
excludes zero is a difference; one that does not is not evidence of one, whatever its sign.

Macro pass@1 is the mean over families of each family's pass@1 (greedy, one sample per problem),
so a family with few held-out problems counts as much as a large one. The boxed share (outputs
with a `\\boxed{}` answer) is a second, nearly deterministic signal of what the student learned.
sd is the sample standard deviation over seeds (n - 1), absent with one seed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl

from curate import charts, store
from curate.ablation_files import (  # the files' one home: `distillery report` reads them there
    ALL,
    INTERVALS,
    PLOT,
    PROBLEMS,
    RESULTS,
    RUNS,
    SUMMARY,
    TABLE,
    folder,
    interval,
    mean_sd,
    student_dir,
)

__all__ = ["ALL", "INTERVALS", "PLOT", "PROBLEMS", "RESULTS", "RUNS", "SUMMARY", "TABLE", "collect", "intervals",
           "interval_rows", "load", "plot", "render", "summarize", "write"]


def _boxed(text: pl.Expr) -> pl.Expr:
    """Whether the text holds a complete boxed answer, found as the verifier finds it."""
    from curate.verify.extract import last_boxed

    return text.map_elements(lambda t: last_boxed(t) is not None, return_dtype=pl.Boolean).fill_null(False)


def collect(out: Path, jobs) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(results, runs) from every student's eval samples and training summary."""
    results, runs, problems = [], [], []
    for job in jobs:
        student = student_dir(out, job)
        samples = pl.read_parquet(student / "eval" / "samples.parquet",
                                  columns=["bench_id", "subject", "correct", "thinking", "response"])
        samples = samples.with_columns(pl.col("subject").fill_null(ALL).alias("family"),
                                       (_boxed(pl.col("response")) | _boxed(pl.col("thinking"))).alias("boxed"))
        per = (samples.group_by("family").agg(pl.col("bench_id").n_unique().alias("problems"),
                                              pl.len().alias("samples"), pl.col("correct").sum().alias("correct"),
                                              pl.col("boxed").mean().alias("boxed_share"))
               .with_columns((pl.col("correct") / pl.col("samples")).alias("pass_at_1"),
                             pl.lit(job.arm).alias("arm"), pl.lit(job.seed).alias("seed")))
        results.append(per)
        problems.append(samples.group_by("family", "bench_id").agg(
            pl.len().alias("samples"), pl.col("correct").sum().alias("correct"),
            pl.col("correct").mean().alias("pass_at_1")).with_columns(pl.lit(job.arm).alias("arm"),
                                                                      pl.lit(job.seed).alias("seed")))
        trained = json.loads((student / "train_summary.json").read_text())
        stats = trained.get("data_stats", {})
        runs.append({"arm": job.arm, "seed": job.seed,
                     "macro_pass_at_1": float(per["pass_at_1"].mean()),
                     "micro_pass_at_1": float(samples["correct"].mean()),
                     "boxed_share": float(samples["boxed"].mean()),
                     "steps": int(trained.get("global_step", trained.get("steps", 0))), "rows_trained": int(stats.get("rows_kept", 0)),
                     "rows_over_max_length": int(stats.get("overlength_rows", 0)),
                     "final_loss": trained.get("final_loss"), "train_seconds": trained.get("train_seconds"),
                     "config": json.dumps(trained.get("config", {}), sort_keys=True)})
    results_df = pl.concat(results).select("arm", "seed", "family", "problems", "samples", "correct", "pass_at_1",
                                           "boxed_share")
    problems_df = pl.concat(problems).select("arm", "seed", "family", "bench_id", "samples", "correct", "pass_at_1")
    return (results_df.sort("arm", "seed", "family"), pl.DataFrame(runs).sort("arm", "seed"),
            problems_df.sort("arm", "seed", "family", "bench_id"))


def _stats(values: list[float]) -> dict:
    n = len(values)
    mean = sum(values) / n if n else None
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else None
    return {"mean": mean, "sd": sd, "values": values}


def intervals(problems: pl.DataFrame, arms: list[str], seed: int = 0) -> dict:
    """The paired bootstrap of every arm's macro pass@1 and of each gap to the first arm, from the
    per-problem scores (`problems.parquet`). Only seeds every arm has are paired."""
    from curate import stats

    seeds = sorted(set.intersection(*(set(problems.filter(pl.col("arm") == a)["seed"].to_list()) for a in arms)))
    keys = problems.select("family", "bench_id").unique().sort("family", "bench_id")
    scores = {}
    for arm in arms:
        rows = []
        for s in seeds:
            got = keys.join(problems.filter((pl.col("arm") == arm) & (pl.col("seed") == s)),
                            on=["family", "bench_id"], how="left")["pass_at_1"]
            if got.null_count():
                raise ValueError(f"ablation: {arm}/seed-{s} was graded on other problems than the other students")
            rows.append(got.to_numpy())
        scores[arm] = rows
    per_arm, gaps = stats.paired_intervals(scores, groups=keys["family"].to_numpy(), reference=arms[0], seed=seed)
    return {"arms": {a: [iv.lo, iv.hi] for a, iv in per_arm.items()},
            "gaps": {a: {"ci": [iv.lo, iv.hi], "excludes_zero": iv.excludes_zero} for a, iv in gaps.items()},
            "about": {"level": stats.LEVEL, "resamples": stats.RESAMPLES, "seed": seed, "seeds": seeds,
                      "problems": keys.height,
                      "method": "paired bootstrap over held-out problems (within family) and seeds"}}


def summarize(data: tuple, plan: dict) -> dict:
    """`data`: (results, runs) or (results, runs, problems); intervals come with the third."""
    results, runs = data[:2]
    arms = [a for a in plan["arms"] if a in set(runs["arm"].to_list())]
    seeds = sorted(set(runs["seed"].to_list()))
    families = sorted(set(results["family"].to_list()))

    def per_seed(frame: pl.DataFrame, arm: str, column: str) -> list[float]:
        rows = frame.filter(pl.col("arm") == arm).sort("seed")
        return [float(v) for v in rows[column].to_list()]

    table = []
    for arm in arms:
        fam = {f: _stats(per_seed(results.filter(pl.col("family") == f), arm, "pass_at_1")) for f in families}
        table.append({"arm": arm, "seeds": len(per_seed(runs, arm, "macro_pass_at_1")),
                      "macro": _stats(per_seed(runs, arm, "macro_pass_at_1")),
                      "micro": _stats(per_seed(runs, arm, "micro_pass_at_1")),
                      "boxed": _stats(per_seed(runs, arm, "boxed_share")), "families": fam,
                      "steps": sorted(set(per_seed(runs, arm, "steps"))),
                      "rows_trained": per_seed(runs, arm, "rows_trained"),
                      "rows_over_max_length": per_seed(runs, arm, "rows_over_max_length")})
    gaps = []
    recipe = runs.filter(pl.col("arm") == arms[0]).select("seed", pl.col("macro_pass_at_1").alias("r"))
    for arm in arms[1:]:
        paired = recipe.join(runs.filter(pl.col("arm") == arm).select("seed", "macro_pass_at_1"), on="seed").sort("seed")
        # rounded: two students with the same answers tie exactly, not by a float's last bit
        diffs = [round(float(r - b), 9) for r, b in zip(paired["r"], paired["macro_pass_at_1"])]
        gaps.append({"baseline": arm, **_stats(diffs), "wins": sum(d > 0 for d in diffs), "seeds": len(diffs)})
    n = plan.get("eval_n", 1)
    how = "greedy, one sample per problem" if n == 1 else f"{n} samples per problem at temperature {plan.get('temperature')}"
    summary = {"metric": f"macro pass@1: mean over families of pass@1 ({how})",
               "reference": arms[0], "k": plan.get("k"), "eval": plan.get("eval"), "eval_n": n, "seeds": seeds,
               "families": families, "max_steps": plan.get("max_steps"), "arms": table, "gaps": gaps}
    if len(data) > 2 and data[2] is not None and data[2].height:
        found = intervals(data[2], arms)
        for arm in table:
            arm["macro"]["ci"] = found["arms"][arm["arm"]]
        for gap in gaps:
            gap.update(found["gaps"][gap["baseline"]])
        summary["interval"] = found["about"]
    return summary


def render(summary: dict) -> str:
    """The table as Markdown (also readable as plain text)."""
    fams = [f for f in summary["families"] if f != ALL] or summary["families"]
    ci = "interval" in summary
    head = ["arm", "macro pass@1", *(["95% CI"] if ci else []), "micro pass@1", "boxed", *fams]
    rows = [[a["arm"], mean_sd(a["macro"]), *([interval(a["macro"]["ci"])] if ci else []), mean_sd(a["micro"]), mean_sd(a["boxed"]),
             *(mean_sd(a["families"][f]) for f in fams)]
            for a in summary["arms"]]
    seeds = len(summary["seeds"])
    n = summary.get("eval_n", 1)
    lines = [f"k = {summary['k']:,} rows per arm, {summary['max_steps']:,} steps each, {seeds} seed"
             f"{'s' if seeds != 1 else ''}; mean ± sd over seeds; eval: {summary['eval']}"
             + (f" ({n} samples per problem)" if n != 1 else ""), ""]
    lines += _markdown(head, rows)
    if summary["gaps"]:
        ref = summary["reference"]
        lines += ["", f"gap in macro pass@1, {ref} − baseline, paired by seed:", ""]
        lines += _markdown(["baseline", "gap", *(["95% CI", "excludes 0"] if ci else []), f"{ref} ahead", "per seed"],
                           [[g["baseline"], mean_sd(g, signed=True),
                             *([interval(g["ci"], signed=True), "yes" if g["excludes_zero"] else "no"] if ci else []),
                             f"{g['wins']}/{g['seeds']}", ", ".join(f"{v:+.3f}" for v in g["values"])]
                            for g in summary["gaps"]])
    if ci:
        about = summary["interval"]
        lines += ["", f"95% CI: {about['method']} ({about['problems']:,} problems, {len(about['seeds'])} seed"
                      f"{'s' if len(about['seeds']) != 1 else ''}, {about['resamples']:,} resamples); "
                      "a gap whose interval includes 0 is not a measured difference"]
    return "\n".join(lines) + "\n"


def _markdown(head: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    fmt = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    return [fmt(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *(fmt(r) for r in rows)]


def plot(summary: dict) -> str:
    """Macro pass@1 per arm: a bar at the mean, an error bar of the 95% interval (± sd without
    one), a dot per seed (inline SVG, drawn by `curate.charts`)."""
    arms = summary["arms"]
    with_ci = "interval" in summary
    title = (f"macro pass@1 per selection (bar: mean, error bar: {'95% CI' if with_ci else '± sd'}, dots: seeds)")
    bounds = [m["ci"] if with_ci else (m["mean"] - m["sd"], m["mean"] + m["sd"]) if m["sd"] is not None else None
              for m in (a["macro"] for a in arms)]
    texts = [mean_sd(a["macro"]) + (f" {interval(a['macro']['ci'])}" if with_ci else "") for a in arms]
    return charts.interval_bars("ablation", title, [a["arm"] for a in arms], [a["macro"]["mean"] for a in arms],
                                bounds, [a["macro"]["values"] for a in arms], texts)


def write(out: Path, data: tuple[pl.DataFrame, pl.DataFrame], summary: dict, table: str) -> None:
    base = folder(out)
    results, runs = data[:2]
    store.write_parquet(results.to_arrow(), base / RESULTS)
    store.write_parquet(runs.to_arrow(), base / RUNS)
    if len(data) > 2:
        store.write_parquet(data[2].to_arrow(), base / PROBLEMS)
    store.write_parquet(interval_rows(summary).to_arrow(), base / INTERVALS)
    store.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", base / SUMMARY)
    store.write_text(table, base / TABLE)
    store.write_text(plot(summary) + "\n", base / PLOT)


def interval_rows(summary: dict) -> pl.DataFrame:
    """intervals.parquet: kind (arm | gap), name, mean, ci_lo, ci_hi, excludes_zero (gaps)."""
    ci = "interval" in summary
    rows = [{"kind": "arm", "name": a["arm"], "mean": a["macro"]["mean"], "ci_lo": a["macro"]["ci"][0] if ci else None,
             "ci_hi": a["macro"]["ci"][1] if ci else None, "excludes_zero": None} for a in summary["arms"]]
    rows += [{"kind": "gap", "name": f"{summary['reference']} - {g['baseline']}", "mean": g["mean"],
              "ci_lo": g["ci"][0] if ci else None, "ci_hi": g["ci"][1] if ci else None,
              "excludes_zero": g["excludes_zero"] if ci else None} for g in summary["gaps"]]
    return pl.DataFrame(rows, schema={"kind": pl.String, "name": pl.String, "mean": pl.Float64, "ci_lo": pl.Float64,
                                      "ci_hi": pl.Float64, "excludes_zero": pl.Boolean})


def load(out: Path) -> dict | None:
    """The summary of OUT's ablation, if it has one."""
    path = folder(out) / SUMMARY
    return json.loads(path.read_text()) if path.is_file() else None
