"""Decontamination of trace tables: what the `decontam` stage and command call.

Decontamination drops rows sharing a word n-gram (default 8, on lowercased, whitespace-collapsed
text) with a benchmark problem, as s1 and open-r1 do, optionally also rows whose MinHash Jaccard
with one reaches `fuzzy`. An n-gram found in `boilerplate` (default 3) or more benchmark problems
is boilerplate ("where $m$ and $n$ are relatively prime positive integers") and does not count;
the problems counted are the benchmarks' and those of `boilerplate_from` (default `input`: the
distinct texts being checked; add corpora such as the MATH test set by name or path). Columns
`contaminated_with`: the benchmark ids (`math500:test/…`); `contaminated_ngram`: the n-gram that
matched, so a person can judge.

Where the work runs: the rows come as `curate.parallel.Parts` (a frame is one part here, or slices
of `batch` rows while an engine spreads the work; on the Ray engine, the blocks in the object
store) and every per-row step is a `parallel.tasks` call on one part, so no row's text comes to
the calling process. The benchmarks' n-grams (and corpora's counts) are built here, once. The
distinct input problems are counted by a shuffle: each part's distinct lowered problems are cut
into hash partitions of their text (a problem repeated across parts meets itself in one), each
partition counts its problems' n-grams, cut into hash partitions of the n-gram, and each of those
adds the benchmarks' and corpora's counts; only how many n-grams are boilerplate and which of the
benchmarks' own are (the only ones that can stop a match) come back. Each part is then matched
against the benchmarks' n-grams less the boilerplate ones (and the fuzzy index), makes its columns
and the n-gram that matched, and sends back its matched benchmark problems and rows per benchmark.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
import pyarrow as pa

from curate import minhash, parallel
from curate.dedup import check_table, check_threshold
from curate.errors import BadInput
from curate.outcome import Outcome
from curate.schema import DROP

# An n-gram in this many benchmark problems is boilerplate ("relatively prime positive integers.
# Find m+n" is in 20 of AIME/AMC/MATH-500/GSM8K's 1,919 problems), not a sign of a copied problem.
BOILERPLATE = 3
# Where else boilerplate is counted: "input" is the distinct problems being checked, after the
# dedup stages before decontam (a pasted benchmark problem counts once there; a phrase in many
# different training problems is wording, not a copy).
INPUT = "input"
BOILERPLATE_FROM = (INPUT,)


@dataclass(frozen=True)
class Benchmark:
    name: str
    ids: list[str]
    problems: list[str]


def load_benchmark(spec: str, folder: Path | str | None = None, column: str = "problem") -> Benchmark:
    """A benchmark by path (any JSONL/Parquet with a `column`, or a folder of Parquet shards such
    as a `distillery synth` held-out split) or by name (math500, aime24, …: `curate.benchmarks`
    resolves it: `folder`, $DISTILLERY_BENCHMARKS, the user cache, the hub)."""
    from curate import benchmarks

    name, path, table = benchmarks.read(spec, folder)
    if column not in table.column_names:
        raise BadInput(f"{path}: benchmark has no {column!r} column (columns: {', '.join(table.column_names)})")
    ids = (table.column("id").cast(pa.string()).to_pylist() if "id" in table.column_names
           else table.column("problem_id").cast(pa.string()).to_pylist() if "problem_id" in table.column_names
           else [str(i) for i in range(table.num_rows)])
    problems = ["" if p is None else str(p) for p in table.column(column).to_pylist()]
    return Benchmark(name, ids, problems)


def _lower(text: str) -> str:
    return " ".join(text.lower().split())


def _ngram_table(texts: list[str], n: int) -> dict[int, pl.DataFrame]:
    """Each text's exact n-grams as 64-bit keys, by n-gram size: a text of fewer than `n` words
    is one n-gram of its own length (so a short benchmark problem still matches when pasted)."""
    w = minhash.words(minhash.normalize_column(texts, _lower), wide=True)
    lengths = w.lengths
    tables = {}
    for size in sorted({int(min(n, L)) for L in lengths if L > 0}):
        pick = np.nonzero(np.minimum(lengths, n) == size)[0]
        sub = _subset(w, pick)
        keys, owner = minhash.ngram_hashes(sub, size, minhash.combine64)
        tables[size] = pl.DataFrame({"key": keys, "owner": pick[owner]}).unique()
    return tables


def _subset(w: minhash.Words, pick: np.ndarray) -> minhash.Words:
    lengths = w.lengths[pick]
    owner = np.repeat(np.arange(len(w.lengths)), w.lengths)
    return minhash.Words(w.hashes[np.isin(owner, pick)], np.concatenate(([0], np.cumsum(lengths))))


def _boilerplate_counts(problems: list[str], n: int, sizes: list[int], also: list[str], bench_dir) -> pl.DataFrame:
    """(size, key, df): in how many problems of the benchmarks and of the `also` corpora other than
    "input" each n-gram is (each corpus problem counts, as each benchmark problem does)."""
    texts = list(problems)
    for spec in also:
        if spec != INPUT:
            texts += load_benchmark(spec, bench_dir).problems
    return _df_counts(_ngram_table(texts, n), sizes)


_COUNTS = {"size": pl.Int64, "key": pl.UInt64, "df": pl.Int64}
_KEYS = ["size", "key"]


def _df_counts(tables: dict[int, pl.DataFrame], sizes: list[int]) -> pl.DataFrame:
    """(size, key, df): the distinct owners of each n-gram of `_ngram_table`'s tables, for `sizes`."""
    counts = [t.group_by("key").agg(pl.col("owner").n_unique().cast(pl.Int64).alias("df"))
              .select(pl.lit(size, pl.Int64).alias("size"), "key", "df")
              for size, t in tables.items() if size in sizes]
    return pl.concat(counts) if counts else pl.DataFrame(schema=_COUNTS)


