"""The MinHash module: datasketch-identical signatures, banding, checks, components, the index."""

import numpy as np
import pytest
import xxhash
from datasketch import MinHash

from conftest import ListingMapper, brute_force_pairs, templated_texts
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
    found = minhash.near_duplicates(sk, 0.8)
    assert list(zip(found.i.tolist(), found.j.tolist())) == [(0, 1)]
    assert found.sim[0] == pytest.approx(want)
    assert minhash.jaccard(sk, np.array([0]), np.array([1]))[0] == pytest.approx(want)


def test_huge_bucket_is_paired_as_a_star():
    keys = np.zeros((minhash.MAX_BUCKET + 10, 2), np.uint64)
    keys[:, 1] = np.arange(len(keys)) // 2  # band 1: small buckets of two rows
    i, j = minhash.candidate_pairs(keys)
    pairs = set(zip(i.tolist(), j.tolist()))
    star = {(0, k) for k in range(1, len(keys))}
    assert pairs == star | {(k, k + 1) for k in range(0, len(keys), 2)}


@pytest.mark.parametrize("max_bucket,chunk", [(256, 1 << 21), (12, 40)])
def test_band_by_band_search_equals_brute_force(monkeypatch, max_bucket, chunk):
    """Pairs, similarities and counts of the streamed search (each band's new pairs, in chunks)
    equal an all-pairs reference, here and with every band a part through a mapper; with a small
    MAX_BUCKET the templates make buckets over it in most bands, and chunks of 40 pairs cut bands."""

    from curate import parallel

    monkeypatch.setattr(minhash, "MAX_BUCKET", max_bucket)
    monkeypatch.setattr(minhash, "PAIRS_PER_CHUNK", chunk)
    texts = templated_texts()
    labels = np.array([len(t) % 3 for t in texts], np.uint64)  # some pairs differ, some do not
    sk = minhash.sketch(texts, ngram=3)
    bands = minhash.choose_bands(0.5)
    for given in (None, labels):
        pairs, sims, candidates, similar = brute_force_pairs(texts, 3, 0.5, bands, given)
        calls = []
        for where in ("here", "parts"):
            if where == "here":
                found = minhash.near_duplicates(sk, 0.5, labels=given)
            else:
                with parallel.mapped(ListingMapper(calls), 7):
                    found = minhash.near_duplicates(sk, 0.5, labels=given)
            assert list(zip(found.i.tolist(), found.j.tolist())) == pairs, where
            assert found.sim.tolist() == sims
            assert (found.candidates, found.similar) == (candidates, similar)
            assert found.unlike == similar - len(pairs)
        assert [n for _, n in calls] == [bands, bands]  # the followers, then the pairs: a part per band
    assert bands == 64 and candidates > 3 * len(pairs) > 0 and similar > len(pairs)
    keys = minhash.band_keys(sk.signatures, bands)
    collided = (keys[found.i][:, :, None] == keys[found.j][:, None, :]).any(axis=2).sum(axis=1)
    assert (collided > 10).any()  # pairs made by many bands, checked once
    if max_bucket == 12:
        assert sum(len(minhash._band_followers(keys[:, b])) > 0 for b in range(bands)) > bands // 2
    clusters = minhash.connected_components(len(texts), found.i, found.j)
    want = minhash.connected_components(len(texts), *map(np.array, zip(*pairs)))
    assert np.array_equal(clusters, want)


