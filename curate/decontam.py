"""Decontamination of trace tables: what the `decontam` stage and command call.

Decontamination drops rows sharing a word n-gram (default 8, on lowercased, whitespace-collapsed
text) with a benchmark problem, as s1 and open-r1 do, optionally also rows whose MinHash Jaccard
with one reaches `fuzzy`. An n-gram found in `boilerplate` (default 3) or more benchmark problems
is boilerplate ("where $m$ and $n$ are relatively prime positive integers") and does not count;
the problems counted are the benchmarks' and those of `boilerplate_from` (default `input`: the
distinct texts being checked; add corpora such as the MATH test set by name or path). Columns
`contaminated_with`: the benchmark ids (`math500:test/…`); `contaminated_ngram`: the n-gram that
matched, so a person can judge.

Where the work runs (`curate.parallel`: one part here, `batch` rows a Ray task on --engine ray):
the benchmarks' n-gram table is built once, in the calling process, and shipped to every part;
each block of rows is matched against it and counts the n-grams of the distinct input problems it
owns (the first block holding a problem's text owns it, so a problem repeated across blocks counts
once); the per-block counts are summed here, which makes the boilerplate set, and only the few
matched rows are looked at again here for the n-gram that matched.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
import pyarrow as pa
import xxhash

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


def _df_counts(tables: dict[int, pl.DataFrame], sizes: list[int]) -> pl.DataFrame:
    """(size, key, df): the distinct owners of each n-gram of `_ngram_table`'s tables, for `sizes`."""
    counts = [t.group_by("key").agg(pl.col("owner").n_unique().cast(pl.Int64).alias("df"))
              .select(pl.lit(size, pl.Int64).alias("size"), "key", "df")
              for size, t in tables.items() if size in sizes]
    return pl.concat(counts) if counts else pl.DataFrame(schema={"size": pl.Int64, "key": pl.UInt64, "df": pl.Int64})


def _text_ids(texts: list[str]) -> list[str]:
    """A 128-bit name per (lowered) text: which block owns a distinct input problem."""
    return [xxhash.xxh3_128_hexdigest(t.encode()) for t in texts]


def _distinct_problems(texts: pl.Series, bench_lowered: frozenset[str]) -> pl.Series:
    """One block's distinct input problems (lowered, not empty, not a benchmark problem), named."""
    lowered = {_lower(t) for t in texts.to_list() if t} - bench_lowered
    return pl.Series("_text", _text_ids(sorted(lowered)), pl.String)


@dataclass(frozen=True)
class _Shared:
    """What every block's task gets once: the benchmarks' n-grams by size, and how to count."""

    grams: dict[int, pl.DataFrame]
    n: int
    bench_lowered: frozenset[str]


