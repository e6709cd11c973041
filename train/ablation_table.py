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
from html import escape
from pathlib import Path

import polars as pl

from curate import store

RESULTS = "results.parquet"
RUNS = "runs.parquet"
SUMMARY = "summary.json"
TABLE = "table.md"
PLOT = "ablation.svg"
PROBLEMS = "problems.parquet"
INTERVALS = "intervals.parquet"
ALL = "(all)"


def _boxed(text: pl.Expr) -> pl.Expr:
    return text.fill_null("").str.contains(r"\\boxed\{", literal=False)


def collect(out: Path, jobs) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(results, runs) from every student's eval samples and training summary."""
    from train.ablate import student_dir

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


def _pm(stat: dict, signed: bool = False) -> str:
    if stat["mean"] is None:
        return "n/a"
    mean = f"{stat['mean']:+.3f}" if signed else f"{stat['mean']:.3f}"
    return mean + (f" ± {stat['sd']:.3f}" if stat["sd"] is not None else "")


def render(summary: dict) -> str:
    """The table as Markdown (also readable as plain text)."""
    fams = [f for f in summary["families"] if f != ALL] or summary["families"]
    ci = "interval" in summary
    head = ["arm", "macro pass@1", *(["95% CI"] if ci else []), "micro pass@1", "boxed", *fams]
    rows = [[a["arm"], _pm(a["macro"]), *([_ci(a["macro"]["ci"])] if ci else []), _pm(a["micro"]), _pm(a["boxed"]),
             *(_pm(a["families"][f]) for f in fams)]
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
                           [[g["baseline"], _pm(g, signed=True),
                             *([_ci(g["ci"], signed=True), "yes" if g["excludes_zero"] else "no"] if ci else []),
                             f"{g['wins']}/{g['seeds']}", ", ".join(f"{v:+.3f}" for v in g["values"])]
                            for g in summary["gaps"]])
    if ci:
        about = summary["interval"]
        lines += ["", f"95% CI: {about['method']} ({about['problems']:,} problems, {len(about['seeds'])} seed"
                      f"{'s' if len(about['seeds']) != 1 else ''}, {about['resamples']:,} resamples); "
                      "a gap whose interval includes 0 is not a measured difference"]
    return "\n".join(lines) + "\n"


def _ci(bounds: list[float], signed: bool = False) -> str:
    fmt = "{:+.3f}" if signed else "{:.3f}"
    return f"[{fmt.format(bounds[0])}, {fmt.format(bounds[1])}]"


def _markdown(head: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    fmt = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    return [fmt(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *(fmt(r) for r in rows)]


def plot(summary: dict) -> str:
    """Macro pass@1 per arm: a bar at the mean, an error bar of the 95% interval (± sd without
    one), a dot per seed (inline SVG)."""
    from curate.charts import FONT, PALETTE, WIDTH

    arms = summary["arms"]
    left, top, bar_h, gap = 170, 28, 22, 12
    height = top + len(arms) * (bar_h + gap) + 34
    span = WIDTH - left - 90
    peak = max([1e-9, *(v for a in arms for v in a["macro"]["values"])])
    with_ci = "interval" in summary
    peak = max([peak, *(a["macro"]["ci"][1] for a in arms if with_ci)])
    scale = span / max(peak * 1.1, 0.05)
    title = (f"macro pass@1 per selection (bar: mean, error bar: {'95% CI' if with_ci else '± sd'}, dots: seeds)")
    parts = [f'<svg class="chart" data-chart="ablation" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
             f'height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
             f'font-family="sans-serif" font-size="{FONT}">', f"<title>{escape(title)}</title>",
             f'<text x="10" y="16" fill="#333">{escape(title)}</text>']
    for i, arm in enumerate(arms):
        y = top + i * (bar_h + gap)
        m = arm["macro"]
        color = PALETTE[0] if i == 0 else "#9aa7b4"
        parts.append(f'<text x="{left - 8}" y="{y + bar_h / 2 + 4:.0f}" text-anchor="end">{escape(arm["arm"])}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{(m["mean"] or 0) * scale:.1f}" height="{bar_h}" '
                     f'fill="{color}"><title>{escape(arm["arm"])}: {_pm(m)}</title></rect>')
        bounds = (m["ci"] if with_ci else (m["mean"] - m["sd"], m["mean"] + m["sd"]) if m["sd"] is not None
                  else None)
        if bounds is not None:
            lo, hi = bounds[0] * scale, bounds[1] * scale
            cy = y + bar_h / 2
            parts.append(f'<line class="error-bar" x1="{left + max(lo, 0):.1f}" x2="{left + hi:.1f}" y1="{cy}" '
                         f'y2="{cy}" stroke="#222" stroke-width="1.5"/>')
            for x in (max(lo, 0), hi):
                parts.append(f'<line x1="{left + x:.1f}" x2="{left + x:.1f}" y1="{cy - 5}" y2="{cy + 5}" '
                             f'stroke="#222" stroke-width="1.5"/>')
        for v in m["values"]:
            parts.append(f'<circle cx="{left + v * scale:.1f}" cy="{y + bar_h / 2}" r="3" fill="#E45756"/>')
        label = _pm(m) + (f" {_ci(m['ci'])}" if with_ci else "")
        right = max(m["values"] + [m["mean"] or 0] + ([m["ci"][1]] if with_ci else []))
        parts.append(f'<text x="{left + right * scale + 8:.1f}" '
                     f'y="{y + bar_h / 2 + 4:.0f}" fill="#333">{escape(label)}</text>')
    base = top + len(arms) * (bar_h + gap) + 4
    for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
        if frac * scale > span + 1:
            break
        x = left + frac * scale
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 4}" y2="{base}" stroke="#ddd"/>')
        parts.append(f'<text x="{x:.1f}" y="{base + 14}" text-anchor="middle" fill="#555">{frac:g}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def write(out: Path, data: tuple[pl.DataFrame, pl.DataFrame], summary: dict, table: str) -> None:
    from train.ablate import folder

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
    from train.ablate import folder

    path = folder(out) / SUMMARY
    return json.loads(path.read_text()) if path.is_file() else None
