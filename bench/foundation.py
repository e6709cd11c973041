"""Foundation benchmark: synth rows/s and curate rows/s on 60K rows, each against a baseline
measured in the same run (machines here are shared and noisy: read the ratios, not the seconds).

- synth:  generating + writing the corpus, against writing the same table with bare pyarrow
          (the I/O floor any generator pays);
- curate: the demo recipe through the runner (validation, stage caches, manifest, both outputs),
          against one hand-written DuckDB query doing the same filtering over the same files;
- rerun:  the same recipe again, every stage from its cache.

    python bench/foundation.py [--n 60000]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from curate import recipe, run, synth


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=60_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="distillery-bench-"))
    try:
        cfg = synth.SynthConfig(n=args.n, seed=args.seed, attempts=False)
        result, t_synth = timed(lambda: synth.write(cfg, work / "traces"))
        _, t_write = timed(lambda: pq.write_table(result.traces, work / "bare.parquet", compression="zstd"))

        demo = recipe.load("demo")
        res, t_curate = timed(lambda: run.run(demo, work / "traces", work / "run"))
        _, t_rerun = timed(lambda: run.run(demo, work / "traces", work / "run"))
        _, t_sql = timed(lambda: duckdb.sql(f"""
            WITH t AS (SELECT *, row_number() OVER () AS pos FROM read_parquet('{work}/traces/*.parquet')),
                 first AS (SELECT min(pos) AS pos FROM t
                           GROUP BY regexp_replace(lower(problem), '[;:!?"''`$]|\\s+', ' ', 'g'))
            SELECT count(*) FROM t JOIN first USING (pos)
            WHERE finish_reason <> 'length' AND trim(response) <> '' AND response LIKE '%\\boxed%'
              AND length(thinking) BETWEEN 80 AND 12000""").fetchall())

        n = args.n
        print(f"rows: {n:,}   selected by the demo recipe: {res.rows_selected:,}")
        print(f"{'figure':<34}{'rows/s':>12}{'baseline rows/s':>18}{'ratio':>9}")
        rows = [
            ("synth (generate + write)", n / t_synth, "pyarrow write", n / t_write),
            ("curate demo (cold)", n / t_curate, "bare DuckDB query", n / t_sql),
            ("curate demo (all stages cached)", n / t_rerun, "curate demo (cold)", n / t_curate),
        ]
        for name, rate, _base_name, base in rows:
            print(f"{name:<34}{rate:>12,.0f}{base:>18,.0f}{rate / base:>9.2f}")
        print("baselines: " + "; ".join(f"{r[0]} vs {r[2]}" for r in rows))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
