"""s1k recipe benchmark: seconds per stage on 60K synthetic traces (no generation).

Writes `distillery synth --n N --seed 3` (unless --input is given), runs the built-in s1k recipe
into a fresh run folder, and prints rows in/out and seconds per stage, the total against the
5-minute target (2 cores), whether exactly 1,000 rows were kept, and — with --rerun — whether a
second fresh run gives byte-identical traces.parquet and selected.parquet. It also reports how
well the domain stage's MiniLM classification recovers the synthetic families (taxonomy synth) on
the problems the recipe kept.

    python bench/curation.py [--n 60000] [--input TRACES] [--rerun] [--recipe s1k]

(Named curation.py, not curate.py: a bench/curate.py would shadow the `curate` package for
every script in bench/.)
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import polars as pl

from curate import recipe, run, synth

TARGET_S = 300


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=60_000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--input", type=Path, default=None)
    ap.add_argument("--recipe", default="s1k")
    ap.add_argument("--rerun", action="store_true", help="a second fresh run, compared byte for byte")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-curate-"))
    try:
        traces = args.input
        if traces is None:
            t0 = time.perf_counter()
            traces = work / "traces"
            synth.write(synth.SynthConfig(n=args.n, seed=args.seed), traces)
            print(f"synth --n {args.n} --seed {args.seed}: {time.perf_counter() - t0:.1f} s (not counted)")
        loaded = recipe.load(args.recipe)
        t0 = time.perf_counter()
        res = run.run(loaded, traces, work / "run")
        total = time.perf_counter() - t0
        print(f"\nrecipe {loaded.name}: {res.rows_in:,} rows in, {res.rows_selected:,} selected")
        print(f"{'stage':<18}{'rows in':>10}{'rows out':>10}{'seconds':>9}")
        for s in res.stages:
            print(f"{s.label:<18}{s.rows_in:>10,}{s.rows_out:>10,}{s.seconds:>9.1f}")
        print(f"{'total':<38}{total:>9.1f}   (target {TARGET_S} s on 2 cores: "
              f"{'met' if total <= TARGET_S else 'MISSED'})")
        kept = pl.read_parquet(work / "run" / "selected.parquet")
        if loaded.name == "s1k":
            # One trace per problem: 1,000 rows need 1,000 problems left after the difficulty filter.
            sel = next(s for s in res.stages if s.label.endswith("select"))
            print(f"1,000 kept: {res.rows_selected == 1000} ({kept['problem_id'].n_unique():,} problems in "
                  f"{kept.height:,} rows; {sel.stats.get('available', '?'):,} problems were left to draw from)")
        if kept.height and "domain" in kept.columns:
            from curate import domains

            problems = kept.select("problem", pl.col("meta").str.json_path_match("$.family").alias("family")) \
                .unique("problem").sort("problem")
            if problems["family"].null_count() == 0:
                codes, _ = domains.classify(problems["problem"].to_list(), domains.load_taxonomy("synth"))
                acc = (problems["family"] == pl.Series(codes)).mean()
                print(f"domain (taxonomy synth) accuracy against meta.family on {problems.height} kept problems: "
                      f"{acc:.1%}")
        if args.rerun:
            t0 = time.perf_counter()
            run.run(loaded, traces, work / "run2")
            same = all((work / "run" / f).read_bytes() == (work / "run2" / f).read_bytes()
                       for f in ("traces.parquet", "selected.parquet"))
            print(f"fresh rerun: {time.perf_counter() - t0:.1f} s, byte-identical outputs: {same}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
