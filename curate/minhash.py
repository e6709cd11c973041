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

Pairs: signatures are cut into `bands` × `rows`; rows sharing any band key are candidates. Each
band's candidates are made, checked by exact Jaccard on their shingle sets (or the signature
estimate) and filtered in bounded chunks, skipping pairs an earlier band made (`search_pairs`), so
only the pairs that pass are ever held together. Clusters are the connected components of those.
Signatures can be saved as a Parquet index and a new batch matched against it.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
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
# Rows in one band bucket beyond which the bucket is paired as a star, not all pairs.
MAX_BUCKET = 256
# Texts whose signatures are built together: (texts × num_perm) uint32 stays in a core's L2 cache.
TEXTS_PER_PASS = 512
THREADS = min(8, os.cpu_count() or 1)

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

    def take(self, rows: np.ndarray, shingles: bool = True, signatures: bool = True) -> Sketches:
        """The sketches of texts `rows`, renumbered 0..len(rows)-1 in that order; without the
        shingle sets or the signatures when a check does not need them (a sketch without them
        gives none: a band partition carries only what its check reads)."""
        sig = self.signatures[rows] if signatures else np.zeros((len(rows), 0), np.uint32)
        if not shingles:
            return Sketches(sig, np.zeros(0, np.uint32), np.zeros(0, np.uint32))
        lo = np.searchsorted(self.shingle_text, rows, "left")
        counts = np.searchsorted(self.shingle_text, rows, "right") - lo
        at = np.repeat(lo - np.concatenate(([0], np.cumsum(counts)[:-1])), counts) + np.arange(counts.sum())
        return Sketches(sig, np.repeat(np.arange(len(rows), dtype=np.uint32), counts), self.shingle_hash[at])

    @staticmethod
    def concat(parts: list[Sketches]) -> Sketches:
        """One Sketches of several, texts numbered on in order."""
        sizes = np.cumsum([0] + [len(p) for p in parts])
        return Sketches(np.concatenate([p.signatures for p in parts]),
                        np.concatenate([p.shingle_text.astype(np.int64) + k for p, k in zip(parts, sizes)]).astype(np.uint32),
                        np.concatenate([p.shingle_hash for p in parts]))


# Chunks of texts are sketched, LSH bands grouped and candidate pairs checked with
# `curate.parallel.map_parts`: here, or on a cluster's workers while an engine spreads a stage. A
# text's signature depends on that text only, a band's pairs on that band only, a pair's Jaccard on
# that pair's two shingle sets only, so the chunking and the place change no bit of the result.

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


# ------------------------------------------------------------------------------------ checks

def estimate(sig_a: np.ndarray, sig_b: np.ndarray, i: np.ndarray, j: np.ndarray,
             chunk: int = 1 << 16) -> np.ndarray:
    """datasketch's Jaccard estimate (share of equal signature values) for pairs (i in a, j in b)."""
    out = np.empty(len(i), np.float64)
    for s in range(0, len(i), chunk):
        out[s:s + chunk] = (sig_a[i[s:s + chunk]] == sig_b[j[s:s + chunk]]).mean(axis=1)
    return out


_LOW32 = np.uint64(0xFFFFFFFF)


@dataclass(frozen=True)
class ShingleSets:
    """Texts' distinct shingles as one sorted uint64 array of (text << 32 | shingle hash): text t
    owns keys[starts[t]:starts[t] + sizes[t]]. A pair's intersection is then a vectorised binary
    search of one text's keys, re-labelled with the other text, in the whole array."""

    keys: np.ndarray
    starts: np.ndarray
    sizes: np.ndarray

    @classmethod
    def of(cls, owner: np.ndarray, hashes: np.ndarray, n_texts: int) -> ShingleSets:
        keys = np.unique((owner.astype(np.uint64) << np.uint64(32)) | hashes.astype(np.uint64))
        sizes = np.bincount((keys >> np.uint64(32)).astype(np.int64), minlength=n_texts)
        return cls(keys, np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64), sizes)

    def jaccard(self, i: np.ndarray, j: np.ndarray, rows_per_pass: int, other: ShingleSets | None = None
                ) -> np.ndarray:
        """Exact Jaccard of texts i and j (of `other`, when given), for each pair: the smaller set
        of each pair is looked up in the other, in passes of at most about `rows_per_pass`
        (pair, shingle) rows."""
        other = self if other is None else other
        if not len(i):
            return np.zeros(0)
        first = self.sizes[i] <= other.sizes[j]  # i's set is the smaller: look it up in j's
        inter = np.zeros(len(i), np.int64)
        inter[first] = _intersections(self, i[first], other, j[first], rows_per_pass)
        inter[~first] = _intersections(other, j[~first], self, i[~first], rows_per_pass)
        union = self.sizes[i] + other.sizes[j] - inter
        return np.where(union > 0, inter / np.maximum(union, 1), 0.0)


