"""Shared fixtures: small trace tables built here, by hand, with known defects; a run folder over
them; tiny local models and chat rows for the train tests. Test modules import helpers from here
(`from conftest import …`), never from each other."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate import minhash, schema, store

# Tests never touch the network: hub lookups fail at once instead of retrying for minutes.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

# The real benchmark files (MATH-500, AIME, AMC, GSM8K, MATH): $DISTILLERY_BENCHMARKS as the session
# started (CI sets it), else the repository's sibling ../shared/data/benchmarks where it exists. Only
# the checks on those files use them (`needs_real_benchmarks`); every other test builds its own.
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
BENCHMARKS = Path(os.environ.get("DISTILLERY_BENCHMARKS") or SHARED / "benchmarks")
needs_real_benchmarks = pytest.mark.skipif(
    not (BENCHMARKS / "math500.jsonl").is_file(),
    reason=f"the real benchmark files are not here ({BENCHMARKS}): set DISTILLERY_BENCHMARKS to their folder")


@pytest.fixture(autouse=True)
def _benchmarks_of_the_test(monkeypatch, tmp_path_factory):
    """Named benchmarks resolve only where a test puts them: no $DISTILLERY_BENCHMARKS, an empty
    user cache (XDG_CACHE_HOME), the hub offline."""
    monkeypatch.delenv("DISTILLERY_BENCHMARKS", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))


@pytest.fixture
def bench_folder(tmp_path, monkeypatch) -> Path:
    """A tiny benchmark folder ($DISTILLERY_BENCHMARKS points at it): math500 and aime24 in the
    registry's file names, three problems each, with id, problem and answer."""
    folder = tmp_path / "benchmarks"
    folder.mkdir()
    rows = {"math500.jsonl": [("test/algebra/1.json", "Find the positive value of x that satisfies the "
                                                       "equation x squared minus nine equals zero.", "3"),
                              ("test/geometry/2.json", "A square has a diagonal of length ten; what is the "
                                                        "area of the square in square units?", "50"),
                              ("test/number_theory/3.json", "What is the remainder when two raised to the power "
                                                             "of ten is divided by seven, the number of days "
                                                             "in one week?", "2")],
            "aime24.jsonl": [("60", "Let N be the greatest four digit positive integer with the property "
                                    "that changing any digit to one gives a multiple of seven.", "699"),
                             ("61", "Find the number of rectangles that can be formed inside a fixed regular "
                                    "dodecagon where each side lies on a side or diagonal.", "315"),
                             ("62", "Real numbers x and y greater than one satisfy two logarithm equations; "
                                    "find the product of x and y.", "25")]}
    for name, items in rows.items():
        (folder / name).write_text("".join(json.dumps({"id": i, "problem": p, "answer": a}) + "\n"
                                           for i, p, a in items))
    monkeypatch.setenv("DISTILLERY_BENCHMARKS", str(folder))
    return folder


def trace_rows() -> list[dict]:
    """Twelve rows over five problems with every defect the foundation stages look at."""
    def row(problem, thinking, response, gold="4", sample_idx=0, finish="stop", **meta):
        return {"source": "hand", "problem": problem, "gold": gold, "thinking": thinking,
                "response": response, "teacher": "hand-teacher", "sample_idx": sample_idx,
                "finish_reason": finish, "meta": json.dumps(meta, sort_keys=True)}

    p1 = "What is 2 + 2?"
    p2 = "Compute 3 * 5."
    p3 = "Solve x + 1 = 5 for x."
    long = "First, add the numbers carefully. " * 6
    return [
        row(p1, long + "2 + 2 = 4.", "The sum is \\boxed{4}."),
        row(p1, long + "Two plus two is 4. Wait, check: yes.", "\\boxed{4}", sample_idx=1),
        row(p1, long + "2 + 2 = 5?", "\\boxed{5}", sample_idx=2, wrong=True),
        row("what is 2 + 2", long + "It is 4.", "\\boxed{4}", dup=True),  # exact dup after normalising
        row(p2, long + "3 * 5 = 15.", "\\boxed{15}", gold="15"),
        row(p2, long + "3 * 5 = 15, so", "", gold="15", sample_idx=1, finish="length"),  # truncated
        row(p3, long + "x = 4.", "So x = 4.", sample_idx=0),  # no boxed
        row(p3, long + "x = 5 - 1 = 4.", "\\boxed{4}", sample_idx=1),
        row(p3, "x=4", "\\boxed{4}", sample_idx=2),  # thinking too short
        row("Find 10 / 2.", long + "10 / 2 = 5.", "\\boxed{5}", gold="5"),
        row("Find 10 / 2.", long + "Half of ten: 5.", "\\fbox{5}", gold="5", sample_idx=1),
        row("Evaluate 7 - 3.", long + "<think> 7 - 3 = 4.", "\\boxed{4}"),  # stray think tag
    ]


