"""Deduplication of trace tables: what the `exact_dedup` and `dedup` stages and the `dedup` command call.

Dedup works on problems, not samples: rows are grouped into *units* (distinct normalised `on`
text, see `curate.text.normalize_for_dedup`), units are paired by the method (exact: none beyond
equal text; minhash: checked Jaccard; semantic: cosine), clusters are the connected components,
and in a cluster holding more than one problem the problem of the best-ranked row (policy `keep`)
survives with all its samples while every row of the other problems is dropped. Several teacher
samples of one problem are never duplicates of each other. A table without `problem_id` counts
each row as its own problem; without `trace_id`, rows are named by `id` or by their row number.

Columns (aligned with the input rows): `dup_cluster` (hash of the kept unit's normalised text, in
clusters of more than one problem), `dup_of` (the kept row), `dup_sim` (the row's similarity to
the kept row: 1.0 for equal text), `drop_reason`.

Decontamination (benchmark n-grams) lives in `curate.decontam`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
import xxhash

from curate import minhash, parallel
from curate.errors import BadInput
from curate.outcome import Outcome
from curate.schema import DROP
from curate.text import normalize_for_dedup

Method = Literal["exact", "minhash", "semantic"]
Keep = Literal["first", "last", "longest", "shortest", "verified", "score"]
METHODS = ("exact", "minhash", "semantic")
DEFAULT_THRESHOLD = {"exact": 1.0, "minhash": 0.8, "semantic": 0.9}
# Columns a keep policy ranks by: it is an error to ask for a policy the table cannot support.
KEEP_NEEDS = {"longest": "thinking", "shortest": "thinking", "verified": "verdict", "score": "score"}


# ------------------------------------------------------------------------------------- shared

def check_table(frame: pl.DataFrame, on: str, what: str) -> None:
    if on not in frame.columns:
        raise BadInput(f"no column {on!r} to {what} on (columns: {', '.join(frame.columns)})")
    if frame.height == 0:
        raise BadInput(f"the table to {what} is empty")


def check_threshold(threshold: float, name: str = "threshold") -> None:
    if not 0 < threshold <= 1:
        raise BadInput(f"{name} must be in (0, 1], got {threshold}")


def _row_ids(frame: pl.DataFrame, offset: int = 0) -> pl.Expr:
    """How a row is named in `dup_of`: trace_id, else id, else its row number (the part's first
    row being row `offset`)."""
    for name in ("trace_id", "id"):
        if name in frame.columns:
            return pl.col(name).cast(pl.String)
    return (pl.int_range(pl.len(), dtype=pl.Int64) + offset).cast(pl.String)


def answerable_first(columns) -> list[pl.Expr]:
    """Sort keys that put a row with a gold answer, then one whose verdict is correct (when a
    verify stage ran), first: of two copies of a problem the one that can be checked, and was,
    survives, whatever the file order (a premise-stripped copy has no gold)."""
    keys = []
    if "gold" in columns:
        keys.append(pl.col("gold").is_null() | (pl.col("gold").cast(pl.String).str.strip_chars() == ""))
    if "verdict" in columns:
        keys.append((pl.col("verdict") != "correct").fill_null(True))
    return keys


def rank_expr(keep: Literal["first", "last", "longest", "shortest"], columns=()) -> list[pl.Expr]:
    """Sort keys: the row to keep sorts first. Answerable and verified rows come first (given
    `columns` holding gold / verdict), then the policy; `_pos` (input order) breaks every tie."""
    length = pl.col("thinking").str.len_chars().cast(pl.Int64)
    return answerable_first(columns) + {
        "first": [pl.col("_pos")], "last": [-pl.col("_pos").cast(pl.Int64)],
        "longest": [-length, pl.col("_pos")], "shortest": [length, pl.col("_pos")]}[keep]


def exact_problems(frame: pl.DataFrame | parallel.Parts, *, on: str = "problem",
                   keep: Literal["first", "last", "longest", "shortest"] = "first",
                   max_per_problem: int | None = None) -> Outcome:
    """The `exact_dedup` stage's work: rows grouped by the normalised `on` text; in a group
    holding more than one problem, the problem of the best-ranked row (`rank_expr`) survives with
    all its samples and the others' rows drop; then at most `max_per_problem` samples per problem.
    Columns keyed by `trace_id`: dup_cluster, dup_of, dup_sim, drop_reason (given a frame, in input
    order; given `parallel.Parts`, as parts).

    A shuffle (`curate.parallel.tasks`): each part computes its rows' keys and cuts them by the key;
    a group's rows meet in one partition, which picks its kept row; with `max_per_problem` they
    are cut again by problem_id, where a problem's samples are ranked. The ranking is a total order
    (input position breaks ties), so any partition gives the same rows."""
    parts = _as_parts(frame)
    columns = parallel.columns(parts)
    if on not in columns:
        raise BadInput(f"no column {on!r} to deduplicate on")
    extra = tuple(c for c in ("gold", "verdict") if c in columns)
    ranked = extra + (("thinking",) if keep in ("longest", "shortest") else ())
    n = parallel.n_parts(len(parts), max(len(parts), 1))
    cut = parallel.tasks(functools.partial(_exact_keys, on=on, ranked=ranked, n=n),
                         [[h, off] for h, off in zip(parts.handles, parts.offsets)], returns=n)
    grouped = parallel.tasks(functools.partial(_exact_groups, keep=keep, extra=extra, n=n),
                             [[c[p] for c in cut] for p in range(n)], returns=n + 1)
    clusters = sum(parallel.fetch([g[-1] for g in grouped]))
    groups = [g[:-1] for g in grouped]  # per key partition: its rows cut by problem_id
    warnings = []
    if max_per_problem is not None:
        ranked_parts = parallel.tasks(functools.partial(_sample_ranks, keep=keep, extra=extra, limit=max_per_problem),
                                      [[g[p] for g in groups] for p in range(n)], returns=2)
        if not sum(parallel.fetch([r[1] for r in ranked_parts])):
            warnings.append(f"max_per_problem: {max_per_problem}: no problem has more samples than that")
        done = [r[0] for r in ranked_parts]
    else:
        done = parallel.tasks(_concat, [[*g] for g in groups]) if n > 1 else [groups[0][0]]
    out = parallel.tasks(functools.partial(_exact_columns, limit=max_per_problem), [[d] for d in done])
    return Outcome(parallel.collect(out, frame), {"clusters": int(clusters)}, warnings)


def _as_parts(frame: pl.DataFrame | parallel.Parts) -> parallel.Parts:
    return frame if isinstance(frame, parallel.Parts) else parallel.Parts.of(frame)


def _concat(*pieces: pl.DataFrame) -> pl.DataFrame:
    return pl.concat(pieces, how="vertical_relaxed")


def _exact_keys(part: pl.DataFrame, offset: int, on: str, ranked: tuple[str, ...], n: int) -> list[pl.DataFrame]:
    """A part's rows with their group key (the hash of the normalised text) and input position,
    cut by the key into the `n` partitions of the shuffle."""
    distinct = part.select(pl.col(on).cast(pl.String).fill_null("").unique(maintain_order=True).alias("_text"))
    keys = [xxhash.xxh3_64_hexdigest(normalize_for_dedup(t).encode()) for t in distinct["_text"].to_list()]
    distinct = distinct.with_columns(pl.Series("_key", keys, pl.String))
    rows = part.select("trace_id", "problem_id", *ranked, pl.col(on).cast(pl.String).fill_null("").alias("_text"),
                       (pl.int_range(pl.len(), dtype=pl.Int64) + offset).alias("_pos"))
    rows = rows.join(distinct, on="_text", how="left", maintain_order="left").drop("_text")
    return parallel.split(rows, "_key", n)


def _exact_groups(*pieces: pl.DataFrame, keep: str, extra: tuple[str, ...], n: int) -> list:
    """One key partition: each group's best-ranked row and problem, and its problems; the rows cut
    by problem_id into `n` for the next shuffle, then how many groups hold more than one problem."""
    part = pl.concat(pieces, how="vertical_relaxed").sort(rank_expr(keep, extra)).with_columns(
        pl.col("trace_id").first().over("_key").alias("_top"),
        pl.col("problem_id").first().over("_key").alias("_top_pid"),
        pl.col("problem_id").n_unique().over("_key").alias("_problems"),
    ).sort("_pos")
    clusters = part.filter(pl.col("_problems") > 1)["_key"].n_unique()
    return [*parallel.split(part, "problem_id", n), clusters]


def _sample_ranks(*pieces: pl.DataFrame, keep: str, extra: tuple[str, ...], limit: int) -> tuple[pl.DataFrame, int]:
    """One problem_id partition: whether a row ranks past `limit` among its problem's samples."""
    part = pl.concat(pieces, how="vertical_relaxed").sort(rank_expr(keep, extra)).with_columns(
        (pl.int_range(pl.len()).over("problem_id") >= limit).alias("_over"))
    return part, int(part["_over"].sum())