# ---------------------------------------------------------------- the work, part by part
# The rows come as `curate.parallel.Parts`: here one part (or, while an engine spreads the work,
# slices of the frame); on the Ray engine the blocks themselves, which stay on the workers. Every
# function below runs on one part (or one hash partition) as a `parallel.tasks` call; the calling
# process gets only what the benchmarks bound: the boilerplate n-grams among the benchmarks' own,
# and each part's matched benchmark problems and row counts.


@dataclass(frozen=True)
class _Counting:
    """What counting the distinct input problems' n-grams needs (shipped once per step)."""

    on: str
    ngram: int
    sizes: list[int]  # the benchmarks' n-gram sizes: only those are counted
    weight: int  # how many times "input" is named in boilerplate_from
    bench_lowered: frozenset[str]
    n: int = 1  # hash partitions of the shuffle


def _problem_pieces(part: pl.DataFrame, how: _Counting) -> list[pl.DataFrame]:
    """One part's distinct input problems (lowered, not empty, not a benchmark problem) in the
    `how.n` hash partitions of the shuffle: a problem repeated across parts meets itself in one."""
    texts = part[how.on].cast(pl.String).to_list()
    lowered = sorted({_lower(t) for t in texts if t} - how.bench_lowered)
    return parallel.split(pl.DataFrame({"text": lowered}, schema={"text": pl.String}), "text", how.n)


def _problem_counts(*pieces_and_how) -> list[pl.DataFrame]:
    """One hash partition of the distinct input problems (every part's piece of it): the (size,
    key, df) counts of their n-grams, in the `how.n` hash partitions of (size, key)."""
    *pieces, how = pieces_and_how
    texts = pl.concat(pieces)["text"].unique().sort().to_list()
    counts = _df_counts(_ngram_table(texts, how.ngram), how.sizes) if texts else pl.DataFrame(schema=_COUNTS)
    counts = counts.with_columns(pl.col("df") * how.weight)
    return parallel.split(counts.cast(_COUNTS), _KEYS, how.n)


def _boilerplate_keys(corpus: pl.DataFrame, *counts_and_shared) -> tuple[int, dict[int, np.ndarray]]:
    """One hash partition of the n-grams: the benchmarks' and corpora's counts plus the input's,
    and of the n-grams in at least `boilerplate` problems, how many there are and which of them
    are the benchmarks' own (only those can stop a match), as keys by n-gram size."""
    *counts, (boilerplate, bench_keys) = counts_and_shared
    common = (pl.concat([corpus, *counts]).group_by(_KEYS).agg(pl.col("df").sum())
              .filter(pl.col("df") >= boilerplate))
    theirs = common.select(_KEYS).join(bench_keys, on=_KEYS, how="semi")
    return common.height, {int(size): theirs.filter(pl.col("size") == size)["key"].to_numpy()
                           for size in theirs["size"].unique().to_list()}


