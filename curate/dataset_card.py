"""The dataset card `distillery export` writes beside the data: README.md, with its lineage.

Everything comes from the run folder: `manifest.json` (inputs' fingerprints, versions, the funnel
with every stage's drop reasons and stats, decontamination per benchmark), `recipe.yaml` (the
recipe as resolved), `traces.parquet` (sources, teachers, rows in and kept) and the exported rows
(token statistics: the budget stage's counts with the student's tokenizer where the run has them,
else words). Licences come from `curate.ingest.licences`; an unknown one is said, not guessed.

The card starts with Hugging Face's YAML front matter (licence, size category, tags) and a marker
line, so a later export may replace a card distillery wrote, and never a README.md it did not.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import polars as pl

from curate import store
from curate.ingest import licences

MARKER = "<!-- written by distillery export: replaced by the next export -->"
CARD = "README.md"


def is_ours(path: Path) -> bool:
    try:
        return MARKER in path.read_text(encoding="utf-8", errors="replace")[:2000]
    except OSError:
        return False


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "n>1M"


def _table(head: list[str], rows: list[list]) -> list[str]:
    cell = lambda v: str(v).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    return ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|",
            *("| " + " | ".join(cell(v) for v in r) + " |" for r in rows)]


def _quantiles(values: pl.Series) -> list:
    values = values.drop_nulls().cast(pl.Float64)
    if values.len() == 0:
        return ["–"] * 5
    return [f"{values.mean():,.1f}", f"{values.quantile(0.5, 'nearest'):,.0f}",
            f"{values.quantile(0.95, 'nearest'):,.0f}", f"{values.max():,.0f}", f"{values.sum():,.0f}"]


def _words(col: str) -> pl.Expr:
    return pl.col(col).fill_null("").str.count_matches(r"\w+|[^\w\s]")


def _budget_tokenizer(recipe_text: str) -> str | None:
    import yaml

    try:
        stages = (yaml.safe_load(recipe_text) or {}).get("stages") or []
    except yaml.YAMLError:
        return None
    for stage in stages:
        if isinstance(stage, dict) and isinstance(stage.get("budget"), dict):
            return stage["budget"].get("tokenizer")
    return None


def _recipe_arg(source: str) -> str:
    """A built-in recipe by its name (`demo`), any other by its path."""
    path = Path(source)
    builtin = Path(__file__).parent / "recipes"
    return path.stem if path.parent.resolve() == builtin.resolve() else source


def build(run: Path, rows: pl.DataFrame, fmt: str, out: Path, command: str | None = None) -> str:
    """The card's Markdown for `rows` (the exported selection of `run`) written as `fmt` to `out`."""
    run = Path(run)
    manifest = json.loads((run / "manifest.json").read_text())
    recipe_text = (run / "recipe.yaml").read_text() if (run / "recipe.yaml").is_file() else ""
    traces = pl.read_parquet(run / "traces.parquet", columns=["source", "teacher", "dropped_by"])
    name = manifest.get("recipe", "distillery")
    origins = {s: licences.lookup(s) for s in traces["source"].unique().drop_nulls().to_list()}
    known = sorted({o.licence for o in origins.values() if o is not None and o.licence})
    lic = known[0].lower() if len(known) == 1 and all(o and o.licence for o in origins.values()) else "other"
    lines = ["---", f"license: {lic}", "task_categories:", "- text-generation", "tags:", "- reasoning",
             "- distillation", "- distillery", "size_categories:", f"- {_size_category(rows.height)}", "---", MARKER, "",
             f"# {name}: {rows.height:,} reasoning traces", "",
             f"Curated with distillery {manifest.get('versions', {}).get('distillery', '?')} "
             f"by the recipe `{name}` (seed {manifest.get('seed')}): {manifest.get('rows_in', 0):,} input rows, "
             f"{manifest.get('rows_selected', 0):,} selected. Format: `{fmt}`; each row has `messages` (the chat a "
             "student trains on) and the trace columns of the run.", ""]

    # -- reproduce
    inputs = list(manifest.get("inputs", {}))
    parents = sorted({str(Path(p).parent) for p in inputs})
    source = parents[0] if len(parents) == 1 else " ".join(parents)
    lines += ["## Reproduce", "", "```sh",
              f"distillery curate {shlex.quote(_recipe_arg(str(manifest.get('recipe_source', name))))} --input {shlex.quote(source)} "
              f"--out {shlex.quote(str(run))}",
              command or f"distillery export {shlex.quote(str(run))} --format {fmt} --out {shlex.quote(str(out))}", "```",
              "", "The inputs must have the fingerprints below (same bytes in, same bytes out).", ""]

    # -- inputs, sources, licences
    lines += ["## Inputs", ""]
    rows_in = []
    for path, info in manifest.get("inputs", {}).items():
        p = Path(path)
        found = "–"
        if p.is_file():
            names = sorted(pl.read_parquet(p, columns=["source"])["source"].drop_nulls().unique().to_list())
            found = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
        rows_in.append([f"`{path}`", f"{info.get('bytes', 0):,}", f"`{info.get('xxh3_64')}`", found or "–"])
    lines += _table(["file", "bytes", "xxh3_64", "sources"], rows_in) + [""]
    per_source = (traces.group_by("source").agg(pl.len().alias("rows"), pl.col("dropped_by").is_null().sum().alias("kept"))
                  .sort("rows", descending=True))
    src_rows = []
    for src, n, kept in per_source.iter_rows():
        o = origins.get(src)
        src_rows.append([src, f"{n:,}", f"{kept:,}", o.dataset if o else "–", (o.preset or "–") if o else "–",
                         (o.licence if o and o.licence else "unknown: check the source's own card")])
    lines += ["### Sources and licences", ""]
    lines += _table(["source", "rows in", "selected", "dataset", "ingest preset", "licence"], src_rows) + [""]

    # -- teachers
    per_teacher = (traces.group_by("teacher").agg(pl.len().alias("rows"), pl.col("dropped_by").is_null().sum().alias("kept"))
                   .sort("rows", descending=True))
    lines += ["## Teachers", ""]
    lines += _table(["teacher", "rows in", "selected"], [[t, f"{n:,}", f"{k:,}"] for t, n, k in per_teacher.iter_rows()])
    lines += ["", "`distillery sql RUN -q teachers` and the run's report compare them on the same problems.", ""]

    # -- funnel
    lines += ["## Funnel: every stage and every drop reason", ""]
    funnel = []
    for st in manifest.get("stages", []):
        reasons = st.get("drops_by_reason") or {}
        text = "; ".join(f"{r}: {n:,}" for r, n in reasons.items()) or "–"
        funnel.append([st["stage"], f"{st['rows_in']:,}", f"{st['rows_out']:,}", f"{st.get('dropped', 0):,}", text])
    lines += _table(["stage", "rows in", "rows out", "dropped", "drop reasons (rows)"], funnel) + [""]
    audit = [st for st in manifest.get("stages", []) if "gold_audit" in st["stage"]]
    for st in audit:
        s = st.get("stats", {})
        lines += [f"Gold audit ({st['stage']}): {s.get('suspect_problems', 0):,} problems with a suspect gold answer "
                  f"({s.get('suspect_rows', 0):,} rows; action `{s.get('action')}`: "
                  + {"replace": "the gold replaced by the samples' majority, the old one kept in `meta.gold_audit`",
                     "drop": "their rows dropped", "keep": "flagged only (`gold_suspect`)"}.get(s.get("action"), "?")
                  + ").", ""]

    # -- decontamination
    lines += ["## Decontamination", ""]
    decontam = [st for st in manifest.get("stages", []) if "decontam" in st["stage"]]
    if not decontam:
        lines += ["No decontamination stage in this recipe: the set was **not** checked against benchmarks.", ""]
    for st in decontam:
        s = st.get("stats", {})
        how = f"shared word {s.get('ngram')}-grams" + (f", MinHash Jaccard ≥ {s['fuzzy']}" if s.get("fuzzy") else "")
        lines += [f"Stage {st['stage']} ({how}):", ""]
        bench_rows = [[b, f"{n:,}", f"{s.get('contaminated_rows', {}).get(b, 0):,}",
                       f"{s.get('benchmark_problems_matched', {}).get(b, 0):,}"]
                      for b, n in (s.get("benchmarks") or {}).items()]
        bench_rows += [[b, "skipped (no local copy)", "–", "–"] for b in s.get("skipped_benchmarks") or []]
        lines += _table(["benchmark", "problems", "rows dropped", "benchmark problems matched"], bench_rows) + [""]

    # -- tokens
    lines += ["## Token statistics (the exported rows)", ""]
    if {"thinking_tokens", "response_tokens", "total_tokens"} <= set(rows.columns):
        tok = "the budget stage's student tokenizer"
        name_of = _budget_tokenizer(recipe_text)
        if name_of:
            tok += f" ({name_of})"
        measures = [("thinking", rows["thinking_tokens"]), ("response", rows["response_tokens"]),
                    ("total (prompt + template + thinking + response)", rows["total_tokens"])]
        unit = f"tokens, counted with {tok}"
    else:
        counted = rows.select(_words("thinking").alias("t"), _words("response").alias("r"))
        measures = [("thinking", counted["t"]), ("response", counted["r"])]
        unit = "words and punctuation marks (the run has no budget stage to count tokens)"
    lines += [f"In {unit}.", ""]
    lines += _table(["text", "mean", "p50", "p95", "max", "sum"], [[m, *_quantiles(v)] for m, v in measures]) + [""]

    # -- recipe and versions
    lines += ["## Recipe (as resolved)", "", "```yaml", recipe_text.rstrip(), "```", "",
              "## Versions", "", ", ".join(f"{k} {v}" for k, v in manifest.get("versions", {}).items()), ""]
    return "\n".join(lines)


def write(card: str, path: Path) -> Path:
    return store.write_text(card, path)
