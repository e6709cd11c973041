"""What every preset shares: typed access to source columns, text splitting, and the one place
where a preset's output becomes a trace table (defaults, sample_idx, meta, ids).

A preset only says how its dataset maps onto the trace columns (`Converted`); `assemble` applies the
rules that must be the same for every dataset:
- `teacher`: the data's own value, else the --teacher option, else the preset's default, else "unknown";
- `source`: the --source option (the data's own value, if any, goes to meta `original_source`), else
  the data's own value (generic `source=`), else the name of SRC;
- `sample_idx`: the preset's generation index when it has one, else the order of appearance within
  (problem_id, teacher), so that re-importing the same file gives the same ids;
- `meta`: every source column the preset did not consume, plus the preset's per-row keys, as JSON
  text with sorted keys (so identical rows give identical bytes);
- thinking that was opened but never closed is never reported as complete: `finish_reason` keeps what
  the data says (null when it says nothing: we do not know why the text stops) and meta records
  `thinking_closed: false`, which is also counted in the summary;
- `meta.layout`: the reasoning layout that split the row (`curate.layouts`), `unmatched` when none
  could: its text is then kept whole in `response`, never dropped.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
from dataclasses import dataclass, field

import polars as pl
import pyarrow as pa

from curate import layouts, schema
from curate.errors import BadInput

UNKNOWN_TEACHER = "unknown"


# ------------------------------------------------------------------------------- source columns

class Raw:
    """The source table and where it came from; column access that fails with one named line."""

    def __init__(self, table: pa.Table, where: str, preset: str):
        self.table = table
        self.where = where
        self.preset = preset

    @property
    def columns(self) -> list[str]:
        return self.table.column_names

    def has(self, name: str) -> bool:
        return name in self.table.column_names

    def require(self, *names: str, why: str = "") -> None:
        missing = [n for n in names if not self.has(n)]
        if missing:
            what = f"preset {self.preset}{why}"
            plural = "s" if len(missing) > 1 else ""
            raise BadInput(f"{self.where}: {what} needs column{plural} {', '.join(missing)} "
                           f"(columns present: {', '.join(self.columns) or 'none'})")

    def type_of(self, name: str) -> pa.DataType:
        return self.table.schema.field(name).type

    def wrong_type(self, name: str, expected: str) -> BadInput:
        return BadInput(f"{self.where}: column {name} has type {self.type_of(name)}, expected {expected}")

    def texts(self, name: str) -> list[str | None]:
        """A text column as Python strings (nulls kept)."""
        if not is_text(self.type_of(name)):
            raise self.wrong_type(name, "text")
        return self.table.column(name).to_pylist()

    def texts_or_joined_lists(self, name: str, sep: str = "\n\n") -> list[str | None]:
        """A text column, or a list-of-text column whose items are joined (s1K's trajectories)."""
        t = self.type_of(name)
        if is_text(t):
            return self.table.column(name).to_pylist()
        if is_list(t) and is_text(t.value_type):
            return [None if v is None else sep.join(s for s in v if s) for v in self.table.column(name).to_pylist()]
        raise self.wrong_type(name, "text or a list of text")

    def scalars_as_text(self, name: str) -> list[str | None]:
        """Gold answers: text as it is; numbers (CSV, JSON) written as text; anything else an error."""
        t = self.type_of(name)
        if is_text(t):
            return self.table.column(name).to_pylist()
        if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
            return [None if v is None else _number_text(v) for v in self.table.column(name).to_pylist()]
        raise self.wrong_type(name, "text or a number")

    def integers(self, name: str) -> list[int | None]:
        if not (pa.types.is_integer(self.type_of(name)) or pa.types.is_null(self.type_of(name))):
            raise self.wrong_type(name, "integer")
        return self.table.column(name).to_pylist()

    def struct_list(self, name: str, fields: tuple[str, ...], expected: str) -> pl.Series:
        """A list-of-struct column (chat turns) as a Polars Series, after checking its shape."""
        t = self.type_of(name)
        if not (is_list(t) and pa.types.is_struct(t.value_type)
                and all(t.value_type.get_field_index(f) >= 0 for f in fields)):
            raise self.wrong_type(name, expected)
        return pl.from_arrow(self.table.select([name])).to_series()

    def row_error(self, row: int, message: str) -> BadInput:
        return BadInput(f"{self.where}: row {row}: {message}")


def is_text(t: pa.DataType) -> bool:
    return (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)
            or pa.types.is_null(t))