def _boilerplate(parts: parallel.Parts, corpus: pl.DataFrame, bench_keys: pl.DataFrame, boilerplate: int,
                 how: _Counting, batch: int) -> tuple[int, dict[int, set[int]]]:
    """(how many n-grams are boilerplate, those of them that are benchmark n-grams): each distinct
    input problem counted once (`how.weight` times) across every part, by a shuffle on its text."""
    corpus = corpus.cast(_COUNTS)
    if how.weight == 0 or not parts.handles:
        found = [_boilerplate_keys(corpus, (boilerplate, bench_keys))]
    else:
        n = parallel.n_parts(len(parts), batch)
        how = replace(how, n=n)
        pieces = parallel.tasks(_problem_pieces, [[h] for h in parts.handles], shared=how, returns=n)
        counts = parallel.tasks(_problem_counts, [[p[q] for p in pieces] for q in range(n)], shared=how, returns=n)
        found = parallel.tasks(_boilerplate_keys,
                               [[c, *(k[q] for k in counts)] for q, c in enumerate(parallel.split(corpus, _KEYS, n))],
                               shared=(boilerplate, bench_keys), returns=2, fetch=True)
    keys: dict[int, set[int]] = {size: set() for size in how.sizes}
    for _, part in found:
        for size, some in part.items():
            keys[size].update(some.tolist())
    return sum(f[0] for f in found), keys


@dataclass(frozen=True)
class _Matching:
    """What every part's matching gets once: the benchmarks' n-grams by size (boilerplate ones
    removed), their problems and labels, the boilerplate keys (for the evidence), the fuzzy index."""

    on: str
    ngram: int
    grams: dict[int, pl.DataFrame]
    common: dict[int, set[int]]
    problems: list[str]
    labels: list[str]
    bench_names: list[str]
    bench_of: np.ndarray
    drop: bool
    with_id: bool  # the part's trace_id goes with its columns (the engine's parts)
    fuzzy: float | None = None
    index: minhash.Index | None = None
    real: np.ndarray | None = None  # benchmark problems that have a shingle at all


def _match_block(part: pl.DataFrame, offset: int, shared: _Matching) -> tuple[pl.DataFrame, dict]:
    """One part's rows against the benchmarks (its first row being row `offset`): its columns
    (contaminated_with, contaminated_ngram, drop_reason; with trace_id and `parallel.POS` when
    `with_id`), in its row order, and a summary for the stats (rows matched per benchmark, the
    benchmark problems matched)."""
    texts = part[shared.on].cast(pl.String).fill_null("")
    hits = []
    # Only the n-gram sizes the benchmarks have: nearly always just `ngram`.
    row_w = minhash.words(minhash.normalize_column(texts, _lower), wide=True)
    for size, grams in shared.grams.items():
        keys, owner = minhash.ngram_hashes(row_w, size, minhash.combine64)
        hits.append(pl.DataFrame({"key": keys, "row": owner}).join(grams, on="key").select("row", "owner"))
    if shared.fuzzy is not None:
        row_sk = minhash.sketch(texts)
        r, k, _ = shared.index.match(row_sk.signatures, shared.fuzzy)
        # Empty texts have equal (empty) signatures but share nothing.
        real = (np.bincount(row_sk.shingle_text, minlength=len(texts))[r] > 0) & shared.real[k]
        hits.append(pl.DataFrame({"row": r[real], "owner": k[real]}))
    found = (pl.concat([h.cast({"row": pl.Int64, "owner": pl.Int64}) for h in hits]) if hits
             else pl.DataFrame(schema={"row": pl.Int64, "owner": pl.Int64})).unique().sort("row", "owner")

    label_s = pl.Series(shared.labels, dtype=pl.String)
    per_row = (found.with_columns(label_s.gather(found["owner"]).alias("label"))
               .group_by("row").agg(pl.col("label"), pl.col("owner").first()))
    names = pl.Series(shared.bench_names, dtype=pl.String)
    first_bench = names.gather(shared.bench_of[per_row["owner"].to_numpy()])
    # The n-gram that matched, so a person can judge the drop (fuzzy-only matches have none).
    evidence = [_matched_ngram(text, shared.problems[owner], shared.ngram, shared.common)
                for text, owner in zip(texts.gather(per_row["row"]).to_list(), per_row["owner"].to_list())]
    per_row = per_row.with_columns(first_bench.alias("_bench"),
                                   pl.Series("contaminated_ngram", evidence, dtype=pl.String))
    cols = (pl.DataFrame({"row": np.arange(part.height, dtype=np.int64)})
            .join(per_row, on="row", how="left", maintain_order="left"))
    reason = pl.concat_str(pl.lit("contaminated: overlaps benchmark "), pl.col("_bench"))
    cols = cols.select(pl.col("label").alias("contaminated_with"), "contaminated_ngram",
                       (reason if shared.drop else pl.lit(None, pl.String)).alias(DROP))

    hit_bench = shared.bench_of[found["owner"].to_numpy()]
    rows = found["row"].to_numpy()
    summary = {"rows": [int(np.unique(rows[hit_bench == k]).size) for k in range(len(shared.bench_names))],
               "owners": np.unique(found["owner"].to_numpy())}
    return _with_id(part, offset, cols, shared.with_id), summary


