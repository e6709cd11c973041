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


def _row_ids(frame: pl.DataFrame) -> pl.Expr:
    """How a row is named in `dup_of`: trace_id, else id, else its row number."""
    for name in ("trace_id", "id"):
        if name in frame.columns:
            return pl.col(name).cast(pl.String)
    return pl.int_range(pl.len()).cast(pl.String)


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


EXACT_BATCH = 50_000  # texts normalised in one part (normalising is Python: lists of a part, not a column)


def exact_problems(frame: pl.DataFrame, *, on: str = "problem",
                   keep: Literal["first", "last", "longest", "shortest"] = "first",
                   max_per_problem: int | None = None) -> Outcome:
    """The `exact_dedup` stage's work: rows grouped by the normalised `on` text; in a group
    holding more than one problem, the problem of the best-ranked row (`rank_expr`) survives with
    all its samples and the others' rows drop; then at most `max_per_problem` samples per problem.
    Columns keyed by `trace_id` (in input order): dup_cluster, dup_of, dup_sim, drop_reason.

    Parts (`curate.parallel`): the keys are computed `EXACT_BATCH` texts a part; the groups meet in
    hash partitions of the key (the shuffle of a groupby), where each group's kept row is chosen;
    with `max_per_problem`, a problem's samples are ranked in hash partitions of problem_id. The
    ranking is a total order (input position breaks ties), so any partition gives the same rows."""
    if on not in frame.columns:
        raise BadInput(f"no column {on!r} to deduplicate on")
    extra = [c for c in ("gold", "verdict") if c in frame.columns]
    ranked = extra + (["thinking"] if keep in ("longest", "shortest") else [])
    text = frame[on].cast(pl.String).fill_null("")
    keys = parallel.map_parts(_exact_keys, parallel.slices(text, parallel.part_size(EXACT_BATCH)))
    df = frame.select("trace_id", "problem_id", *ranked).with_columns(
        pl.concat(keys) if keys else pl.Series("_key", [], pl.String), pl.int_range(pl.len()).alias("_pos"))
    n = parallel.n_parts(df.height, max(df.height, 1))
    df = pl.concat(parallel.map_parts(functools.partial(_exact_groups, keep=keep, extra=tuple(extra)),
                                      parallel.hash_parts(df, "_key", n)))
    in_group = pl.col("_problems") > 1
    warnings = []
    if max_per_problem is not None:
        df = pl.concat(parallel.map_parts(
            functools.partial(_sample_ranks, keep=keep, extra=tuple(extra), limit=max_per_problem),
            parallel.hash_parts(df, "problem_id", n)))
        if not df["_over"].any():
            warnings.append(f"max_per_problem: {max_per_problem}: no problem has more samples than that")
    other_problem = pl.col("problem_id") != pl.col("_top_pid")
    # One fixed text per cause, so reasons group in SQL; which row was kept is in dup_of.
    reason = pl.when(other_problem).then(pl.lit("exact duplicate of another problem"))
    if max_per_problem is not None:
        reason = reason.when(pl.col("_over")).then(pl.lit(f"more than {max_per_problem} sample(s) of the problem"))
    out = df.sort("_pos").select(
        "trace_id",
        pl.when(in_group).then(pl.col("_key")).alias("dup_cluster"),
        pl.when(in_group).then(pl.col("_top")).alias("dup_of"),
        pl.when(in_group).then(pl.lit(1.0)).alias("dup_sim"),
        reason.otherwise(None).cast(pl.String).alias(DROP),
    )
    return Outcome(out, {"clusters": int(df.filter(in_group)["_key"].n_unique())}, warnings)


def _exact_keys(text: pl.Series) -> pl.Series:
    """exact_dedup's group key of each text: the hash of its normalised form."""
    return pl.Series("_key", [xxhash.xxh3_64_hexdigest(normalize_for_dedup(t).encode()) for t in text.to_list()],
                     pl.String)


def _exact_groups(part: pl.DataFrame, keep: str, extra: tuple[str, ...]) -> pl.DataFrame:
    """One hash partition of the key: each group's best-ranked row and problem, and its problems."""
    return part.sort(rank_expr(keep, extra)).with_columns(
        pl.col("trace_id").first().over("_key").alias("_top"),
        pl.col("problem_id").first().over("_key").alias("_top_pid"),
        pl.col("problem_id").n_unique().over("_key").alias("_problems"),
    )


def _sample_ranks(part: pl.DataFrame, keep: str, extra: tuple[str, ...], limit: int) -> pl.DataFrame:
    """One hash partition of problem_id: whether a row ranks past `limit` among its problem's samples."""
    return part.sort(rank_expr(keep, extra)).with_columns(
        (pl.int_range(pl.len()).over("problem_id") >= limit).alias("_over"))


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

