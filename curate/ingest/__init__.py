"""`distillery ingest SRC --preset NAME --out traces/`: existing trace datasets into the trace schema.

    read SRC (file, folder of Parquet, hf:org/name[:config][:split])
      → preset: the dataset's columns onto problem / thinking / response / gold / …   (presets.py)
      → shared rules: teacher, source, sample_idx, meta, ids                         (common.py)
      → trace shards OUT/PREFIX-00000.parquet                                         (store.save_traces)

Everything is checked before anything is written: bad input raises one `BadInput` line naming the
file, row or column, and the output folder is left as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from curate import schema, store
from curate.errors import BadInput
from curate.ingest.common import Raw, assemble
from curate.ingest.presets import PRESETS, Options, Preset
from curate.ingest.source import read_source

__all__ = ["PRESETS", "IngestResult", "ingest_to", "load"]

_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass
class IngestResult:
    preset: str
    src: str
    rows_read: int
    rows_written: int
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        where = ", ".join(str(f) for f in self.files)
        lines = [f"ingest {self.preset}: {self.rows_read:,} rows read from {self.src}, "
                 f"{self.rows_written:,} trace rows written to {where}"]
        lines += [f"  {note}" for note in self.notes]
        return "\n".join(lines)


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise BadInput(f"unknown preset {name!r} (known: {', '.join(sorted(PRESETS))})")
    return PRESETS[name]


def load(src: str | Path, preset: str = "generic", mapping: str | None = None, trace: str | None = None,
         source: str | None = None, teacher: str | None = None) -> pa.Table:
    """Read SRC with a preset and return the trace table (schema-conformed, ids filled); write nothing."""
    table, _, _ = _convert(src, preset, mapping, trace, source, teacher)
    return schema.conform(table, str(src))


def ingest_to(src: str | Path, out: Path, preset: str = "generic", mapping: str | None = None,
              trace: str | None = None, source: str | None = None, teacher: str | None = None,
              name: str | None = None) -> IngestResult:
    """`load`, then write the traces as OUT/PREFIX-NNNNN.parquet (PREFIX = name, default the preset).

    Shards of other prefixes in OUT are left alone, so several datasets can share one trace folder.
    """
    prefix = name or preset
    if not _PREFIX.fullmatch(prefix):
        raise BadInput(f"--name {prefix!r}: a shard prefix is letters, digits, '.', '_' or '-' "
                       f"(starting with a letter or digit)")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BadInput(f"{out}: exists and is not a folder")
    table, rows_read, notes = _convert(src, preset, mapping, trace, source, teacher)
    files = store.save_traces(table, out, prefix=prefix)
    return IngestResult(preset, str(src), rows_read, table.num_rows, files, notes)


def _convert(src, preset, mapping, trace, source, teacher) -> tuple[pa.Table, int, list[str]]:
    chosen = get_preset(preset)
    if mapping is not None and not chosen.takes_mapping:
        raise BadInput(f"--map applies to --preset generic, not {preset}")
    if trace is not None and not chosen.takes_trace:
        raise BadInput(f"--trace applies to --preset s1k, not {preset}")
    for option, value in (("--source", source), ("--teacher", teacher)):
        if value is not None and not value.strip():
            raise BadInput(f"{option}: must not be empty")
    read = read_source(src)
    raw = Raw(read.table, read.where, preset)
    converted = chosen.convert(raw, Options(mapping=mapping, trace=trace))
    if not converted.rows:
        raise BadInput(f"{read.where}: preset {preset} found no traces in {read.table.num_rows:,} rows")
    table, notes = assemble(raw, converted, source or read.name, teacher)
    return table, read.table.num_rows, [f"source: {source or read.name}", *notes]
