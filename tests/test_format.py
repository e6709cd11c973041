"""format: every broken form flagged, on traces split from real-shaped outputs."""

from __future__ import annotations

import json

import polars as pl
from teacher_outputs import DISTILL_CUT, DISTILL_OUT, PLAIN, R1_OUT, S1_CUT

from curate import layouts
from curate.stages import StageContext, get


def row(name, part, finish="stop", **meta):
    return {"trace_id": name, "thinking": part.thinking, "response": part.response, "finish_reason": finish,
            "meta": json.dumps(meta)}


def run(rows, **cfg):
    cls = get("format")
    return cls(cls.Config(**cfg)).run(pl.DataFrame(rows), StageContext(seed=0)).rows_by_key("trace_id", named=True)


def flags(out, name):
    return {k[4:] for k, v in out[name][0].items() if k.startswith("fmt_") and v}


def test_flags_on_real_layouts():
    cut = layouts.split(DISTILL_CUT, "think_no_open")
    rows = [
        row("r1", layouts.split(R1_OUT, "think"), layout="think"),
        row("distill", layouts.split(DISTILL_OUT, "think_no_open"), layout="think_no_open"),
        # R1-Distill cut off, the data says nothing about why (no finish_reason): ingest's meta does
        row("distill_cut", cut, finish=None, thinking_closed=False, layout="think_no_open"),
        row("s1_cut", layouts.split(S1_CUT, "s1"), finish="length", thinking_closed=False, layout="s1"),
        row("plain", layouts.split(PLAIN, "none"), layout="none"),
        row("unmatched", layouts.split(PLAIN, "think"), layout="unmatched"),
        # the split never happened: a tag is left in the response
        {"trace_id": "stray", "thinking": "", "response": "<think>\nso x = 2", "finish_reason": "stop", "meta": None},
        # only the closing tag is missing, some text came before the opening tag
        row("open_only", layouts.split("Sure.\n<think>\nLet me see", "think"), thinking_closed=False),
        # generate's meta: the thinking closed, nothing after it
        {"trace_id": "closed_empty", "thinking": "2 + 2 = 4", "response": "", "finish_reason": "stop",
         "meta": json.dumps({"closed": True})},
        {"trace_id": "no_box", "thinking": "3 * 5 = 15", "response": "The answer is 15.", "finish_reason": "stop",
         "meta": "{}"},
    ]
    out = run(rows)
    assert flags(out, "r1") == set() and flags(out, "distill") == set()
    assert flags(out, "distill_cut") == {"unclosed_thinking", "no_final_answer", "missing_boxed"}
    assert flags(out, "s1_cut") == {"truncated", "unclosed_thinking", "no_final_answer", "missing_boxed"}
    assert flags(out, "plain") == {"empty_thinking"}
    assert flags(out, "unmatched") == {"empty_thinking"}
    assert flags(out, "stray") == {"unclosed_thinking", "empty_thinking", "missing_boxed"}
    assert flags(out, "open_only") == {"unclosed_thinking", "missing_boxed"}
    assert flags(out, "closed_empty") == {"no_final_answer", "missing_boxed"}
    assert flags(out, "no_box") == {"missing_boxed"}
    reasons = {k: v[0]["drop_reason"] for k, v in out.items()}
    assert reasons == {"r1": None, "distill": None, "distill_cut": "thinking never closed",
                       "s1_cut": "truncated (finish_reason = length)", "plain": "no thinking",
                       "unmatched": "no thinking", "stray": "thinking never closed",
                       "open_only": "thinking never closed", "closed_empty": "no final answer after the thinking",
                       "no_box": "no \\boxed answer in the response"}


def test_flags_that_do_not_drop_are_still_recorded():
    rows = [row("plain", layouts.split(PLAIN, "none")),
            {"trace_id": "dangling", "thinking": "so far so good", "response": "", "finish_reason": None,
             "meta": None}]
    out = run(rows, drop=["truncated"])
    assert all(v[0]["drop_reason"] is None for v in out.values())
    assert out["plain"][0]["fmt_empty_thinking"] is True
    # thinking with nothing after it, and nothing says it closed: unclosed (and no final answer)
    assert flags(out, "dangling") == {"unclosed_thinking", "no_final_answer", "missing_boxed"}


def test_counts_agree_on_the_teachers_corpus(tmp_path):
    """Ingest's count of unclosed thinking, format's flag, validate and the `truncated` query agree."""
    import re

    from curate import ingest, recipe, run, sql, validate
    from curate.synth import teachers

    corpus = teachers.write(teachers.TeachersConfig(problems=30, seed=2), tmp_path / "raw")
    said = 0
    for path, t in zip(corpus.written, corpus.config.teachers):
        summary = ingest.ingest_to(path, tmp_path / "traces", name=t.name).summary()
        m = re.search(r"([\d,]+) row\(s\) whose thinking was never closed", summary)
        said += int(m.group(1).replace(",", "")) if m else 0
    cut = sum("truncated" in r["synth"]["planted"] for rs in corpus.rows.values() for r in rs
              if r["synth"]["layout"] != "none")
    assert said == cut > 0
    text = "name: f\nstages:\n  - format: {drop: [truncated]}\n"
    run.run(recipe.parse(text, "f.yaml"), tmp_path / "traces", tmp_path / "run")
    traces = pl.read_parquet(tmp_path / "run" / "traces.parquet")
    assert traces["fmt_unclosed_thinking"].sum() == said
    assert traces["fmt_empty_thinking"].sum() == sum(len(corpus.rows[t.name]) for t in corpus.config.teachers
                                                     if t.layout == "none")
    rows = sql.run_named(sql.connect(tmp_path / "run"), "truncated").to_pylist()
    assert sum(r["unclosed_thinking"] for r in rows) == said
    assert sum(r["empty_thinking"] for r in rows) == traces["fmt_empty_thinking"].sum()
    report = validate.validate_path(tmp_path / "traces")
    assert any(f"{said:,} row(s) with thinking never closed" in p for p in report.content)