def dedup_table(frame: pl.DataFrame, *, on: str = "problem", method: Method = "minhash",
                threshold: float | None = None, keep: Keep = "first", ngram: int = minhash.NGRAM,
                num_perm: int = minhash.NUM_PERM, bands: int | None = None,
                check: Literal["jaccard", "signature"] = "jaccard", seed: int = minhash.SEED,
                model: str | None = None, batch_size: int = 64,
                index: Path | None = None, save_index: Path | None = None,
                same_math: bool = True) -> Outcome:
    """Mark duplicate problems in `frame` (see the module docstring); `index` is a saved MinHash
    index to dedup against, `save_index` where to write it extended by this batch's survivors.
    `same_math`: near-duplicates (minhash, semantic) must also have the same numbers and formulas,
    and minhash pairs as many premise sentences before a like question sentence (`question_shape`)."""
    if method not in METHODS:
        raise BadInput(f"unknown dedup method {method!r} (known: {', '.join(METHODS)})")
    check_table(frame, on, "deduplicate")
    threshold = DEFAULT_THRESHOLD[method] if threshold is None else threshold
    check_threshold(threshold)
    if ngram < 1 or num_perm < 1:
        raise BadInput(f"ngram and num_perm must be positive, got {ngram} and {num_perm}")
    if method == "minhash" and bands is not None:
        minhash.rows_per_band(num_perm, bands)
    if (index or save_index) and method != "minhash":
        raise BadInput("a saved index (index / save_index) needs method minhash")
    if keep in KEEP_NEEDS and KEEP_NEEDS[keep] not in frame.columns:
        raise BadInput(f"keep {keep!r} needs a {KEEP_NEEDS[keep]!r} column, which the table lacks")

    rows = _units(frame, on)
    texts = rows.group_by("_unit").agg(pl.col("_norm").first(), pl.col("_text").first()).sort("_unit")
    n_units = texts.height
    stats: dict = {"method": method, "threshold": threshold, "units": n_units}
    empty = (texts["_norm"] == "").to_numpy()  # empty text duplicates nothing
    sketches = vectors = None
    old = minhash.empty_index(ngram, num_perm, seed)
    matched = pl.DataFrame(schema={"_unit": pl.Int64, "_ext_id": pl.String, "_ext_sim": pl.Float64})
    # "Solve 11x - 7 = 84" and "Solve 11x + 7 = 84" share most shingles and embed alike, yet are
    # different problems: a near-duplicate pair must have the same numbers and formulas (equal
    # keys). Every unit's key is computed once, so MinHash drops other-math pairs as it checks them.
    math = _in_parts(math_keys, texts["_norm"]) if same_math and method != "exact" else None
    similar = unlike = 0  # pairs reaching the threshold; of those, with other math
    if method == "exact":
        i = j = np.zeros(0, np.int64)
    elif method == "minhash":
        sketches = minhash.sketch(texts["_norm"], ngram, num_perm, seed, normalized=True)
        bands = bands or minhash.choose_bands(threshold, num_perm)
        stats["bands"], stats["rows"] = bands, num_perm // bands
        if index:
            old = minhash.load_index(index)
            old.check_compatible(ngram, num_perm, seed, str(index))
            u, k, sim = old.match(sketches.signatures, threshold, bands)
            matched = _best_match(u[~empty[u]], k[~empty[u]], sim[~empty[u]], old.ids)
            stats["index_matches"] = matched.height
        found = minhash.near_duplicates(sketches, threshold, bands, check, labels=math)
        i, j, similar, unlike = found.i, found.j, found.similar, found.unlike
    else:
        from curate import semantic

        vectors = semantic.embed(texts["_text"].to_list(), model, batch_size)
        i, j, _ = semantic.neighbours(vectors, threshold)
        similar = len(i)
        if math is not None and len(i):
            same = math[i] == math[j]
            unlike = int((~same).sum())
            i, j = i[same], j[same]
    if math is not None and similar:
        stats["pairs_with_other_math"] = unlike
        # A premise removed (or added) leaves the numbers of the rest and most shingles, and makes
        # another problem (often an unanswerable one): the pair must also state as many premises
        # before a like question sentence. MinHash pairs only: semantic pairs are paraphrases,
        # which restructure sentences (their premises are judged by meaning).
        if len(i) and method == "minhash":
            asked = np.unique(np.concatenate([i, j]))
            shape = dict(zip(asked.tolist(), _in_parts(_question_shapes, texts["_text"].gather(asked))))
            same = np.array([same_question(shape[a], shape[b]) for a, b in zip(i.tolist(), j.tolist())], bool)
            stats["pairs_with_other_question"] = int((~same).sum())
            i, j = i[same], j[same]
    # Units already in the index leave the batch's own clustering: a survivor must not be dropped
    # as a duplicate of a row that is itself dropped.
    blocked = empty.copy()
    blocked[matched["_unit"].to_numpy()] = True
    ok = ~(blocked[i] | blocked[j])
    labels = minhash.connected_components(n_units, i[ok], j[ok])
    stats["pairs"] = int(ok.sum())

    cols = _resolve(rows, labels, keep)
    cols = _add_similarity(cols, method, texts, sketches, vectors, check)
    reason = {"exact": "exact duplicate",  # equal normalised text, whatever the method
              "minhash": f"near duplicate (minhash J ≥ {threshold:g})",
              "semantic": f"semantic duplicate (cosine ≥ {threshold:g})"}[method]
    cols = cols.join(matched, on="_unit", how="left").with_columns(
        pl.when(pl.col("_ext_id").is_not_null()).then(pl.lit(f"near duplicate of an indexed row (minhash J ≥ {threshold:g})"))
        .when(pl.col("_dropped") & (pl.col("_unit") == pl.col("_top_unit"))).then(pl.lit("exact duplicate"))
        .when(pl.col("_dropped")).then(pl.lit(reason)).alias(DROP),
        pl.coalesce(pl.col("_ext_id").map_batches(_text_key, return_dtype=pl.String), "dup_cluster").alias("dup_cluster"),
        pl.coalesce("_ext_id", "dup_of").alias("dup_of"),
        pl.coalesce("_ext_sim", "dup_sim").alias("dup_sim"),
    ).sort("_pos")
    stats["clusters"] = int(cols.filter(pl.col("_ext_id").is_null())["dup_cluster"].drop_nulls().n_unique())
    stats["dropped"] = int(cols[DROP].is_not_null().sum())

    if save_index:
        survivors = (cols.filter(pl.col(DROP).is_null() & (pl.col("_norm") != ""))
                     .group_by("_unit").agg(pl.col("_rid").first()).sort("_unit"))
        units = survivors["_unit"].to_numpy()
        minhash.save_index(old.extended(survivors["_rid"].to_list(), sketches.signatures[units]), save_index)
        stats["index_size"] = len(old.ids) + len(units)
    return Outcome(cols.select("dup_cluster", "dup_of", "dup_sim", DROP), stats)


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


