"""MinHash near-duplicate detection over whole columns: shingles, signatures, banding, clusters.

Signatures are bit-identical to datasketch 2.x's default scheme ("affine32") with
`hashfunc=xxhash.xxh32_intdigest`: for a shingle set S and datasketch's own permutations
`(a, b) = MinHash(num_perm, seed).permutations`,

    signature[k] = min over s in S of  a[k] * fmix32(xxh32(s)) + b[k]   (mod 2^32)

but computed with numpy over every row of a column at once, never one Python object per row.

A shingle is `ngram` consecutive words of the normalised text, encoded as the `ngram` xxh32
hashes of its words (little endian, 4 bytes each; see `shingle_bytes`). The fixed width is what
lets xxh32 run vectorised over millions of shingles; feeding the same bytes to
`datasketch.MinHash(hashfunc=xxhash.xxh32_intdigest)` gives the same signature. A text shorter
than `ngram` words is one shingle, padded with zero hashes; an empty text has no shingles and
never matches anything.

Pairs: signatures are cut into `bands` × `rows`; rows sharing any band key are candidates, found
by grouping band keys (Polars, or DuckDB when the key table would not fit in memory), and each
candidate is checked by exact Jaccard on its shingle sets (or the signature estimate). Clusters
are the connected components of the checked pairs. Signatures can be saved as a Parquet index and
a new batch matched against it.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from curate import parallel
from curate.errors import BadInput
from curate.text import normalize_for_dedup

NUM_PERM = 128
NGRAM = 5
SEED = 1
INDEX_META = b"distillery.minhash"
# Band keys are grouped in memory up to this many (row, band) entries, in DuckDB beyond it.
DUCKDB_ABOVE = 200_000_000
# Rows in one band bucket beyond which the bucket is paired as a star, not all pairs.
MAX_BUCKET = 256
# Texts whose signatures are built together: (texts × num_perm) uint32 stays in a core's L2 cache.
TEXTS_PER_PASS = 512
THREADS = min(8, os.cpu_count() or 1)

Engine = Literal["auto", "polars", "duckdb"]

_P1, _P2, _P3, _P4, _P5 = (np.uint32(p) for p in (2654435761, 2246822519, 3266489917, 668265263, 374761393))
_M64 = np.uint64(0x9E3779B97F4A7C15)


# ---------------------------------------------------------------------------------- hashing

def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def xxh32_words(columns: list[np.ndarray], seed: int = 0) -> np.ndarray:
    """xxh32 of each row of k uint32 columns, the row read as 4k little-endian bytes.

    The reference algorithm (xxhash spec) restricted to inputs of whole 32-bit words, so it
    vectorises: equal to `xxhash.xxh32_intdigest(row.astype("<u4").tobytes(), seed)`."""
    k = len(columns)
    n = len(columns[0])
    s = np.uint32(seed)
    with np.errstate(over="ignore"):
        pos = 0
        if k >= 4:
            v = [np.full(n, s + _P1 + _P2, np.uint32), np.full(n, s + _P2, np.uint32),
                 np.full(n, s, np.uint32), np.full(n, s - _P1, np.uint32)]
            while pos + 4 <= k:
                for lane in range(4):
                    v[lane] = _rotl(v[lane] + columns[pos + lane] * _P2, 13) * _P1
                pos += 4
            h = _rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)
        else:
            h = np.full(n, s + _P5, np.uint32)
        h += np.uint32(4 * k)
        for i in range(pos, k):
            h = _rotl(h + columns[i] * _P3, 17) * _P4
        h ^= h >> np.uint32(15)
        h *= _P2
        h ^= h >> np.uint32(13)
        h *= _P3
        h ^= h >> np.uint32(16)
    return h


def fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's finaliser: datasketch's affine schemes pre-mix every input hash with it."""
    with np.errstate(over="ignore"):
        h = h ^ (h >> np.uint32(16))
        h = h * np.uint32(0x85EBCA6B)
        h = h ^ (h >> np.uint32(13))
        h = h * np.uint32(0xC2B2AE35)
        return h ^ (h >> np.uint32(16))


