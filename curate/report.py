"""`distillery report RUN`: one self-contained HTML page about a curation run.

The page answers what a curator asks first: where rows went (funnel, drop reasons), how long the
thinking is before and after selection, how answers were judged, the domain mix, duplicates,
benchmark overlap, where the time went, and what kept and dropped traces actually look like.
Every number comes from the SQL views (`curate.sql`), so the report and `distillery sql` agree.
Charts are inline SVG (`curate.charts`) and the page has no scripts and no external resources: it
opens from a file, offline. A section whose columns the run lacks says so instead of failing.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import pyarrow as pa

from curate import charts, sql, store
from curate.errors import BadInput

SAMPLE_SELECTED = 5
SAMPLE_DROPPED = 12
REASONS_PER_STAGE = 3
TOP_REASONS = 15  # bars in the drop-reason chart; the rest are summed into one
CELL_CHARS = 300  # a table cell beyond this is cut (a map of per-problem reasons can be huge)
THINKING_CHARS = 8000  # a sample's thinking beyond this is cut: the page stays small
TABLE_ROWS = 20
STUDENT = "student"  # RUN/student: where the demo trains the student (loss, eval)
LOSS_POINTS = 60

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1000px; color: #222; padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; margin-top: 2.2rem; }
nav a { margin-right: 0.8rem; } .meta { color: #555; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.absent { color: #8a5a00; background: #fff8e5; padding: 0.5rem 0.8rem; border-left: 3px solid #e0a800; }
.trace { border: 1px solid #ddd; border-radius: 6px; padding: 0.6rem 0.9rem; margin: 0.8rem 0; }
.trace h4 { margin: 0 0 0.4rem 0; font-weight: normal; color: #555; } .why { color: #b00020; font-weight: bold; }
pre { white-space: pre-wrap; word-break: break-word; background: #fafafa; padding: 0.5rem; margin: 0.3rem 0; }
svg.chart { display: block; margin: 0.6rem 0; max-width: 100%; height: auto; }
"""


# ----------------------------------------------------------------------------------------- helpers

def _table(table: pa.Table, max_rows: int = TABLE_ROWS) -> str:
    if table.num_rows == 0:
        return "<p>No rows.</p>"
    numeric = [pa.types.is_integer(t) or pa.types.is_floating(t) for t in table.schema.types]
    head = "".join(f"<th>{escape(n)}</th>" for n in table.column_names)
    rows = []
    for row in table.slice(0, max_rows).to_pylist():
        cells = []
        for value, type_, num in zip(row.values(), table.schema.types, numeric):
            text = sql.cell_text(value, type_)
            text = text if len(text) <= CELL_CHARS else text[:CELL_CHARS - 1] + "…"
            if num and isinstance(value, (int, float)):
                text = f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"
            cells.append(f'<td class="num">{escape(text)}</td>' if num else f"<td>{escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = (f"<p class=meta>{table.num_rows - max_rows:,} more rows: "
            f"<code>distillery sql RUN</code> shows them all.</p>" if table.num_rows > max_rows else "")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>{more}"


def _absent(column: str) -> str:
    producer = sql.PRODUCERS.get(column, "a stage this run did not have")
    return (f'<p class="absent">Not in this run: the traces have no <code>{escape(column)}</code> '
            f"column, which {escape(producer)} adds.</p>")


def _compact(n: int) -> str:
    for unit, size in (("M", 1 << 20), ("k", 1 << 10)):
        if n >= size:
            return f"{n // size}{unit}"
    return str(n)


def _section(key: str, title: str, body: str) -> tuple[str, str, str]:
    return key, title, f'<section id="{key}"><h2>{escape(title)}</h2>\n{body}\n</section>'


# ---------------------------------------------------------------------------------------- sections

