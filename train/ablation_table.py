"""The numbers of an ablation: per arm and seed, per family, then mean ± sd and paired gaps.

    results.parquet   one row per arm × seed × family: problems, correct, pass@1, boxed share
    runs.parquet      one row per arm × seed: macro and micro pass@1, boxed share, what trained
    summary.json      per arm: mean ± sd (over seeds) of macro / micro pass@1 and boxed share, and
                      per family; per baseline: the recipe's gap, paired by seed (mean ± sd, wins)
    table.md          the same as text (printed by `distillery ablate`), ablation.svg its plot

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
ALL = "(all)"


def _boxed(text: pl.Expr) -> pl.Expr:
    return text.fill_null("").str.contains(r"\\boxed\{", literal=False)


def collect(out: Path, jobs) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(results, runs) from every student's eval samples and training summary."""
    from train.ablate import student_dir

    results, runs = [], []
    for job in jobs:
        student = student_dir(out, job)
        samples = pl.read_parquet(student / "eval" / "samples.parquet",
                                  columns=["subject", "correct", "thinking", "response"])
        samples = samples.with_columns(pl.col("subject").fill_null(ALL).alias("family"),
                                       (_boxed(pl.col("response")) | _boxed(pl.col("thinking"))).alias("boxed"))
        per = (samples.group_by("family").agg(pl.len().alias("problems"), pl.col("correct").sum().alias("correct"),
                                              pl.col("boxed").mean().alias("boxed_share"))
               .with_columns((pl.col("correct") / pl.col("problems")).alias("pass_at_1"),
                             pl.lit(job.arm).alias("arm"), pl.lit(job.seed).alias("seed")))
        results.append(per)
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
    results_df = pl.concat(results).select("arm", "seed", "family", "problems", "correct", "pass_at_1", "boxed_share")
    return results_df.sort("arm", "seed", "family"), pl.DataFrame(runs).sort("arm", "seed")


def _stats(values: list[float]) -> dict:
    n = len(values)
    mean = sum(values) / n if n else None
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else None
    return {"mean": mean, "sd": sd, "values": values}


def summarize(data: tuple[pl.DataFrame, pl.DataFrame], plan: dict) -> dict:
    results, runs = data
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
    return {"metric": "macro pass@1: mean over families of pass@1 (greedy, one sample per problem)",
            "reference": arms[0], "k": plan.get("k"), "eval": plan.get("eval"), "seeds": seeds,
            "families": families, "max_steps": plan.get("max_steps"), "arms": table, "gaps": gaps}


def _pm(stat: dict, signed: bool = False) -> str:
    if stat["mean"] is None:
        return "n/a"
    mean = f"{stat['mean']:+.3f}" if signed else f"{stat['mean']:.3f}"
    return mean + (f" ± {stat['sd']:.3f}" if stat["sd"] is not None else "")


def render(summary: dict) -> str:
    """The table as Markdown (also readable as plain text)."""
    fams = [f for f in summary["families"] if f != ALL] or summary["families"]
    head = ["arm", "macro pass@1", "micro pass@1", "boxed", *fams]
    rows = [[a["arm"], _pm(a["macro"]), _pm(a["micro"]), _pm(a["boxed"]), *(_pm(a["families"][f]) for f in fams)]
            for a in summary["arms"]]
    seeds = len(summary["seeds"])
    lines = [f"k = {summary['k']:,} rows per arm, {summary['max_steps']:,} steps each, {seeds} seed"
             f"{'s' if seeds != 1 else ''}; mean ± sd over seeds; eval: {summary['eval']}", ""]
    lines += _markdown(head, rows)
    if summary["gaps"]:
        ref = summary["reference"]
        lines += ["", f"gap in macro pass@1, {ref} − baseline, paired by seed:", ""]
        lines += _markdown(["baseline", "gap", f"{ref} ahead", "per seed"],
                           [[g["baseline"], _pm(g, signed=True), f"{g['wins']}/{g['seeds']}",
                             ", ".join(f"{v:+.3f}" for v in g["values"])] for g in summary["gaps"]])
    return "\n".join(lines) + "\n"


def _markdown(head: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    fmt = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    return [fmt(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *(fmt(r) for r in rows)]


def plot(summary: dict) -> str:
    """Macro pass@1 per arm: a bar at the mean, a whisker of ± sd, a dot per seed (inline SVG)."""
    from curate.charts import FONT, PALETTE, WIDTH

    arms = summary["arms"]
    left, top, bar_h, gap = 170, 28, 22, 12
    height = top + len(arms) * (bar_h + gap) + 34
    span = WIDTH - left - 90
    peak = max([1e-9, *(v for a in arms for v in a["macro"]["values"])])
    scale = span / max(peak * 1.1, 0.05)
    title = "macro pass@1 per selection (bar: mean, whisker: ± sd, dots: seeds)"
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
        if m["sd"] is not None:
            lo, hi = (m["mean"] - m["sd"]) * scale, (m["mean"] + m["sd"]) * scale
            cy = y + bar_h / 2
            parts.append(f'<line x1="{left + max(lo, 0):.1f}" x2="{left + hi:.1f}" y1="{cy}" y2="{cy}" '
                         f'stroke="#222" stroke-width="1.5"/>')
        for v in m["values"]:
            parts.append(f'<circle cx="{left + v * scale:.1f}" cy="{y + bar_h / 2}" r="3" fill="#E45756"/>')
        parts.append(f'<text x="{left + max(m["values"] + [m["mean"] or 0]) * scale + 8:.1f}" '
                     f'y="{y + bar_h / 2 + 4:.0f}" fill="#333">{escape(_pm(m))}</text>')
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
    results, runs = data
    store.write_parquet(results.to_arrow(), base / RESULTS)
    store.write_parquet(runs.to_arrow(), base / RUNS)
    store.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", base / SUMMARY)
    store.write_text(table, base / TABLE)
    store.write_text(plot(summary) + "\n", base / PLOT)


def load(out: Path) -> dict | None:
    """The summary of OUT's ablation, if it has one."""
    from train.ablate import folder

    path = folder(out) / SUMMARY
    return json.loads(path.read_text()) if path.is_file() else None