def _exact_columns(part: pl.DataFrame, limit: int | None) -> pl.DataFrame:
    in_group = pl.col("_problems") > 1
    # One fixed text per cause, so reasons group in SQL; which row was kept is in dup_of.
    reason = pl.when(pl.col("problem_id") != pl.col("_top_pid")).then(pl.lit("exact duplicate of another problem"))
    if limit is not None:
        reason = reason.when(pl.col("_over")).then(pl.lit(f"more than {limit} sample(s) of the problem"))
    return part.select(
        pl.col("_pos").alias(parallel.POS), "trace_id",
        pl.when(in_group).then(pl.col("_key")).alias("dup_cluster"),
        pl.when(in_group).then(pl.col("_top")).alias("dup_of"),
        pl.when(in_group).then(pl.lit(1.0)).alias("dup_sim"),
        reason.otherwise(None).cast(pl.String).alias(DROP),
    )


def _keep_order(keep: Keep, columns) -> list[pl.Expr]:
    """Sort keys, best row first: a row with a gold answer, then a correct verdict (when the table
    has them: a premise-stripped copy has no gold and must not survive for its file name), then the
    policy; input order (`_pos`) breaks ties. Extends `rank_expr`'s policies with
    verified-correct-first and highest-rubric-score-first."""
    if keep == "verified":
        return answerable_first(columns) + [pl.col("_pos")]
    if keep == "score":
        return answerable_first(columns) + [-pl.col("score").cast(pl.Float64).fill_null(float("-inf")), pl.col("_pos")]
    return rank_expr(keep, columns)


