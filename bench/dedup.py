"""MinHash dedup benchmark: distillery against datasketch, on a planted-duplicate corpus, same run.

Corpus: N texts of Zipf-distributed words, 10% of them edited copies of others (word
substitutions and insertions, Jaccard spread over 0.55-1.0). Ground truth: every pair with word
5-gram Jaccard >= 0.8, from an exact all-pairs join (prefix filtering, then exact intersection
counts). Reported, for question-length (~250 characters) and trace-length (~3,500) texts:

  (a) datasketch: one `MinHash` per row, `update` per shingle, then `MinHashLSH` (0.8: 9 × 13)
  (b) datasketch: `MinHash.bulk`, then `MinHashLSH`
  (c) distillery: `dedup_table(method="minhash")` end to end (16 × 8 bands, exact Jaccard check)

docs/s, pair precision and recall at J >= 0.8, and the speed ratios (c)/(a), (c)/(b). All three
hash shingles with xxh32, as datasketch 2.x is asked to here. Shared machines are noisy: read the
ratios. Peak memory is printed at the end: `--n 1000000 --trace-n 0 --no-baselines --no-truth`
is the 1M-row memory check.

    python bench/dedup.py [--n 50000] [--trace-n 10000] [--no-baselines] [--no-truth]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import polars as pl
import xxhash

from curate import minhash
from curate.dedup import dedup_table
from curate.text import normalize_for_dedup

THRESHOLD = 0.8
NGRAM = 5


# ------------------------------------------------------------------------------------ corpus

def vocabulary(rng: np.random.Generator, size: int = 30_000) -> np.ndarray:
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    words = {"".join(rng.choice(letters, rng.integers(2, 10))) for _ in range(size * 2)}
    return np.array(sorted(words)[:size])


def corpus(n: int, words_per_doc: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """Texts and, for checking, each text's word ids. The last 10% are edited copies."""
    rng = np.random.default_rng(seed)
    vocab = vocabulary(rng)
    p = 1.0 / np.arange(1, len(vocab) + 1) ** 1.05
    p /= p.sum()
    cdf = np.cumsum(p)

    def draw(k):
        return np.minimum(np.searchsorted(cdf, rng.random(k)), len(vocab) - 1)

    n_copies = n // 10
    lengths = np.maximum(6, rng.normal(words_per_doc, words_per_doc / 5, n - n_copies).astype(int))
    docs = np.split(draw(lengths.sum()), np.cumsum(lengths)[:-1])
    for _ in range(n_copies):
        base = docs[rng.integers(0, n - n_copies)].copy()
        target = rng.uniform(0.55, 1.0)
        # Substituting a word changes up to NGRAM shingles: edits ≈ changed shingles / NGRAM.
        changed = len(base) * (1 - target) / (1 + target)
        for _ in range(int(round(changed / NGRAM * 1.5))):
            pos = rng.integers(0, len(base))
            if rng.random() < 0.8:
                base[pos] = draw(1)[0]
            else:
                base = np.insert(base, pos, draw(1)[0])
        docs.append(base)
    order = rng.permutation(n)  # copies anywhere, not only at the end
    docs = [docs[i] for i in order]
    return [" ".join(vocab[d]) for d in docs], docs


# ------------------------------------------------------------------------------- ground truth

def true_pairs(docs: list[np.ndarray], threshold: float) -> set[tuple[int, int]]:
    """All pairs with exact shingle-set Jaccard >= threshold (AllPairs prefix filtering: sets
    sorted rarest shingle first share a shingle in their prefixes whenever J >= threshold)."""
    rows = [np.lib.stride_tricks.sliding_window_view(d, NGRAM) if len(d) >= NGRAM else d[None, :]
            for d in docs]
    owner = np.repeat(np.arange(len(docs)), [len(r) for r in rows])
    _, sid = np.unique(np.concatenate([np.pad(r, ((0, 0), (0, NGRAM - r.shape[1]))) for r in rows]),
                       axis=0, return_inverse=True)
    sets = pl.DataFrame({"doc": owner, "s": sid.ravel()}).unique()
    freq = sets.group_by("s").len().rename({"len": "freq"})
    ranked = (sets.join(freq, on="s").sort("doc", "freq", "s")
              .with_columns(pl.int_range(pl.len()).over("doc").alias("rank"), pl.len().over("doc").alias("size")))
    prefix = ranked.filter(pl.col("rank") < pl.col("size") - (pl.col("size") * threshold).ceil() + 1)
    cand = (prefix.select("doc", "s").join(prefix.select("doc", "s"), on="s", suffix="_r")
            .filter(pl.col("doc") < pl.col("doc_r")).select("doc", "doc_r").unique())
    inter = (cand.join(sets, on="doc").join(sets.rename({"doc": "doc_r"}), on=["doc_r", "s"], how="semi")
             .group_by("doc", "doc_r").len())
    size = sets.group_by("doc").len().rename({"len": "n"})
    checked = (inter.join(size, on="doc").join(size.rename({"doc": "doc_r", "n": "n_r"}), on="doc_r")
               .with_columns((pl.col("len") / (pl.col("n") + pl.col("n_r") - pl.col("len"))).alias("j"))
               .filter(pl.col("j") >= threshold))
    return set(zip(checked["doc"].to_list(), checked["doc_r"].to_list()))