def _funnel(con) -> tuple[str, str, str]:
    funnel = sql.run_query(con, "SELECT stage, rows_in, rows_out, dropped, drops_by_reason FROM funnel")
    rows = funnel.to_pylist()
    chart = charts.hbars("funnel", "Rows in and out per stage", [r["stage"] for r in rows],
                         {"rows in": [r["rows_in"] for r in rows], "rows out": [r["rows_out"] for r in rows]})
    # Reasons can be per-row text (exact_dedup names the problem kept): chart the largest, sum the rest.
    reasons = sql.run_query(con, f"""
        WITH r AS (SELECT stage || ': ' || reason AS label, count(*) AS n FROM dropped GROUP BY ALL),
        ranked AS (SELECT *, row_number() OVER (ORDER BY n DESC, label) AS i FROM r)
        SELECT label, n FROM ranked WHERE i <= {TOP_REASONS}
        UNION ALL
        SELECT count(*) || ' other reasons', sum(n)::BIGINT FROM ranked WHERE i > {TOP_REASONS} HAVING count(*) > 0
        """).to_pylist()
    drops = (charts.hbars("drop-reasons", "Rows dropped per stage and reason",
                          [r["label"] for r in reasons], {"rows": [r["n"] for r in reasons]})
             if reasons else "<p>No row was dropped.</p>")
    return _section("funnel", "Funnel", chart + _table(funnel) + "<h3>Why rows were dropped</h3>" + drops)


def _lengths(con) -> tuple[str, str, str]:
    hist = sql.run_named(con, "length_hist").to_pylist()
    labels = [f"{_compact(r['chars_from'])}–{_compact(r['chars_to'])}" for r in hist]
    before = charts.columns("length-before", "Thinking length, all traces", labels,
                            {"all traces": [r["all_rows"] for r in hist]},
                            x_title="thinking length (characters)", y_title="rows")
    after = charts.columns("length-after", "Thinking length, selected traces", labels,
                           {"selected": [r["kept_rows"] for r in hist]},
                           x_title="thinking length (characters)", y_title="rows")
    stats = sql.run_query(con, """
        SELECT 'all traces' AS rows_of, count(*) AS rows, median(length(thinking))::BIGINT AS median_chars,
               quantile_disc(length(thinking), 0.9) AS p90_chars, max(length(thinking)) AS max_chars
        FROM traces
        UNION ALL
        SELECT 'selected', count(*), median(length(thinking))::BIGINT,
               quantile_disc(length(thinking), 0.9), max(length(thinking))
        FROM selected""")
    body = (_table(stats) + "<h3>Before selection</h3>" + before + "<h3>After selection</h3>" + after)
    return _section("lengths", "Thinking length", body)


def _truncated(con) -> tuple[str, str, str]:
    """Cut-off and broken traces by the format stage's own rules (the `truncated` named query), so
    the report, the query, `validate` and ingest's count of unclosed thinking say the same number."""
    table = sql.run_named(con, "truncated")
    rows = table.to_pylist()
    total = sum(r["rows"] for r in rows)
    counts = {k: sum(r[k] for r in rows) for k in ("truncated", "length_limit", "unclosed_thinking",
                                                    "empty_thinking", "no_final_answer", "broken_kept")}
    pct = 100.0 * counts["truncated"] / total if total else 0.0
    lead = (f"<p>{counts['truncated']:,} of {total:,} traces ({pct:.1f}%) are cut off: "
            f"{counts['length_limit']:,} hit the length limit, {counts['unclosed_thinking']:,} have thinking "
            f"that never closed; {counts['empty_thinking']:,} have no thinking and {counts['no_final_answer']:,} "
            f"no final answer. Kept after curation: {counts['broken_kept']:,} of these.</p>")
    return _section("truncated", "Cut-off and broken traces", lead + _table(table))


def _verdicts(con, have: set[str]) -> tuple[str, str, str]:
    if "verdict" not in have:
        return _section("verdicts", "Verdicts", _absent("verdict"))
    rows = sql.run_query(con, """
        SELECT coalesce(verdict, '(not verified)') AS verdict, count(*) AS all_rows,
               count(*) FILTER (WHERE dropped_by IS NULL) AS kept
        FROM traces GROUP BY 1 ORDER BY all_rows DESC, verdict""").to_pylist()
    chart = charts.hbars("verdicts", "Rows per verdict", [r["verdict"] for r in rows],
                         {"all rows": [r["all_rows"] for r in rows], "kept": [r["kept"] for r in rows]})
    return _section("verdicts", "Verdicts", chart + "<h3>Per source</h3>"
                    + _table(sql.run_named(con, "verdicts_by_source")))