# -------------------------------------------------------------------------------------- dedup

def dedup_table(frame: pl.DataFrame | parallel.Parts, *, on: str = "problem", method: Method = "minhash",
                threshold: float | None = None, keep: Keep = "first", ngram: int = minhash.NGRAM,
                num_perm: int = minhash.NUM_PERM, bands: int | None = None,
                check: Literal["jaccard", "signature"] = "jaccard", seed: int = minhash.SEED,
                model: str | None = None, batch_size: int = 64,
                index: Path | None = None, save_index: Path | None = None,
                same_math: bool = True) -> Outcome:
    """Mark duplicate problems in `frame` (see the module docstring); `index` is a saved MinHash
    index to dedup against, `save_index` where to write it extended by this batch's survivors.
    `same_math`: near-duplicates (minhash, semantic) must also have the same numbers and formulas,
    and minhash pairs as many premise sentences before a like question sentence (`question_shape`).
    Given a frame, the columns are aligned with its rows; given `parallel.Parts`, they come as
    parts keyed by trace_id.

    The work is a chain of shuffles (`curate.parallel.tasks`), so on an engine that spreads it the
    rows never meet in one process: rows meet their unit (their normalised text) in a partition of
    the text, where the units are sketched; the sketches (band keys and shingle sets, never texts)
    are gathered into shards (`minhash.BandSearch`, kept on the workers), and one task per (pair
    of shards, LSH band) makes, checks and filters that band's pairs (`minhash.band_pairs`); only
    the pairs that pass come here, for the union-find; then rows meet their cluster in a partition
    of the cluster, where the keep policy picks the surviving problem. Semantic dedup embeds the
    units here (one model, one place)."""
    if method not in METHODS:
        raise BadInput(f"unknown dedup method {method!r} (known: {', '.join(METHODS)})")
    parts = _as_parts(frame)
    columns = parallel.columns(parts)
    if on not in columns:
        raise BadInput(f"no column {on!r} to deduplicate on (columns: {', '.join(columns)})")
    if len(parts) == 0:
        raise BadInput("the table to deduplicate is empty")
    threshold = DEFAULT_THRESHOLD[method] if threshold is None else threshold
    check_threshold(threshold)
    if ngram < 1 or num_perm < 1:
        raise BadInput(f"ngram and num_perm must be positive, got {ngram} and {num_perm}")
    if method == "minhash" and bands is not None:
        minhash.rows_per_band(num_perm, bands)
    if (index or save_index) and method != "minhash":
        raise BadInput("a saved index (index / save_index) needs method minhash")
    if keep in KEEP_NEEDS and KEEP_NEEDS[keep] not in columns:
        raise BadInput(f"keep {keep!r} needs a {KEEP_NEEDS[keep]!r} column, which the table lacks")
    bands = (bands or minhash.choose_bands(threshold, num_perm)) if method == "minhash" else None
    spec = _Spec(method, on, tuple(c for c in ("thinking", "gold", "verdict", "score") if c in columns), keep,
                 threshold, ngram, num_perm, seed, bands, check,
                 minhash.permutations(num_perm, seed) if method == "minhash" else None,
                 same_math and method == "minhash", isinstance(frame, parallel.Parts), save_index is not None)
    n = parallel.n_parts(len(parts), max(len(parts), 1))

    # 1. rows to the partition of their normalised text; empty texts are units of their own.
    cut = parallel.tasks(functools.partial(_rows_by_text, spec=spec, n=n),
                         [[h, off] for h, off in zip(parts.handles, parts.offsets)], returns=n + 1)
    empties = [c[-1] for c in cut]
    made = parallel.tasks(functools.partial(_unit_part, spec=spec), [[c[p] for c in cut] for p in range(n)], returns=3)
    del cut  # on an engine that spreads the work, a handle let go frees its object
    units = [m[0] for m in made]
    sizes = parallel.fetch([m[1] for m in made])  # units per partition
    n_units = sum(sizes)
    n_empty = sum(parallel.tasks(_height, [[e] for e in empties], fetch=True))
    stats: dict = {"method": method, "threshold": threshold, "units": n_units + n_empty}
    old = minhash.empty_index(ngram, num_perm, seed)
    matched = pl.DataFrame(schema={"_unit": pl.Int64, "_ext_id": pl.String, "_ext_sim": pl.Float64})
    vectors = None
    similar = unlike = 0  # pairs reaching the threshold; of those, with other math
    blocked = np.zeros(0, np.int64)  # units that leave the clustering: empty texts, index matches
    if method == "exact":
        i = j = np.zeros(0, np.int64)
    elif method == "minhash":
        stats["bands"], stats["rows"] = bands, num_perm // bands
        if index:
            old = minhash.load_index(index)
            old.check_compatible(ngram, num_perm, seed, str(index))
            matched = pl.concat(parallel.tasks(functools.partial(_index_matches, threshold=threshold, bands=bands),
                                               [[u] for u in units], shared=old, fetch=True))
            stats["index_matches"] = matched.height
        i, j, sim, similar, unlike = _minhash_pairs([m[2] for m in made], sizes, spec)
    else:
        vectors, i, j, similar, unlike, blocked = _semantic_pairs(units, empties, spec, model, batch_size, same_math)
    if (same_math and method != "exact") and similar:
        stats["pairs_with_other_math"] = unlike
        # A premise removed (or added) leaves the numbers of the rest and most shingles, and makes
        # another problem (often an unanswerable one): the pair must also state as many premises
        # before a like question sentence. MinHash pairs only: semantic pairs are paraphrases,
        # which restructure sentences (their premises are judged by meaning).
        if len(i) and method == "minhash":
            asked = np.unique(np.concatenate([i, j]))
            shape = {}
            for found in parallel.tasks(_question_shapes_of, [[u] for u in units], shared=asked, fetch=True):
                shape.update(found)
            same = np.array([same_question(shape[a], shape[b]) for a, b in zip(i.tolist(), j.tolist())], bool)
            stats["pairs_with_other_question"] = int((~same).sum())
            i, j = i[same], j[same]
    # Units already in the index leave the batch's own clustering: a survivor must not be dropped
    # as a duplicate of a row that is itself dropped.
    blocked = np.union1d(blocked, matched["_unit"].to_numpy())
    ok = ~(np.isin(i, blocked) | np.isin(j, blocked))
    stats["pairs"] = int(ok.sum())
    clusters = _clusters(i[ok], j[ok])

    # 2. rows to the partition of their cluster, where the kept row is chosen.
    moved = parallel.tasks(functools.partial(_rows_by_cluster, n=n), [[u] for u in units],
                           shared=(clusters, matched), returns=n)
    resolved = parallel.tasks(functools.partial(_resolve_cluster_part, spec=spec),
                              [[m[p] for m in moved] for p in range(n)], shared=vectors, returns=2)
    metas = parallel.fetch([r[1] for r in resolved])
    stats["clusters"] = sum(m["clusters"] for m in metas)
    stats["dropped"] = sum(m["dropped"] for m in metas)
    if save_index:
        survivors = pl.concat([m["survivors"] for m in metas]).sort("_unit")
        signatures = survivors["_sig"].to_numpy().astype(np.uint32).reshape(survivors.height, num_perm)
        minhash.save_index(old.extended(survivors["_rid"].to_list(), signatures), save_index)
        stats["index_size"] = len(old.ids) + survivors.height
    out = [r[0] for r in resolved] + parallel.tasks(functools.partial(_empty_columns, spec=spec), [[e] for e in empties])
    return Outcome(parallel.collect(out, frame), stats)


