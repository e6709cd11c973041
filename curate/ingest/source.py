"""Reading what `distillery ingest SRC` names: a local table file or folder, or an HF dataset.

Local files go through `store.read_table`, which already turns every way a file can be wrong into
one `BadInput` line. HF datasets (`hf:org/name[:config][:split]`) load through the `datasets`
library, imported only here and only for such a source, so a plain file import never pays for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from curate import store
from curate.errors import BadInput, require

HF_PREFIX = "hf:"
DEFAULT_SPLIT = "train"


@dataclass(frozen=True)
class Source:
    """The rows read, `where` they came from (for error messages) and the default `source` value."""

    table: pa.Table
    where: str
    name: str


def read_source(src: str | Path) -> Source:
    text = str(src)
    source = _read_hf(text) if text.startswith(HF_PREFIX) else _read_local(Path(text))
    if source.table.num_rows == 0:
        raise BadInput(f"{source.where}: holds no rows")
    return source


def _read_local(path: Path) -> Source:
    table = store.read_table(path)
    return Source(table, str(path), _stem(path))


def _stem(path: Path) -> str:
    """`data/s1K-1.1.jsonl.gz` → `s1K-1.1`; a folder keeps its name."""
    if path.is_dir():
        return path.resolve().name
    name = path.name
    if name.lower().endswith(".gz"):
        name = name[:-3]
    for suffix in store.TABLE_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def parse_hf(text: str) -> tuple[str, str | None, str]:
    """`hf:org/name[:config][:split]` → (org/name, config or None, split, default train)."""
    parts = text[len(HF_PREFIX):].split(":")
    if len(parts) > 3 or not parts[0].strip():
        raise BadInput(f"{text}: expected hf:org/name[:config][:split]")
    name = parts[0].strip()
    config = parts[1].strip() if len(parts) > 1 and parts[1].strip() else None
    split = parts[2].strip() if len(parts) > 2 and parts[2].strip() else DEFAULT_SPLIT
    return name, config, split


def _read_hf(text: str) -> Source:
    from curate import hub

    name, config, split = parse_hf(text)
    offline = hub.go_offline_if_unreachable()  # before datasets reads its settings
    datasets = require("datasets", "train", f"{text}: reading a Hugging Face dataset")
    try:
        with hub.quiet():
            dataset = datasets.load_dataset(name, config, split=split)
            table = dataset.with_format("arrow")[:]
    except Exception as exc:  # noqa: BLE001 - network, auth, missing config/split: all one line for the user
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        why = " (the Hugging Face hub is out of reach and it is not in the local cache)" if offline else ""
        raise BadInput(f"{text}: cannot load the dataset{why}: {first}") from exc
    # Configs of one dataset are different sources (OpenR1-Math default vs extended); splits are not.
    return Source(table, text, f"{name}:{config}" if config else name)