def _domains(con, have: set[str]) -> tuple[str, str, str]:
    if "domain" not in have:
        return _section("domains", "Domain mix", _absent("domain"))
    if "domain_name" in have:
        # Names, not bare codes ("05" means nothing to a reader; "05 Combinatorics" does).
        mix = sql.run_query(con, """
            SELECT CASE WHEN domain IS NULL THEN '(not classified)'
                        WHEN domain_name IS NULL OR domain_name = domain THEN domain
                        ELSE domain || ' ' || domain_name END AS domain,
                   count(*) AS all_rows,
                   round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS pct_all,
                   count(*) FILTER (WHERE dropped_by IS NULL) AS kept_rows,
                   round(100.0 * count(*) FILTER (WHERE dropped_by IS NULL)
                         / nullif(sum(count(*) FILTER (WHERE dropped_by IS NULL)) OVER (), 0), 1) AS pct_kept
            FROM traces GROUP BY ALL ORDER BY all_rows DESC, domain""")
    else:
        mix = sql.run_named(con, "domain_mix")
    rows = mix.to_pylist()
    chart = charts.hbars("domains", "Share of rows per domain, before and after curation",
                         [r["domain"] for r in rows],
                         {"all traces": [r["pct_all"] for r in rows], "kept": [r["pct_kept"] for r in rows]},
                         unit="%")
    return _section("domains", "Domain mix", chart + _table(mix))


def _duplicates(con, have: set[str]) -> tuple[str, str, str]:
    if "dup_cluster" not in have:
        return _section("duplicates", "Duplicate clusters", _absent("dup_cluster"))
    sizes = sql.run_query(con, """
        WITH c AS (SELECT dup_cluster, count(*) AS size FROM traces
                   WHERE dup_cluster IS NOT NULL GROUP BY dup_cluster)
        SELECT size, count(*) AS clusters FROM c GROUP BY size ORDER BY size""").to_pylist()
    if not sizes:
        return _section("duplicates", "Duplicate clusters", "<p>No duplicate clusters were found.</p>")
    chart = charts.columns("dup-sizes", "Duplicate clusters by size", [str(r["size"]) for r in sizes],
                           {"clusters": [r["clusters"] for r in sizes]},
                           x_title="rows in the cluster", y_title="clusters")
    return _section("duplicates", "Duplicate clusters",
                    chart + "<h3>Largest clusters</h3>" + _table(sql.run_named(con, "dup_clusters"), 10))


def _contamination(con, have: set[str]) -> tuple[str, str, str]:
    if "contaminated_with" not in have:
        return _section("contamination", "Benchmark contamination", _absent("contaminated_with"))
    hits = sql.run_named(con, "contaminated")
    body = _table(hits, 50) if hits.num_rows else "<p>No trace overlaps a benchmark item.</p>"
    return _section("contamination", "Benchmark contamination", body)


def _seconds(con) -> tuple[str, str, str]:
    rows = sql.run_query(con, "SELECT stage, seconds, cached, cached_seconds FROM stages ORDER BY stage").to_pylist()
    # A cached stage shows what computing it cost (stored with its cache), not the read.
    chart = charts.hbars("seconds", "Seconds per stage (what computing each stage took)",
                         [r["stage"] + (" (cached)" if r["cached"] else "") for r in rows],
                         {"seconds": [r["seconds"] for r in rows]}, unit=" s")
    cached = [r for r in rows if r["cached"]]
    note = (f"<p class=meta>{len(cached)} stage(s) came from the cache this run: "
            + ", ".join(f"{escape(r['stage'])} (read in {r['cached_seconds'] or 0:.2f} s, computed in "
                        f"{r['seconds'] or 0:.2f} s)" for r in cached) + ".</p>") if cached else ""
    return _section("seconds", "Seconds per stage", chart + note)