def trace_table(rows: list[dict] | None = None) -> pa.Table:
    return schema.conform(schema.with_ids(pa.Table.from_pylist(rows or trace_rows())), "fixture")


@pytest.fixture
def traces_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "traces"
    store.save_traces(trace_table(), folder, prefix="hand")
    return folder


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    from curate.cli import main

    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def run_file_hash(path: Path) -> str:
    """A run file's hash; a stage cache's over its rows and metadata less the seconds it took (a
    cache records its cost, which differs run to run; its rows and key must not)."""
    if path.parent.name != "stages":
        return store.file_hash(path)
    import pyarrow.parquet as pq
    import xxhash

    from curate import run

    table = pq.read_table(path)
    meta = {k: v for k, v in (table.schema.metadata or {}).items() if k != run.SECONDS_META.encode()}
    sink = pa.BufferOutputStream()
    pq.write_table(table.replace_schema_metadata(meta), sink)
    return xxhash.xxh3_64_hexdigest(sink.getvalue().to_pybytes())


# ------------------------------------------------------------------------ a run folder (sql, report)

RUN_RECIPE = """
name: sqlt
seed: 0
stages:
  - exact_dedup: {keep: first}
  - format: {}
  - filter: {drop_where: "length(thinking) < 20", reason: thinking too short}
"""
RUN_DOMAINS = ("algebra", "arithmetic", "geometry")


def build_run(folder: Path, extras: bool = True) -> Path:
    """A run of the hand-made fixture rows. With `extras`, the columns that later stages add
    (verdict, domain, contaminated_with) ride along from the input, so every view has data."""
    rows = trace_rows()
    if extras:
        for i, row in enumerate(rows):
            row["verdict"] = "wrong" if "5?" in row["thinking"] else "correct"
            row["domain"] = RUN_DOMAINS[i % 3]
            row["contaminated_with"] = ["aime24/3"] if "10 / 2" in row["problem"] else None
    from curate import recipe, run

    store.save_traces(trace_table(rows), folder / "traces", prefix="hand")
    run.run(recipe.parse(RUN_RECIPE, "t.yaml"), folder / "traces", folder / "run")
    return folder / "run"


# -------------------------------------------------------------- tiny models and chat rows (train tests)
# The tiny student is built once per session and name (the cache is per process) and shared.

_CACHE: dict[str, Path] = {}


def _root(factory) -> Path:
    if "root" not in _CACHE:
        _CACHE["root"] = factory.mktemp("train-models")
    return _CACHE["root"]


def tiny_folder(factory, name: str = "tiny", **spec) -> Path:
    """A tiny model folder, built once per session and name."""
    if name not in _CACHE:
        from train.tiny import TinySpec, build

        _CACHE[name] = build(_root(factory) / name, TinySpec(**spec))
    return _CACHE[name]


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    return tiny_folder(tmp_path_factory)


@pytest.fixture
def tiny_copy(tiny_model, tmp_path) -> Path:
    """A private copy of the tiny model that a test may modify."""
    return Path(shutil.copytree(tiny_model, tmp_path / "tiny-copy"))


def messages(problem: str, thinking: str, response: str) -> list[dict]:
    """One conversation, as `curate.messages` (a run's export step) builds it."""
    from curate.messages import conversations

    return conversations(pl.DataFrame({"problem": [problem], "thinking": [thinking], "response": [response]}))[0]