def score(found: set[tuple[int, int]], truth: set[tuple[int, int]]) -> tuple[float, float]:
    hit = len(found & truth)
    return hit / max(len(found), 1), hit / max(len(truth), 1)


# ---------------------------------------------------------------------------------- methods

def shingles(text: str) -> list[bytes]:
    w = normalize_for_dedup(text).split()
    return list({" ".join(w[i:i + NGRAM]).encode() for i in range(max(1, len(w) - NGRAM + 1))})


def lsh_pairs(sketches) -> set[tuple[int, int]]:
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=128)
    pairs = set()
    for k, m in enumerate(sketches):
        pairs.update((int(j), k) for j in lsh.query(m))
        lsh.insert(k, m)
    return pairs


def datasketch_update(texts: list[str]) -> set[tuple[int, int]]:
    from datasketch import MinHash

    sketches = []
    for t in texts:
        m = MinHash(num_perm=128, hashfunc=xxhash.xxh32_intdigest)
        for s in shingles(t):
            m.update(s)
        sketches.append(m)
    return lsh_pairs(sketches)


def datasketch_bulk(texts: list[str]) -> set[tuple[int, int]]:
    from datasketch import MinHash

    return lsh_pairs(MinHash.bulk([shingles(t) for t in texts], num_perm=128, hashfunc=xxhash.xxh32_intdigest))


def distillery(texts: list[str]) -> pl.DataFrame:
    return dedup_table(pl.DataFrame({"problem": texts}), method="minhash", threshold=THRESHOLD).columns


def distillery_pairs(texts: list[str]) -> set[tuple[int, int]]:
    """The checked pairs `dedup_table` clusters (its output is clusters, scored here as pairs)."""
    found = minhash.near_duplicates(minhash.sketch(texts), THRESHOLD)
    i, j = found.i, found.j
    return set(zip(i.tolist(), j.tolist()))


def timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def run(label: str, n: int, words_per_doc: int, baselines: bool, truth: bool) -> None:
    texts, docs = corpus(n, words_per_doc)
    chars = np.mean([len(t) for t in texts])
    print(f"\n{label}: {n:,} texts, {chars:,.0f} characters on average")
    if truth:
        pairs, t_truth = timed(true_pairs, docs, THRESHOLD)
        print(f"  {len(pairs):,} true pairs at J ≥ {THRESHOLD} (exact all-pairs join, {t_truth:.1f}s)")
    del docs
    for fn in (distillery, datasketch_bulk, datasketch_update):  # imports and first calls off the clock
        fn(texts[:200])
    cols, t_c = timed(distillery, texts)
    quality = "  precision {:.4f}  recall {:.4f}".format(*score(distillery_pairs(texts), pairs)) if truth else ""
    print(f"  (c) distillery dedup_table       {n / t_c:>10,.0f} docs/s{quality}"
          f"  ({cols['drop_reason'].is_not_null().sum():,} rows dropped)")
    if not baselines:
        return
    for name, fn in (("(b) datasketch bulk + LSH", datasketch_bulk), ("(a) datasketch update + LSH", datasketch_update)):
        found, t = timed(fn, texts)
        quality = "  precision {:.4f}  recall {:.4f}".format(*score(found, pairs)) if truth else ""
        print(f"  {name:<32} {n / t:>10,.0f} docs/s{quality}   distillery is {t / t_c:.1f}x faster")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=50_000, help="question-length texts")
    ap.add_argument("--trace-n", type=int, default=10_000, help="trace-length texts (0: skip)")
    ap.add_argument("--baselines", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--truth", action=argparse.BooleanOptionalAction, default=True,
                    help="compute the exact ground truth (precision, recall)")
    args = ap.parse_args()
    run("question length", args.n, 45, args.baselines, args.truth)
    if args.trace_n:
        run("trace length", args.trace_n, 560, args.baselines, args.truth)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"\npeak memory {peak:.2f} GiB")


if __name__ == "__main__":
    main()