def is_list(t: pa.DataType) -> bool:
    return pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t)


def _number_text(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))  # a CSV's "12" read as 12.0 is the answer 12
    return str(v)


# --------------------------------------------------------------------------------------- text

def split_column(raw: Raw, texts: list[str | None], layout: str, finish: list[str | None] | None = None,
                 reasoning: list[str | None] | None = None) -> tuple[list[layouts.Split], list[str]]:
    """Split a column of outputs by `layout` (`auto`: detected for this file, see `curate.layouts`)
    and say what was done, in one note line."""
    parts, found = layouts.split_texts(texts, layout, finish, reasoning)
    return parts, [found.describe(raw.where)]


# ------------------------------------------------------------------------------------ assembly

@dataclass
class Converted:
    """One preset's reading of the source: aligned per-output-row lists, plus what it consumed.

    `rows[i]` is the source row of output row i (one source row may give several, as OpenR1's
    generations do); it names the row in errors and picks that row's unconsumed columns for meta.
    """

    rows: list[int]
    problem: list[str | None]
    problem_column: str
    thinking: list[str]
    response: list[str]
    consumed: set[str]
    gold: list[str | None] | None = None
    finish_reason: list[str | None] | None = None
    closed: list[bool] | None = None
    layout: list[str] | None = None  # per row: the layout that split it (`unmatched`: none could)
    meta: list[dict] | None = None
    default_teacher: str | list[str | None] | None = None
    teacher: list[str | None] | None = None
    source: list[str | None] | None = None
    sample_idx: list[int] | None = None
    notes: list[str] = field(default_factory=list)


def halves(parts: list[layouts.Split]) -> dict:
    """`Converted` fields from split rows: thinking, response, closed, layout."""
    return {"thinking": [p.thinking for p in parts], "response": [p.response for p in parts],
            "closed": [p.closed for p in parts], "layout": [p.layout for p in parts]}


def assemble(raw: Raw, conv: Converted, source: str | None, default_source: str,
             teacher: str | None) -> tuple[pa.Table, list[str]]:
    """Apply the shared rules (module docstring) and return the trace table, ids filled, and the notes.

    Checked here without re-hashing the ids, so that an error (two identical traces of one sample
    index, say) names the source; `store.save_traces` checks the ids themselves before writing."""
    n = len(conv.rows)
    _check_problems(raw, conv)
    notes = list(conv.notes)
    teachers = _coalesce(n, conv.teacher, teacher, conv.default_teacher, UNKNOWN_TEACHER)
    metas = _meta(raw, conv)
    sources, line = _sources(n, conv.source, source, default_source, metas)
    notes.insert(0, line)
    if conv.layout is not None:
        for meta, layout in zip(metas, conv.layout):
            meta["layout"] = layout
    if conv.closed is not None:
        unclosed = [i for i, ok in enumerate(conv.closed) if not ok]
        for i in unclosed:
            metas[i]["thinking_closed"] = False
        # Closed thinking with nothing after it says so, or `format` would take it for cut off.
        for i, ok in enumerate(conv.closed):
            if ok and conv.thinking[i].strip() and not conv.response[i].strip():
                metas[i]["thinking_closed"] = True
        if unclosed:
            notes.append(f"{len(unclosed):,} row(s) whose thinking was never closed: meta thinking_closed = "
                         f"false, finish_reason as the data gives it (null if it gives none)")
    frame = pl.DataFrame({
        "source": sources,
        "problem": conv.problem,
        "gold": conv.gold if conv.gold is not None else [None] * n,
        "thinking": conv.thinking,
        "response": conv.response,
        "teacher": teachers,
        "finish_reason": conv.finish_reason if conv.finish_reason is not None else [None] * n,
    }, schema={c: pl.String for c in ("source", "problem", "gold", "thinking", "response", "teacher",
                                       "finish_reason")})
    frame = frame.with_columns(pl.Series("sample_idx", _sample_idx(frame, conv), pl.Int32),
                               pl.Series("meta", [_json(m) for m in metas], pl.String))
    table = schema.with_ids(frame.to_arrow())
    schema.check(table, raw.where, check_ids=False)
    return table, notes


