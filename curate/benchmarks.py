"""Named benchmarks: the one place a name such as `math500` becomes a file of problems.

Every command that takes a benchmark (decontam, generate's PROBLEMS, eval's --bench) resolves it
here, in this order:

1. an explicit path: any JSONL/Parquet file, or a folder of Parquet shards (a `distillery synth`
   held-out split);
2. the folder given by the caller (`bench_dir`), else `$DISTILLERY_BENCHMARKS`: `FILE` of the
   registry below (`math500.jsonl`, `gsm8k_test.jsonl`, …), or any `NAME.jsonl` / `NAME.parquet`;
3. the user cache, `$XDG_CACHE_HOME/distillery/benchmarks` (default `~/.cache/distillery/benchmarks`),
   filled by `distillery benchmarks pull`;
4. the Hugging Face hub, for the registry's names: the dataset is read once and written to the
   cache as JSONL (`id`, `problem`, `answer`), so the next run reads it locally.

Whether the hub can be reached is found out once per process (`HF_HUB_OFFLINE`, else one quick TCP
probe, `curate.hub`): offline, a name with no local copy is one error line that says where it was
looked for and how to fill the cache; there are no retries, and the hub libraries' log lines and
progress bars are kept out of the caller's output.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from curate.errors import BadInput

ENV = "DISTILLERY_BENCHMARKS"


@dataclass(frozen=True)
class Entry:
    """A named benchmark: its file in a benchmark folder, and where it lives on the hub."""

    name: str
    file: str
    dataset: str
    config: str | None
    split: str
    problem: str                         # the dataset's problem column
    answer: str                          # the dataset's answer column (see `answer_from`)
    id: str | None = None                # the dataset's id column (else the row number)
    answer_from: str = "column"          # column | boxed (the last \boxed in it) | gsm8k (after ####)
    keep: tuple[str, ...] = field(default=())  # further columns copied when pulled (subject, level)
    about: str = ""


REGISTRY: dict[str, Entry] = {e.name: e for e in (
    Entry("math500", "math500.jsonl", "HuggingFaceH4/MATH-500", None, "test", "problem", "answer",
          id="unique_id", keep=("subject", "level"), about="MATH-500 (PRM800K test split), 500 problems"),
    Entry("aime24", "aime24.jsonl", "HuggingFaceH4/aime_2024", None, "train", "problem", "answer", id="id",
          about="AIME 2024 I and II, 30 problems"),
    Entry("aime25", "aime25.jsonl", "yentinglin/aime_2025", None, "train", "problem", "answer", id="id",
          about="AIME 2025 I and II, 30 problems"),
    Entry("amc23", "amc23.jsonl", "math-ai/amc23", None, "test", "question", "answer", id="id",
          about="AMC 2023, 40 problems"),
    Entry("gsm8k", "gsm8k_test.jsonl", "openai/gsm8k", "main", "test", "question", "answer",
          answer_from="gsm8k", about="GSM8K test split, 1,319 problems"),
    Entry("math_test_full", "math_test_full.jsonl", "DigitalLearningGmbH/MATH-lighteval", "default", "test",
          "problem", "solution", answer_from="boxed", keep=("type", "level"),
          about="the full MATH test split, 5,000 problems (holds all of MATH-500)"),
    Entry("math_train", "math_train_rllm.jsonl", "DigitalLearningGmbH/MATH-lighteval", "default", "train",
          "problem", "solution", answer_from="boxed", keep=("type", "level"), about="the MATH train split"),
)}

# Names that predate the registry's file names.
ALIASES = {"gsm8k_test": "gsm8k", "math_train_rllm": "math_train"}


# ------------------------------------------------------------------------------------- folders

def cache_dir() -> Path:
    """The user cache: $XDG_CACHE_HOME/distillery/benchmarks, default ~/.cache/distillery/benchmarks."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "distillery" / "benchmarks"


def folders(bench_dir: Path | str | None = None) -> list[tuple[str, Path]]:
    """Where names are looked for, in order: (what, folder)."""
    first = (("bench_dir", Path(bench_dir)) if bench_dir else
             (f"${ENV}", Path(os.environ[ENV])) if os.environ.get(ENV) else None)
    return [*([first] if first else []), ("cache", cache_dir())]


def canonical(name: str) -> str:
    return ALIASES.get(name, name)


def _candidates(name: str, folder: Path) -> list[Path]:
    entry = REGISTRY.get(canonical(name))
    files = [folder / entry.file] if entry else []
    return files + [folder / f"{name}.jsonl", folder / f"{name}.parquet"]


def find(name: str, bench_dir: Path | str | None = None) -> Path | None:
    """The local file of a benchmark name (folders in order), or None."""
    for _, folder in folders(bench_dir):
        for path in _candidates(name, folder):
            if path.is_file():
                return path
    return None


# -------------------------------------------------------------------------------------- the hub

_OFFLINE: bool | None = None