def _intersections(src: ShingleSets, a: np.ndarray, dst: ShingleSets, b: np.ndarray, rows_per_pass: int
                   ) -> np.ndarray:
    """For each pair, how many of text a's shingles (in `src`) text b has (in `dst`): a's keys,
    re-labelled with b, binary-searched in dst's array, in passes of about `rows_per_pass` rows."""
    inter = np.zeros(len(a), np.int64)
    rows = src.sizes[a]
    if not len(a) or not len(dst.keys) or not rows.sum():
        return inter
    cum = np.cumsum(rows)
    cuts = np.unique(np.concatenate([[0], np.searchsorted(cum, np.arange(rows_per_pass, cum[-1], rows_per_pass)),
                                     [len(a)]]))
    last = len(dst.keys) - 1
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        c = rows[lo:hi]
        ends = np.cumsum(c)
        at = np.repeat(src.starts[a[lo:hi]] - (ends - c), c) + np.arange(ends[-1] if len(ends) else 0)
        wanted = (src.keys[at] & _LOW32) | np.repeat(b[lo:hi].astype(np.uint64) << np.uint64(32), c)
        found = dst.keys[np.minimum(np.searchsorted(dst.keys, wanted), last)] == wanted
        running = np.concatenate(([0], np.cumsum(found)))
        inter[lo:hi] = running[ends] - running[ends - c]
    return inter