@dataclass(frozen=True)
class _Spec:
    """What every part of a dedup needs to know (shipped with each task: it is small)."""

    method: Method
    on: str
    extra: tuple[str, ...]  # ranking columns the table has
    keep: Keep
    threshold: float
    ngram: int
    num_perm: int
    seed: int
    bands: int | None
    check: str
    perms: np.ndarray | None  # MinHash permutations (minhash)
    same_math: bool  # minhash pairs carry same-math labels
    keyed: bool  # output keyed by trace_id (parts) rather than in row order
    save_index: bool  # the survivors' signatures are wanted


@dataclass
class _Units:
    """One partition of units (distinct normalised texts): their rows, and (minhash) sketches."""

    rows: pl.DataFrame  # _pos, _rid, _pid, ranking columns, _norm, _unit (a unit is its first row's _pos)
    units: pl.DataFrame  # _unit (ascending), _norm, _text (its first row's text)
    sketches: minhash.Sketches | None = None
    keys: np.ndarray | None = None  # (units, bands) LSH band keys
    math: np.ndarray | None = None  # same-math keys


def _rows_by_text(part: pl.DataFrame, offset: int, spec: _Spec, n: int) -> list[pl.DataFrame]:
    """A part's rows (input position, id, problem, ranking columns, text and normalised text),
    cut by the normalised text into the `n` unit partitions; last, its rows of empty text."""
    problem = (pl.col("problem_id").cast(pl.String) if "problem_id" in part.columns
               else (pl.int_range(pl.len(), dtype=pl.Int64) + offset).cast(pl.String))
    rows = part.select(
        (pl.int_range(pl.len(), dtype=pl.Int64) + offset).alias("_pos"), _row_ids(part, offset).alias("_rid"),
        problem.alias("_pid"), *spec.extra, pl.col(spec.on).cast(pl.String).fill_null("").alias("_text"))
    # Samples of a problem repeat its text: normalise each distinct text once.
    distinct = rows.select(pl.col("_text").unique(maintain_order=True))
    distinct = distinct.with_columns(pl.Series("_norm", [normalize_for_dedup(t) for t in distinct["_text"].to_list()],
                                               pl.String))
    rows = rows.join(distinct, on="_text", how="left", maintain_order="left")
    real = pl.col("_norm") != ""
    return [*parallel.split(rows.filter(real), "_norm", n), rows.filter(~real)]