def short_rows(n: int = 16) -> list[list[dict]]:
    """Short, learnable conversations: the answer is the problem's number plus one."""
    return [messages(f"Add one to {i % 8}.", f"{i % 8} + 1 = {i % 8 + 1}.", f"\\boxed{{{i % 8 + 1}}}")
            for i in range(n)]


def write_messages(path: Path, rows: list[list[dict]], **extra) -> Path:
    table = pa.table({"messages": rows, **extra})
    pq.write_table(table, path)
    return path


def synth_messages(path: Path, n: int = 24, seed: int = 3) -> Path:
    """Messages of the synthetic corpus, as a run's selected.parquet has them."""
    from curate.messages import messages_expr
    from curate.synth import SynthConfig, generate

    t = pl.from_arrow(generate(SynthConfig(n=n, seed=seed, attempts=False)).traces)
    t.with_columns(messages_expr()).write_parquet(path)
    return path


# ------------------------------------------------------------------ MinHash references (minhash, dedup)

# Template-heavy problems, as in real pools and synth's: short texts that share most 3-word
# shingles ("Solve ... for real x"), so most pairs collide in several of 64 bands, and some same-math
# rewordings that are true near duplicates.
def templated_texts(n: int = 240, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    texts = []
    for k in range(n):
        a, b, c = (int(x) for x in rng.integers(1, 6, 3))
        form = k % 4
        texts.append(
            f"Solve {a}x + {b} = {c} for real x." if form == 0 else
            f"Solve {a}x + {b} = {c} for real x. Show your work." if form == 1 else
            f"Find all real x with {a}x - {b} = {c}." if form == 2 else
            f"Tom has {a} apples and buys {b} more. How many apples does Tom have?")
    return texts + ["", "x", ""]


def brute_force_pairs(texts, ngram, threshold, bands, labels=None):
    """Every band's candidates by plain Python grouping (a bucket over MAX_BUCKET as a star), their
    union, and every candidate's exact Jaccard from Python sets of the shingles datasketch hashes."""
    keys = minhash.band_keys(minhash.sketch(texts, ngram=ngram).signatures, bands)
    candidates = set()
    for b in range(bands):
        buckets = {}
        for row, key in enumerate(keys[:, b].tolist()):
            buckets.setdefault(key, []).append(row)
        for rows in buckets.values():
            if len(rows) > minhash.MAX_BUCKET:
                candidates |= {(rows[0], r) for r in rows[1:]}
            else:
                candidates |= {(x, y) for n, x in enumerate(rows) for y in rows[n + 1:]}
    sets = [set(minhash.shingle_bytes(t, ngram)) for t in texts]
    sim = {(x, y): (len(sets[x] & sets[y]) / len(sets[x] | sets[y]) if sets[x] | sets[y] else 0.0)
           for x, y in candidates}
    similar = sorted(p for p, s in sim.items() if s >= threshold)
    kept = [p for p in similar if labels is None or labels[p[0]] == labels[p[1]]]
    return kept, [sim[p] for p in kept], len(candidates), len(similar)


class ListingMapper:
    """A mapper as an engine's (`curate.parallel.mapped`), in this process: every part, argument,
    shared value and result goes through pickle, one call at a time; `calls` lists (fn, parts)."""

    def __init__(self, calls: list | None = None):
        self.calls = [] if calls is None else calls

    @staticmethod
    def _ship(x):
        import pickle

        return pickle.loads(pickle.dumps(x))

    def __call__(self, fn, parts, shared=None):
        self.calls.append((fn, len(parts)))
        ship = self._ship
        return [ship(fn(ship(p))) if shared is None else ship(fn(ship(p), ship(shared))) for p in parts]

    def tasks(self, fn, calls, returns, fetch, *shared):
        self.calls.append((fn, len(calls)))
        ship = self._ship
        out = [ship(fn(*ship(list(args)), *ship(list(shared)))) for args in calls]
        return out if returns is None else [list(v) for v in out]

    def fetch(self, handles):
        return list(handles)