def jaccard(sk: Sketches, i: np.ndarray, j: np.ndarray, rows_per_pass: int = 1 << 22) -> np.ndarray:
    """Exact Jaccard of the shingle sets of texts i and j, for each pair.

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
    return ShingleSets.of(owner, hashes, max(int(i.max()), int(j.max())) + 1).jaccard(i, j, rows_per_pass)


@dataclass(frozen=True)
class _Jaccard:
    """The exact check of a pair search, on every text's shingle set (shipped to workers once)."""

    sets: ShingleSets
    rows_per_pass: int = 1 << 22
    theirs: ShingleSets | None = None  # j's texts, when they are another shard's

    def __call__(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        return self.sets.jaccard(i, j, self.rows_per_pass, self.theirs)

    def across(self, other: _Jaccard) -> _Jaccard:
        """The check of pairs (a text here, a text of `other`)."""
        return _Jaccard(self.sets, self.rows_per_pass, other.sets)


@dataclass(frozen=True)
class _Estimate:
    """The signature estimate as a pair search's check (an index has signatures only)."""

    mine: np.ndarray
    theirs: np.ndarray

    def __call__(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        return estimate(self.mine, self.theirs, i, j)

    def across(self, other: _Estimate) -> _Estimate:
        return _Estimate(self.mine, other.mine)


# ------------------------------------------------------------------------------ pair search
# Candidate pairs are made, checked and filtered one LSH band at a time, and within a band in
# chunks of at most about PAIRS_PER_CHUNK pairs, keeping only the pairs that pass: the peak is one
# chunk's pairs, never the candidate set (on template-heavy pools, where problems share most
# shingles, that set grows with the square of the pool). A band skips the pairs that an earlier
# band already made, by comparing the pair's keys in the earlier bands, so each distinct candidate
# is checked once, by the first band that makes it, with no global set of pairs seen.
PAIRS_PER_CHUNK = 1 << 21


@dataclass(frozen=True)
class Pairs:
    """What a pair search found: pairs (i, j) at or above the threshold (with equal labels, when
    given), sorted, their similarity, and counts of the distinct candidates on the way."""

    i: np.ndarray
    j: np.ndarray
    sim: np.ndarray
    candidates: int  # distinct candidate pairs checked
    similar: int  # of which reached the threshold
    unlike: int  # of which had unequal labels (dropped)


@dataclass(frozen=True)
class _Search:
    """What every band's part of a pair search gets once (`curate.parallel.map_parts` shared)."""

    mine: np.ndarray  # (bands, n) band keys, a contiguous row per band
    theirs: np.ndarray | None  # (bands, m) an index's band keys, or None: pairs within `mine`
    followers: tuple[np.ndarray, ...]  # per band: rows paired only with the first of their huge bucket
    check: Callable[[np.ndarray, np.ndarray], np.ndarray] | None  # None: every candidate passes
    threshold: float
    labels: np.ndarray | None  # a pair's two rows must have equal labels to pass
    # Across two shards of a table (`band_pairs` given another shard): `theirs` are the other
    # shard's keys, these its followers (per band) and labels. None: pairs within `mine`, or
    # against an index's `theirs`.
    their_followers: tuple[np.ndarray, ...] | None = None
    their_labels: np.ndarray | None = None


def _buckets(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start, size) of each run of equal keys in a sorted key column."""
    if not len(sorted_keys):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.flatnonzero(np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1])))
    return starts, np.diff(np.append(starts, len(sorted_keys)))


def _band_followers(column: np.ndarray) -> np.ndarray:
    """The rows of one band's bucket of more than MAX_BUCKET rows other than its first (smallest)
    row: they pair with that first row only (a star, not all k²/2 pairs, which would not fit in
    memory; pairs missed that way can still meet in another band). Ascending."""
    order = np.argsort(column, kind="stable")
    starts, sizes = _buckets(column[order])
    huge = sizes > MAX_BUCKET
    if not huge.any():
        return np.zeros(0, np.int64)
    member = np.repeat(huge, sizes)
    member[starts[huge]] = False
    return np.sort(order[member])


def _band_members(b: int, s: _Search) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Band b's pairs as runs of (left row, how many pairs it leads, where its partners start,
    partners): within `mine`, a row leads the pairs with the later rows of its bucket (rows of a
    bucket are in ascending order, so i < j), a follower of a huge bucket none; against `theirs`,
    a row leads one pair with each index row of the same key; across two shards, a row leads one
    pair with each row of the other shard of the same key, but never two followers (the pairs of
    a huge bucket are its first row's)."""
    column = s.mine[b]
    if s.their_followers is not None:
        follows_here = ~_not_in(len(column), s.followers[b])
        follows_there = ~_not_in(s.theirs.shape[1], s.their_followers[b])
        rows, others = np.arange(len(column)), np.arange(s.theirs.shape[1])
        # Leaders here with every row there, then followers here with the leaders there.
        return [_against(column, rows[~follows_here], s.theirs[b], others),
                _against(column, rows[follows_here], s.theirs[b], others[~follows_there])]
    if s.theirs is not None:
        return [_against(column, np.arange(len(column)), s.theirs[b], np.arange(s.theirs.shape[1]))]
    order = np.argsort(column, kind="stable")
    starts, sizes = _buckets(column[order])
    start_of = np.repeat(starts, sizes)
    pos = np.arange(len(column))
    count = start_of + np.repeat(sizes, sizes) - pos - 1
    count[~_not_in(len(column), s.followers[b])[order]] = 0
    return [(order, count, pos + 1, order)]


def _against(keys: np.ndarray, rows: np.ndarray, other_keys: np.ndarray, others: np.ndarray):
    """Each row of `rows` against the rows of `others` of the same key: (left rows, pair counts,
    where each row's partners start, partners)."""
    other = others[np.argsort(other_keys[others], kind="stable")]
    order = rows[np.argsort(keys[rows], kind="stable")]
    sorted_other, wanted = other_keys[other], keys[order]
    lo = np.searchsorted(sorted_other, wanted, "left")
    return order, np.searchsorted(sorted_other, wanted, "right") - lo, lo, other


def _band_pairs(b: int, s: _Search) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int, int]:
    """One band's part of a pair search: its pairs, chunk by chunk, less those an earlier band
    made, checked and filtered. (i, j, similarity) of the pairs that pass, and the counts of
    distinct candidates, of those reaching the threshold, and of those with unequal labels."""
    theirs = s.mine if s.theirs is None else s.theirs
    # An earlier band e made a pair when its rows share e's key, unless both follow the first
    # row of a huge bucket there (then only that first row's pairs were made).
    follows = {e: ~_not_in(len(s.mine[e]), s.followers[e]) for e in range(b) if len(s.followers[e])}
    their_follows = follows if s.their_followers is None else {
        e: ~_not_in(s.theirs.shape[1], s.their_followers[e]) for e in range(b) if len(s.their_followers[e])}
    their_labels = s.labels if s.their_labels is None else s.their_labels
    found, candidates, similar, unlike = [], 0, 0, 0
    for left, count, partner_start, partners in _band_members(b, s):
        sel = np.flatnonzero(count)
        first_pair = np.cumsum(count[sel]) - count[sel]
        chunk = first_pair // PAIRS_PER_CHUNK
        for rows in np.split(sel, np.flatnonzero(np.diff(chunk)) + 1) if len(sel) else []:
            c = count[rows]
            ends = np.cumsum(c)
            i = np.repeat(left[rows], c)
            j = partners[np.repeat(partner_start[rows] - (ends - c), c) + np.arange(ends[-1])]
            for e in range(b):
                made = s.mine[e][i] == theirs[e][j]
                if e in follows and e in their_follows:
                    made &= ~(follows[e][i] & their_follows[e][j])
                i, j = i[~made], j[~made]
            candidates += len(i)
            sim = np.ones(len(i)) if s.check is None else s.check(i, j)
            ok = sim >= s.threshold
            similar += int(ok.sum())
            if s.labels is not None:
                same = s.labels[i] == their_labels[j]
                unlike += int((ok & ~same).sum())
                ok &= same
            found.append((i[ok], j[ok], sim[ok]))
    if not found:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), 0, 0, 0
    return (*(np.concatenate(x) for x in zip(*found)), candidates, similar, unlike)