def _unmatched(part: pl.DataFrame, offset: int, with_id: bool) -> pl.DataFrame:
    """A part's columns when no benchmark could be read: nothing matched."""
    h = part.height
    cols = pl.DataFrame({"contaminated_with": pl.Series([None] * h, dtype=pl.List(pl.String)),
                         "contaminated_ngram": pl.Series([None] * h, dtype=pl.String),
                         DROP: pl.Series([None] * h, dtype=pl.String)})
    return _with_id(part, offset, cols, with_id)


def _with_id(part: pl.DataFrame, offset: int, cols: pl.DataFrame, with_id: bool) -> pl.DataFrame:
    """The columns, after each row's trace_id and input position when they go back as parts."""
    if not with_id:
        return cols
    where = part.select((pl.int_range(pl.len(), dtype=pl.Int64) + offset).alias(parallel.POS), "trace_id")
    return pl.concat([where, cols], how="horizontal")


def _with_offsets(parts: parallel.Parts) -> list[list]:
    return [[h, off] for h, off in zip(parts.handles, parts.offsets)]


def _checked_parts(frame: pl.DataFrame | parallel.Parts, on: str) -> tuple[parallel.Parts, bool]:
    """The rows as parts, and whether they came as parts (the columns then go back as parts)."""
    if isinstance(frame, parallel.Parts):
        names = parallel.columns(frame)
        if on not in names:
            raise BadInput(f"no column {on!r} to decontaminate on (columns: {', '.join(names)})")
        if not len(frame):
            raise BadInput("the table to decontaminate is empty")
        return frame, True
    check_table(frame, on, "decontaminate")
    return parallel.Parts.of(frame.select(on)), False


def _result(parts: parallel.Parts, handles: list, given: bool) -> pl.DataFrame | parallel.Parts:
    """The columns as parts (given parts), or as one frame in input order (given a frame)."""
    if given:
        return parallel.Parts(handles, list(parts.rows))
    return pl.concat(parallel.fetch(handles), how="vertical", rechunk=True)


def _gram_keys(text: str, size: int) -> tuple[list[str], np.ndarray]:
    low = _lower(text)
    keys, _ = minhash.ngram_hashes(minhash.words(pa.array([low]), wide=True), size, minhash.combine64)
    return low.split(), keys


def _matched_ngram(text: str, bench_text: str, n: int, common: dict[int, set[int]]) -> str | None:
    """The first word n-gram of `text` that the benchmark problem has and that is not boilerplate."""
    bench_words, bench_keys = _gram_keys(bench_text, n)
    size = min(n, len(bench_words))
    if size == 0:
        return None
    if size < n:
        bench_words, bench_keys = _gram_keys(bench_text, size)
    allowed = set(bench_keys.tolist()) - common.get(size, set())
    words_, keys = _gram_keys(text, size)
    for pos, key in enumerate(keys.tolist()):
        if key in allowed:
            return " ".join(words_[pos:pos + size])
    return None