def _check_problems(raw: Raw, conv: Converted) -> None:
    for i, p in enumerate(conv.problem):
        if p is None or not p.strip():
            raise raw.row_error(conv.rows[i], f"column {conv.problem_column}: the problem is "
                                              f"{'null' if p is None else 'empty'}")


def _sources(n: int, data: list[str | None] | None, option: str | None, default: str,
             metas: list[dict]) -> tuple[list[str], str]:
    """`--source` wins over the data's own source column, whose value then goes to meta
    `original_source`; without the option, the data's value, else the name of SRC."""
    if option is not None:
        kept = 0
        for meta, value in zip(metas, data or []):
            if value is not None:
                meta["original_source"] = value
                kept += 1
        extra = f"; over the data's source column, whose {kept:,} value(s) are kept in meta original_source" \
            if kept else ""
        return [option] * n, f"source: {option} (--source{extra})"
    if data is not None:
        values = sorted({v for v in data if v is not None})
        shown = ", ".join(values[:3]) + (f", … ({len(values) - 3} more)" if len(values) > 3 else "")
        missing = sum(v is None for v in data)
        tail = f"; {missing:,} row(s) without one: {default}" if missing else ""
        return _coalesce(n, data, default), f"source: the data's source column ({shown}){tail}"
    return [default] * n, f"source: {default}"


def _coalesce(n: int, *choices) -> list[str]:
    """Per row, the first non-null of: a per-row list, or a scalar, in order of precedence."""
    out: list[str | None] = [None] * n
    for choice in choices:
        if choice is None:
            continue
        if isinstance(choice, str):
            out = [v if v is not None else choice for v in out]
            break
        out = [v if v is not None else c for v, c in zip(out, choice, strict=True)]
    return out


def _sample_idx(frame: pl.DataFrame, conv: Converted) -> list[int]:
    if conv.sample_idx is not None:
        return conv.sample_idx
    keyed = frame.select(pl.Series("problem_id", schema.problem_ids(conv.problem)), "teacher")
    return keyed.select(pl.int_range(pl.len()).over("problem_id", "teacher")).to_series().to_list()


def _meta(raw: Raw, conv: Converted) -> list[dict]:
    """Per output row: its source row's unconsumed columns, then the preset's own keys over them."""
    extra = [c for c in raw.columns if c not in conv.consumed]
    base = raw.table.select(extra).to_pylist() if extra else [{} for _ in range(raw.table.num_rows)]
    own = conv.meta or [{}] * len(conv.rows)
    return [{**base[r], **own[i]} for i, r in enumerate(conv.rows)]


def _json(obj: dict) -> str:
    try:
        return json.dumps(obj, sort_keys=True, ensure_ascii=False, allow_nan=False, default=_plain)
    except ValueError:  # NaN or infinity somewhere: JSON has no such numbers, null says "no value"
        return json.dumps(_finite(obj), sort_keys=True, ensure_ascii=False, default=_plain)


def _plain(value):
    """JSON for the Arrow values that have no JSON type (dates, decimals, bytes)."""
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
