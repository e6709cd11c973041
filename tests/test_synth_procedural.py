"""synth --profile procedural: determinism, the unbalanced mix, the held-out split, traces whose
arithmetic holds line by line (parsed, never eval'd), the planted defects, the CLI, and the
procedural recipe removing every planted defect while balancing the families."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from conftest import run_cli
from curate import recipe as recipes
from curate import run as runner
from curate.synth import procedural
from train.ablate import with_k

BAD = {"wrong_answer", "truncated", "repetition", "missing_boxed"}
ADD = re.compile(r"^(\d)\+(\d)\+(\d)=(\d+) (\d+)$")
SUB = re.compile(r"^(\d+)-(\d)-(\d)=(\d) b([01]) (\d+)$")
MUL = re.compile(r"^(\d)\*(\d)\+(\d+)=(\d+) (\d+)$")
CARRY = re.compile(r"^carry (\d+) (\d+)$")
LIN_HEAD = re.compile(r"^(\d+)-(\d+):$")
LIN_DIV = re.compile(r"^(\d+)/(\d+): (\d+)\*(\d+)=(\d+)$")
LIN_X = re.compile(r"^x=(\d+)$")
BOXED = re.compile(r"\\boxed\{(-?\d+)\}")


def metas(table) -> list[dict]:
    return [json.loads(m) for m in table.column("meta").to_pylist()]


def rows(table) -> list[dict]:
    return [{**r, "m": json.loads(r["meta"])} for r in table.to_pylist()]


@pytest.fixture(scope="module")
def pool() -> procedural.ProceduralResult:
    return procedural.generate(procedural.ProceduralConfig(n=2000, heldout=20, seed=0))


# ------------------------------------------------------------------ a line-by-line checker

def columns(lines: list[str], op: str, a: int, b: int) -> tuple[int, int]:
    """Check column lines of `a op b` (op + - *): (final written value, number of slipped steps).
    A step slips when its arithmetic is wrong, its operand digits are not the column's, its carry
    (borrow) in is not the last step's carry out, or its written digits do not extend the last."""
    width = max(len(str(a)), len(str(b))) if op == "+" else len(str(a))
    da = [(a // 10 ** i) % 10 for i in range(width)]
    db = [(b // 10 ** i) % 10 for i in range(width)]
    carry, written, slips, i = 0, "", 0, 0
    for line in lines:
        if (m := CARRY.match(line)) and op != "-":
            c, w = int(m[1]), m[2]
            slips += (c != carry) + (w != f"{c}{written}")
            written, carry = w, 0
            continue
        assert i < width, f"more column lines than digits: {lines}"
        if op == "+":
            m = ADD.match(line)
            assert m, line
            x, y, cin, s, w = int(m[1]), int(m[2]), int(m[3]), int(m[4]), m[5]
            ok = x + y + cin == s and (x, y) == (da[i], db[i])
            digit, out = s % 10, s // 10
        elif op == "-":
            m = SUB.match(line)
            assert m, line
            top, y, cin, digit, borrow, w = (int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), m[6])
            ok = top - y - cin == digit and top == da[i] + 10 * borrow and y == db[i] and (borrow == 1) == (top >= 10)
            out = borrow
        else:
            m = MUL.match(line)
            assert m, line
            x, y, cin, s, w = int(m[1]), int(m[2]), int(m[3]), int(m[4]), m[5]
            ok = x * y + cin == s and (x, y) == (da[i], b)
            digit, out = s % 10, s // 10
        slips += (not ok) + (cin != carry) + (w != f"{digit}{written}")
        written, carry, i = w, out, i + 1
    assert i == width, f"{i} column lines for {width} digits: {lines}"
    assert op == "-" or carry == 0, f"a carry left over: {lines}"
    return int(written), slips


def check_trace(family: str, operands: list[int], thinking: str) -> tuple[int, int]:
    """(the trace's final answer, slipped steps) of a complete trace."""
    lines = thinking.split("\n")
    if family != "linear":
        op = {"addition": "+", "subtraction": "-", "multiplication": "*"}[family]
        return columns(lines, op, *operands)
    a, b, c = operands
    head, div, x = LIN_HEAD.match(lines[0]), LIN_DIV.match(lines[-2]), LIN_X.match(lines[-1])
    assert head and div and x, lines
    assert (int(head[1]), int(head[2])) == (c, b)
    rhs, slips = columns(lines[1:-2], "-", c, b)
    d_rhs, d_a, f_a, f_x, f_rhs = (int(v) for v in div.groups())
    slips += (d_rhs != rhs) + (d_a != a) + (f_a != a) + (f_a * f_x != f_rhs) + (f_rhs != d_rhs)
    assert int(x[1]) == f_x
    return f_x, slips


def test_checker_on_the_documented_examples():
    assert check_trace("addition", [4827, 394], "7+4+0=11 1\n2+9+1=12 21\n8+3+1=12 221\n4+0+1=5 5221") == (5221, 0)
    assert check_trace("subtraction", [523, 498], "13-8-0=5 b1 5\n12-9-1=2 b1 25\n5-4-1=0 b0 025") == (25, 0)
    assert check_trace("multiplication", [347, 6], "7*6+0=42 2\n4*6+4=28 82\n3*6+2=20 082\ncarry 2 2082") == (2082, 0)
    assert check_trace("linear", [7, 12, 61],
                       "61-12:\n11-2-0=9 b1 9\n6-1-1=4 b0 49\n49/7: 7*7=49\nx=7") == (7, 0)
    # a forgotten carry and a digit off by one are both seen
    assert check_trace("addition", [4827, 394], "7+4+0=11 1\n2+9+0=11 11\n8+3+1=12 211\n4+0+1=5 5211")[1] == 1
    assert check_trace("multiplication", [347, 6], "7*6+0=43 3\n4*6+4=28 83\n3*6+2=20 083\ncarry 2 2083")[1] == 1


# ------------------------------------------------------------------------------ the tables

def test_same_config_same_bytes_exactly_n_rows():
    cfg = procedural.ProceduralConfig(n=400, heldout=5, seed=3)
    a, b = procedural.generate(cfg), procedural.generate(cfg)
    assert a.traces.num_rows == 400
    assert a.traces.equals(b.traces) and a.heldout.equals(b.heldout)
    assert a.traces.column("trace_id").to_pylist() == b.traces.column("trace_id").to_pylist()
    other = procedural.generate(procedural.ProceduralConfig(n=400, heldout=5, seed=4))
    assert other.traces.column("trace_id").to_pylist() != a.traces.column("trace_id").to_pylist()
    assert len(set(a.traces.column("trace_id").to_pylist())) == 400


def test_every_family_present_and_unbalanced(pool):
    fams = Counter(m["family"] for m in metas(pool.traces))
    assert set(fams) == set(procedural.FAMILIES)
    assert sum(fams.values()) == 2000
    assert fams.most_common(1)[0][0] == "addition"
    assert min(fams, key=fams.get) == "linear"
    assert fams["addition"] > 2 * fams["linear"]            # unbalanced on purpose
    sources = Counter(pool.traces.column("source").to_pylist())
    assert sources == Counter({f"procedural/{f}": c for f, c in fams.items()})


def test_heldout_is_disjoint_and_per_family(pool):
    held = metas(pool.heldout)
    assert Counter(m["family"] for m in held) == dict.fromkeys(procedural.FAMILIES, 20)
    assert all(m["defects"] == [] and m["correct"] for m in held)
    ops = lambda ms: {(m["family"], tuple(m["operands"])) for m in ms}  # noqa: E731
    assert not ops(held) & ops(metas(pool.traces))
    assert len(ops(held)) == pool.heldout.num_rows
    pool_pids = set(pool.traces.column("problem_id").to_pylist())
    assert not set(pool.heldout.column("problem_id").to_pylist()) & pool_pids


def test_clean_traces_hold_line_by_line(pool):
    clean = [r for r in rows(pool.traces) + rows(pool.heldout)
             if not set(r["m"]["defects"]) - {"duplicate", "near_duplicate"}]
    assert len(clean) > 500
    for r in clean:
        value, slips = check_trace(r["m"]["family"], r["m"]["operands"], r["thinking"])
        assert slips == 0, r
        assert str(value) == r["gold"], r
        assert r["finish_reason"] == "stop"
        assert BOXED.fullmatch(r["response"])[1] == r["gold"]
        assert r["m"]["correct"] and r["m"]["answer"] == r["gold"]
    assert {r["m"]["family"] for r in clean} == set(procedural.FAMILIES)


def test_gold_is_the_true_answer(pool):
    for r in rows(pool.traces):
        ops, fam = r["m"]["operands"], r["m"]["family"]
        if fam == "linear":
            a, b, c = ops
            assert a * int(r["gold"]) + b == c
        else:
            x, y = ops
            assert int(r["gold"]) == {"addition": x + y, "subtraction": x - y, "multiplication": x * y}[fam]


def test_slipped_rows_carry_one_slip_to_a_wrong_answer(pool):
    slipped = [r for r in rows(pool.traces) if "wrong_answer" in r["m"]["defects"]
               and not {"truncated", "repetition"} & set(r["m"]["defects"])]
    assert len(slipped) > 100
    for r in slipped:
        value, slips = check_trace(r["m"]["family"], r["m"]["operands"], r["thinking"])
        assert str(value) != r["gold"] and r["m"]["answer"] == str(value) and not r["m"]["correct"], r
        if r["m"]["family"] == "linear":
            assert slips >= 1, r          # a wrong difference also makes the division fact wrong
        else:
            assert slips == 1, r
        if "missing_boxed" not in r["m"]["defects"]:
            assert BOXED.fullmatch(r["response"])[1] != r["gold"]


def test_truncated_repetition_missing_boxed(pool):
    table = rows(pool.traces)
    truncated = [r for r in table if "truncated" in r["m"]["defects"]]
    repeated = [r for r in table if "repetition" in r["m"]["defects"]]
    unboxed = [r for r in table if "missing_boxed" in r["m"]["defects"]]
    assert truncated and repeated and unboxed
    for r in truncated:
        assert r["finish_reason"] == "length" and r["response"] == "" and r["m"]["answer"] is None
    for r in repeated:
        if "truncated" in r["m"]["defects"]:
            continue      # a recovered loop then truncated: the cut may fall before the loop
        lines = r["thinking"].split("\n")
        assert len(lines) > len(set(lines)), r
        assert max(Counter(lines).values()) == r["m"]["repeats"] + 1 >= 5   # the line and 4 to 8 repeats
    assert {r["finish_reason"] for r in repeated} == {"stop", "length"}   # most run out, some recover
    for r in unboxed:
        assert r["finish_reason"] == "stop" and "\\boxed" not in r["response"] and r["response"]
        assert not r["m"]["correct"]
    dups = [r for r in table if {"duplicate", "near_duplicate"} & set(r["m"]["defects"])]
    assert dups and all(r["m"]["dup_of_problem"] for r in dups)
    counts = Counter(d for r in table for d in r["m"]["defects"])
    assert counts == pool.defect_counts


# -------------------------------------------------------------------------------------- CLI

def test_cli_writes_pool_and_heldout(tmp_path, capsys):
    out = tmp_path / "pool"
    code, stdout, err = run_cli(["synth", "--profile", "procedural", "--n", "300", "--heldout", "5",
                                 "--out", out], capsys)
    assert code == 0, err
    assert (out / "procedural-00000.parquet").is_file()
    held = sorted((out / "heldout").glob("*.parquet"))
    assert [p.name for p in held] == ["procedural-00000.parquet"]
    assert pl.read_parquet(out / "procedural-00000.parquet").height == 300
    assert pl.read_parquet(held[0]).height == 5 * len(procedural.FAMILIES)
    assert "300 procedural teacher traces" in stdout and "held-out: 20 problems" in stdout


def test_cli_bogus_profile(tmp_path, capsys):
    out = tmp_path / "pool"
    code, _, err = run_cli(["synth", "--profile", "bogus", "--n", "10", "--out", out], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "bogus" in err and "profile" in err
    assert not out.exists()


# ----------------------------------------------------------------------------- the recipe

@pytest.fixture(scope="module")
def curated(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("procedural-recipe")
    procedural.write(procedural.ProceduralConfig(n=2000, heldout=5, seed=0), base / "pool")
    runner.run(recipes.load("procedural"), base / "pool", base / "run")
    return base / "run"


def test_recipe_selects_clean_balanced_1k(curated):
    frame = pl.read_parquet(curated / "traces.parquet")
    selected = pl.read_parquet(curated / "selected.parquet")
    family = lambda df: df["meta"].map_elements(lambda m: json.loads(m)["family"], return_dtype=pl.String)  # noqa: E731
    passed = frame.filter(pl.col("dropped_by").is_null() | pl.col("dropped_by").str.ends_with("select"))
    available = Counter(family(passed).to_list())
    assert selected.height == min(1000, passed.height) == 1000
    assert len(set(selected["trace_id"].to_list())) == 1000
    chosen = Counter(family(selected).to_list())
    assert set(chosen) == set(procedural.FAMILIES)
    # equal shares: a family with too few rows gives all it has, the rest split what is left evenly
    full = {f: c for f, c in chosen.items() if c < available[f]}
    assert full, (chosen, available)
    assert max(full.values()) - min(full.values()) <= 1
    assert all(chosen[f] == available[f] <= min(full.values()) for f in chosen if f not in full)
    assert Counter(selected["source"].to_list()) == {f"procedural/{f}": c for f, c in chosen.items()}
    # nothing the recipe is meant to remove survives it
    for meta in selected["meta"].to_list():
        m = json.loads(meta)
        assert not BAD & set(m["defects"]), m
        assert m["correct"]
    for r in selected.select("thinking", "response", "gold").to_dicts():
        lines = r["thinking"].split("\n")
        assert len(lines) == len(set(lines))
        assert BOXED.fullmatch(r["response"])[1] == r["gold"]
    # the pool had every kind of defect, and each was dropped
    defects = frame["meta"].map_elements(lambda m: ",".join(json.loads(m)["defects"]), return_dtype=pl.String)
    bad = frame.filter(defects.str.contains("wrong_answer|truncated|repetition|missing_boxed"))
    assert bad.height > 500 and bad["dropped_by"].is_not_null().all()
    assert not bad["dropped_by"].str.ends_with("select").any()


def test_recipe_with_k_lowered_is_equal_per_family(curated, tmp_path):
    rec = with_k(recipes.load("procedural"), 200)
    assert [s.config.k for s in rec.stages if s.name == "select"] == [200]
    result = runner.run(rec, curated.parent / "pool", tmp_path / "run")
    assert result.rows_selected == 200
    selected = pl.read_parquet(tmp_path / "run" / "selected.parquet")
    assert Counter(selected["source"].to_list()) == {f"procedural/{f}": 50 for f in procedural.FAMILIES}