def combine64(columns: list[np.ndarray]) -> np.ndarray:
    """One 64-bit key per row of k unsigned columns (band keys, decontam n-grams). A collision
    only adds a candidate that a later check removes, or needs 2^-64 luck."""
    with np.errstate(over="ignore"):
        key = np.full(len(columns[0]), np.uint64(len(columns)), np.uint64)
        for col in columns:
            key = (key ^ col.astype(np.uint64)) * _M64
            key ^= key >> np.uint64(29)
        return key


# --------------------------------------------------------------------------------- shingling

def normalize_column(texts, normalize: Callable[[str], str]) -> pa.Array:
    return pa.array([normalize(t) for t in _as_list(texts)], pa.string())


def _as_list(texts) -> list[str]:
    if isinstance(texts, (pl.Series, pa.Array, pa.ChunkedArray)):
        texts = texts.to_list() if isinstance(texts, pl.Series) else texts.to_pylist()
    return ["" if t is None else str(t) for t in texts]


@dataclass(frozen=True)
class Words:
    """Every text's words as hashes, concatenated: text d owns hashes[offsets[d]:offsets[d+1]]."""

    hashes: np.ndarray
    offsets: np.ndarray

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)


def words(texts: pa.Array, wide: bool = False) -> Words:
    """Split normalised texts (words separated by spaces) and hash each word: xxh32, or
    xxh3_64 when `wide` (decontam's exact n-gram match wants 64 bits). Each distinct word is
    hashed once."""
    split = pc.split_pattern(texts, " ")
    flat = pc.list_flatten(split)
    real = pc.not_equal(flat, "").to_numpy(zero_copy_only=False)  # from empty texts, doubled spaces
    parent = pc.list_parent_indices(split).to_numpy()[real]
    offsets = np.zeros(len(texts) + 1, np.int64)
    np.cumsum(np.bincount(parent, minlength=len(texts)), out=offsets[1:])
    encoded = pc.dictionary_encode(flat.filter(pa.array(real)))
    fn, dtype = (xxhash.xxh3_64_intdigest, np.uint64) if wide else (xxhash.xxh32_intdigest, np.uint32)
    vocab = np.fromiter((fn(w.encode()) for w in encoded.dictionary.to_pylist()), dtype,
                        count=len(encoded.dictionary))
    return Words(vocab[encoded.indices.to_numpy(zero_copy_only=False)], offsets)