def _height(frame: pl.DataFrame) -> int:
    return frame.height


def _unit_part(*pieces: pl.DataFrame, spec: _Spec) -> tuple[_Units, int, tuple | None]:
    """One unit partition: its rows (from every part, in input order) with their unit, the units,
    and for minhash their sketches, band keys and same-math keys; how many units; and (minhash)
    what the pair search needs of them: ids, band keys, shingle sets or signatures, math keys."""
    rows = pl.concat(pieces, how="vertical_relaxed")
    rows = rows.with_columns(pl.col("_pos").min().over("_norm").alias("_unit"))
    units = rows.group_by("_unit").agg(pl.col("_norm").first(), pl.col("_text").first()).sort("_unit")
    found = _Units(rows.drop("_text"), units)
    if spec.method == "minhash":
        found.sketches = minhash.sketch(units["_norm"], spec.ngram, spec.num_perm, spec.seed, normalized=True)
        found.keys = minhash.band_keys(found.sketches.signatures, spec.bands)
        if spec.same_math:
            found.math = math_keys(units["_norm"])
        every = np.arange(units.height)
        search = (units["_unit"].to_numpy(), found.keys,
                  found.sketches.take(every, shingles=spec.check == "jaccard", signatures=spec.check != "jaccard"),
                  found.math)
        return found, units.height, search
    return found, units.height, None


def _empty_columns(rows: pl.DataFrame, spec: _Spec) -> pl.DataFrame:
    """Rows of empty text duplicate nothing: their columns are empty."""
    return _output(rows.with_columns(*(pl.lit(None, t).alias(c) for c, t in _OUT_TYPES.items())), spec)


_OUT_TYPES = {"dup_cluster": pl.String, "dup_of": pl.String, "dup_sim": pl.Float64, DROP: pl.String}


def _output(frame: pl.DataFrame, spec: _Spec) -> pl.DataFrame:
    ident = [pl.col("_rid").alias("trace_id")] if spec.keyed else []
    return frame.select(pl.col("_pos").alias(parallel.POS), *ident, *(pl.col(c).cast(t) for c, t in _OUT_TYPES.items()))


