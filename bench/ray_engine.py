"""The same recipe with the local and the Ray engine on this machine: rows/s, peak memory, same bytes.

    python bench/ray_engine.py                 # 1M synthetic traces (about an hour on 2 cores)
    python bench/ray_engine.py --n 4000        # minutes
    python bench/ray_engine.py --n 4000 --nodes 16 --cores-per-node 32 --target 30000000

`distillery synth --n N --no-attempts --heldout 200` (not timed; the pool bench/scale.py makes, so
`--keep` may point at its folder's pool), then `distillery curate RECIPE` in a child process, once per
engine (`--engine ray` starts a local Ray on this machine's cores). Peak memory is the largest sum
of RSS over the child's process tree, sampled every 0.1 s (the driver, and for Ray its GCS, raylet
and workers; the object store's shared memory is counted in each process that maps it, so the Ray
figure is an upper bound). Prints each stage's rows/s per engine, checks that traces.parquet and
selected.parquet are the same bytes, and estimates RECIPE on `--target` traces on a cluster of
`--nodes` x `--cores-per-node` from the per-stage rows/s measured here:

- stages that run on the workers (`rows`, `problems`, and `parts`: the dedup family, whose rows are
  shuffled in Ray tasks where they lie, the driver keeping only the union-find on checked pairs):
  the rows/s per CPU measured on Ray here, times the cluster's CPUs (linear scaling: no shuffle or
  network cost, so a lower bound on time; MinHash's pairs grow faster than the rows on
  template-heavy pools);
- `driver` stages (select, sample, domain): the local engine's rows/s here, one process, scaled
  linearly with the rows (selection is not linear at worst, so again a lower bound);
- after a `select` or `sample` stage the rows are its k, not scaled with the pool;
- the driver holds the spine (three columns of every row) and the columns driver stages read: the
  estimate names the largest frame it held here, which grows with the rows.

    python bench/ray_engine.py --driver-sizes 20000 80000   # the Ray engine only, at two sizes

prints the driver's own peak RSS apart from Ray's processes' (GCS, raylet, workers), with the
largest frame the driver held (the manifest's `engine.driver`), to show how the driver's memory
grows with the table. Measured, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
# bench/scale.py's pool: the held-out split is what the demo recipe decontaminates against; the
# difficulty stage reads the teachers' own samples (no student attempts needed)
SYNTH = ("--no-attempts", "--heldout", "200")
sys.path.insert(0, str(ROOT))


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def _anon(pid: int) -> int:
    """A process's private anonymous memory (RssAnon): its RSS less mapped files and shared memory
    (Ray's object store is shared memory; pages of it the driver read count in its RSS)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _cli(*args: str) -> tuple[float, int, subprocess.CompletedProcess, int, int, int]:
    """Run the CLI; (seconds, peak RSS of the process tree, the result, peak RSS of the command's
    own process (the driver), peak RSS of its children (Ray's GCS, raylet and workers), peak
    private anonymous memory of the driver)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    env.pop("RAY_ADDRESS", None)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "curate.cli", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = [0, 0, 0, 0]  # tree, driver, the rest, the driver's own anonymous memory
    ps = psutil.Process(proc.pid)

    def sample():
        while proc.poll() is None:
            try:
                tree, own = _tree_rss(ps), ps.memory_info().rss
                peak[0], peak[1], peak[2] = max(peak[0], tree), max(peak[1], own), max(peak[2], tree - own)
                peak[3] = max(peak[3], _anon(proc.pid))
            except psutil.Error:
                pass
            time.sleep(0.1)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - t0
    t.join()
    return seconds, peak[0], subprocess.CompletedProcess(proc.args, proc.returncode, out, err), *peak[1:]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000, help="synthetic traces")
    ap.add_argument("--recipe", default="demo")
    ap.add_argument("--batch-rows", type=int, default=8192)
    ap.add_argument("--target", type=int, default=30_000_000, help="traces in the estimate")
    ap.add_argument("--nodes", type=int, default=16)
    ap.add_argument("--cores-per-node", type=int, default=32)
    ap.add_argument("--keep", help="folder to keep the pool and runs in (default: a temporary one)")
    ap.add_argument("--driver-sizes", type=int, nargs="+", metavar="N",
                    help="instead: the Ray engine only, at each of these sizes, the driver's peak RSS "
                         "apart from the workers' (does the driver grow with the table?)")
    args = ap.parse_args()
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="distillery-ray-bench-"))
    if args.driver_sizes:
        return driver_memory(args, base)
    pool = base / "pool"
    if not pool.exists():
        _, _, res, *_ = _cli("synth", "--out", str(pool), "--n", str(args.n), "--seed", "0", *SYNTH)
        if res.returncode:
            sys.exit(f"synth failed: {res.stderr.strip().splitlines()[-1:]}")
    from curate import stages as registry
    from curate import store

    runs = {}
    print(f"{args.recipe} on {args.n:,} synthetic traces, {os.cpu_count()} CPUs\n")
    print(f"{'engine':<8} {'seconds':>9} {'rows/s':>9} {'peak RSS':>10} {'driver RSS':>11} {'driver anon':>12}")
    for engine in ("local", "ray"):
        out = base / f"run-{engine}"
        shutil.rmtree(out, ignore_errors=True)  # every stage computed, none read from a cache
        extra = ["--engine", "ray", "--batch-rows", str(args.batch_rows)] if engine == "ray" else []
        seconds, peak, res, driver, _, anon = _cli("curate", args.recipe, "--input", str(pool), "--out", str(out),
                                                   *extra)
        if res.returncode:
            sys.exit(f"{engine}: curate failed: {res.stderr.strip().splitlines()[-1:]}")
        manifest = json.loads((out / "manifest.json").read_text())
        runs[engine] = (seconds, peak, manifest, out)
        print(f"{engine:<8} {seconds:>9.1f} {args.n / seconds:>9,.0f} {peak / 2**20:>8.0f}MB "
              f"{driver / 2**20:>9.0f}MB {anon / 2**20:>10.0f}MB", flush=True)
    local_seconds, ray_seconds = runs["local"][0], runs["ray"][0]
    print(f"ray / local wall time: {ray_seconds / local_seconds:.2f}x")
    same = all(store.file_hash(runs["local"][3] / f) == store.file_hash(runs["ray"][3] / f)
               for f in ("traces.parquet", "selected.parquet"))
    print(f"traces.parquet and selected.parquet byte-identical: {same}\n")

    cpus = runs["ray"][2]["engine"]["cpus"]
    cluster_cpus = args.nodes * args.cores_per_node
    scale = args.target / args.n
    print(f"{'stage':<16} {'runs on':<9} {'rows in':>9} {'local r/s':>10} {'ray r/s':>10} "
          f"{'est. rows':>12} {'est. s':>9}")
    total = 0.0
    fixed = False  # after a select or sample stage the rows are its k, whatever the pool's size
    for ls, rs in zip(runs["local"][2]["stages"], runs["ray"][2]["stages"]):
        name = ls["stage"].split("-", 1)[1]
        how = registry.get(name).execution
        rows = ls["rows_in"]
        l_rate = rows / ls["seconds"] if ls["seconds"] else float("inf")
        r_rate = rows / rs["seconds"] if rs["seconds"] else float("inf")
        est_rows = rows if fixed else rows * scale
        fixed = fixed or name in ("select", "sample")
        if how == "driver":
            est = est_rows / l_rate
        else:
            est = est_rows / (r_rate / cpus * cluster_cpus)
        total += est
        print(f"{ls['stage']:<16} {how:<9} {rows:>9,} {l_rate:>10,.0f} {r_rate:>10,.0f} {est_rows:>12,.0f} {est:>9,.0f}")
    largest = runs["ray"][2]["engine"]["driver"]["largest"]
    print(f"\nestimate: {args.target:,} traces on {args.nodes} nodes x {args.cores_per_node} cores "
          f"({cluster_cpus} CPUs): about {total / 60:.1f} min of stage time (linear scaling, no shuffle or "
          f"network cost; the first Ray stage here also pays for starting the workers). The driver held "
          f"at most {largest['rows']:,} rows x {largest['columns']} columns here ({largest['what']}), about "
          f"{largest['rows'] * scale:,.0f} rows at the target, besides the spine of every row; the table "
          f"itself stays on the cluster.")
    print(f"pool and runs in {base}")


def driver_memory(args, base: Path) -> None:
    """The Ray engine at several sizes: the driver's own peak RSS (it holds the spine, the columns
    driver stages read, and one row group while writing) and its private anonymous memory (RSS less
    the object store's shared pages it read), apart from Ray's processes (GCS, raylet, workers;
    shared object-store pages are counted in each process that maps them)."""
    print(f"{args.recipe} on the Ray engine, --batch-rows {args.batch_rows}, {os.cpu_count()} CPUs\n")
    print(f"{'traces':>9} {'seconds':>9} {'driver RSS':>11} {'driver anon':>12} {'Ray procs RSS':>14} "
          f"{'traces.parquet':>15}  largest frame the driver held")
    for n in args.driver_sizes:
        pool = base / f"pool-{n}"
        if not pool.exists():
            _, _, res, *_ = _cli("synth", "--out", str(pool), "--n", str(n), "--seed", "0", *SYNTH)
            if res.returncode:
                sys.exit(f"synth failed: {res.stderr.strip().splitlines()[-1:]}")
        out = base / f"run-ray-{n}"
        shutil.rmtree(out, ignore_errors=True)
        seconds, _, res, driver, rest, anon = _cli("curate", args.recipe, "--input", str(pool), "--out", str(out),
                                             "--engine", "ray", "--batch-rows", str(args.batch_rows))
        if res.returncode:
            sys.exit(f"ray: curate failed: {res.stderr.strip().splitlines()[-1:]}")
        import pyarrow.parquet as pq

        table_mb = pq.read_table(out / "traces.parquet").nbytes / 2**20
        largest = json.loads((out / "manifest.json").read_text())["engine"]["driver"]["largest"]
        print(f"{n:>9,} {seconds:>9.1f} {driver / 2**20:>9.0f}MB {anon / 2**20:>10.0f}MB {rest / 2**20:>12.0f}MB "
              f"{table_mb:>9.1f}MB Arrow  "
              f"{largest['rows']:,} x {largest['columns']} ({largest['what']})")
    print(f"pools and runs in {base}")


if __name__ == "__main__":
    main()
