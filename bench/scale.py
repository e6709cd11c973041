"""Rows per second and peak memory of the demo recipe as the pool grows.

    python bench/scale.py                      # 200K and 1M rows (about 20 minutes on 2 idle cores)
    python bench/scale.py --rows 20000,100000  # a quick look

For each size: `distillery synth --n N --heldout 200` (not timed; the held-out split is what the
demo recipe decontaminates against), then `distillery curate demo` in a child process; prints wall
seconds, rows/s, the child's peak RSS and peak RSS per input row, and each stage's seconds from the
manifest. Then the recipe's MinHash dedup stage alone on the same pool, in a fresh child: its peak
RSS above the loaded input, per row. Peak memory per row at the largest size should be no higher
than at the smallest (the stages hold columns, not Python lists of whole columns; MinHash checks
candidate pairs band by band in bounded chunks, keeping only the pairs that pass), and dedup under
4 KB per row. Measured, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args: str) -> tuple[float, int, subprocess.CompletedProcess]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "curate.cli", *args], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t0
    # ru_maxrss of children is the largest child so far: each curate is larger than its synth.
    peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) * 1024
    return seconds, peak, res


DEDUP_CHILD = r'''
import json, resource, sys, time
sys.path.insert(0, {root!r})
import polars as pl
from curate import recipe as recipes, store
from curate.stages import StageContext
def current():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096
spec = next(s for s in recipes.load({recipe!r}).stages if s.name == "dedup")
frame = pl.from_arrow(store.load_traces({pool!r}, check_ids=False))
base = current()
t0 = time.perf_counter()
out = spec.build().run(frame, StageContext(seed=0))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({{"rows": frame.height, "seconds": time.perf_counter() - t0, "peak_above_input": peak - base,
                  "config": spec.config.model_dump(mode="json", exclude={{"on_missing"}})}}))
'''


def _dedup_alone(recipe: str, pool: Path) -> dict:
    """The recipe's dedup stage by itself on the whole pool (no earlier stage drops rows first)."""
    code = DEDUP_CHILD.format(root=str(ROOT), recipe=recipe, pool=str(pool))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"})
    if res.returncode:
        return {"error": (res.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", default="200000,1000000")
    ap.add_argument("--recipe", default="demo")
    ap.add_argument("--keep", help="folder to keep the pools and runs in (default: a temporary one)")
    args = ap.parse_args()
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="distillery-scale-"))
    sizes = [int(x) for x in args.rows.split(",")]
    print(f"{'rows':>10} {'seconds':>9} {'rows/s':>9} {'peak RSS':>10} {'per row':>9}")
    per_row, dedup_rows = [], []
    for n in sizes:
        pool, run = base / f"pool-{n}", base / f"run-{n}"
        if (pool / "heldout").is_dir():  # a pool --keep kept from an earlier run: synth is seeded
            res = subprocess.CompletedProcess([], 0)
        else:
            _, _, res = _cli("synth", "--out", str(pool), "--n", str(n), "--no-attempts", "--heldout", "200")
        if res.returncode:
            print(f"{n:>10,} synth failed: {res.stderr.strip().splitlines()[-1:]}")
            continue
        shutil.rmtree(run, ignore_errors=True)  # timed from scratch, never from cached stages
        seconds, peak, res = _cli("curate", args.recipe, "--input", str(pool), "--out", str(run))
        if res.returncode:
            print(f"{n:>10,} curate failed: {res.stderr.strip().splitlines()[-1:]}")
            continue
        per_row.append(peak / n)
        print(f"{n:>10,} {seconds:>9.1f} {n / seconds:>9,.0f} {peak / 2**20:>8.0f}MB {peak / n / 1024:>7.2f}KB")
        manifest = json.loads((run / "manifest.json").read_text())
        print("           " + ", ".join(f"{s['stage']} {s['seconds']:.1f}s" for s in manifest["stages"]))
        d = _dedup_alone(args.recipe, pool)
        if "error" in d:
            print(f"           dedup alone failed: {d['error']}")
        else:
            dedup_rows.append(d["peak_above_input"] / n)
            print(f"           dedup stage alone ({d['config']['method']}, ngram {d['config']['ngram']}, "
                  f"threshold {d['config']['threshold']}) on all {n:,} rows: {d['seconds']:.1f}s, "
                  f"{d['peak_above_input'] / 2**20:.0f}MB above the input, {dedup_rows[-1] / 1024:.2f}KB/row")
    if len(per_row) > 1:
        print(f"peak RSS per row, largest / smallest size: {per_row[-1] / per_row[0]:.2f}")
    if len(dedup_rows) > 1:
        print(f"dedup KB/row, largest / smallest size: {dedup_rows[-1] / dedup_rows[0]:.2f}")
    print(f"(pools and runs in {base})")


if __name__ == "__main__":
    main()
