"""Training data: `messages` from a RUN folder or a Parquet file, tokenized once, lengths accounted.

Tokenization happens here, not inside TRL, so the lengths we count are exactly the sequences that
train: every row's `input_ids` and `assistant_masks` (1 on the assistant turn: thinking, response
and end-of-turn token). Rows longer than `max_length` are counted and reported, then dropped or
refused (`on_overlength`), never truncated.

The chat template is checked before any row is tokenized (`prepare_tokenizer`): rendering a probe
conversation must keep its thinking section, and the assistant mask must cover the thinking and
the end-of-turn token, which becomes the tokenizer's EOS (the token generation stops on).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa

from curate.errors import BadInput
from curate.messages import THINK_CLOSE, THINK_OPEN

PROBE_THINKING = "First 17 * 3 = 51, then 51 + 4 = 55."
PROBE = [{"role": "user", "content": "What is 17 * 3 + 4?"},
         {"role": "assistant", "content": f"{THINK_OPEN}{PROBE_THINKING}{THINK_CLOSE}The answer is $\\boxed{{55}}$."}]


@dataclass
class DataStats:
    source: str
    rows_in: int
    rows_kept: int
    max_length: int
    max_length_from: str               # "config" or "data"
    overlength_rows: int
    overlength_action: str
    longest: int
    tokens: int
    assistant_tokens: int
    overlength_examples: list[int] = field(default_factory=list)   # row indices, the first few

    def summary(self) -> str:
        text = (f"{self.rows_kept:,}/{self.rows_in:,} rows, {self.tokens:,} tokens "
                f"({self.assistant_tokens:,} with loss), longest {self.longest:,}, "
                f"max_length {self.max_length:,} (from {self.max_length_from})")
        if self.overlength_rows:
            text += f"; {self.overlength_rows:,} rows longer than max_length {self.overlength_action}"
        return text

    def as_dict(self) -> dict:
        return asdict(self)


# ------------------------------------------------------------------------------------- loading

def data_file(path: Path | str) -> Path:
    path = Path(path)
    if path.is_dir():
        selected = path / "selected.parquet"
        if not selected.is_file():
            raise BadInput(f"{path}: not a run folder (no selected.parquet); pass a RUN folder or a Parquet file")
        return selected
    if not path.is_file():
        raise BadInput(f"{path}: no such file or folder")
    if path.suffix.lower() not in (".parquet", ".pq"):
        raise BadInput(f"{path}: expected a RUN folder or a .parquet file")
    return path


def load_table(path: Path | str, columns: list[str] | None = None) -> tuple[pa.Table, Path]:
    import pyarrow.parquet as pq

    file = data_file(path)
    try:
        names = pq.read_schema(file).names
    except Exception as exc:
        raise BadInput(f"{file}: not a readable Parquet file ({str(exc).splitlines()[0]})") from exc
    want = columns or ["messages"]
    for col in want:
        if col not in names:
            raise BadInput(f"{file}: no {col!r} column (columns: {', '.join(names)})")
    table = pq.read_table(file, columns=want)
    if table.num_rows == 0:
        raise BadInput(f"{file}: no rows")
    return table, file


def run_manifest(path: Path | str) -> dict | None:
    """The run's manifest.json next to the data (None for a bare Parquet file)."""
    import json

    file = data_file(path)
    manifest = file.parent / "manifest.json"
    if manifest.is_file():
        try:
            return json.loads(manifest.read_text())
        except ValueError:
            return None
    return None


# ----------------------------------------------------------------------------- chat templates

