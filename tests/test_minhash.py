"""The MinHash module: datasketch-identical signatures, banding, checks, components, the index."""

import numpy as np
import pytest
import xxhash
from datasketch import MinHash

from curate import minhash
from curate.errors import BadInput

TEXTS = [
    "Find all real x such that x^2 - 5x + 6 = 0. Express your answer as a list.",
    "What is the remainder when 2^100 is divided by 7?",
    "short one",
    "",
    "   ",
    "Ünïcödé ﬁne text, with “quotes” and 3.5 numbers; and 35 more!",
]


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 7, 8, 12])
def test_xxh32_words_matches_xxhash(k):
    words = np.random.default_rng(k).integers(0, 2**32, (64, k), dtype=np.uint64).astype(np.uint32)
    want = [xxhash.xxh32_intdigest(row.astype("<u4").tobytes()) for row in words]
    assert minhash.xxh32_words([words[:, i] for i in range(k)]).tolist() == want


@pytest.mark.parametrize("num_perm,seed,ngram", [(128, 1, 5), (64, 7, 3), (100, 42, 1)])
def test_signatures_bit_identical_to_datasketch(num_perm, seed, ngram):
    sk = minhash.sketch(TEXTS, ngram=ngram, num_perm=num_perm, seed=seed)
    for text, sig in zip(TEXTS, sk.signatures):
        m = MinHash(num_perm=num_perm, seed=seed, hashfunc=xxhash.xxh32_intdigest)
        m.update_batch(minhash.shingle_bytes(text, ngram))
        assert sig.dtype == np.uint32 and np.array_equal(sig, m.hashvalues), text


def test_signatures_across_batches_are_the_same():
    texts = [f"problem number {i} asks for the sum of {i} and {i + 1} apples" for i in range(50)]
    assert np.array_equal(minhash.sketch(texts).signatures, minhash.sketch(texts, batch=7).signatures)


def test_choose_bands_prefers_recall():
    assert minhash.choose_bands(0.8, 128) == 16  # 16 × 8, not datasketch's 9 × 13
    assert minhash.rows_per_band(128, 16) == 8
    with pytest.raises(BadInput, match="not divisible into 7 bands"):
        minhash.rows_per_band(128, 7)


def test_near_duplicates_checked_by_exact_jaccard():
    base = ("a train leaves the station at nine in the morning and travels at sixty miles per hour "
            "toward the city which lies three hundred miles away across the plain so when does it arrive")
    texts = [base, base.replace("arrive", "arrive there"), "completely different words about geometry and circles",
             base.replace("train", "bus").replace("sixty", "fifty").replace("city", "town")]
    sk = minhash.sketch(texts)
    a, b, d = (set(minhash.shingle_bytes(t)) for t in (texts[0], texts[1], texts[3]))
    want = len(a & b) / len(a | b)
    assert want > 0.8 > len(a & d) / len(a | d)
    i, j, sim = minhash.near_duplicates(sk, 0.8)
    assert list(zip(i.tolist(), j.tolist())) == [(0, 1)]
    assert sim[0] == pytest.approx(want)
    assert minhash.jaccard(sk, np.array([0]), np.array([1]))[0] == pytest.approx(want)


def test_candidate_pairs_same_in_duckdb():
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 5, (40, 4)).astype(np.uint64)
    assert all(np.array_equal(x, y) for x, y in zip(minhash.candidate_pairs(keys, engine="polars"),
                                                    minhash.candidate_pairs(keys, engine="duckdb")))
    other = rng.integers(0, 5, (9, 4)).astype(np.uint64)
    assert all(np.array_equal(x, y) for x, y in zip(minhash.candidate_pairs(keys, other, engine="polars"),
                                                    minhash.candidate_pairs(keys, other, engine="duckdb")))


def test_huge_bucket_is_paired_as_a_star():
    keys = np.zeros((minhash.MAX_BUCKET + 10, 2), np.uint64)
    keys[:, 1] = np.arange(len(keys)) // 2  # band 1: small buckets of two rows
    for engine in ("polars", "duckdb"):
        i, j = minhash.candidate_pairs(keys, engine=engine)
        pairs = set(zip(i.tolist(), j.tolist()))
        star = {(0, k) for k in range(1, len(keys))}
        assert pairs == star | {(k, k + 1) for k in range(0, len(keys), 2)}


def test_connected_components():
    labels = minhash.connected_components(7, np.array([5, 3, 1, 4]), np.array([6, 5, 2, 2]))
    assert labels.tolist() == [0, 1, 1, 3, 1, 3, 3]


def test_index_round_trip(tmp_path):
    sk = minhash.sketch(TEXTS[:3])
    index = minhash.Index(["a", "b", "c"], sk.signatures, minhash.NGRAM, minhash.SEED)
    path = minhash.save_index(index, tmp_path / "idx.parquet")
    back = minhash.load_index(path)
    assert back.ids == ["a", "b", "c"] and np.array_equal(back.signatures, sk.signatures)
    import pyarrow as pa
    import pyarrow.parquet as pq

    kind = pq.read_schema(path).field("signature").type
    assert pa.types.is_fixed_size_list(kind) and kind.list_size == 128 and kind.value_type == pa.uint32()
    with pytest.raises(BadInput, match="index was built with"):
        back.check_compatible(3, 128, 1, "idx")