def _trace_card(row: dict, why: str | None) -> str:
    thinking = row["thinking"] or ""
    shown = thinking[:THINKING_CHARS]
    cut = (f"\n… {len(thinking) - THINKING_CHARS:,} more characters" if len(thinking) > THINKING_CHARS else "")
    head = f"{escape(row['source'] or '')} · <code>{escape(row['trace_id'][:16])}</code>"
    for key, label in (("teacher", "teacher"), ("gold", "gold"), ("verdict", "verdict")):
        if key in row:
            value = row[key]
            head += f" · {label}: " + (f"<b>{escape(str(value))}</b>" if value not in (None, "")
                                       else "<i>none</i>")
    if why:
        head += f' · <span class="why">{escape(why)}</span>'
    return (f'<div class="trace"><h4>{head}</h4>'
            f"<p><b>Problem.</b> {escape(row['problem'] or '')}</p>"
            f"<details><summary>thinking ({len(thinking):,} characters)</summary>"
            f"<pre>{escape(shown + cut)}</pre></details>"
            f"<p><b>Response.</b></p><pre>{escape(row['response'] or '')}</pre></div>")


def _samples(con, have: set[str]) -> tuple[str, str, str]:
    # Who wrote it, what the answer should be and how it was judged: a card a curator can check.
    extra = "".join(f", {c}" for c in ("teacher", "gold", "verdict") if c in have)
    selected = sql.run_query(con, f"""
        SELECT trace_id, source, problem, thinking, response{extra} FROM selected
        ORDER BY hash(trace_id), trace_id LIMIT {SAMPLE_SELECTED}""").to_pylist()
    # An example of each stage's most frequent reasons, so one stage with many reasons cannot fill it.
    dropped = sql.run_query(con, f"""
        WITH per_reason AS (
            SELECT stage, reason, count(*) AS n, arg_min(trace_id, hash(trace_id)) AS example
            FROM dropped GROUP BY ALL
        ), ranked AS (
            SELECT *, row_number() OVER (PARTITION BY stage ORDER BY n DESC, reason) AS i FROM per_reason
        )
        SELECT r.stage, r.reason, d.trace_id, d.source, d.problem, d.thinking, d.response{extra.replace(", ", ", d.")}
        FROM ranked r JOIN dropped d ON d.trace_id = r.example
        WHERE r.i <= {REASONS_PER_STAGE}
        ORDER BY r.stage, r.i LIMIT {SAMPLE_DROPPED}""").to_pylist()
    body = "<h3>Selected</h3>" + ("".join(_trace_card(r, None) for r in selected) or "<p>None selected.</p>")
    body += "<h3>Dropped: an example of each stage's most frequent reasons</h3>" + (
        "".join(_trace_card(r, f"dropped by {r['stage']}: {r['reason']}") for r in dropped)
        or "<p>No row was dropped.</p>")
    return _section("samples", "Sample traces", body)


def _warnings(manifest: dict) -> str:
    """What stages found nothing to work on (no attempts, no gold, a missing column): on top, since a
    stage that did nothing must not pass for one that checked."""
    lines = [(st["stage"], w) for st in manifest.get("stages", []) for w in st.get("warnings", [])]
    if not lines:
        return ""
    items = "".join(f"<li><b>{escape(stage)}</b>: {escape(w)}</li>" for stage, w in lines)
    return f'<div class="absent"><b>Warnings</b><ul>{items}</ul></div>'