def _units(frame: pl.DataFrame, on: str) -> pl.DataFrame:
    """One row per input row: position, id, problem, normalised text and unit (distinct
    normalised text; every empty text is a unit of its own)."""
    extra = [c for c in ("thinking", "gold", "verdict", "score") if c in frame.columns]
    problem = pl.col("problem_id").cast(pl.String) if "problem_id" in frame.columns \
        else pl.int_range(pl.len()).cast(pl.String)
    rows = frame.select(
        pl.int_range(pl.len()).alias("_pos"), _row_ids(frame).alias("_rid"), problem.alias("_pid"), *extra,
        pl.col(on).cast(pl.String).fill_null("").alias("_text"),
    )
    # Samples of a problem repeat its text: normalise each distinct text once.
    distinct = rows.select(pl.col("_text").unique(maintain_order=True))
    norm = _in_parts(_normalized, distinct["_text"])
    distinct = distinct.with_columns(pl.Series("_norm", norm, dtype=pl.String))
    rows = rows.join(distinct, on="_text", how="left", maintain_order="left")
    rows = rows.with_columns(pl.when(pl.col("_norm") == "").then(pl.col("_pos")).otherwise(-1).alias("_alone"))
    units = rows.select("_norm", "_alone").unique(maintain_order=True).with_row_index("_unit")
    return (rows.join(units, on=["_norm", "_alone"], how="left", maintain_order="left")
            .with_columns(pl.col("_unit").cast(pl.Int64)).drop("_alone"))


def _normalized(texts: pl.Series) -> list[str]:
    return [normalize_for_dedup(t) for t in texts.to_list()]


def _resolve(rows: pl.DataFrame, labels: np.ndarray, keep: Keep) -> pl.DataFrame:
    """Pick the kept row of each cluster and mark the rows of every other problem in it: in hash
    partitions of the cluster (`curate.parallel`), where a cluster's rows meet. The keep order is
    total (input position breaks ties), so any partition picks the same row."""
    df = rows.drop("_text").with_columns(pl.Series("_cluster", labels[rows["_unit"].to_numpy()]))
    parts = parallel.hash_parts(df, "_cluster", parallel.n_parts(df.height, max(df.height, 1)))
    return pl.concat(parallel.map_parts(functools.partial(_resolve_part, keep=keep), parts))


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


def _add_similarity(df: pl.DataFrame, method: Method, texts: pl.DataFrame, sketches, vectors,
                    check: str) -> pl.DataFrame:
    """dup_sim: each grouped row's similarity to the kept row's unit (1.0 for the same text)."""
    pairs = df.filter(pl.col("_grouped") & (pl.col("_unit") != pl.col("_top_unit"))) \
        .select("_unit", "_top_unit").unique()
    u, t = pairs["_unit"].to_numpy(), pairs["_top_unit"].to_numpy()
    if method == "minhash" and check == "jaccard":
        sim = minhash.jaccard(sketches, u, t)
    elif method == "minhash":
        sim = minhash.estimate(sketches.signatures, sketches.signatures, u, t)
    elif method == "semantic":
        sim = np.einsum("ij,ij->i", vectors[u], vectors[t]).astype(np.float64)
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