def ngram_hashes(w: Words, n: int, hash_columns: Callable[[list[np.ndarray]], np.ndarray]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """`hash_columns` of every word n-gram of every text (given as n word-hash columns), and the
    text of each, grouped by text in order. A text of 1..n-1 words is one n-gram padded with zero
    hashes; an empty text has none.

    The n-grams of long texts are hashed at every position of the concatenated words at once
    (column i is a view, words[i:]), and the few that straddle two texts are dropped after."""
    lengths, flat = w.lengths, w.hashes
    text_of_word = np.repeat(np.arange(len(lengths)), lengths)
    hashes, owners = [], []
    m = len(flat) - n + 1
    if m > 0:
        inside = text_of_word[:m] == text_of_word[n - 1:]
        hashes.append(hash_columns([flat[i:m + i] for i in range(n)])[inside])
        owners.append(text_of_word[:m][inside])
    short = np.nonzero((lengths > 0) & (lengths < n))[0]
    if len(short):
        pad = np.zeros((len(short), n), flat.dtype)
        pos = np.arange(len(flat)) - w.offsets[text_of_word]
        is_short = (lengths[text_of_word] < n)
        pad[np.searchsorted(short, text_of_word[is_short]), pos[is_short]] = flat[is_short]
        hashes.append(hash_columns([pad[:, i] for i in range(n)]))
        owners.append(short)
    if not hashes:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    h, owner = np.concatenate(hashes), np.concatenate(owners)
    if len(short):
        order = np.argsort(owner, kind="stable")
        h, owner = h[order], owner[order]
    return h, owner


def shingle_bytes(text: str, ngram: int = NGRAM, normalize: Callable[[str], str] | None = None) -> list[bytes]:
    """One text's shingles as the bytes `sketch` hashes: what to feed datasketch for the same
    signature (`MinHash(hashfunc=xxhash.xxh32_intdigest).update_batch(shingle_bytes(t))`)."""
    hashes = words(normalize_column([text], normalize or normalize_for_dedup)).hashes
    if 0 < len(hashes) < ngram:
        hashes = np.concatenate([hashes, np.zeros(ngram - len(hashes), np.uint32)])
    return [hashes[i:i + ngram].astype("<u4").tobytes() for i in range(len(hashes) - ngram + 1)]


# -------------------------------------------------------------------------------- signatures

def permutations(num_perm: int = NUM_PERM, seed: int = SEED) -> np.ndarray:
    """datasketch's own (2, num_perm) uint32 permutation parameters for `MinHash(num_perm, seed)`."""
    from datasketch import MinHash

    m = MinHash(num_perm=num_perm, seed=seed)
    if getattr(m, "scheme", None) != "affine32":
        raise BadInput("MinHash dedup needs datasketch >= 2.0 (the affine32 scheme): pip install -U datasketch")
    return np.asarray(m.permutations, np.uint32)


def signatures_from_hashes(hashes: np.ndarray, text: np.ndarray, n_texts: int, perms: np.ndarray) -> np.ndarray:
    """(n_texts, num_perm) signatures from shingle hashes grouped by text (text ids ascending).
    Texts without shingles keep datasketch's empty value, 2^32 - 1 everywhere.

    Texts of similar length go together, TEXTS_PER_PASS at a time, as a (texts, longest) matrix
    whose short rows repeat their own first shingle (a repeat cannot change a minimum); then one
    shingle column at a time is permuted into a cache-sized (num_perm, texts) running minimum.
    numpy releases the GIL in these loops, so passes run on several threads."""
    a, b = perms[0][:, None], perms[1][:, None]
    sig = np.full((n_texts, a.shape[0]), np.iinfo(np.uint32).max, np.uint32)
    counts = np.bincount(text, minlength=n_texts)
    starts = np.concatenate(([0], np.cumsum(counts)))[:-1]
    mixed = fmix32(hashes)
    order = np.argsort(counts, kind="stable")
    order = order[counts[order] > 0]

    def one_pass(docs: np.ndarray) -> None:
        c = counts[docs]
        cols = np.arange(c.max())
        h = np.ascontiguousarray(mixed[starts[None, docs] + np.where(cols[:, None] < c, cols[:, None], 0)])
        best = np.full((a.shape[0], len(docs)), np.iinfo(np.uint32).max, np.uint32)
        t = np.empty_like(best)
        with np.errstate(over="ignore"):
            for k in cols:
                np.multiply(a, h[k], out=t)
                t += b
                np.minimum(best, t, out=best)
        sig[docs] = best.T

    passes = [order[lo:lo + TEXTS_PER_PASS] for lo in range(0, len(order), TEXTS_PER_PASS)]
    with ThreadPoolExecutor(max_workers=min(THREADS, len(passes)) or 1) as pool:
        list(pool.map(one_pass, passes))
    return sig


@dataclass
class Sketches:
    """Signatures of a column of texts plus their shingle sets (for exact Jaccard checks)."""

    signatures: np.ndarray  # (n, num_perm) uint32
    shingle_text: np.ndarray  # which text each shingle belongs to (ascending)
    shingle_hash: np.ndarray  # xxh32 of the shingle

    def __len__(self) -> int:
        return self.signatures.shape[0]


# Chunks of texts are sketched, LSH bands grouped and candidate pairs checked with
# `curate.parallel.map_parts`: here, or on a cluster's workers while an engine spreads a stage. A
# text's signature depends on that text only, a band's pairs on that band only, a pair's Jaccard on
# that pair's two shingle sets only, so the chunking and the place change no bit of the result.
mapped = parallel.mapped  # where the engines and the tests set the mapper


def _sketch_chunk(chunk: pa.Array, ngram: int, perms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(signatures, owning text within the chunk, hash) of each shingle of one chunk of texts."""
    h, text = ngram_hashes(words(chunk), ngram, xxh32_words)
    return signatures_from_hashes(h, text, len(chunk), perms), text, h


def sketch(texts, ngram: int = NGRAM, num_perm: int = NUM_PERM, seed: int = SEED,
           normalize: Callable[[str], str] | None = None, normalized: bool = False,
           batch: int = 50_000) -> Sketches:
    """MinHash signatures and shingle sets of every text, `batch` texts at a time. Texts are
    normalised by `normalize` (default `normalize_for_dedup`) unless already `normalized`."""
    if normalized and isinstance(texts, pl.Series):
        texts = texts.cast(pl.String).fill_null("").to_arrow()
    elif normalized:
        texts = pa.array(_as_list(texts), pa.string())
    else:
        texts = normalize_column(texts, normalize or normalize_for_dedup)
    perms = permutations(num_perm, seed)
    sigs, owners, hashes = [], [], []
    batch = parallel.part_size(batch)
    starts = list(range(0, len(texts), batch))
    parts = parallel.map_parts(functools.partial(_sketch_chunk, ngram=ngram, perms=perms),
                               [texts[start:start + batch] for start in starts])
    for start, (sig, text, h) in zip(starts, parts):
        sigs.append(sig)
        owners.append((text + start).astype(np.uint32))
        hashes.append(h)
    if not texts:
        return Sketches(np.zeros((0, num_perm), np.uint32), np.zeros(0, np.uint32), np.zeros(0, np.uint32))
    return Sketches(np.concatenate(sigs), np.concatenate(owners), np.concatenate(hashes))


# ----------------------------------------------------------------------------------- banding

def choose_bands(threshold: float, num_perm: int = NUM_PERM, target_recall: float = 0.99) -> int:
    """Bands for `num_perm` chosen for recall: the most rows per band (fewest false candidates)
    whose chance of making a pair a candidate, averaged over J in [threshold, 1], reaches
    `target_recall`. At 0.8 and 128 permutations that is 16 × 8 (~99%), where datasketch's
    "optimal" 9 × 13 catches ~83%: candidates are checked afterwards, so recall is what costs."""
    js = threshold + (1 - threshold) * (np.arange(400) + 0.5) / 400
    for rows in sorted((r for r in range(1, num_perm + 1) if num_perm % r == 0), reverse=True):
        bands = num_perm // rows
        if np.mean(1 - (1 - js ** rows) ** bands) >= target_recall:
            return bands
    return num_perm


def rows_per_band(num_perm: int, bands: int) -> int:
    if bands <= 0 or num_perm % bands:
        raise BadInput(f"num_perm {num_perm} is not divisible into {bands} bands "
                       f"(bands must divide num_perm, e.g. 16 bands × 8 rows for 128)")
    return num_perm // bands


def band_keys(signatures: np.ndarray, bands: int) -> np.ndarray:
    """(n, bands) uint64: one key per band, equal when the band's rows are equal."""
    n, num_perm = signatures.shape
    rows = rows_per_band(num_perm, bands)
    flat = signatures.reshape(n * bands, rows)
    return combine64([flat[:, i] for i in range(rows)]).reshape(n, bands)


def _band_frame(keys: np.ndarray, offset: int = 0) -> pl.DataFrame:
    n, bands = keys.shape
    return pl.DataFrame({"doc": np.repeat(np.arange(offset, offset + n, dtype=np.int64), bands),
                         "band": np.tile(np.arange(bands, dtype=np.int16), n),
                         "key": keys.ravel()})


def candidate_pairs(keys: np.ndarray, other: np.ndarray | None = None,
                    engine: Engine = "auto") -> tuple[np.ndarray, np.ndarray]:
    """Pairs sharing a band key: (i, j) with i < j within `keys`, or (i, j) = (row of keys,
    row of other) when matching a batch against an index. Each pair once, sorted.

    A bucket of more than MAX_BUCKET rows (thousands of copies of one template) gives each of its
    rows one pair with the bucket's first row instead of all k²/2 pairs, which would not fit in
    memory; pairs missed that way can still meet in another band."""
    size = keys.size + (0 if other is None else other.size)
    if engine == "duckdb" or (engine == "auto" and size > DUCKDB_ABOVE):
        return _pairs_duckdb(keys, other)
    # One band at a time: the grouping's peak memory is one band's key table, not all of them
    # (a (row, band) table with a window over it cost ~2 KB per row), and the pairs found are the
    # same, since rows share a (band, key) exactly when they share a key within that band.
    # Bands are independent: an engine may group them in parallel (`mapped`), with the same result.
    found = parallel.map_parts(_band_pairs, [(keys[:, band], None if other is None else other[:, band])
                                             for band in range(keys.shape[1])])
    pairs = (pl.concat(found).unique() if found else pl.DataFrame(schema={"doc": pl.Int64, "doc_r": pl.Int64}))
    pairs = pairs.sort("doc", "doc_r")
    return pairs["doc"].to_numpy(), pairs["doc_r"].to_numpy()


def _band_pairs(columns: tuple[np.ndarray, np.ndarray | None]) -> pl.DataFrame:
    """The pairs (doc, doc_r) sharing a key in one band (see `candidate_pairs`)."""
    mine, theirs = columns
    left = pl.DataFrame({"doc": np.arange(mine.shape[0], dtype=np.int64), "key": mine})
    if theirs is None:
        bucket = pl.len().over("key")
        left = left.filter(bucket > 1).with_columns(bucket.alias("size"))  # most keys are unique
        small = left.filter(pl.col("size") <= MAX_BUCKET)
        pairs = (small.join(small, on="key", suffix="_r")
                 .filter(pl.col("doc") < pl.col("doc_r")).select("doc", "doc_r"))
        star = (left.filter(pl.col("size") > MAX_BUCKET)
                .select(pl.col("doc").min().over("key").alias("doc"), pl.col("doc").alias("doc_r"))
                .filter(pl.col("doc") != pl.col("doc_r")))
        pairs = pl.concat([pairs, star])
    else:
        right = pl.DataFrame({"doc_r": np.arange(theirs.shape[0], dtype=np.int64), "key": theirs})
        pairs = left.join(right, on="key")
    return pairs.select("doc", "doc_r").unique()


def _pairs_duckdb(keys: np.ndarray, other: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The same grouping in DuckDB, which spills to disk when the key table outgrows memory."""
    import tempfile

    import duckdb

    con = duckdb.connect()
    try:
        con.execute(f"SET temp_directory = '{tempfile.gettempdir()}/distillery-duckdb'")
        con.register("a", _band_frame(keys).to_arrow())
        if other is None:
            sql = f"""WITH s AS (SELECT *, count(*) OVER w AS size, min(doc) OVER w AS first FROM a
                                 WINDOW w AS (PARTITION BY band, key) QUALIFY size > 1)
                      SELECT DISTINCT i, j FROM (
                          SELECT x.doc AS i, y.doc AS j FROM s x JOIN s y
                          ON x.band = y.band AND x.key = y.key AND x.doc < y.doc WHERE x.size <= {MAX_BUCKET}
                          UNION ALL
                          SELECT first AS i, doc AS j FROM s WHERE size > {MAX_BUCKET} AND doc <> first)
                      ORDER BY i, j"""
        else:
            con.register("b", _band_frame(other).to_arrow())
            sql = """SELECT DISTINCT a.doc AS i, b.doc AS j FROM a JOIN b
                     ON a.band = b.band AND a.key = b.key ORDER BY i, j"""
        out = con.execute(sql).fetchnumpy()
    finally:
        con.close()
    return np.asarray(out["i"], np.int64), np.asarray(out["j"], np.int64)


# ------------------------------------------------------------------------------------ checks

def estimate(sig_a: np.ndarray, sig_b: np.ndarray, i: np.ndarray, j: np.ndarray,
             chunk: int = 1 << 16) -> np.ndarray:
    """datasketch's Jaccard estimate (share of equal signature values) for pairs (i in a, j in b)."""
    out = np.empty(len(i), np.float64)
    for s in range(0, len(i), chunk):
        out[s:s + chunk] = (sig_a[i[s:s + chunk]] == sig_b[j[s:s + chunk]]).mean(axis=1)
    return out


def jaccard(sk: Sketches, i: np.ndarray, j: np.ndarray, rows_per_pass: int = 20_000_000) -> np.ndarray:
    """Exact Jaccard of the shingle sets of texts i and j, for each pair, by joins in Polars.

    The pairs are checked in parts (`curate.parallel`: all at once here, `batch` pairs a task on an
    engine that spreads the work); a part carries its pairs and the shingles of the texts in them
    only, never the whole column's."""
    if not len(i):
        return np.zeros(0)
    size = parallel.part_size(len(i))
    parts = [_pairs_with_shingles(sk, i[lo:lo + size], j[lo:lo + size]) for lo in range(0, len(i), size)]
    found = parallel.map_parts(functools.partial(_jaccard_part, rows_per_pass=rows_per_pass), parts)
    return np.concatenate(found)


def _pairs_with_shingles(sk: Sketches, i: np.ndarray, j: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i, j) renumbered over the texts they involve, with those texts' shingles (owner, hash)."""
    docs = np.unique(np.concatenate([i, j]))
    lo = np.searchsorted(sk.shingle_text, docs, "left")
    hi = np.searchsorted(sk.shingle_text, docs, "right")
    counts = hi - lo
    at = np.repeat(lo - np.concatenate(([0], np.cumsum(counts)[:-1])), counts) + np.arange(counts.sum())
    owner = np.repeat(np.arange(len(docs), dtype=np.int64), counts)
    return np.searchsorted(docs, i), np.searchsorted(docs, j), owner, sk.shingle_hash[at]


def _jaccard_part(part: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], rows_per_pass: int) -> np.ndarray:
    """Exact Jaccard of each pair of one part (see `_pairs_with_shingles`)."""
    i, j, owner, hashes = part
    sets = pl.DataFrame({"doc": owner, "h": hashes}).unique()
    sizes = np.zeros(max(int(i.max()), int(j.max())) + 1, np.int64)
    counted = sets.group_by("doc").len()
    sizes[counted["doc"].to_numpy()] = counted["len"].to_numpy()
    inter = np.zeros(len(i), np.int64)
    # Pairs in passes so the exploded (pair, shingle) table stays bounded on long texts.
    cum = np.cumsum(sizes[i])
    cuts = np.unique(np.concatenate([[0], np.searchsorted(cum, np.arange(rows_per_pass, cum[-1], rows_per_pass)),
                                     [len(i)]]))
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        pairs = pl.DataFrame({"pair": np.arange(lo, hi), "i": i[lo:hi], "j": j[lo:hi]})
        hits = (pairs.join(sets, left_on="i", right_on="doc")
                .join(sets, left_on=["j", "h"], right_on=["doc", "h"], how="semi")
                .group_by("pair").len())
        inter[hits["pair"].to_numpy()] = hits["len"].to_numpy()
    union = sizes[i] + sizes[j] - inter
    return np.where(union > 0, inter / np.maximum(union, 1), 0.0)


def connected_components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Label of each node's component: its smallest member. Vectorised union by hooking roots
    onto smaller roots, then pointer jumping, until every edge joins equal labels."""
    parent = np.arange(n)
    i, j = np.asarray(i, np.int64), np.asarray(j, np.int64)
    while len(i):
        pi, pj = parent[i], parent[j]
        lo, hi = np.minimum(pi, pj), np.maximum(pi, pj)
        apart = lo != hi
        if not apart.any():
            break
        np.minimum.at(parent, hi[apart], lo[apart])
        while True:
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped
    return parent


def near_duplicates(sk: Sketches, threshold: float, bands: int | None = None,
                    check: Literal["jaccard", "signature"] = "jaccard",
                    engine: Engine = "auto") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i < j) of texts with (checked) similarity >= threshold, and that similarity."""
    num_perm = sk.signatures.shape[1]
    bands = bands or choose_bands(threshold, num_perm)
    i, j = candidate_pairs(band_keys(sk.signatures, bands), engine=engine)
    sim = jaccard(sk, i, j) if check == "jaccard" else estimate(sk.signatures, sk.signatures, i, j)
    ok = sim >= threshold
    return i[ok], j[ok], sim[ok]


# ------------------------------------------------------------------------------------- index

@dataclass(frozen=True)
class Index:
    """Saved signatures: `id` (string) and `signature` (uint32[num_perm]) per row, plus the
    parameters they were made with (a batch is only comparable under the same ones)."""

    ids: list[str]
    signatures: np.ndarray
    ngram: int
    seed: int

    @property
    def num_perm(self) -> int:
        return self.signatures.shape[1]

    def check_compatible(self, ngram: int, num_perm: int, seed: int, where: str) -> None:
        mine = {"ngram": self.ngram, "num_perm": self.num_perm, "seed": self.seed}
        theirs = {"ngram": ngram, "num_perm": num_perm, "seed": seed}
        if mine != theirs:
            raise BadInput(f"{where}: index was built with {mine}, this run uses {theirs}")

    def match(self, signatures: np.ndarray, threshold: float, bands: int | None = None,
              engine: Engine = "auto") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row of `signatures`, row of the index, estimated J) for pairs at or above threshold.
        Only signatures are saved, so the check is the signature estimate."""
        bands = bands or choose_bands(threshold, self.num_perm)
        i, j = candidate_pairs(band_keys(signatures, bands), band_keys(self.signatures, bands), engine)
        sim = estimate(signatures, self.signatures, i, j)
        ok = sim >= threshold
        return i[ok], j[ok], sim[ok]

    def extended(self, ids: list[str], signatures: np.ndarray) -> Index:
        return Index(self.ids + list(ids), np.concatenate([self.signatures, signatures]), self.ngram, self.seed)


def save_index(index: Index, path: Path) -> Path:
    from curate import store

    flat = pa.array(index.signatures.ravel(), pa.uint32())
    table = pa.table({"id": pa.array(index.ids, pa.string()),
                      "signature": pa.FixedSizeListArray.from_arrays(flat, index.num_perm)})
    meta = {INDEX_META.decode(): json.dumps({"ngram": index.ngram, "seed": index.seed,
                                             "num_perm": index.num_perm, "scheme": "affine32",
                                             "hashfunc": "xxh32"})}
    return store.write_parquet(table, Path(path), metadata=meta)


def load_index(path: Path) -> Index:
    from curate import store

    table = store.read_parquet(Path(path))
    meta = (table.schema.metadata or {}).get(INDEX_META)
    if meta is None or not {"id", "signature"} <= set(table.column_names):
        raise BadInput(f"{path}: not a distillery MinHash index (needs columns id, signature)")
    params = json.loads(meta)
    sig = table.column("signature").combine_chunks()
    values = sig.flatten().to_numpy(zero_copy_only=False).astype(np.uint32)
    signatures = values.reshape(len(table), params["num_perm"])
    return Index(table.column("id").to_pylist(), signatures, params["ngram"], params["seed"])


def empty_index(ngram: int, num_perm: int, seed: int) -> Index:
    return Index([], np.zeros((0, num_perm), np.uint32), ngram, seed)