@pytest.mark.parametrize("max_bucket,chunk", [(256, 1 << 21), (12, 40)])
def test_search_in_shards_equals_brute_force(monkeypatch, max_bucket, chunk):
    """The search an engine spreads (texts cut into shards, a band's followers from every shard's
    key column, each band's pairs within a shard and across each pair of shards) gives the pairs,
    similarities and counts of one search over the whole table, for any cut: with a small
    MAX_BUCKET the templates' huge buckets lie across shards, their first text in one of them."""
    monkeypatch.setattr(minhash, "MAX_BUCKET", max_bucket)
    monkeypatch.setattr(minhash, "PAIRS_PER_CHUNK", chunk)
    texts = templated_texts()
    labels = np.array([len(t) % 3 for t in texts], np.uint64)
    sk = minhash.sketch(texts, ngram=3)
    bands = minhash.choose_bands(0.5)
    keys = minhash.band_keys(sk.signatures, bands)
    ids = np.arange(len(texts), dtype=np.int64) * 3 + 5  # a text's id: any ascending numbering
    rng = np.random.default_rng(1)
    pairs, sims, candidates, similar = brute_force_pairs(texts, 3, 0.5, bands, labels)
    signature_check = None
    for n in (1, 2, 5):
        part = rng.integers(0, n, len(texts))  # each text to a random shard
        cut = [np.flatnonzero(part == s) for s in range(n)]
        for check in ("jaccard", "signature"):
            shards = [minhash.BandSearch.of(ids[rows], keys[rows], sk.take(rows, check == "jaccard", check != "jaccard"),
                                            check, 0.5, labels[rows]) for rows in cut]
            followers = tuple(minhash.band_followers(*[c for s in shards for c in (s.columns()[0], s.columns()[1 + b])])
                              for b in range(bands))
            rows = [minhash.shard_followers(shard, followers) for shard in shards]
            assert all(sum(len(r[b]) for r in rows) == len(followers[b]) for b in range(bands))
            found = [minhash.band_pairs(shards[x], rows[x], *((shards[y], rows[y]) if x != y else (None, None)), b)
                     for x in range(n) for y in range(x, n) for b in range(bands)]
            i, j, sim = (np.concatenate([f[k] for f in found]) for k in range(3))
            order = np.lexsort((j, i))
            got = (list(zip(i[order].tolist(), j[order].tolist())), sim[order].tolist(),
                   *(sum(f[k] for f in found) for k in range(3, 6)))
            if check == "jaccard":
                assert got[:2] == ([(3 * x + 5, 3 * y + 5) for x, y in pairs], sims), n
                assert got[2:] == (candidates, similar, similar - len(pairs)), n
            else:  # the signature estimate: the same on any cut as on one shard
                signature_check = signature_check or got
                assert got == signature_check, n
    if max_bucket == 12:
        assert sum(len(minhash._band_followers(keys[:, b])) > 0 for b in range(bands)) > bands // 2


def test_index_match_equals_brute_force():
    texts = templated_texts(120)
    batch, old = minhash.sketch(texts[:50], ngram=3), minhash.sketch(texts[50:], ngram=3)
    index = minhash.Index([str(k) for k in range(len(old))], old.signatures, 3, minhash.SEED)
    bands = minhash.choose_bands(0.6)
    a, b = minhash.band_keys(batch.signatures, bands), minhash.band_keys(old.signatures, bands)
    want = sorted((x, y) for x in range(len(a)) for y in range(len(b)) if (a[x] == b[y]).any()
                  and (batch.signatures[x] == old.signatures[y]).mean() >= 0.6)
    i, j, sim = index.match(batch.signatures, 0.6)
    assert list(zip(i.tolist(), j.tolist())) == want and len(want) > 20
    assert sim.tolist() == [(batch.signatures[x] == old.signatures[y]).mean() for x, y in want]


def test_jaccard_matches_python_sets_in_any_pass_size():
    texts = templated_texts(60)
    sk = minhash.sketch(texts, ngram=3)
    i, j = np.triu_indices(len(texts), 1)
    sets = [set(minhash.shingle_bytes(t, 3)) for t in texts]
    want = [len(sets[x] & sets[y]) / len(sets[x] | sets[y]) if sets[x] | sets[y] else 0.0
            for x, y in zip(i.tolist(), j.tolist())]
    for rows in (1, 7, 1 << 22):
        assert minhash.jaccard(sk, i, j, rows_per_pass=rows).tolist() == want


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