def decontaminate(frame: pl.DataFrame | parallel.Parts, *, bench: list[str], on: str = "problem", ngram: int = 8,
                  fuzzy: float | None = None, bench_dir: Path | str | None = None,
                  drop: bool = True, missing: Literal["error", "skip"] = "error",
                  boilerplate: int | None = BOILERPLATE, boilerplate_from: list[str] | None = None,
                  batch: int = 20_000, beside: Path | None = None,
                  warn: Callable[[str], None] | None = None) -> Outcome:
    """Mark rows whose `on` text shares a word `ngram` with a benchmark problem (or, with
    `fuzzy`, reaches that MinHash Jaccard with one). An n-gram found in at least `boilerplate`
    distinct problems of the benchmarks and of the `boilerplate_from` corpora (counted, not checked
    against; default "input", the texts being checked) is boilerplate ("where $m$ and $n$ are
    relatively prime positive integers") and does not count. A relative benchmark path not found
    here is looked for `beside` the input (`beside_input`). A skipped benchmark is in the result's
    `warnings` (and told to `warn` as it happens, when given: it may raise).

    Given a frame, the result's columns are a frame in its row order; given `parallel.Parts`
    (frames with trace_id and `on`), they are Parts of frames with trace_id and the columns, one
    per input part, and no row's text ever comes to this process."""
    warnings: list[str] = []

    def note(line: str) -> None:
        warnings.append(line)
        if warn is not None:
            warn(line)
    parts, given = _checked_parts(frame, on)
    if not bench:
        raise BadInput("name at least one benchmark (math500, aime24, … or a file path)")
    if ngram < 1:
        raise BadInput(f"ngram must be positive, got {ngram}")
    if fuzzy is not None:
        check_threshold(fuzzy, "fuzzy")
    benches, skipped = [], []
    for spec in bench:
        spec = beside_input(spec, beside)
        try:
            benches.append(load_benchmark(spec, bench_dir))
        except BadInput as exc:
            if missing == "error":
                raise
            skipped.append(spec)
            # Said out loud: a skipped benchmark must never pass for a clean check.
            note(f"decontam skips {exc}")
    if boilerplate is not None and boilerplate < 2:
        raise BadInput(f"boilerplate must be at least 2 benchmark problems, got {boilerplate}")
    if not benches:
        handles = parallel.tasks(_unmatched, _with_offsets(parts), shared=given)
        return Outcome(_result(parts, handles, given), {"ngram": ngram, "benchmarks": {}, "skipped_benchmarks": skipped},
                       warnings)
    labels = [f"{b.name}:{i}" for b in benches for i in b.ids]
    problems = [p for b in benches for p in b.problems]
    bench_of = np.repeat(np.arange(len(benches)), [len(b.ids) for b in benches])
    bench_grams = _ngram_table(problems, ngram)
    also = list(BOILERPLATE_FROM if boilerplate_from is None else boilerplate_from)
    common: dict[int, set[int]] = {size: set() for size in bench_grams}
    n_common = 0
    if boilerplate is not None:
        bench_keys = pl.concat([pl.DataFrame(schema=_COUNTS).select(_KEYS),
                                *(t.select(pl.lit(size, pl.Int64).alias("size"), "key").unique() for size, t in bench_grams.items())])
        how = _Counting(on, ngram, list(bench_grams), also.count(INPUT), frozenset(_lower(p) for p in problems))
        n_common, common = _boilerplate(parts, _boilerplate_counts(problems, ngram, list(bench_grams), also, bench_dir),
                                        bench_keys, boilerplate, how, batch)
    # A boilerplate n-gram is taken out of the table the rows are matched against: it never counts.
    grams = {size: t.join(pl.DataFrame({"key": sorted(common[size])}, schema={"key": pl.UInt64}), on="key", how="anti")
             for size, t in bench_grams.items()}
    shared = _Matching(on, ngram, grams, common, problems, labels, [b.name for b in benches], bench_of, drop, given)
    if fuzzy is not None:
        bench_sk = minhash.sketch(problems)
        shared = replace(shared, fuzzy=fuzzy, index=minhash.Index(labels, bench_sk.signatures, minhash.NGRAM, minhash.SEED),
                         real=np.bincount(bench_sk.shingle_text, minlength=len(problems)) > 0)
    matched = parallel.tasks(_match_block, _with_offsets(parts), shared=shared, returns=2)
    summaries = parallel.fetch([m[1] for m in matched])

    stats = {"ngram": ngram, "fuzzy": fuzzy, "boilerplate": boilerplate, "boilerplate_ngrams": n_common,
             "benchmarks": {b.name: len(b.ids) for b in benches},
             "skipped_benchmarks": skipped, "contaminated_rows": {}, "benchmark_problems_matched": {}}
    owners = np.unique(np.concatenate([np.zeros(0, np.int64), *(s["owners"] for s in summaries)]))
    for k, b in enumerate(benches):
        stats["contaminated_rows"][b.name] = int(sum(s["rows"][k] for s in summaries))
        stats["benchmark_problems_matched"][b.name] = int((bench_of[owners] == k).sum())
    return Outcome(_result(parts, [m[0] for m in matched], given), stats, warnings)


def beside_input(spec: str, input_path: Path | None) -> str:
    """A relative path that is not found from here but is beside the run's input (a held-out split
    `distillery synth --heldout` wrote next to the corpus) names that; anything else is unchanged."""
    from curate import benchmarks

    if input_path is None or Path(spec).is_absolute() or Path(spec).exists() or benchmarks.canonical(spec) in benchmarks.REGISTRY:
        return spec
    base = Path(input_path) if Path(input_path).is_dir() else Path(input_path).parent
    return str(base / spec) if (base / spec).exists() else spec
