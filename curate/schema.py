"""The trace table: one row per teacher sample for one problem, defined once, here.

Every file distillery writes or reads as traces has these columns with these Arrow types. Other
columns may ride along (a stage's outputs, an importer's extras); they are kept as they are.

`trace_id` and `problem_id` are content hashes (xxh3), the same on every machine and every run:
- problem_id = xxh3_64 of the normalised problem (Unicode NFKC, whitespace runs collapsed, stripped);
- trace_id   = xxh3_128 of problem_id, source, teacher, sample_idx, thinking and response.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa
import xxhash

from curate.errors import BadInput

SCHEMA_VERSION = 1

# The column a curation stage fills with why it drops a row (null = keep). The runner also keeps
# `dropped_by`, the stage that dropped it, in traces.parquet.
DROP = "drop_reason"


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    required: bool
    nullable: bool
    doc: str


COLUMNS: tuple[Column, ...] = (
    Column("trace_id", pa.string(), True, False, "stable content hash of the trace"),
    Column("problem_id", pa.string(), True, False, "stable hash of the normalised problem"),
    Column("source", pa.string(), True, False, "where the row came from (dataset, generator)"),
    Column("problem", pa.string(), True, False, "the problem statement given to the teacher"),
    Column("gold", pa.string(), True, True, "reference answer (LaTeX) or null"),
    Column("thinking", pa.string(), True, False, "the reasoning, without its delimiters"),
    Column("response", pa.string(), True, False, "what follows the reasoning, with the final answer"),
    Column("teacher", pa.string(), True, False, "model that wrote the trace"),
    Column("sample_idx", pa.int32(), True, False, "index of this sample among the problem's samples"),
    Column("finish_reason", pa.string(), True, True, "stop, length, … (null when unknown)"),
    Column("meta", pa.string(), True, True, "JSON object text: anything else worth keeping"),
    # Optional: teacher top-k for soft-label distillation, one list per generated token.
    Column("topk_ids", pa.list_(pa.list_(pa.int32())), False, True, "teacher top-k token ids per token"),
    Column("topk_logprobs", pa.list_(pa.list_(pa.float16())), False, True, "their logprobs (float16)"),
)

BY_NAME = {c.name: c for c in COLUMNS}
REQUIRED = tuple(c.name for c in COLUMNS if c.required)
CORE_SCHEMA = pa.schema([pa.field(c.name, c.type, nullable=c.nullable) for c in COLUMNS if c.required])


# ---------------------------------------------------------------------------------------- hashing

def normalize_problem(text: str) -> str:
    """The text that problem_id hashes: NFKC, whitespace collapsed, stripped (case kept: in math,
    `A` and `a` can be different things)."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def problem_id(text: str) -> str:
    return xxhash.xxh3_64_hexdigest(normalize_problem(text).encode("utf-8"))


def trace_id(pid: str, source: str, teacher: str, sample_idx: int, thinking: str, response: str) -> str:
    h = xxhash.xxh3_128()
    for part in (pid, source, teacher, str(int(sample_idx)), thinking, response):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")  # unit separator: ("ab", "c") and ("a", "bc") must not collide
    return h.hexdigest()


def problem_ids(problems: Iterable[str]) -> list[str]:
    return [problem_id(p) for p in problems]


def trace_ids(table: pa.Table) -> list[str]:
    cols = [table.column(n).to_pylist() for n in ("problem_id", "source", "teacher", "sample_idx",
                                                   "thinking", "response")]
    return [trace_id(*row) for row in zip(*cols)]


def with_ids(table: pa.Table) -> pa.Table:
    """Fill problem_id and trace_id from the content (replacing any that are there)."""
    pids = pa.array(problem_ids(table.column("problem").to_pylist()), pa.string())
    table = _set(table, "problem_id", pids)
    return _set(table, "trace_id", pa.array(trace_ids(table), pa.string()))