def prepare_tokenizer(tokenizer, eos_token: str | None = None, name: str = "the model"):
    """Make sure the template trains what we mean; set the end-of-turn token as EOS. Returns it."""
    template = tokenizer.chat_template
    if not template:
        raise BadInput(f"{name}: the tokenizer has no chat template; use an instruct model's tokenizer")
    if "{% generation %}" not in template and "{%- generation %}" not in template:
        vocab = tokenizer.get_vocab()
        if "<|im_start|>" in vocab and "<|im_end|>" in vocab:
            from train.tiny import CHAT_TEMPLATE

            tokenizer.chat_template = CHAT_TEMPLATE   # ChatML with generation markers, thinking kept
        else:
            try:
                from trl.chat_template_utils import get_training_chat_template

                tokenizer.chat_template = get_training_chat_template(tokenizer)
            except Exception as exc:
                raise BadInput(f"{name}: the chat template has no {{% generation %}} markers and no training "
                               f"template is known for it; add the markers around the assistant turn") from exc
    out = tokenizer.apply_chat_template(PROBE, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    ids, mask = out["input_ids"], out["assistant_masks"]
    trained = [i for i, m in zip(ids, mask) if m]
    if not trained:
        raise BadInput(f"{name}: the chat template marks no assistant tokens for the loss")
    if PROBE_THINKING not in tokenizer.decode(trained):
        raise BadInput(f"{name}: the chat template drops or hides the thinking section of the assistant turn")
    end = tokenizer.convert_ids_to_tokens(trained[-1])
    if eos_token is not None:
        if eos_token not in tokenizer.get_vocab():
            raise BadInput(f"eos_token {eos_token!r} is not in the vocabulary of {name}")
        if eos_token != end:
            raise BadInput(f"eos_token {eos_token!r} is not the last token of the assistant turn ({end!r}): "
                           f"the student would never be trained to stop")
    tokenizer.eos_token = end
    return end


# -------------------------------------------------------------------------------- tokenizing

def _messages(value) -> list[dict]:
    return [{"role": m["role"], "content": m["content"]} for m in value]


def tokenize(tokenizer, table: pa.Table, max_length: int | None, on_overlength: str, source: str,
             extra_columns: list[str] | None = None) -> tuple[dict[str, list], DataStats]:
    """input_ids and assistant_masks per row (plus extra columns carried along), over-length
    rows dropped or refused."""
    rows = table.column("messages").to_pylist()
    ids_all, masks_all = [], []
    for i, messages in enumerate(rows):
        if not messages or not isinstance(messages, list):
            raise BadInput(f"{source}: row {i}: 'messages' is empty or not a list of turns")
        try:
            out = tokenizer.apply_chat_template(_messages(messages), tokenize=True, return_dict=True,
                                                return_assistant_tokens_mask=True)
        except (KeyError, TypeError) as exc:
            raise BadInput(f"{source}: row {i}: 'messages' turns need role and content ({exc})") from exc
        if 1 not in out["assistant_masks"]:
            raise BadInput(f"{source}: row {i}: no assistant turn to train on")
        ids_all.append(list(out["input_ids"]))
        masks_all.append(list(out["assistant_masks"]))
    lengths = [len(x) for x in ids_all]
    longest = max(lengths)
    limit, origin = (max_length, "config") if max_length else (longest, "data")
    over = [i for i, n in enumerate(lengths) if n > limit]
    if over and on_overlength == "error":
        raise BadInput(f"{source}: {len(over):,} of {len(rows):,} rows are longer than max_length {limit:,} "
                       f"(longest {longest:,} tokens, first row {over[0]}); raise max_length, or drop them with --overlength drop (on_overlength: drop in a config)")
    keep = [i for i in range(len(rows)) if lengths[i] <= limit]
    if not keep:
        raise BadInput(f"{source}: every row is longer than max_length {limit:,}")
    columns = {"input_ids": [ids_all[i] for i in keep], "assistant_masks": [masks_all[i] for i in keep]}
    for name in extra_columns or []:
        values = table.column(name).to_pylist()
        columns[name] = [values[i] for i in keep]
    stats = DataStats(source=source, rows_in=len(rows), rows_kept=len(keep), max_length=limit,
                      max_length_from=origin, overlength_rows=len(over),
                      overlength_action="dropped" if over else "none", longest=longest,
                      tokens=sum(lengths[i] for i in keep),
                      assistant_tokens=sum(sum(masks_all[i]) for i in keep), overlength_examples=over[:10])
    return columns, stats