def offline() -> bool:
    """Whether the hub is out of reach, found out once per process (HF_HUB_OFFLINE, else one probe)."""
    global _OFFLINE
    if _OFFLINE is None:
        from curate import hub

        _OFFLINE = hub.go_offline_if_unreachable()
    return _OFFLINE


def _answers(entry: Entry, values: list) -> list[str | None]:
    if entry.answer_from == "column":
        return [None if v is None else str(v) for v in values]
    if entry.answer_from == "gsm8k":
        return [None if v is None else str(v).rsplit("####", 1)[-1].strip().replace(",", "") for v in values]
    from curate.verify.extract import last_boxed

    return [None if v is None else last_boxed(str(v)) for v in values]


def pull(name: str, force: bool = False) -> Path:
    """Read a registry benchmark from the hub into the user cache (JSONL: id, problem, answer and
    the entry's `keep` columns); returns the cached file. Already cached: nothing is read."""
    from curate import hub, store

    entry = REGISTRY.get(canonical(name))
    if entry is None:
        raise BadInput(f"benchmark {name!r}: not a registry name ({', '.join(REGISTRY)}); "
                       "a file of your own needs no pulling: pass its path")
    dest = cache_dir() / entry.file
    if dest.is_file() and not force:
        return dest
    if offline():
        raise BadInput(f"benchmark {name!r}: the Hugging Face hub is out of reach (offline), so {entry.dataset} "
                       f"cannot be read; copy {entry.file} into {dest.parent} or set ${ENV} to a folder holding it")
    try:
        import datasets

        with hub.quiet():
            datasets.disable_progress_bars()
            data = datasets.load_dataset(entry.dataset, entry.config, split=entry.split)
    except Exception as exc:  # noqa: BLE001 - ImportError, a moved dataset, the network: one line for the user
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise BadInput(f"benchmark {name!r}: the Hugging Face dataset {entry.dataset} could not be loaded "
                       f"({type(exc).__name__}: {first})") from None
    for col in (entry.problem, entry.answer):
        if col not in data.column_names:
            raise BadInput(f"benchmark {name!r}: {entry.dataset} has no {col!r} column "
                           f"(columns: {', '.join(data.column_names)})")
    ids = ([str(v) for v in data[entry.id]] if entry.id and entry.id in data.column_names
           else [f"{entry.name}-{i:05d}" for i in range(len(data))])
    rows = {"id": ids, "problem": [str(p or "") for p in data[entry.problem]],
            "answer": _answers(entry, data[entry.answer])}
    rows.update({c: [None if v is None else str(v) for v in data[c]] for c in entry.keep if c in data.column_names})
    lines = [json.dumps(dict(zip(rows, values)), ensure_ascii=False) for values in zip(*rows.values())]
    dest.parent.mkdir(parents=True, exist_ok=True)
    store.write_text("".join(line + "\n" for line in lines), dest)
    return dest


# ----------------------------------------------------------------------------------- resolving

def path(spec: str | Path, bench_dir: Path | str | None = None, *, hub: bool = True) -> tuple[str, Path]:
    """(name, local file or folder) of a benchmark given by path or name, in the order of the module
    docstring; a registry name with no local copy is pulled from the hub into the cache (`hub`)."""
    given = Path(spec)
    if given.exists():
        return (given.name if given.is_dir() else given.name.split(".")[0]), given
    name = str(spec)
    found = find(name, bench_dir)
    if found is not None:
        return name, found
    where = "; ".join(f"{what} {folder}" for what, folder in folders(bench_dir))
    if canonical(name) not in REGISTRY:
        raise BadInput(f"benchmark {name!r}: not a file or folder, and not found in {where} "
                       f"(known names: {', '.join(REGISTRY)})")
    if not hub or offline():
        why = "" if not hub else "; the Hugging Face hub is out of reach (offline)"
        raise BadInput(f"benchmark {name!r}: no local copy ({where}){why}; run `distillery benchmarks pull "
                       f"{name}` where there is a network, or set ${ENV} to a folder holding "
                       f"{REGISTRY[canonical(name)].file}")
    return name, pull(name)


def read(spec: str | Path, bench_dir: Path | str | None = None) -> tuple[str, Path, pa.Table]:
    """(name, where, table) of a benchmark: a JSONL/Parquet file, or a folder of Parquet shards."""
    from curate import store

    name, where = path(spec, bench_dir)
    table = store.read_table(where) if where.is_file() else store.read_parquet_files(store.parquet_files(where))
    return name, where, table


def listing(bench_dir: Path | str | None = None) -> list[dict]:
    """Every registry name with its dataset and where a local copy is (None: none yet)."""
    out = []
    for entry in REGISTRY.values():
        local = find(entry.name, bench_dir)
        out.append({"name": entry.name, "dataset": entry.dataset + (f":{entry.config}" if entry.config else ""),
                    "split": entry.split, "local": None if local is None else str(local), "about": entry.about})
    return out
