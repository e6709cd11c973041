"""`distillery ingest SRC --preset NAME --out traces/`: existing trace datasets into the trace schema.

    read SRC (file, folder of Parquet, hf:org/name[:config][:split])
      → preset: the dataset's columns onto problem / thinking / response / gold / …   (presets.py)
      → shared rules: teacher, source, sample_idx, meta, ids                         (common.py)
      → trace shards OUT/PREFIX-00000.parquet                                         (store.save_traces)

Everything is checked before anything is written: bad input raises one `BadInput` line naming the
file, row or column, and the output folder is left as it was. The reasoning is split by its layout
(`--layout`, detected per file when auto: `curate.layouts`), and the summary says which and how
many rows fit it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from curate import layouts, schema, store
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
         source: str | None = None, teacher: str | None = None, layout: str = layouts.AUTO) -> pa.Table:
    """Read SRC with a preset and return the trace table (schema-conformed, ids filled); write nothing."""
    table, _, _ = _convert(src, preset, mapping, trace, source, teacher, layout)
    return schema.conform(table, str(src))


def ingest_to(src: str | Path, out: Path, preset: str = "generic", mapping: str | None = None,
              trace: str | None = None, source: str | None = None, teacher: str | None = None,
              name: str | None = None, layout: str = layouts.AUTO, replace: bool = False,
              append: bool = False) -> IngestResult:
    """`load`, then write the traces as OUT/PREFIX-NNNNN.parquet (PREFIX = name, default the preset).

    Shards of other prefixes in OUT are left alone, so several datasets can share one trace folder.
    OUT already holding PREFIX's shards is an error unless `replace` (they are replaced) or `append`
    (the rows go under the first free prefix PREFIX.2, PREFIX.3, …; a trace already in OUT is an
    error, as the folder would hold it twice).
    """
    prefix = name or preset
    if not _PREFIX.fullmatch(prefix):
        raise BadInput(f"--name {prefix!r}: a shard prefix is letters, digits, '.', '_' or '-' "
                       f"(starting with a letter or digit)")
    if replace and append:
        raise BadInput("--replace and --append: give one of them")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BadInput(f"{out}: exists and is not a folder")
    table, rows_read, notes = _convert(src, preset, mapping, trace, source, teacher, layout)
    held = _shards(out, prefix)
    if held and not (replace or append):
        raise BadInput(f"{out}: already holds {len(held)} shard(s) of prefix {prefix} ({held[0].name}); "
                       f"--replace replaces them, --append adds these rows under a new prefix, "
                       f"--name NAME writes another prefix")
    if held and append:
        prefix = next(f"{prefix}.{k}" for k in range(2, 10_000) if not _shards(out, f"{prefix}.{k}"))
        _check_new(table, out)
        notes.append(f"appended under prefix {prefix} (the folder already held {name or preset}'s shards)")
    elif held:
        notes.append(f"replaced {len(held)} shard(s) of prefix {prefix}")
    files = store.save_traces(table, out, prefix=prefix)
    return IngestResult(preset, str(src), rows_read, table.num_rows, files, notes)


def _shards(out: Path, prefix: str) -> list[Path]:
    if not out.is_dir():
        return []
    return sorted(out.glob(f"{prefix}-[0-9][0-9][0-9][0-9][0-9].parquet"))


def _check_new(table: pa.Table, out: Path) -> None:
    """Appending a trace the folder already holds would make its trace_id repeat there."""
    import pyarrow.compute as pc

    new = table.column("trace_id")
    for shard in sorted(out.glob("*.parquet")):
        held = store.read_parquet(shard)
        if "trace_id" not in held.column_names:
            continue
        hit = pc.is_in(new, value_set=held.column("trace_id").combine_chunks())
        if pc.any(hit).as_py():
            row = pc.index(hit, True).as_py()
            raise BadInput(f"--append: row {row} is already in {shard} (trace_id {new[row].as_py()}); "
                           f"appending would hold it twice")


def _convert(src, preset, mapping, trace, source, teacher, layout) -> tuple[pa.Table, int, list[str]]:
    chosen = get_preset(preset)
    if mapping is not None and not chosen.takes_mapping:
        raise BadInput(f"--map applies to --preset generic, not {preset}")
    if trace is not None and not chosen.takes_trace:
        raise BadInput(f"--trace applies to --preset s1k, not {preset}")
    if layout not in layouts.CHOICES:
        raise BadInput(f"--layout {layout}: expected one of {', '.join(layouts.CHOICES)}")
    for option, value in (("--source", source), ("--teacher", teacher)):
        if value is not None and not value.strip():
            raise BadInput(f"{option}: must not be empty")
    read = read_source(src)
    raw = Raw(read.table, read.where, preset)
    converted = chosen.convert(raw, Options(mapping=mapping, trace=trace, layout=layout))
    if not converted.rows:
        raise BadInput(f"{read.where}: preset {preset} found no traces in {read.table.num_rows:,} rows")
    table, notes = assemble(raw, converted, source, read.name, teacher)
    return table, read.table.num_rows, notes
