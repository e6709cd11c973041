"""`distillery validate PATH`: check a trace file or folder against the schema and say what is in it.

Two kinds of problem. Schema problems (a missing column, a wrong type, an id that is not the
content hash) make the file unusable: exit 2. Content problems are rows whose reasoning was not
understood or never finished: thinking never closed (the `format` stage's rule, `curate.layouts`),
empty thinking, text that fit no reasoning layout at ingest (meta `layout = 'unmatched'`). They are
listed as problems, never as "no problems found"; `--strict` makes them exit 2 as well. The
layouts that split the rows (meta `layout`) are counted among the facts.
"""

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
    content: list[str] = field(default_factory=list)  # content problems: unclosed, empty, unmatched

    @property
    def ok(self) -> bool:
        """The schema holds (content problems aside)."""
        return not self.problems

    @property
    def clean(self) -> bool:
        return not self.problems and not self.content

    def render(self) -> str:
        lines = [f"{self.path}: {self.rows:,} rows in {self.files} file(s)", "columns:"]
        width = max((len(c[0]) for c in self.columns), default=0)
        lines += [f"  {name:<{width}}  {typ:<24} {role}" for name, typ, role in self.columns]
        lines += [f"  {f}" for f in self.facts]
        if self.problems:
            lines.append(f"{len(self.problems)} problem(s):")
            lines += [f"  {p}" for p in self.problems]
        if self.content:
            lines.append(f"{len(self.content)} content problem(s):")
            lines += [f"  {p}" for p in self.content]
        if not self.problems:
            lines.append("valid: no problems found" if not self.content else
                         f"schema valid; {len(self.content)} content problem(s) above")
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
    report.content = _content(whole, str(path))
    return report


def _content(table: pa.Table, where: str) -> list[str]:
    """Rows whose reasoning was lost or never finished, each kind with its count and first row."""
    import polars as pl

    from curate import layouts

    if table.num_rows == 0 or any(c not in table.column_names for c in ("thinking", "response", "meta")):
        return []
    frame = pl.from_arrow(table.select(["thinking", "response", "meta", "finish_reason"]))
    flags = frame.select(
        layouts.unclosed().alias("unclosed"),
        (pl.col("thinking").fill_null("").str.strip_chars() == "").alias("empty"),
        (pl.col("meta").fill_null("{}").str.json_path_match("$.layout") == layouts.UNMATCHED)
        .fill_null(False).alias("unmatched"),
        (pl.col("finish_reason") == "length").fill_null(False).alias("length"),
        # s1.1's think/answer lines read as an answer: the reasoning sits unsplit in the response
        ((pl.col("thinking").fill_null("").str.strip_chars() == "")
         & pl.col("response").fill_null("").str.contains(r"\A\s*(?:<\|im_start\|>)?think[ \t]*\n|<\|im_start\|>answer"))
        .alias("s1_left"),
    ).with_row_index("row")
    out = []
    for name, what in (("unclosed", "thinking never closed (cut off, or a delimiter left in the text)"),
                       ("unmatched", f"text that fit no reasoning layout at ingest (meta layout = "
                                     f"'{layouts.UNMATCHED}', kept whole in response)"),
                       ("s1_left", "s1.1 think/answer lines left in the response (re-ingest with --layout auto "
                                   "or s1)"),
                       ("empty", "empty thinking")):
        hit = flags.filter(pl.col(name))
        if hit.height:
            extra = ""
            if name == "unclosed":
                said = hit.filter(~pl.col("length")).height
                extra = f"; {said:,} of them without finish_reason = 'length'" if said else ""
            out.append(f"{where}: {hit.height:,} row(s) with {what}, first at row {hit['row'][0]}{extra}")
    return out


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
    if "meta" in table.column_names:
        import polars as pl

        found = pl.from_arrow(table.select(["meta"]))["meta"].fill_null("{}").str.json_path_match("$.layout")
        counts = found.fill_null("not recorded").value_counts(sort=True).rows()
        if any(k != "not recorded" for k, _ in counts):
            facts.append("layouts (meta layout): " + ", ".join(f"{k}={v:,}" for k, v in counts))
    return facts
