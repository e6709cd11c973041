"""Peak memory of the bounded paths of issue 15, each measured in a fresh child process.

    python bench/memory.py [--rows 50000,200000]

Prints, in one run:
- MinHash dedup (the `dedup` stage's library call): peak RSS above the loaded input, per row, at
  two sizes (the per-row figure must not grow with the table), on random 40-word texts and on
  `distillery synth` pools with the demo recipe's settings (ngram 3, threshold 0.5). Random texts
  share almost no shingles, so they make few candidate pairs; synth's templated problems ("Solve
  ... for real x") make candidates that grow with the square of the pool, which is what MinHash
  must keep bounded (it checks them band by band, in chunks);
- one 100 MB `problem` through the budget stage's token counting: the whole text in one tokenizer
  call (as before) against `curate.tokens.count_tokens` (pieces), and their ratio;
- the same row through the format stage: dropped for its size, at what memory.
Numbers are measured, never asserted; tests check the behaviour.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r'''
import json, resource, sys, time
sys.path.insert(0, {root!r})
def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
def current():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096
case, n = {case!r}, {n}
import numpy as np, polars as pl
if case == "dedup":
    from curate.dedup import dedup_table
    rng = np.random.default_rng(0)
    vocab = np.array([f"w{{i}}" for i in range(20000)])
    words = vocab[rng.integers(0, len(vocab), size=(n, 40))]
    texts = [" ".join(r) for r in words]
    # one row in ten is a near copy of another: real pools repeat problems
    for i in range(0, n, 10):
        texts[i] = texts[(i * 7919) % n]
    frame = pl.DataFrame({{"trace_id": [f"t{{i}}" for i in range(n)], "problem": texts}})
    del texts, words
    base = current()
    t0 = time.perf_counter()
    res = dedup_table(frame, on="problem", method="minhash")
    out = {{"rows": n, "seconds": time.perf_counter() - t0, "peak_above_input": peak() - base}}
elif case == "dedup_synth":
    from curate import store
    from curate.dedup import dedup_table
    frame = pl.from_arrow(store.load_traces({pool!r}, check_ids=False)).select("trace_id", "problem_id", "problem")
    base = current()
    t0 = time.perf_counter()
    res = dedup_table(frame, on="problem", method="minhash", ngram=3, threshold=0.5)
    out = {{"rows": frame.height, "seconds": time.perf_counter() - t0, "peak_above_input": peak() - base,
            "units": res.stats["units"], "pairs": res.stats["pairs"],
            "pairs_with_other_math": res.stats.get("pairs_with_other_math", 0)}}
elif case in ("tokens_whole", "tokens_pieces"):
    from curate import tokens
    tok = tokens.load_tokenizer("builtin:minilm")
    text = ("Let x be the number of apples; then 3x + 4 = 19, so x = 5. " * 1_700_000)[:n]
    base = current()
    t0 = time.perf_counter()
    if case == "tokens_whole":
        count = len(tok.backend_tokenizer.encode(text, add_special_tokens=False).ids)
    else:
        count = tokens.count_tokens(tok, [text])[0]
    out = {{"tokens": count, "seconds": time.perf_counter() - t0, "peak_above_input": peak() - base}}
elif case == "format":
    from curate.stages import StageContext
    from curate.stages.format import Format, FormatConfig
    text = "x " * (n // 2)
    frame = pl.DataFrame({{"trace_id": ["a", "b"], "problem": [text, "short"], "thinking": ["t", "t"],
                           "response": ["\\boxed{{1}}", "\\boxed{{1}}"], "finish_reason": ["stop", "stop"],
                           "meta": pl.Series([None, None], dtype=pl.String)}})
    base = current()
    got = Format(FormatConfig()).run(frame, StageContext(seed=0))
    out = {{"drop_reason": got["drop_reason"].to_list(), "peak_above_input": peak() - base}}
print(json.dumps(out))
'''


def child(case: str, n: int, pool: Path | None = None) -> dict:
    code = CHILD.format(root=str(ROOT), case=case, n=n, pool=str(pool))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    if res.returncode != 0:
        return {"error": (res.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", default="50000,200000")
    ap.add_argument("--text-mb", type=int, default=100)
    ap.add_argument("--pools", help="folder for the synth pools (kept and reused; default: a temporary one)")
    args = ap.parse_args()
    mb = 1 << 20
    sizes = [int(x) for x in args.rows.split(",")]
    print("MinHash dedup (40-word problems, 10% near copies): peak RSS above the input")
    per_row = []
    for n in sizes:
        r = child("dedup", n)
        if "error" in r:
            print(f"  {n:>9,} rows: failed: {r['error']}")
            continue
        per_row.append(r["peak_above_input"] / n)
        print(f"  {n:>9,} rows: {r['peak_above_input'] / mb:8.1f} MB, {per_row[-1] / 1024:6.2f} KB/row, "
              f"{n / r['seconds']:,.0f} rows/s")
    if len(per_row) > 1:
        print(f"  KB/row at the largest size / at the smallest: {per_row[-1] / per_row[0]:.2f}")
    print("MinHash dedup (synth pools, the demo recipe's ngram 3 and threshold 0.5): peak RSS above the input")
    pools = Path(args.pools) if args.pools else Path(tempfile.mkdtemp(prefix="distillery-memory-"))
    per_row = []
    for n in sizes:
        pool = pools / f"pool-{n}"
        if not pool.is_dir():  # synth is seeded: a kept pool is the same pool
            made = subprocess.run([sys.executable, "-m", "curate.cli", "synth", "--out", str(pool), "--n", str(n),
                                   "--no-attempts"], capture_output=True, text=True,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)})
            if made.returncode:
                print(f"  {n:>9,} rows: synth failed: {(made.stderr.strip().splitlines() or ['?'])[-1]}")
                continue
        r = child("dedup_synth", n, pool)
        if "error" in r:
            print(f"  {n:>9,} rows: failed: {r['error']}")
            continue
        per_row.append(r["peak_above_input"] / n)
        print(f"  {n:>9,} rows: {r['peak_above_input'] / mb:8.1f} MB, {per_row[-1] / 1024:6.2f} KB/row, "
              f"{n / r['seconds']:,.0f} rows/s ({r['units']:,} problems, {r['pairs']:,} near-duplicate pairs, "
              f"{r['pairs_with_other_math']:,} like pairs with other numbers)")
    if len(per_row) > 1:
        print(f"  KB/row at the largest size / at the smallest: {per_row[-1] / per_row[0]:.2f}")
    n = args.text_mb * 1_000_000
    print(f"One {args.text_mb} MB text, token count (builtin:minilm): peak RSS above the input")
    whole, pieces = child("tokens_whole", n), child("tokens_pieces", n)
    for name, r in (("one call (before)", whole), ("pieces (now)", pieces)):
        if "error" in r:
            print(f"  {name:<18} failed: {r['error']}")
        else:
            print(f"  {name:<18} {r['peak_above_input'] / mb:8.1f} MB, {r['tokens']:,} tokens, {r['seconds']:.1f} s")
    if "error" not in whole and "error" not in pieces:
        print(f"  peak ratio before / now: {whole['peak_above_input'] / max(pieces['peak_above_input'], 1):.1f}x; "
              f"same count: {whole['tokens'] == pieces['tokens']}")
    r = child("format", n)
    print(f"The same text through the format stage: {r.get('drop_reason')}, "
          f"{r.get('peak_above_input', 0) / mb:.1f} MB above the input")


if __name__ == "__main__":
    main()