def _not_in(n: int, rows: np.ndarray) -> np.ndarray:
    mask = np.ones(n, bool)
    mask[rows] = False
    return mask


def search_pairs(keys: np.ndarray, other: np.ndarray | None = None, *,
                 check: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
                 threshold: float = 0.0, labels: np.ndarray | None = None) -> Pairs:
    """Pairs sharing a band key: (i, j) with i < j within `keys`, or (i, j) = (row of keys, row of
    other) when matching a batch against an index; each distinct pair checked once by `check`
    (similarity >= threshold passes; none: every candidate does) and, given `labels` (one per row
    of `keys`), kept only when its rows' labels are equal. A bucket of more than MAX_BUCKET rows
    within `keys` (thousands of copies of one template) gives each of its rows one pair with the
    bucket's first row instead of all k²/2 pairs.

    Bands are independent parts (`curate.parallel.map_parts`: one band a Ray task when an engine
    spreads the work): first the huge buckets' followers of every band, then each band's pairs,
    with the keys, the followers and the check's data shipped once. Only passing pairs come back."""
    mine = np.ascontiguousarray(keys.T)
    theirs = None if other is None else np.ascontiguousarray(other.T)
    bands = mine.shape[0]
    followers = (tuple(parallel.map_parts(_band_followers, list(mine))) if theirs is None
                 else tuple(np.zeros(0, np.int64) for _ in range(bands)))
    shared = _Search(mine, theirs, followers, check, threshold, labels)
    found = parallel.map_parts(_band_pairs, list(range(bands)), shared)
    if not found:
        return Pairs(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), 0, 0, 0)
    i, j, sim = (np.concatenate([f[k] for f in found]) for k in range(3))
    order = np.lexsort((j, i))
    return Pairs(i[order].astype(np.int64), j[order].astype(np.int64), sim[order],
                 *(sum(f[k] for f in found) for k in range(3, 6)))


# ----------------------------------------------------------- pair search, in shards of texts
# Where an engine spreads the work, the texts' sketches live in several partitions and no task may
# hold them all. The texts are cut into shards (`BandSearch`: ids, band keys, shingle sets or
# signatures, labels; a few partitions' worth); each band's huge-bucket followers are found from
# that band's key column of every shard (`band_followers`: 16 bytes per text), then looked up once
# in each shard (`shard_followers`); then one task per (pair of shards, band) makes that band's pairs within one shard or across two
# (`band_pairs`), skips those an earlier band made and checks the rest, with the same
# `_band_pairs` as `search_pairs`. A pair's two texts lie in one pair of shards, so every distinct
# candidate is met by one task and, within it, by the first band that makes it: the same pairs and
# counts as one search over the whole table, for any cut into shards, each task holding two shards.
# (A shuffle of each text's entry in each band to the partition of (band, key) would hold less,
# but every entry must carry the text's keys in all bands and its shingles, to skip pairs an
# earlier band made and check them: bands x the data, 64x for 64 bands, which at 1M texts spilled
# >13 GB and ran 25x slower; measured.)


