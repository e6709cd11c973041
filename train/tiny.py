"""A tiny random-weight Qwen-shaped student and its local tokenizer (no network, CPU, seconds).

The tokenizer is a byte-level BPE trained here on the synthetic corpus with *Qwen's own*
pre-tokenization (the regex and ByteLevel step of `Qwen2Tokenizer`): transformers 5.x reloads the
tokenizer of any `model_type: qwen2` folder as `Qwen2Tokenizer`, which rebuilds the pre-tokenizer
from its own code, so a tokenizer trained with another pre-tokenizer would encode differently after
a save/load round trip. `build` checks the round trip before it returns.

Its chat template is ChatML with a thinking section kept verbatim and `{% generation %}` markers
around the whole assistant turn, end-of-turn token (`<|im_end|>`) included, so that turn's tokens,
thinking and stop token alike, are the only ones that carry labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from curate.errors import require
from curate.text import R1

IM_START, IM_END, ENDOFTEXT = "<|im_start|>", "<|im_end|>", "<|endoftext|>"
THINK_OPEN, THINK_CLOSE = R1.open, R1.close  # the tags, as single tokens

# ChatML, the assistant turn inside generation markers with its end-of-turn token. The content is
# printed whole: `<think>…</think>` is never stripped (TRL #2919, LlamaFactory #6987).
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'assistant' -%}"
    "{{ '<|im_start|>assistant\\n' }}{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}{{ '\\n' }}"
    "{%- else -%}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}"
)


@dataclass
class TinySpec:
    vocab_size: int = 1024
    hidden_size: int = 64
    layers: int = 2
    heads: int = 4
    kv_heads: int = 2
    intermediate_size: int = 128
    max_position_embeddings: int = 4096
    corpus_rows: int = 400
    corpus_seed: int = 0      # the tokenizer: same for every model seed (KD needs a shared one)
    seed: int = 0             # the random weights
    init_scale: float = 1.0   # >1: peakier output distributions (a 'teacher' for KD tests)
    corpus: str = "default"   # the synth profile the tokenizer is trained on


# The student of `distillery synth --profile procedural` (0.54M parameters): in a feasibility study a
# small model trained for many steps beat a larger one trained for the same time on 2 CPU cores.
PROFILES = {
    "default": {},
    "procedural": {"vocab_size": 512, "hidden_size": 128, "intermediate_size": 512, "layers": 2, "heads": 4,
                   "kv_heads": 2, "max_position_embeddings": 512, "corpus": "procedural"},
}


def spec_for(profile: str = "default", **overrides) -> TinySpec:
    if profile not in PROFILES:
        from curate.errors import BadInput

        raise BadInput(f"--profile {profile}: expected {' or '.join(PROFILES)}")
    return TinySpec(**{**PROFILES[profile], **overrides})


def _corpus(spec: TinySpec) -> list[str]:
    if spec.corpus == "procedural":
        from curate.synth import procedural

        traces = procedural.generate(procedural.ProceduralConfig(n=spec.corpus_rows, seed=spec.corpus_seed,
                                                                 heldout=0)).traces
    else:
        from curate.synth import SynthConfig, generate

        traces = generate(SynthConfig(n=spec.corpus_rows, seed=spec.corpus_seed, attempts=False)).traces
    texts = []
    for p, t, r in zip(*(traces[c].to_pylist() for c in ("problem", "thinking", "response"))):
        texts.append(f"{p}\n{THINK_OPEN}\n{t}\n{THINK_CLOSE}\n\n{r}")
    texts.append("Wait, let me check. Final answer: 0123456789 \\boxed{} \\frac{}{} \\sqrt{}")
    return texts


def build_tokenizer(spec: TinySpec | None = None):
    """A Qwen2Tokenizer over a byte-level BPE trained on the synthetic corpus."""
    spec = spec or TinySpec()
    tokenizers = require("tokenizers", "train", "the tiny tokenizer")
    transformers = require("transformers", "train", "the tiny tokenizer")
    from tokenizers import Regex, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    tok = tokenizers.Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=spec.vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=[ENDOFTEXT], show_progress=False)
    tok.train_from_iterator(_corpus(spec), trainer=trainer)
    model = tok.model
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        vocab_file, merges_file = model.save(tmp)
        vocab = json.loads(Path(vocab_file).read_text())
        merges = [tuple(line.split(" ")) for line in Path(merges_file).read_text().splitlines()[1:] if line.strip()]
    qwen = transformers.Qwen2Tokenizer(vocab=vocab, merges=merges, unk_token=ENDOFTEXT, eos_token=IM_END,
                                       pad_token=ENDOFTEXT)
    qwen.add_special_tokens({"additional_special_tokens": [IM_START, IM_END]})
    # <think> / </think> are single ordinary tokens, as in Qwen3 and R1-Distill tokenizers.
    from tokenizers import AddedToken

    qwen.add_tokens([AddedToken(THINK_OPEN, special=False, normalized=False),
                     AddedToken(THINK_CLOSE, special=False, normalized=False)])
    qwen.chat_template = CHAT_TEMPLATE
    return qwen


def build(out: Path | str, spec: TinySpec | None = None) -> Path:
    """Write a tiny random-weight Qwen2 model and its tokenizer to `out`; returns `out`."""
    spec = spec or TinySpec()
    torch = require("torch", "train", "the tiny model")
    transformers = require("transformers", "train", "the tiny model")
    out = Path(out)
    tokenizer = build_tokenizer(spec)
    torch.manual_seed(spec.seed)
    config = transformers.Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=spec.hidden_size, num_hidden_layers=spec.layers,
        num_attention_heads=spec.heads, num_key_value_heads=spec.kv_heads,
        intermediate_size=spec.intermediate_size, max_position_embeddings=spec.max_position_embeddings,
        tie_word_embeddings=True, bos_token_id=None, eos_token_id=tokenizer.convert_tokens_to_ids(IM_END),
        pad_token_id=tokenizer.pad_token_id, use_sliding_window=False,
    )
    model = transformers.Qwen2ForCausalLM(config)
    if spec.init_scale != 1.0:
        with torch.no_grad():
            model.get_input_embeddings().weight.mul_(spec.init_scale)
    model.generation_config.eos_token_id = config.eos_token_id
    model.generation_config.pad_token_id = config.pad_token_id
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    check_round_trip(tokenizer, out)
    return out


def check_round_trip(tokenizer, folder: Path) -> None:
    """Encodings must be identical after AutoTokenizer reloads the folder."""
    from transformers import AutoTokenizer

    again = AutoTokenizer.from_pretrained(folder)
    probe = [{"role": "user", "content": "What is $3x^2 + 35x$ when x = 12?"},
             {"role": "assistant", "content": "<think>\nOkay, 3·144 + 420 = 852. Wait.\n</think>\n\n\\boxed{852}"}]
    a = tokenizer.apply_chat_template(probe, tokenize=True, return_dict=True)["input_ids"]
    b = again.apply_chat_template(probe, tokenize=True, return_dict=True)["input_ids"]
    if a != b:
        raise RuntimeError(f"tiny tokenizer changed after a save/load round trip ({type(again).__name__})")
