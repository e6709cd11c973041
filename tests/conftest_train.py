"""Fixtures for the train tests: the tiny student is built once per session and shared.

Imported by tests/test_train_*.py, test_eval.py and test_tiny.py (not a pytest conftest: those
modules import the fixtures they use). The cache is per process, so every module reuses one build.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

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
    return [{"role": "user", "content": problem},
            {"role": "assistant", "content": f"<think>\n{thinking}\n</think>\n\n{response}"}]


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
    import polars as pl

    from curate.messages import messages_expr
    from curate.synth import SynthConfig, generate

    t = pl.from_arrow(generate(SynthConfig(n=n, seed=seed, attempts=False)).traces)
    t.with_columns(messages_expr()).write_parquet(path)
    return path