def _match_block(part: tuple[pl.Series, int, pl.Series | None], shared: _Shared) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One block of rows (its texts, its first row's number, the problems it owns or None): every
    (row, benchmark problem, n-gram size, n-gram key) they share, and the (size, key, df) counts of
    the n-grams of the distinct problems the block owns (boilerplate's share of "input")."""
    texts, start, owned = part
    hits = []
    # Only the n-gram sizes the benchmarks have: nearly always just `ngram`.
    row_w = minhash.words(minhash.normalize_column(texts, _lower), wide=True)
    for size, grams in shared.grams.items():
        keys, owner = minhash.ngram_hashes(row_w, size, minhash.combine64)
        hits.append(pl.DataFrame({"key": keys, "row": owner + start}).join(grams, on="key")
                    .select(pl.col("row").cast(pl.Int64), pl.col("owner").cast(pl.Int64),
                            pl.lit(size, pl.Int64).alias("size"), "key").unique())
    found = pl.concat(hits) if hits else pl.DataFrame(schema={"row": pl.Int64, "owner": pl.Int64,
                                                              "size": pl.Int64, "key": pl.UInt64})
    counts = _df_counts({}, [])
    if owned is not None and len(owned):
        lowered = sorted({_lower(t) for t in texts.to_list() if t} - shared.bench_lowered)
        mine = set(owned.to_list())
        lowered = [t for t, name in zip(lowered, _text_ids(lowered)) if name in mine]
        counts = _df_counts(_ngram_table(lowered, shared.n), list(shared.grams))
    return found, counts


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


def decontaminate(frame: pl.DataFrame, *, bench: list[str], on: str = "problem", ngram: int = 8,
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
    `warnings` (and told to `warn` as it happens, when given: it may raise)."""
    warnings: list[str] = []

    def note(line: str) -> None:
        warnings.append(line)
        if warn is not None:
            warn(line)
    check_table(frame, on, "decontaminate")
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
        cols = pl.DataFrame({"contaminated_with": pl.Series([None] * frame.height, dtype=pl.List(pl.String)),
                             "contaminated_ngram": pl.Series([None] * frame.height, dtype=pl.String),
                             DROP: pl.Series([None] * frame.height, dtype=pl.String)})
        return Outcome(cols, {"ngram": ngram, "benchmarks": {}, "skipped_benchmarks": skipped}, warnings)
    labels = [f"{b.name}:{i}" for b in benches for i in b.ids]
    problems = [p for b in benches for p in b.problems]
    bench_of = np.repeat(np.arange(len(benches)), [len(b.ids) for b in benches])
    bench_grams = _ngram_table(problems, ngram)
    texts = frame[on].cast(pl.String).fill_null("")
    also = list(BOILERPLATE_FROM if boilerplate_from is None else boilerplate_from)
    counting = boilerplate is not None and INPUT in also
    bench_lowered = frozenset(_lower(p) for p in problems)
    blocks = parallel.slices(texts, parallel.part_size(batch))
    owned: list[pl.Series | None] = [None] * len(blocks)
    if counting:
        # A distinct input problem is counted once, by the first block that holds it.
        names = parallel.map_parts(functools.partial(_distinct_problems, bench_lowered=bench_lowered), blocks)
        first = (pl.concat([pl.DataFrame({"_text": part, "_block": pl.repeat(k, len(part), dtype=pl.Int64, eager=True)})
                            for k, part in enumerate(names)])
                 .unique("_text", keep="first", maintain_order=True))
        owned = [first.filter(pl.col("_block") == k)["_text"] for k in range(len(blocks))]
    shared = _Shared(bench_grams, ngram, bench_lowered)
    starts = range(0, len(texts), parallel.part_size(batch))
    matched = parallel.map_parts(_match_block, list(zip(blocks, starts, owned)), shared)
    raw = pl.concat([m[0] for m in matched]) if matched else _match_block((texts.head(0), 0, None), shared)[0]
    common: dict[int, set[int]] = {size: set() for size in bench_grams}
    if boilerplate is not None:
        per_input = [m[1] for m in matched] * also.count(INPUT)
        counts = (pl.concat([_boilerplate_counts(problems, ngram, list(bench_grams), also, bench_dir), *per_input])
                  .group_by("size", "key").agg(pl.col("df").sum()).filter(pl.col("df") >= boilerplate))
        for size in bench_grams:
            common[size] = set(counts.filter(pl.col("size") == size)["key"].to_list())
        raw = raw.join(counts.select("size", "key"), on=["size", "key"], how="anti")
    hits = [raw.select("row", "owner")]
    if fuzzy is not None:
        bench_sk, row_sk = minhash.sketch(problems), minhash.sketch(texts)
        index = minhash.Index(labels, bench_sk.signatures, minhash.NGRAM, minhash.SEED)
        r, k, _ = index.match(row_sk.signatures, fuzzy)
        # Empty texts have equal (empty) signatures but share nothing.
        real = (np.bincount(row_sk.shingle_text, minlength=len(texts))[r] > 0) & \
            (np.bincount(bench_sk.shingle_text, minlength=len(problems))[k] > 0)
        hits.append(pl.DataFrame({"row": r[real].astype(np.int64), "owner": k[real].astype(np.int64)}))
    found = (pl.concat([h.cast({"row": pl.Int64, "owner": pl.Int64}) for h in hits]) if hits
             else pl.DataFrame(schema={"row": pl.Int64, "owner": pl.Int64})).unique().sort("row", "owner")

    label_s = pl.Series(labels, dtype=pl.String)
    per_row = (found.with_columns(label_s.gather(found["owner"]).alias("label"))
               .group_by("row").agg(pl.col("label"), pl.col("owner").first()))
    names = pl.Series([b.name for b in benches], dtype=pl.String)
    first_bench = names.gather(bench_of[per_row["owner"].to_numpy()])
    per_row = per_row.with_columns(first_bench.alias("_bench"))
    cols = (pl.DataFrame({"row": np.arange(frame.height, dtype=np.int64)})
            .join(per_row, on="row", how="left", maintain_order="left"))
    # The n-gram that matched, so a person can judge the drop (fuzzy-only matches have none).
    matched_text = texts.gather(per_row["row"]).to_list()
    evidence = {row: _matched_ngram(text, problems[owner], ngram, common)
                for row, text, owner in zip(per_row["row"].to_list(), matched_text, per_row["owner"].to_list())}
    cols = cols.with_columns(pl.Series("contaminated_ngram", [evidence.get(r) for r in range(frame.height)],
                                       dtype=pl.String))
    reason = pl.concat_str(pl.lit("contaminated: overlaps benchmark "), pl.col("_bench"))
    cols = cols.select(pl.col("label").alias("contaminated_with"), "contaminated_ngram",
                       (reason if drop else pl.lit(None, pl.String)).alias(DROP))

    hit_bench = bench_of[found["owner"].to_numpy()]
    stats = {"ngram": ngram, "fuzzy": fuzzy, "boilerplate": boilerplate,
             "boilerplate_ngrams": int(sum(len(v) for v in common.values())),
             "benchmarks": {b.name: len(b.ids) for b in benches},
             "skipped_benchmarks": skipped, "contaminated_rows": {}, "benchmark_problems_matched": {}}
    for k, b in enumerate(benches):
        mine = hit_bench == k
        stats["contaminated_rows"][b.name] = int(np.unique(found["row"].to_numpy()[mine]).size)
        stats["benchmark_problems_matched"][b.name] = int(np.unique(found["owner"].to_numpy()[mine]).size)
    return Outcome(cols, stats, warnings)


def beside_input(spec: str, input_path: Path | None) -> str:
    """A relative path that is not found from here but is beside the run's input (a held-out split
    `distillery synth --heldout` wrote next to the corpus) names that; anything else is unchanged."""
    from curate import benchmarks

    if input_path is None or Path(spec).is_absolute() or Path(spec).exists() or benchmarks.canonical(spec) in benchmarks.REGISTRY:
        return spec
    base = Path(input_path) if Path(input_path).is_dir() else Path(input_path).parent
    return str(base / spec) if (base / spec).exists() else spec