@dataclass(frozen=True)
class BandSearch:
    """A shard of a within-table pair search, in one object: its texts' ids (ascending; the pairs'
    names), and the `_Search` of their band keys, check and labels (followers not yet known)."""

    ids: np.ndarray
    search: _Search

    @staticmethod
    def of(ids: np.ndarray, keys: np.ndarray, sk: Sketches, check: str, threshold: float,
           labels: np.ndarray | None) -> BandSearch:
        """The search over texts `ids` (any order) with their (n, bands) `keys`, sketches (shingle
        sets for a jaccard check, else signatures) and labels, sorted by id."""
        order = np.argsort(ids, kind="stable")
        sk = sk.take(order)
        how = (_Jaccard(ShingleSets.of(sk.shingle_text, sk.shingle_hash, len(sk))) if check == "jaccard"
               else _Estimate(sk.signatures, sk.signatures))
        return BandSearch(ids[order], _Search(np.ascontiguousarray(keys[order].T), None, (), how, threshold,
                                              None if labels is None else labels[order]))

    def columns(self) -> list[np.ndarray]:
        """The shard's ids, then each band's keys: what `band_followers` reads of it."""
        return [self.ids, *self.search.mine]


def band_followers(*columns: np.ndarray) -> np.ndarray:
    """A band's huge-bucket followers among the texts of every shard, by id (ascending:
    `_band_followers`, on the band's key column in id order), given each shard's ids and band
    keys in turn (`BandSearch.columns`)."""
    ids = np.concatenate(columns[0::2])
    order = np.argsort(ids, kind="stable")
    return ids[order][_band_followers(np.concatenate(columns[1::2])[order])]


def shard_followers(s: BandSearch, followers: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """Each band's followers (ids, ascending: `band_followers`) that are texts of shard `s`, as
    its rows (ascending): found once per shard, for every band's task on it."""
    rows = []
    for f in followers:
        at = np.searchsorted(s.ids, f)
        hit = at < len(s.ids)
        hit[hit] = s.ids[at[hit]] == f[hit]
        rows.append(at[hit])
    return tuple(rows)


def band_pairs(s: BandSearch, mine: tuple[np.ndarray, ...], other: BandSearch | None,
               theirs: tuple[np.ndarray, ...] | None, b: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int, int]:
    """Band b's part of the search (`_band_pairs`) within shard `s` (`other` None) or across it and
    `other`, given each shard's followers per band (`shard_followers`): (ids i < j, similarity) of
    the pairs that pass, and the counts of distinct candidates, of those reaching the threshold
    and of those with unequal labels."""
    search = replace(s.search, followers=mine)
    if other is not None:
        o = other.search
        search = replace(search, theirs=o.mine, their_followers=theirs, their_labels=o.labels,
                         check=s.search.check.across(o.check))
    i, j, sim, *counts = _band_pairs(b, search)
    i, j = s.ids[i], (s.ids if other is None else other.ids)[j]
    return (np.minimum(i, j), np.maximum(i, j), sim, *counts)


def candidate_pairs(keys: np.ndarray, other: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every candidate pair at once, sorted (see `search_pairs`): for small tables and tests; a
    large template-heavy table's candidates do not fit in memory, so dedup checks them band by band."""
    found = search_pairs(keys, other)
    return found.i, found.j


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
                    labels: np.ndarray | None = None) -> Pairs:
    """Pairs (i < j) of texts with (checked) similarity >= threshold (and, given `labels`, equal
    labels: dedup's same_math keys), with that similarity; see `search_pairs`."""
    num_perm = sk.signatures.shape[1]
    bands = bands or choose_bands(threshold, num_perm)
    how = (_Jaccard(ShingleSets.of(sk.shingle_text, sk.shingle_hash, len(sk))) if check == "jaccard"
           else _Estimate(sk.signatures, sk.signatures))
    return search_pairs(band_keys(sk.signatures, bands), check=how, threshold=threshold, labels=labels)


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

    def match(self, signatures: np.ndarray, threshold: float, bands: int | None = None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row of `signatures`, row of the index, estimated J) for pairs at or above threshold.
        Only signatures are saved, so the check is the signature estimate."""
        bands = bands or choose_bands(threshold, self.num_perm)
        found = search_pairs(band_keys(signatures, bands), band_keys(self.signatures, bands),
                             check=_Estimate(signatures, self.signatures), threshold=threshold)
        return found.i, found.j, found.sim

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
