"""The tiny student: a Qwen2 folder whose tokenizer survives transformers' reload as Qwen2Tokenizer."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("transformers")

from conftest import messages  # noqa: E402
from curate.cli import main  # noqa: E402


def test_tiny_folder_reloads_as_qwen2_with_same_encodings(tiny_model):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from train.tiny import build_tokenizer

    config = json.loads((tiny_model / "config.json").read_text())
    assert config["model_type"] == "qwen2"
    tok = AutoTokenizer.from_pretrained(tiny_model)
    assert type(tok).__name__ == "Qwen2Tokenizer"
    fresh = build_tokenizer()
    conv = messages("Find $x$ if 3x + 5 = 20.", "3x = 15, so x = 5. Wait, check: 15 + 5 = 20.", "\\boxed{5}")
    a = fresh.apply_chat_template(conv, tokenize=True, return_dict=True)["input_ids"]
    b = tok.apply_chat_template(conv, tokenize=True, return_dict=True)["input_ids"]
    assert a == b
    text = "Unicode ½ × π and digits 12345 \\frac{1}{2}"
    assert tok.decode(tok(text)["input_ids"]) == text
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    assert model.config.vocab_size == len(tok)
    assert model.generation_config.eos_token_id == tok.convert_tokens_to_ids("<|im_end|>")


def test_chat_template_keeps_thinking_and_marks_assistant_turn(tiny_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    assert "{% generation %}" in tok.chat_template
    conv = messages("What is 2 + 2?", "two and two make four", "\\boxed{4}")
    out = tok.apply_chat_template(conv, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    trained = [i for i, m in zip(out["input_ids"], out["assistant_masks"]) if m]
    text = tok.decode(trained)
    assert text.startswith("<think>\ntwo and two make four\n</think>")
    assert text.endswith("\\boxed{4}<|im_end|>")
    assert tok.convert_tokens_to_ids("<think>") != tok.unk_token_id


def test_tiny_model_command(tmp_path, capsys):
    assert main(["tiny-model", "--out", str(tmp_path / "m"), "--seed", "1"]) == 0
    assert (tmp_path / "m" / "model.safetensors").is_file()
    assert "tiny model" in capsys.readouterr().out