def _student(run: Path) -> tuple[str, str, str] | None:
    """Loss curve and evaluation of the student trained on this run (`distillery train sft
    --out RUN/student`, `distillery eval --out RUN/student/eval`), when there is one."""
    folder = run / STUDENT
    summary_path = folder / "train_summary.json"
    if not summary_path.is_file():
        return None
    summary = json.loads(summary_path.read_text())
    log = folder / "train_log.jsonl"
    points = [json.loads(line) for line in log.read_text().splitlines() if '"loss"' in line] if log.is_file() else []
    step = max(1, -(-len(points) // LOSS_POINTS))  # at most LOSS_POINTS columns
    shown = points[::step]
    body = charts.columns("loss", "Training loss per logged step", [str(p.get("step", i)) for i, p in enumerate(shown)],
                          {"loss": [p["loss"] for p in shown]}, x_title="step", y_title="loss") if shown else ""
    loss = summary.get("final_loss")
    facts = {"final loss": f"{loss:.4f}" if isinstance(loss, float) else loss, "steps": summary.get("steps"),
             "recipe": summary.get("recipe")}
    body += "<p class=meta>" + " · ".join(f"{k}: {escape(str(v))}" for k, v in facts.items() if v is not None) + "</p>"
    evaluation = folder / "eval" / "summary.json"
    if evaluation.is_file():
        ev = json.loads(evaluation.read_text())
        rows = [{"metric": "pass@1", "value": f"{ev.get('pass@1', 0):.3f}"}]
        if ev.get("pass@1_ci"):
            rows.append({"metric": "pass@1 95% CI", "value": f"[{ev['pass@1_ci']['lo']:.3f}, {ev['pass@1_ci']['hi']:.3f}]"})
        rows += [{"metric": f"pass@{k}", "value": f"{v:.3f}"} for k, v in ev.get("pass@k", {}).items() if k != "1"]
        rows += [{"metric": f"samples {k}", "value": f"{v:,}"} for k, v in sorted(ev.get("verdicts", {}).items())]
        body += (f"<h3>Evaluation on {escape(str(ev.get('bench')))}: {ev.get('problems')} problems × "
                 f"{ev.get('n')} samples</h3>" + _table(pa.Table.from_pylist(rows)))
    else:
        body += "<p class=absent>No evaluation yet: <code>distillery eval --out RUN/student/eval</code>.</p>"
    return _section("student", "Student", body)


def _teachers(con, have: set[str], prices: dict | None) -> tuple[str, str, str]:
    """The `teachers` named query, with each teacher's cost when prices are given."""
    from curate import teachers

    query = sql.named("teachers")
    missing = [c for c in query.needs if c not in have]
    if missing:
        return _section("teachers", "Teachers side by side", _absent(missing[0]))
    table = sql.run_named(con, "teachers")
    note = ("<p class=meta>Over the problems every teacher has a graded sample of. accuracy and pass@k over "
            "graded samples (k = its samples of a problem); rates and lengths over all of its samples of those "
            "problems; lengths in words and punctuation marks (tokenizer-free). "
            "<code>distillery sql RUN -q teachers</code>.</p>")
    if prices:
        table, unpriced = teachers.with_costs(table, prices)
        note += ("<p class=meta>cost_usd: input and output words priced as tokens (a lower bound) at the "
                 "--prices file's $ per million." + (f" No price for: {escape(', '.join(unpriced))}." if unpriced else "")
                 + "</p>")
    if table.num_rows == 1:
        note += "<p class=meta>One teacher in this run: nothing to compare it with.</p>"
    return _section("teachers", "Teachers side by side", _table(table) + note)


def _svg_file(path: Path, name: str, title: str) -> str:
    """A chart a command wrote beside its numbers, shown as an image: a file in a run folder may
    come from anyone, and an SVG inside <img> runs no script."""
    import base64

    if not path.is_file():
        return ""
    data = base64.b64encode(path.read_bytes()).decode()
    return (f'<img class="chart" data-chart="{escape(name)}" alt="{escape(title)}" '
            f'src="data:image/svg+xml;base64,{data}">')


def _ablation(run: Path) -> tuple[str, str, str] | None:
    """`distillery ablate --out RUN`: the table (mean ± sd over seeds), the plot, the paired gaps,
    read from the files the ablation wrote (`curate.ablation_files`): nothing of train is imported."""
    from curate import ablation_files as files

    path = files.folder(run) / files.SUMMARY
    if not path.is_file():
        return None
    summary = json.loads(path.read_text())
    fams = [f for f in summary["families"] if f != files.ALL] or summary["families"]
    pm = files.mean_sd
    ci = "interval" in summary
    rows = [{"arm": a["arm"], "macro pass@1": pm(a["macro"]),
             **({"95% CI": files.interval(a["macro"]["ci"])} if ci else {}), "micro pass@1": pm(a["micro"]),
             "boxed share": pm(a["boxed"]), **{f: pm(a["families"][f]) for f in fams},
             "rows trained": ", ".join(f"{int(v):,}" for v in a["rows_trained"])} for a in summary["arms"]]
    body = (f"<p class=meta>{escape(summary['metric'])}; k = {summary['k']:,}, {summary['max_steps']:,} steps per "
            f"student, seeds {', '.join(map(str, summary['seeds']))}; eval {escape(str(summary['eval']))}</p>")
    body += _table(pa.Table.from_pylist(rows)) + _svg_file(files.folder(run) / files.PLOT, "ablation",
                                                           "macro pass@1 per selection")
    if len(fams) > 1:
        body += charts.columns("ablation_families", "pass@1 per family (mean over seeds)", fams,
                               {a["arm"]: [a["families"][f]["mean"] or 0 for f in fams] for a in summary["arms"]},
                               y_title="pass@1")
    if summary["gaps"]:
        gaps = [{"baseline": g["baseline"], f"{summary['reference']} − baseline": pm(g, signed=True),
                 **({"95% CI": files.interval(g["ci"], signed=True),
                     "excludes 0": "yes" if g["excludes_zero"] else "no"} if ci else {}),
                 "ahead on seeds": f"{g['wins']}/{g['seeds']}",
                 "per seed": ", ".join(f"{v:+.3f}" for v in g["values"])} for g in summary["gaps"]]
        body += "<h3>Gap in macro pass@1, paired by seed</h3>" + _table(pa.Table.from_pylist(gaps))
        if ci:
            about = summary["interval"]
            body += (f"<p class=meta>95% CI: {escape(about['method'])}, {about['problems']:,} problems, "
                     f"{about['resamples']:,} resamples. A gap whose interval includes 0 is not a measured "
                     "difference.</p>")
    body += ("<p class=meta>SQL: <code>distillery sql RUN -q ablation</code>, <code>-q ablation_drops</code> "
             "(what each arm trained on, by why the recipe would have dropped it); views ablation_runs, "
             "ablation_results, ablation_problems, ablation_intervals, ablation_selections, ablation_samples.</p>")
    return _section("ablation", "Ablation: the recipe against baselines", body)


# ------------------------------------------------------------------------------------------ page

def build(run: Path, prices: dict | None = None) -> str:
    """The report of a run folder as one HTML string (`prices`: `curate.teachers.load_prices`)."""
    run = Path(run)
    if sql.kind_of(run) != "run":
        raise BadInput(f"{run}: a report needs a run folder (from distillery curate), not trace files")
    manifest = json.loads((run / "manifest.json").read_text())
    con = sql.connect(run)
    try:
        have = set(sql.columns(con))
        sections = [_funnel(con), _lengths(con), _truncated(con), _verdicts(con, have), _domains(con, have),
                    _duplicates(con, have), _contamination(con, have), _teachers(con, have, prices),
                    _seconds(con), _samples(con, have)]
        for extra in (_student(run), _ablation(run)):
            if extra is not None:
                sections.insert(-1, extra)
    finally:
        con.close()
    rows_in, selected = manifest.get("rows_in", 0), manifest.get("rows_selected", 0)
    share = f"{100 * selected / rows_in:.1f}%" if rows_in else "–"
    title = f"distillery run: {manifest.get('recipe', run.name)}"
    recipe = (run / "recipe.yaml").read_text() if (run / "recipe.yaml").is_file() else ""
    nav = " ".join(f'<a href="#{key}">{escape(name)}</a>' for key, name, _ in sections)
    return "\n".join([
        "<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',  # no favicon request: the page loads nothing
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{escape(str(run))} · seed {escape(str(manifest.get("seed")))} · '
        f"{rows_in:,} rows in, {selected:,} selected ({share}) · distillery "
        f"{escape(str(manifest.get('versions', {}).get('distillery', '?')))}</p>",
        f"<nav>{nav}</nav>",
        _warnings(manifest),
        *(html for _, _, html in sections),
        f"<h2>Recipe</h2><details><summary>recipe.yaml as resolved</summary><pre>{escape(recipe)}</pre></details>",
        "</body></html>", ""])


def write(run: Path, out: Path | None = None, prices: Path | None = None) -> Path:
    """Write the report (default RUN/report.html) atomically; returns its path. `prices`: a YAML
    file of teachers' $ per million tokens (`curate.teachers`), checked before anything is read."""
    from curate import teachers

    table = teachers.load_prices(prices) if prices is not None else None
    out = Path(out) if out is not None else Path(run) / "report.html"
    return store.write_text(build(run, table), out)