def _set(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    i = table.schema.get_field_index(name)
    if i < 0:
        return table.append_column(name, values)
    return table.set_column(i, name, values)


# ------------------------------------------------------------------------------------- validation

@dataclass(frozen=True)
class Problem:
    """One thing wrong with a trace table; `where` names the file, and the column or row."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def _same_kind(found: pa.DataType, want: pa.DataType) -> bool:
    """Types that hold the same values: string/large_string/string_view, any integer width,
    any float width, lists of those."""
    t = pa.types
    if t.is_null(found):
        return True  # an all-null column of a nullable field
    if t.is_string(want):
        return t.is_string(found) or t.is_large_string(found) or t.is_string_view(found)
    if t.is_integer(want):
        return t.is_integer(found)
    if t.is_floating(want):
        return t.is_floating(found)
    if t.is_list(want):
        if t.is_list(found) or t.is_large_list(found) or t.is_list_view(found):
            return _same_kind(found.value_type, want.value_type)
        return False
    return found == want


def _type_name(t: pa.DataType) -> str:
    return {"large_string": "string", "string_view": "string"}.get(str(t), str(t))


def validate(table: pa.Table, where: str, check_ids: bool = True, limit: int = 20) -> list[Problem]:
    """Everything wrong with `table` as a trace table (empty list: it is valid)."""
    problems: list[Problem] = []
    names = table.column_names
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        problems.append(Problem(where, f"missing required column{'s' if len(missing) > 1 else ''} "
                                       f"{', '.join(missing)} (columns present: {', '.join(names) or 'none'})"))
    for col in COLUMNS:
        if col.name not in names:
            continue
        found = table.schema.field(col.name).type
        if not _same_kind(found, col.type):
            problems.append(Problem(f"{where}: column {col.name}",
                                    f"has type {_type_name(found)}, expected {_type_name(col.type)}"))
            continue
        nulls = table.column(col.name).null_count
        if nulls and not col.nullable:
            first = _first_null(table.column(col.name))
            problems.append(Problem(f"{where}: column {col.name}",
                                    f"{nulls} null value(s), first at row {first}; it must not be null"))
    if problems or table.num_rows == 0:
        return problems[:limit]
    problems += _check_values(table, where, check_ids)
    return problems[:limit]


def _check_values(table: pa.Table, where: str, check_ids: bool) -> list[Problem]:
    import pyarrow.compute as pc

    problems: list[Problem] = []
    tids = table.column("trace_id")
    if pc.count_distinct(tids).as_py() != table.num_rows:
        seen: dict[str, int] = {}
        for i, t in enumerate(tids.to_pylist()):
            if t in seen:
                problems.append(Problem(f"{where}: row {i}",
                                        f"trace_id {t} repeats row {seen[t]}; trace ids must be unique"))
                break
            seen[t] = i
    idx = table.column("sample_idx")
    neg = pc.sum(pc.less(idx, 0)).as_py() or 0
    if neg:
        problems.append(Problem(f"{where}: column sample_idx", f"{neg} negative value(s)"))
    if check_ids:
        for name, want in (("problem_id", problem_ids(table.column("problem").to_pylist())),
                           ("trace_id", None)):
            if want is None:
                want = trace_ids(table)
            got = table.column(name).to_pylist()
            bad = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), None)
            if bad is not None:
                problems.append(Problem(f"{where}: row {bad}",
                                        f"{name} {got[bad]!r} is not the content hash of the row "
                                        f"(expected {want[bad]}); rebuild ids with `distillery ingest`"))
    return problems


def _first_null(col: pa.ChunkedArray) -> int:
    offset = 0
    for chunk in col.chunks:
        if chunk.null_count:
            return offset + next(i for i, v in enumerate(chunk.is_null().to_pylist()) if v)
        offset += len(chunk)
    return -1


def check(table: pa.Table, where: str, check_ids: bool = True) -> None:
    """Raise BadInput with the first problem found (one line), else return."""
    problems = validate(table, where, check_ids=check_ids, limit=1)
    if problems:
        raise BadInput(str(problems[0]))


def conform(table: pa.Table, where: str = "table", check_ids: bool = True) -> pa.Table:
    """Validate, then cast to the canonical types: core columns first in schema order, then the
    optional ones present, then any extra columns as they are."""
    check(table, where, check_ids=check_ids)
    cols, fields = [], []
    for col in COLUMNS:
        if col.name in table.column_names:
            cols.append(table.column(col.name).cast(col.type))
            fields.append(pa.field(col.name, col.type, nullable=col.nullable))
    for name in table.column_names:
        if name not in BY_NAME:
            cols.append(table.column(name))
            fields.append(table.schema.field(name))
    return pa.Table.from_arrays(cols, schema=pa.schema(fields))
