"""Rows per second and peak memory of the demo recipe as the pool grows.

    python bench/scale.py                      # 200K and 1M rows (hours on 2 cores: verify is sympy)
    python bench/scale.py --rows 20000,100000  # a quick look

For each size: `distillery synth --n N` (not timed), then `distillery curate demo` in a child
process; prints wall seconds, rows/s, the child's peak RSS and peak RSS per input row, and each
stage's seconds from the manifest. Peak memory per row at the largest size should be no higher than
at the smallest (the stages hold columns, not Python lists of whole columns; MinHash groups band keys
one band at a time: bench/memory.py isolates dedup). Measured, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", default="200000,1000000")
    ap.add_argument("--recipe", default="demo")
    ap.add_argument("--keep", help="folder to keep the pools and runs in (default: a temporary one)")
    args = ap.parse_args()
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="distillery-scale-"))
    sizes = [int(x) for x in args.rows.split(",")]
    print(f"{'rows':>10} {'seconds':>9} {'rows/s':>9} {'peak RSS':>10} {'per row':>9}")
    per_row = []
    for n in sizes:
        pool, run = base / f"pool-{n}", base / f"run-{n}"
        _, _, res = _cli("synth", "--out", str(pool), "--n", str(n), "--no-attempts")
        if res.returncode:
            print(f"{n:>10,} synth failed: {res.stderr.strip().splitlines()[-1:]}")
            continue
        seconds, peak, res = _cli("curate", args.recipe, "--input", str(pool), "--out", str(run))
        if res.returncode:
            print(f"{n:>10,} curate failed: {res.stderr.strip().splitlines()[-1:]}")
            continue
        per_row.append(peak / n)
        print(f"{n:>10,} {seconds:>9.1f} {n / seconds:>9,.0f} {peak / 2**20:>8.0f}MB {peak / n / 1024:>7.2f}KB")
        manifest = json.loads((run / "manifest.json").read_text())
        print("           " + ", ".join(f"{s['stage']} {s['seconds']:.1f}s" for s in manifest["stages"]))
    if len(per_row) > 1:
        print(f"peak RSS per row, largest / smallest size: {per_row[-1] / per_row[0]:.2f}")
    print(f"(pools and runs in {base})")


if __name__ == "__main__":
    main()