def _minhash_pairs(searches: list, sizes: list[int], spec: _Spec
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """The checked pairs (unit ids i < j, similarity) of a MinHash dedup and its counts of pairs
    reaching the threshold and of those with other math. The unit partitions' band keys, same-math
    keys and shingle sets (never texts) are gathered into shards of about `parallel.part_size`
    units (`minhash.BandSearch`, on the workers, never here; one shard where nothing spreads the
    work); one task per band finds its huge-bucket followers from the shards' key columns; one
    task per (pair of shards, band) makes, skips and checks that band's pairs within a shard or
    across two. Only the pairs that pass come here."""
    groups, held = [[]], 0  # consecutive unit partitions, about part_size units a shard
    limit = parallel.part_size(max(sum(sizes), 1))
    for p, size in enumerate(sizes):
        if groups[-1] and held + size > limit:
            groups.append([])
            held = 0
        groups[-1].append(p)
        held += size
    search = functools.partial(_band_search, check=spec.check, threshold=spec.threshold)
    made = parallel.tasks(search, [[searches[p] for p in group] for group in groups], returns=2 + spec.bands)
    shards = [m[0] for m in made]
    bands = list(range(spec.bands))
    followers = tuple(parallel.tasks(minhash.band_followers,
                                     [[c for m in made for c in (m[1], m[2 + b])] for b in bands], fetch=True))
    del made
    mine = parallel.tasks(minhash.shard_followers, [[shard] for shard in shards], shared=followers)
    # Each pair of shards (a shard with itself: the pairs within it), in each band.
    pairs = parallel.tasks(minhash.band_pairs,
                           [[shards[x], mine[x], *((shards[y], mine[y]) if y != x else (None, None)), b]
                            for x in range(len(shards)) for y in range(x, len(shards)) for b in bands], fetch=True)
    i, j, sim = (np.concatenate([p[k] for p in pairs]) for k in range(3))
    order = np.lexsort((j, i))
    return (i[order].astype(np.int64), j[order].astype(np.int64), sim[order],
            sum(p[4] for p in pairs), sum(p[5] for p in pairs))


def _band_search(*parts: tuple, check: str, threshold: float) -> list:
    """Some unit partitions' (ids, band keys, sketches, same-math keys) as one shard of the search,
    then its ids and each band's keys (what finding a band's followers reads)."""
    ids = np.concatenate([p[0] for p in parts])
    labels = None if parts[0][3] is None else np.concatenate([p[3] for p in parts])
    shard = minhash.BandSearch.of(ids, np.concatenate([p[1] for p in parts]),
                                  minhash.Sketches.concat([p[2] for p in parts]), check, threshold, labels)
    return [shard, *shard.columns()]


def _index_matches(found: _Units, index: minhash.Index, threshold: float, bands: int) -> pl.DataFrame:
    """The units of one partition that match the saved index: each one's most similar indexed row."""
    u, k, sim = index.match(found.sketches.signatures, threshold, bands)
    return _best_match(found.units["_unit"].to_numpy()[u], k, sim, index.ids)


def _question_shapes_of(found: _Units, asked: np.ndarray) -> dict:
    """`question_shape` of the units of one partition that are `asked` (their first row's text)."""
    mine = found.units.filter(pl.col("_unit").is_in(pl.Series(asked).implode()))
    return dict(zip(mine["_unit"].to_list(), _question_shapes(mine["_text"])))


def _semantic_pairs(units: list, empties: list, spec: _Spec, model: str | None, batch_size: int, same_math: bool):
    """Semantic pairs, here: every unit's text (empty ones included, in unit order) embedded by
    the one model, neighbours at the threshold, other-math pairs dropped. (unit ids, vectors),
    pairs, pairs reaching the threshold, other-math pairs, and the empty units (never clustered)."""
    from curate import semantic

    texts = pl.concat([*parallel.tasks(_unit_texts, [[u] for u in units], fetch=True),
                       *parallel.tasks(_empty_units, [[e] for e in empties], fetch=True)], how="vertical_relaxed")
    texts = texts.sort("_unit")
    ids = texts["_unit"].to_numpy()
    vectors = semantic.embed(texts["_text"].to_list(), model, batch_size)
    i, j, _ = semantic.neighbours(vectors, spec.threshold)
    similar, unlike = len(i), 0
    if same_math and len(i):
        math = _in_parts(math_keys, texts["_norm"])
        same = math[i] == math[j]
        unlike = int((~same).sum())
        i, j = i[same], j[same]
    return (ids, vectors), ids[i], ids[j], similar, unlike, ids[(texts["_norm"] == "").to_numpy()]


def _unit_texts(found: _Units) -> pl.DataFrame:
    return found.units


def _empty_units(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.select(pl.col("_pos").alias("_unit"), "_norm", "_text")


def _clusters(i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The union-find on the checked pairs: (unit ids that are in a pair, ascending; the cluster
    of each, its smallest unit id). A unit in no pair is a cluster of its own."""
    ids = np.unique(np.concatenate([i, j]))
    labels = minhash.connected_components(len(ids), np.searchsorted(ids, i), np.searchsorted(ids, j))
    return ids, ids[labels]


def math_keys(norm: pl.Series) -> np.ndarray:
    """A 64-bit key per text for the sequence of its tokens that are not plain words: numbers,
    formulas, operators (`11x`, `-`, `7`, `=`, `-84`). Rewording and renaming leave it alone;
    changing a number or a sign does not, and neither does swapping two numbers ("2 red and 5
    blue" is not "5 red and 2 blue"), at the cost of missing copies whose sentences were reordered."""
    return np.array([xxhash.xxh3_64_intdigest(" ".join(w for w in t.split() if not w.isalpha()).encode())
                     for t in norm.to_list()], dtype=np.uint64)


# A sentence ends at . ? or ! followed by space (3.5 and $x.$y stay whole).
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")
# First words of a sentence that asks (when no sentence ends with "?").
ASKING = frozenset("find compute determine evaluate solve calculate simplify express what what's how which who "
                   "prove work carefully exactly give".split())
# Instructions about the answer, not the problem ("Show your work."): never the question sentence.
INSTRUCTION = re.compile(r"^(show|explain|justify|be careful|give your answer|express your answer|please|"
                         r"thanks|thank you|\(version)", re.I)
QUESTION_JACCARD = 0.5  # question sentences of two copies share at least this share of their words
# Words that ask rather than say what is asked ("Work out $a_4$" asks what "Find $a_4$" does).
ASKING_FILLER = ASKING | frozenset("out is are the a an of value exact exactly carefully please".split())


def question_shape(text: str) -> tuple[int, frozenset[str]]:
    """(premises, question words): the number of sentences before the question sentence, and the
    question sentence's normalised words less those that only ask (find, work out, what is, the). The question sentence is the last one ending in "?",
    else the last one starting with an asking word (find, compute, what, ...), else the last
    sentence that is not an instruction about the answer ("Show your work.")."""
    sentences = [x for x in _SENTENCE_END.split(" ".join((text or "").split())) if x.strip()]
    if not sentences:
        return 0, frozenset()
    pick = next((k for k in range(len(sentences) - 1, -1, -1) if sentences[k].rstrip().endswith("?")), None)
    if pick is None:
        pick = next((k for k in range(len(sentences) - 1, -1, -1)
                     if normalize_for_dedup(sentences[k]).split()[:1] and
                     normalize_for_dedup(sentences[k]).split()[0] in ASKING
                     and not INSTRUCTION.match(sentences[k])), None)
    if pick is None:
        pick = next((k for k in range(len(sentences) - 1, -1, -1) if not INSTRUCTION.match(sentences[k])),
                    len(sentences) - 1)
    return pick, frozenset(normalize_for_dedup(sentences[pick]).split()) - ASKING_FILLER


def _question_shapes(texts: pl.Series) -> list[tuple[int, frozenset[str]]]:
    return [question_shape(t) for t in texts.to_list()]


PAIRED_TEXTS = 50_000  # texts of paired units checked in one part (Python per text)


def _in_parts(fn, texts: pl.Series) -> list | np.ndarray:
    """`fn` (per text, Python) over `texts`, in parts (`curate.parallel`), results in order."""
    found = parallel.map_parts(fn, parallel.slices(texts, parallel.part_size(PAIRED_TEXTS)))
    if found and isinstance(found[0], np.ndarray):
        return np.concatenate(found)
    return [x for part in found for x in part]


def same_question(a: tuple[int, frozenset[str]], b: tuple[int, frozenset[str]]) -> bool:
    if a[0] != b[0]:
        return False
    union = len(a[1] | b[1])
    return union == 0 or len(a[1] & b[1]) / union >= QUESTION_JACCARD


def _rows_by_cluster(found: _Units, shared: tuple, n: int) -> list[pl.DataFrame]:
    """One unit partition's rows with their cluster (and index match), cut by the cluster into the
    `n` partitions where the keep policy runs."""
    (ids, label), matched = shared
    unit = found.rows["_unit"].to_numpy()
    at = np.minimum(np.searchsorted(ids, unit), max(len(ids) - 1, 0))
    paired = (ids[at] == unit) if len(ids) else np.zeros(len(unit), bool)
    cluster = np.where(paired, label[at] if len(ids) else unit, unit)
    rows = found.rows.with_columns(pl.Series("_cluster", cluster, pl.Int64))
    rows = rows.join(matched, on="_unit", how="left", maintain_order="left")
    return parallel.split(rows, "_cluster", n)


def _resolve_cluster_part(*args, spec: _Spec) -> tuple[pl.DataFrame, dict]:
    """One cluster partition: the kept row of each cluster, the rows of every other problem in it
    marked, each grouped row's similarity to the kept unit, the drop reason; and its counts
    (clusters, dropped) and, for a saved index, its surviving units with their signatures."""
    *pieces, vectors = args
    df = _resolve_part(pl.concat(pieces, how="vertical_relaxed"), spec.keep)
    df = _add_similarity(df, spec, vectors)
    threshold = spec.threshold
    reason = {"exact": "exact duplicate",  # equal normalised text, whatever the method
              "minhash": f"near duplicate (minhash J ≥ {threshold:g})",
              "semantic": f"semantic duplicate (cosine ≥ {threshold:g})"}[spec.method]
    cols = df.with_columns(
        pl.when(pl.col("_ext_id").is_not_null()).then(pl.lit(f"near duplicate of an indexed row (minhash J ≥ {threshold:g})"))
        .when(pl.col("_dropped") & (pl.col("_unit") == pl.col("_top_unit"))).then(pl.lit("exact duplicate"))
        .when(pl.col("_dropped")).then(pl.lit(reason)).alias(DROP),
        pl.coalesce(pl.col("_ext_id").map_batches(_text_key, return_dtype=pl.String), "dup_cluster").alias("dup_cluster"),
        pl.coalesce("_ext_id", "dup_of").alias("dup_of"),
        pl.coalesce("_ext_sim", "dup_sim").alias("dup_sim"),
    ).sort("_pos")
    meta = {"clusters": int(cols.filter(pl.col("_ext_id").is_null())["dup_cluster"].drop_nulls().n_unique()),
            "dropped": int(cols[DROP].is_not_null().sum()), "survivors": None}
    if spec.save_index:
        survivors = (cols.filter(pl.col(DROP).is_null())
                     .group_by("_unit").agg(pl.col("_rid").first(), pl.col("_norm").first()).sort("_unit"))
        sig = minhash.sketch(survivors["_norm"], spec.ngram, spec.num_perm, spec.seed, normalized=True).signatures
        meta["survivors"] = survivors.select("_unit", "_rid", pl.Series("_sig", sig, pl.Array(pl.UInt32, spec.num_perm)))
    return _output(cols, spec), meta


def _resolve_part(part: pl.DataFrame, keep: Keep) -> pl.DataFrame:
    df = part.sort(_keep_order(keep, part.columns))
    df = df.with_columns(
        pl.col("_rid").first().over("_cluster").alias("_top"),
        pl.col("_pid").first().over("_cluster").alias("_top_pid"),
        pl.col("_unit").first().over("_cluster").alias("_top_unit"),
        pl.col("_pid").n_unique().over("_cluster").alias("_problems"),
    )
    top_norm = df.select("_unit", "_norm").unique("_unit").rename({"_unit": "_top_unit", "_norm": "_top_norm"})
    df = df.join(top_norm, on="_top_unit", how="left")
    grouped = pl.col("_problems") > 1
    return df.with_columns(
        pl.when(grouped).then(pl.col("_top_norm").map_batches(_text_key, return_dtype=pl.String)).alias("dup_cluster"),
        pl.when(grouped).then(pl.col("_top")).alias("dup_of"),
        (grouped & (pl.col("_pid") != pl.col("_top_pid"))).alias("_dropped"),
        grouped.alias("_grouped"),
    )


def _text_key(texts: pl.Series) -> pl.Series:
    return pl.Series([None if t is None else xxhash.xxh3_64_hexdigest(t.encode()) for t in texts],
                     dtype=pl.String)


def _add_similarity(df: pl.DataFrame, spec: _Spec, vectors) -> pl.DataFrame:
    """dup_sim: each grouped row's similarity to the kept row's unit (1.0 for the same text); the
    units' shingles or signatures made again from their normalised text (a cluster's units are
    all here, its sketches were made in their unit partitions)."""
    pairs = df.filter(pl.col("_grouped") & (pl.col("_unit") != pl.col("_top_unit"))) \
        .select("_unit", "_top_unit").unique()
    u, t = pairs["_unit"].to_numpy(), pairs["_top_unit"].to_numpy()
    if spec.method == "minhash" and len(u):
        involved = np.unique(np.concatenate([u, t]))
        norms = df.select("_unit", "_norm").unique("_unit").sort("_unit")
        norms = norms.filter(pl.col("_unit").is_in(pl.Series(involved).implode()))
        sk = minhash.sketch(norms["_norm"], spec.ngram, spec.num_perm, spec.seed, normalized=True)
        a, b = np.searchsorted(involved, u), np.searchsorted(involved, t)
        sim = minhash.jaccard(sk, a, b) if spec.check == "jaccard" else minhash.estimate(sk.signatures, sk.signatures, a, b)
    elif spec.method == "semantic" and len(u):
        ids, vec = vectors
        sim = np.einsum("ij,ij->i", vec[np.searchsorted(ids, u)], vec[np.searchsorted(ids, t)]).astype(np.float64)
    else:
        sim = np.ones(len(u))
    sims = pairs.with_columns(pl.Series("_sim", sim, dtype=pl.Float64))
    return df.join(sims, on=["_unit", "_top_unit"], how="left").with_columns(
        pl.when(pl.col("_grouped")).then(pl.col("_sim").fill_null(1.0)).alias("dup_sim"))


def _best_match(u: np.ndarray, k: np.ndarray, sim: np.ndarray, ids: list[str]) -> pl.DataFrame:
    """For each unit matching the index, its most similar indexed row (earliest on ties)."""
    found = pl.DataFrame({"_unit": u.astype(np.int64), "_k": k.astype(np.int64), "_ext_sim": sim})
    best = found.sort(["_unit", "_ext_sim", "_k"], descending=[False, True, False]).unique("_unit", keep="first")
    return best.select("_unit", pl.Series("_ext_id", ids, dtype=pl.String).gather(best["_k"]),
                       "_ext_sim")
