"""select: s1's Algorithm 1 on a hand-checked case, top, stratified, diverse, and bad values."""

import numpy as np
import polars as pl
import pytest

from curate.errors import BadInput
from curate.select import k_center, s1_select, select_rows
from curate.stages import StageContext, get


def test_s1_hand_checked():
    # Domains x = {a:10, b:30, c:20}, y = {d:5, e:7}; ranks by length, longest first:
    # x: b, c, a; y: e, d. With PCG64(0) the draws are: domain index 1 (y), pick rank 0 of 2 → e;
    # domain y again, its only row → d (y is then empty and leaves); domain x, rank 0 of 3 → b;
    # domain x, rank 1 of the remaining [c, a] → a.
    ids, dom, ln = ["a", "b", "c", "d", "e"], ["x", "x", "x", "y", "y"], [10, 30, 20, 5, 7]
    assert s1_select(ids, dom, ln, 4, seed=0) == [4, 3, 1, 0]
    # The same seed gives the same choice; all rows when k = n; must-keeps first.
    assert s1_select(ids, dom, ln, 5, seed=0)[:4] == [4, 3, 1, 0]
    assert sorted(s1_select(ids, dom, ln, 5, seed=7)) == [0, 1, 2, 3, 4]
    assert s1_select(ids, dom, ln, 2, seed=0, must_keep=[False, False, True, False, False])[0] == 2
    # A zero prior weight never draws that domain.
    picked = s1_select(ids, dom, ln, 3, seed=1, domain_weights={"x": 1.0, "y": 0.0})
    assert sorted(dom[i] for i in picked) == ["x", "x", "x"]


def test_s1_longest_wins_most_often():
    ids = [f"r{i:02d}" for i in range(20)]
    firsts = [s1_select(ids, ["d"] * 20, list(range(20)), 1, seed=s)[0] for s in range(200)]
    assert np.mean([f == 19 for f in firsts]) == pytest.approx(0.5, abs=0.1)  # 2^0 / (2^0+2^-1+…) ≈ 1/2


def test_k_center_picks_spread_points():
    v = np.array([[1, 0], [0.99, 0.14], [0, 1], [-1, 0]], float)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    assert k_center(v, 3, first=0) == [0, 3, 2]


def frame(n=12):
    return pl.DataFrame({
        "trace_id": [f"t{i:02d}" for i in range(n)],
        "problem": [f"problem number {i}" for i in range(n)],
        "domain": ["a", "a", "a", "a", "a", "a", "b", "b", "b", "c", "c", "c"][:n],
        "thinking_tokens": list(range(100, 100 + n)),
        "score": [0.1 * (i % 5) for i in range(n)],
        "source": ["aime" if i == 0 else "x" for i in range(n)],
    })


def run_select(df=None, seed=0, **cfg):
    cls = get("select")
    ctx = StageContext(seed=seed)
    return cls(cls.Config(**cfg)).run(frame() if df is None else df, ctx).sort("trace_id"), ctx


def test_select_stage_s1_columns_and_reasons():
    out, ctx = run_select(k=5, strategy="s1", must_keep="source = 'aime'")
    assert out.columns == ["trace_id", "selected", "select_rank", "drop_reason"]
    assert out["selected"].sum() == 5
    assert sorted(out["select_rank"].drop_nulls().to_list()) == [1, 2, 3, 4, 5]
    assert out.filter(pl.col("trace_id") == "t00")["select_rank"][0] == 1  # the must-keep
    assert set(out.filter(~pl.col("selected"))["drop_reason"]) == {"not selected (s1, k = 5)"}
    assert ctx.stats["must_keep"] == 1
    again, _ = run_select(frame().reverse(), k=5, strategy="s1", must_keep="source = 'aime'")
    assert again.equals(out)  # row order does not matter


def test_top_and_stratified():
    out, _ = run_select(k=3, strategy="top", by="score")
    # score 0.4 at t04, t09; then 0.3 at t03, t08: ties by trace_id
    assert out.filter(pl.col("selected")).sort("select_rank")["trace_id"].to_list() == ["t04", "t09", "t03"]
    out, ctx = run_select(k=7, strategy="stratified", by="domain")
    picked = out.join(frame(), on="trace_id").filter(pl.col("selected"))
    assert dict(picked.group_by("domain").len().iter_rows()) == {"a": 3, "b": 2, "c": 2}
    out, _ = run_select(k=4, strategy="stratified", by="domain", quotas={"a": 1, "c": 3}, order_by="thinking_tokens")
    assert sorted(out.filter(pl.col("selected"))["trace_id"].to_list()) == ["t05", "t09", "t10", "t11"]


def test_diverse():
    out, _ = run_select(k=4, strategy="diverse", on="problem")
    assert out["selected"].sum() == 4


