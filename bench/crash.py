"""Kill `distillery curate` at 20 points and check every rerun gives the uninterrupted run's bytes.

    python bench/crash.py [--points 20] [--n 3000]

Points: the first half are write points chosen with DISTILLERY_CRASH_AT (the process SIGKILLs
itself with a file written under its temporary name, or between the renames that publish a run);
the rest are SIGKILLs sent after a random delay, landing wherever the run happens to be (inside a
stage, inside a Parquet write). After each kill the same command runs again to completion; its
traces.parquet, selected.parquet, recipe.yaml and stages/ must equal the reference run's bytes and
no temporary file may remain. Prints one line per point and a summary.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
RECIPE = """name: crash
seed: 0
stages:
  - exact_dedup: {on: problem, keep: first}
  - dedup: {method: minhash, on: problem, ngram: 3, threshold: 0.5}
  - format: {}
  - filter: {drop_where: "length(thinking) < 150", reason: thinking too short}
  - budget: {tokenizer: "builtin:minilm"}
  - rubric: {rubric: reasoning_quality}
  - select: {k: 500, strategy: top, by: score, if_fewer: all}
"""


def curate(recipe: Path, pool: Path, out: Path, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "curate.cli", "curate", str(recipe), "--input", str(pool),
                             "--out", str(out)], env={**ENV, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def content(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*"))
            if p.is_file() and not p.name.startswith(".") and p.name != "manifest.json"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=20)
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    base = Path(tempfile.mkdtemp(prefix="distillery-crash-"))
    recipe = base / "crash.yaml"
    recipe.write_text(RECIPE)
    pool = base / "pool"
    subprocess.run([sys.executable, "-m", "curate.cli", "synth", "--out", str(pool), "--n", str(args.n),
                    "--no-attempts"], env=ENV, check=True, capture_output=True)
    t0 = time.perf_counter()
    ref = curate(recipe, pool, base / "ref")
    assert ref.wait() == 0, ref.stderr.read()
    full = time.perf_counter() - t0
    want = content(base / "ref")
    ok = killed = 0
    for k in range(args.points):
        out = base / f"run{k}"
        if k < args.points // 2:
            at = k + 1
            proc = curate(recipe, pool, out, {"DISTILLERY_CRASH_AT": str(at)})
            how = f"write point {at}"
        else:
            delay = rng.uniform(0.3, 0.7 * full)  # the reference ran alone: reruns are often faster
            proc = curate(recipe, pool, out)
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            how = f"SIGKILL after {delay:.1f}s"
        code = proc.wait()
        killed += code == -signal.SIGKILL
        again = curate(recipe, pool, out)
        rerun = again.wait()
        same = rerun == 0 and content(out) == want
        left = list(out.rglob(".*.tmp"))
        good = same and not left
        ok += good
        print(f"{k + 1:>2}. {how:<22} first exit {code:>3}, rerun exit {rerun}, identical bytes: {same}, "
              f"tmp files left: {len(left)}{'' if good else '  <-- FAILED'}")
    print(f"{ok}/{args.points} points ({killed} killed, the rest finished first) resumed to the uninterrupted run's bytes "
          f"(reference run {full:.1f}s; folders in {base})")


if __name__ == "__main__":
    main()
