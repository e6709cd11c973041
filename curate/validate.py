"""`distillery validate PATH`: check a trace file or folder against the schema and say what is in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from curate import limits, schema, store


@dataclass
class Report:
    path: Path
    files: int = 0
    rows: int = 0
    columns: list[tuple[str, str, str]] = field(default_factory=list)  # name, type, role
    problems: list[schema.Problem] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def render(self) -> str:
        lines = [f"{self.path}: {self.rows:,} rows in {self.files} file(s)", "columns:"]
        width = max((len(c[0]) for c in self.columns), default=0)
        lines += [f"  {name:<{width}}  {typ:<24} {role}" for name, typ, role in self.columns]
        lines += [f"  {f}" for f in self.facts]
        if self.problems:
            lines.append(f"{len(self.problems)} problem(s):")
            lines += [f"  {p}" for p in self.problems]
        else:
            lines.append("valid: no problems found")
        return "\n".join(lines)


def validate_path(path: Path, max_text_bytes: int = limits.MAX_TEXT_BYTES) -> Report:
    """Validate every shard on its own (so a problem names its file), then the whole (unique ids)."""
    path = Path(path)
    files = store.parquet_files(path)
    report = Report(path, files=len(files))
    tables = []
    for f in files:
        table = store.read_parquet(f)
        problems = schema.validate(table, str(f))
        report.problems += problems
        for column, n, row, size in limits.oversized_values(table, max_text_bytes):
            report.problems.append(schema.Problem(
                f"{f}: column {column!r}", f"{n:,} value(s) over {max_text_bytes:,} bytes (first: row {row}, "
                f"{size:,} bytes); the format stage drops such rows"))
        if not problems:
            tables.append(table)
        report.rows += table.num_rows
    if not tables:
        report.columns = _columns(store.read_parquet(files[0]).schema)
        return report
    whole = pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]
    if len(tables) > 1:
        report.problems += schema.validate(whole, str(path), check_ids=False)
    report.columns = _columns(whole.schema)
    report.facts = _facts(whole)
    return report


def _columns(sch: pa.Schema) -> list[tuple[str, str, str]]:
    out = []
    for f in sch:
        col = schema.BY_NAME.get(f.name)
        role = "extra" if col is None else ("required" if col.required else "optional")
        out.append((f.name, str(f.type), role))
    return out


def _facts(table: pa.Table) -> list[str]:
    if table.num_rows == 0 or "problem_id" not in table.column_names:
        return []
    facts = [f"problems: {pc.count_distinct(table.column('problem_id')).as_py():,}"]
    for col in ("source", "teacher", "finish_reason"):
        if col in table.column_names:
            counts = pc.value_counts(table.column(col)).to_pylist()
            counts.sort(key=lambda d: (-d["counts"], str(d["values"])))
            shown = ", ".join(f"{d['values']}={d['counts']:,}" for d in counts[:6])
            more = f", … ({len(counts) - 6} more)" if len(counts) > 6 else ""
            facts.append(f"{col}: {shown}{more}")
    gold = table.column("gold").null_count if "gold" in table.column_names else 0
    facts.append(f"rows without gold: {gold:,}")
    return facts