def test_bad_values():
    with pytest.raises(BadInput, match=r"k = 50 but only 12 rows are left"):
        run_select(k=50, strategy="top", by="score")
    out, ctx = run_select(k=50, strategy="top", by="score", if_fewer="all")
    assert out["selected"].all() and ctx.stats["short_by"] == 38
    with pytest.raises(BadInput, match="needs column 'domain_x'"):
        run_select(k=2, strategy="s1", domain_column="domain_x")
    with pytest.raises(ValueError, match="needs 'by'"):
        get("select").Config(k=3, strategy="top")
    with pytest.raises(BadInput, match="quotas name value"):
        run_select(k=2, strategy="stratified", by="domain", quotas={"zzz": 2})


def test_per_problem_keeps_the_best_trace_of_each_problem():
    # Six problems with three traces each (three teachers): the longest is wrong, or has no gold.
    rows = []
    for p in range(6):
        for t, (verdict, gold, tokens) in enumerate([("incorrect", "1", 900), ("correct", "1", 300),
                                                       ("correct", "1", 200)]):
            if p == 5:  # an ill-posed problem: no gold, so no verdict but no_gold
                verdict, gold = "no_gold", None
            rows.append({"trace_id": f"p{p}t{t}", "problem_id": f"P{p}", "problem": f"q {p}", "gold": gold,
                         "verdict": verdict, "domain": "ab"[p % 2], "thinking_tokens": tokens + p})
    df = pl.DataFrame(rows)
    out, ctx = run_select(df, k=5, strategy="s1", per_problem=1)
    picked = out.filter(pl.col("selected")).join(df, on="trace_id")
    assert picked.height == 5 and picked["problem_id"].n_unique() == 5
    # The best of each problem: correct beats longer-but-wrong, then the longer of the correct ones.
    assert set(picked.filter(pl.col("problem_id") != "P5")["trace_id"].str.slice(2)) <= {"t1"}
    extra = out.filter(pl.col("drop_reason").str.starts_with("another trace"))
    assert extra.height == 12 and ctx.stats["available"] == 6
    # Without a verdict column it still works, and says the ranking lacks correctness.
    out, ctx = run_select(df.drop("verdict"), k=6, strategy="s1", per_problem=1)
    assert out["selected"].sum() == 6 and any("no verdict column" in w for w in ctx.warnings)


def test_per_problem_k_1000_covers_1000_problems_when_the_pool_allows():
    # A multi-teacher pool: 1,200 problems, 1 to 4 traces each, the longest often wrong.
    rng = np.random.default_rng(0)
    rows = []
    for p in range(1200):
        for t in range(1 + p % 4):
            rows.append({"trace_id": f"p{p:04d}t{t}", "problem_id": f"P{p:04d}", "gold": "1",
                         "verdict": "incorrect" if t == 0 and p % 3 else "correct",
                         "domain": f"d{p % 7}", "thinking_tokens": int(rng.integers(100, 5000))})
    df = pl.DataFrame(rows)
    out, ctx = run_select(df, k=1000, strategy="s1", per_problem=1)
    picked = out.filter(pl.col("selected")).join(df, on="trace_id")
    assert picked.height == 1000 and picked["problem_id"].n_unique() == 1000
    # Where a problem has a correct trace, the kept one is correct.
    has_correct = df.filter(pl.col("verdict") == "correct")["problem_id"].unique()
    assert (picked.filter(pl.col("problem_id").is_in(has_correct.implode()))["verdict"] == "correct").all()
    # Without per_problem the same draw repeats problems (what issue 14 saw: 1,000 rows, 534 problems).
    plain, _ = run_select(df, k=1000, strategy="s1")
    assert plain.filter(pl.col("selected")).join(df, on="trace_id")["problem_id"].n_unique() < 1000


def test_the_library_selects_without_a_stage_and_returns_its_warnings():
    """curate.select.select_rows is the stage's whole work: a plain frame in, an Outcome out (the
    stage adds nothing but the seed and its context); what it could not do is a warning, not a print."""
    df = frame().with_columns(pl.Series("problem_id", ["p0", "p0"] + [f"p{i}" for i in range(2, 12)]),
                              pl.lit("1").alias("gold"))
    result = select_rows(df, k=4, seed=0, strategy="top", by="score", per_problem=1)
    stage, ctx = run_select(df, k=4, strategy="top", by="score", per_problem=1)
    assert result.columns.sort("trace_id").equals(stage)
    assert result.stats == ctx.stats and result.stats["problems"] == 11
    assert result.warnings == ctx.warnings and "no verdict column" in result.warnings[0]
    with pytest.raises(BadInput, match=r"^k = 40 but only 11 rows"):
        select_rows(df, k=40, seed=0, strategy="top", by="score", per_problem=1)
