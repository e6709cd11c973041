"""Selection algorithms: which k rows to keep, in which order. Pure functions over ids and numbers,
seeded and independent of input order (callers pass rows sorted by a stable key).

- `s1_select`: s1's Algorithm 1 (Muennighoff et al., 2025): must-keeps first; then until k, pick a
  domain uniformly (or by prior weights) among those with questions left, and in it a question with
  probability ∝ 2^(−rank), rank 0 = the longest remaining thinking; remove it; a domain with nothing
  left drops out.
- `k_center`: greedy k-center (farthest point first) over unit embeddings.
- `hash_rank`: a seeded rank per id (sample's and stratified select's order).
- `equal_quotas`: k split evenly over strata (stratified select, the ablation's baselines).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xxhash

MAX_RANKS = 64  # 2^-64 is below a double's resolution next to a sum ≥ 1: later ranks never count


def s1_select(ids: Sequence[str], domains: Sequence[str], lengths: Sequence[float], k: int, seed: int,
              must_keep: Sequence[bool] | None = None,
              domain_weights: dict[str, float] | None = None) -> list[int]:
    """Indices of the chosen rows, in the order chosen (must-keeps first, in `ids` order).

    Inside a domain rows are ranked by length, longest first, ties by id. Domains are visited in
    sorted order for the draw, so the result depends only on the data and the seed."""
    n = len(ids)
    rng = np.random.Generator(np.random.PCG64(seed))
    chosen: list[int] = []
    taken = np.zeros(n, bool)
    if must_keep is not None:
        for i in range(n):
            if must_keep[i] and len(chosen) < k:
                chosen.append(i)
                taken[i] = True
    pools: dict[str, list[int]] = {}
    for i in sorted(range(n), key=lambda i: (-float(lengths[i]), ids[i])):
        if not taken[i]:
            pools.setdefault(domains[i], []).append(i)
    names = sorted(pools)
    base = 2.0 ** -np.arange(MAX_RANKS)
    while len(chosen) < k and names:
        if domain_weights is None:
            d = names[int(rng.integers(len(names)))]
        else:
            w = np.array([domain_weights.get(name, 0.0) for name in names], float)
            if w.sum() <= 0:
                break  # only zero-weight domains left
            d = names[int(rng.choice(len(names), p=w / w.sum()))]
        pool = pools[d]
        weights = base[:min(len(pool), MAX_RANKS)]
        r = int(rng.choice(len(weights), p=weights / weights.sum()))
        chosen.append(pool.pop(r))
        if not pool:
            names.remove(d)
    return chosen


def k_center(vectors: np.ndarray, k: int, first: int = 0) -> list[int]:
    """Greedy k-center: start at `first`, then repeatedly the point farthest (by cosine distance)
    from everything chosen; ties go to the lowest index."""
    n = vectors.shape[0]
    k = min(k, n)
    if k == 0:
        return []
    chosen = [first]
    dist = 1.0 - vectors @ vectors[first]
    dist[first] = -np.inf
    while len(chosen) < k:
        i = int(np.argmax(dist))
        chosen.append(i)
        dist = np.minimum(dist, 1.0 - vectors @ vectors[i])
        dist[chosen] = -np.inf
    return chosen


def hash_rank(ids: Sequence[str], seed: int) -> list[int]:
    """A rank per id from a hash of (seed, id): a seeded order that does not depend on row order."""
    prefix = f"{seed}\x1f".encode()
    return [xxhash.xxh3_64_intdigest(prefix + i.encode()) for i in ids]


def equal_quotas(sizes: dict[str, int], k: int) -> dict[str, int]:
    """k split as evenly as the strata allow: small strata give all they have, the rest share the
    remainder (the extra ones go to the values first in sort order)."""
    quotas = {s: 0 for s in sizes}
    left, open_ = k, sorted(sizes)
    while left > 0 and open_:
        share, extra = divmod(left, len(open_))
        nxt = []
        for j, s in enumerate(open_):
            want = share + (1 if j < extra else 0)
            got = min(want, sizes[s] - quotas[s])
            quotas[s] += got
            left -= got
            if quotas[s] < sizes[s]:
                nxt.append(s)
        if nxt == open_ and share == 0 and extra == 0:
            break
        open_ = nxt
    return quotas
