import pyarrow as pa
import pytest

from conftest import trace_rows, trace_table
from curate import schema
from curate.errors import BadInput


def test_ids_are_stable_content_hashes():
    t = trace_table()
    # Known values: these must never change across machines or versions (runs and caches key on them).
    assert schema.problem_id("What is 2 + 2?") == schema.problem_id("  What is\t2 +  2? ")
    assert schema.problem_id("What is 2 + 2?") != schema.problem_id("what is 2 + 2?")
    assert len(t.column("trace_id")[0].as_py()) == 32 and len(t.column("problem_id")[0].as_py()) == 16
    again = trace_table()
    assert again.column("trace_id").to_pylist() == t.column("trace_id").to_pylist()
    assert schema.problem_id("x") == "eaf06c6480b2cd11"


def test_trace_id_separates_fields():
    a = schema.trace_id("p", "s", "t", 0, "ab", "c")
    b = schema.trace_id("p", "s", "t", 0, "a", "bc")
    assert a != b


def test_valid_table_has_no_problems():
    assert schema.validate(trace_table(), "x") == []


def test_missing_column_named_with_present_ones():
    t = trace_table().drop_columns(["gold"])
    (p,) = schema.validate(t, "f.parquet")
    assert "missing required column gold" in str(p) and "columns present: trace_id" in str(p)


def test_wrong_type_named():
    t = trace_table()
    i = t.schema.get_field_index("sample_idx")
    t = t.set_column(i, "sample_idx", pa.array([str(v) for v in t.column("sample_idx").to_pylist()]))
    with pytest.raises(BadInput, match=r"f.parquet: column sample_idx: has type string, expected int32"):
        schema.check(t, "f.parquet")


def test_null_in_required_column_names_row():
    rows = trace_rows()
    t = trace_table()
    probs = t.column("problem").to_pylist()
    probs[3] = None
    t = t.set_column(t.schema.get_field_index("problem"), "problem", pa.array(probs, pa.string()))
    with pytest.raises(BadInput, match=r"column problem: 1 null value\(s\), first at row 3"):
        schema.check(t, "f")
    assert len(rows) == t.num_rows


def test_duplicate_trace_id_and_tampered_ids():
    t = trace_table()
    dup = pa.concat_tables([t, t.slice(0, 1)])
    with pytest.raises(BadInput, match=r"row 12: trace_id \w+ repeats row 0"):
        schema.check(dup, "f")
    ids = t.column("problem_id").to_pylist()
    ids[2] = "0" * 16
    bad = t.set_column(t.schema.get_field_index("problem_id"), "problem_id", pa.array(ids))
    with pytest.raises(BadInput, match=r"row 2: problem_id '0+' is not the content hash"):
        schema.check(bad, "f")


def test_conform_casts_and_orders_columns():
    t = trace_table()
    shuffled = t.select(list(reversed(t.column_names))).append_column("extra", pa.array(range(t.num_rows)))
    shuffled = shuffled.set_column(shuffled.schema.get_field_index("sample_idx"), "sample_idx",
                                   shuffled.column("sample_idx").cast(pa.int64()))
    out = schema.conform(shuffled, "x")
    assert out.column_names[: len(schema.REQUIRED)] == list(schema.REQUIRED)
    assert out.column_names[-1] == "extra"
    assert out.schema.field("sample_idx").type == pa.int32()
