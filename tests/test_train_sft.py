"""distillery train sft: masking, EOS, packing, over-length rows, configs, the command end to end."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("trl")

from conftest import messages, short_rows, synth_messages, write_messages  # noqa: E402
from curate.cli import main  # noqa: E402
from curate.errors import BadInput  # noqa: E402


def _tok(folder):
    from transformers import AutoTokenizer

    from train.data import prepare_tokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    prepare_tokenizer(tok)
    return tok


# ------------------------------------------------------------------------------------ masking

def test_only_assistant_tokens_carry_labels_thinking_and_eos_included(tiny_model):
    import pyarrow as pa

    from train.data import tokenize

    tok = _tok(tiny_model)
    conv = [{"role": "system", "content": "Be brief."}, *messages("What is 6 * 7?", "six sevens: 42", "\\boxed{42}")]
    cols, stats = tokenize(tok, pa.table({"messages": [conv]}), None, "drop", "t")
    ids, mask = cols["input_ids"][0], cols["assistant_masks"][0]
    trained = tok.decode([i for i, m in zip(ids, mask) if m])
    untrained = tok.decode([i for i, m in zip(ids, mask) if not m])
    assert trained == "<think>\nsix sevens: 42\n</think>\n\n\\boxed{42}<|im_end|>"
    assert "What is 6 * 7?" in untrained and "Be brief." in untrained and "six sevens" not in untrained
    assert tok.eos_token == "<|im_end|>" and ids[[k for k, m in enumerate(mask) if m][-1]] == tok.eos_token_id
    assert stats.assistant_tokens == sum(mask)


def test_template_that_drops_thinking_is_refused(tiny_copy):
    from transformers import AutoTokenizer

    from train.data import prepare_tokenizer

    tok = AutoTokenizer.from_pretrained(tiny_copy)
    # a Qwen3-like template that keeps only what follows </think>
    tok.chat_template = tok.chat_template.replace(
        "message['content'] + '<|im_end|>'", "message['content'].split('</think>')[-1] + '<|im_end|>'")
    with pytest.raises(BadInput, match="thinking"):
        prepare_tokenizer(tok, name="m")


def test_template_without_generation_markers_gets_a_training_template(tiny_copy):
    from transformers import AutoTokenizer

    from train.data import prepare_tokenizer

    tok = AutoTokenizer.from_pretrained(tiny_copy)
    tok.chat_template = tok.chat_template.replace("{% generation %}", "").replace("{% endgeneration %}", "")
    assert prepare_tokenizer(tok) == "<|im_end|>"
    assert "{% generation %}" in tok.chat_template
    with pytest.raises(BadInput, match="never be trained to stop"):
        prepare_tokenizer(tok, eos_token="<|endoftext|>")


# --------------------------------------------------------------------------------- over-length

def test_overlength_rows_counted_dropped_or_refused(tiny_model):
    import pyarrow as pa

    from train.data import tokenize

    tok = _tok(tiny_model)
    rows = [messages("q", "short", "\\boxed{1}"), messages("q", "long " * 200, "\\boxed{2}"),
            messages("q", "short too", "\\boxed{3}")]
    table = pa.table({"messages": rows})
    cols, stats = tokenize(tok, table, None, "drop", "t")   # from the data: nothing exceeds
    assert stats.max_length_from == "data" and stats.max_length == stats.longest and stats.rows_kept == 3
    cols, stats = tokenize(tok, table, 64, "drop", "t")
    assert (stats.rows_kept, stats.overlength_rows, stats.overlength_examples) == (2, 1, [1])
    assert all(len(x) <= 64 for x in cols["input_ids"]) and "dropped" in stats.summary()
    with pytest.raises(BadInput, match=r"1 of 3 rows are longer than max_length 64 .*--overlength drop"):
        tokenize(tok, table, 64, "error", "t")


# ------------------------------------------------------------------------------------ configs

def test_config_merging_and_errors():
    from train.config import load_config

    s1 = load_config("s1")
    assert (s1.learning_rate, s1.num_train_epochs, s1.weight_decay, s1.warmup_ratio) == (1e-5, 5, 1e-4, 0.05)
    assert (s1.adam_beta2, s1.global_batch_size, s1.max_length, s1.packing_strategy) == (0.95, 16, 32768, "bfd")
    r1 = load_config("r1-distill")
    assert r1.lr_scheduler_kwargs == {"min_lr_rate": 0.1} and r1.max_grad_norm == 0.2
    assert [r1.grad_accum(p) for p in (1, 8, 64)] == [64, 8, 1]      # global batch 128 kept
    cfg = load_config("lora", ["lora.r=4", "learning_rate=3e-4", "packing=false", "lr_scheduler_kwargs.min_lr_rate=0.2"])
    assert (cfg.lora.r, cfg.lora.alpha, cfg.learning_rate, cfg.packing) == (4, 32, 3e-4, False)
    assert cfg.lr_scheduler_kwargs == {"min_lr_rate": 0.2}
    assert load_config("tiny").max_length is None
    with pytest.raises(BadInput, match="unknown config key 'lerning_rate'"):
        load_config("s1", ["lerning_rate=1"])
    with pytest.raises(BadInput, match="unknown config key 'rank'"):
        load_config("lora", ["lora.rank=1"])
    with pytest.raises(BadInput, match="learning_rate"):
        load_config("s1", ["learning_rate=fast"])
    with pytest.raises(BadInput, match="not a multiple"):
        load_config("s1").grad_accum(3)


def test_unknown_key_in_a_config_file(tmp_path):
    from train.config import load_config

    (tmp_path / "c.yaml").write_text("learning_rate: 1.0e-5\nepochs: 3\n")
    with pytest.raises(BadInput, match="unknown config key 'epochs'"):
        load_config(tmp_path / "c.yaml")


# ------------------------------------------------------------------------------------- packing

def test_packed_logits_equal_separate_ones(tiny_model):
    """bfd packing is padding-free: TRL's collator restarts position_ids per example, and the model
    must then attend within each example only."""
    import torch
    from transformers import AutoModelForCausalLM
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    tok = _tok(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model, attn_implementation="sdpa").eval()
    convs = [messages("Add 2 and 3.", "2 + 3 = 5", "\\boxed{5}"), messages("Half of 8?", "8 / 2 = 4, so four.", "\\boxed{4}")]
    seqs = [tok.apply_chat_template(c, tokenize=True, return_dict=True)["input_ids"] for c in convs]
    batch = DataCollatorForLanguageModeling(pad_token_id=tok.pad_token_id, padding_free=True)(
        [{"input_ids": s} for s in seqs])
    assert batch["input_ids"].shape == (1, sum(map(len, seqs))) and "attention_mask" not in batch
    with torch.no_grad():
        # use_cache=False as in training (TRL sets it): transformers reads packed position_ids as
        # separate sequences only without a cache
        packed = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"], use_cache=False).logits[0]
        separate = torch.cat([model(input_ids=torch.tensor([s])).logits[0] for s in seqs])
    torch.testing.assert_close(packed, separate, atol=1e-4, rtol=1e-4)


# ----------------------------------------------------------------------------- the command

def _run(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.slow
def test_train_sft_end_to_end_student_learns_to_stop(tiny_model, tmp_path, capsys):
    """The whole command on short conversations; the trained student ends its turn with <|im_end|>."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    data = write_messages(tmp_path / "d.parquet", short_rows(32))
    out = tmp_path / "student"
    code, stdout, err = _run(["train", "sft", "--data", str(data), "--model", str(tiny_model), "--out", str(out),
                              "--config", "tiny", "--set", "num_train_epochs=15", "--set", "learning_rate=1e-2",
                              "--set", "per_device_batch_size=16", "--set", "global_batch_size=16"], capsys)
    assert code == 0, err
    assert "32/32 rows" in stdout and "final loss" in stdout
    for name in ("model.safetensors", "tokenizer.json", "chat_template.jinja", "README.md", "loss.png",
                 "train_log.jsonl", "train_summary.json"):
        assert (out / name).is_file(), name
    assert (out / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["recipe"] == "tiny" and summary["final_loss"] < 2.0 and summary["data_stats"]["overlength_rows"] == 0
    logged = [json.loads(x)["loss"] for x in (out / "train_log.jsonl").read_text().splitlines() if '"loss"' in x]
    assert logged[-1] < logged[0] / 3
    assert "final training loss" in (out / "README.md").read_text()
    tok = AutoTokenizer.from_pretrained(out)
    model = AutoModelForCausalLM.from_pretrained(out).eval()
    assert tok.eos_token == "<|im_end|>"
    prompt = tok.apply_chat_template([{"role": "user", "content": "Add one to 3."}], tokenize=False,
                                     add_generation_prompt=True)
    enc = tok(prompt, return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        gen = model.generate(**enc, max_new_tokens=60, do_sample=False)[0, enc["input_ids"].shape[1]:].tolist()
    end = tok.convert_tokens_to_ids("<|im_end|>")
    assert end in gen, tok.decode(gen)                       # it stops, well before the limit
    assert gen.index(end) < 40
    assert tok.decode(gen[:gen.index(end)]).startswith("<think>")


def test_bad_input_one_line_exit_2(tiny_model, tmp_path, capsys):
    good = write_messages(tmp_path / "d.parquet", short_rows(2))
    no_messages = tmp_path / "nm.parquet"
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"problem": ["x"], "answer": ["1"]}), no_messages)
    base = ["train", "sft", "--out", str(tmp_path / "o")]
    cases = [
        ([*base, "--data", str(no_messages), "--model", str(tiny_model)], "no 'messages' column"),
        ([*base, "--data", str(good), "--model", str(tmp_path / "missing")], "model path does not exist"),
        ([*base, "--data", str(good), "--model", str(tiny_model), "--set", "lr=1"], "unknown config key 'lr'"),
        ([*base, "--data", str(tmp_path / "nope"), "--model", str(tiny_model)], "no such file"),
        ([*base, "--data", str(good), "--model", str(tiny_model), "--config", "nonesuch"], "no such config"),
    ]
    for argv, needle in cases:
        code, _, err = _run(argv, capsys)
        assert code == 2, argv
        assert needle in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "o").exists()


def test_accelerate_launch_command(tiny_model, tmp_path, capsys):
    data = write_messages(tmp_path / "d.parquet", short_rows(2))
    code, out, _ = _run(["train", "sft", "--data", str(data), "--model", str(tiny_model), "--out", str(tmp_path / "o"),
                         "--config", "r1-distill", "--set", "learning_rate=2e-5", "--accelerate", "fsdp2",
                         "--num-processes", "8", "--num-machines", "2", "--machine-rank", "1",
                         "--main-process-ip", "10.0.0.1", "--main-process-port", "29500", "--dry-run"], capsys)
    assert code == 0
    assert "accelerate.commands.launch --config_file" in out and "fsdp2.yaml" in out
    assert "--num_processes 16 --num_machines 2 --machine_rank 1 --main_process_ip 10.0.0.1" in out
    # Every process calls train.sft.train with these arguments (train.launch), no CLI in between.
    import json
    import shlex

    cmd = shlex.split(out.strip().splitlines()[-1])
    assert cmd[-3:-1] == ["-m", "train.launch"]
    spec = json.loads(cmd[-1])
    assert spec == {"data": str(data), "model": str(tiny_model), "out": str(tmp_path / "o"), "config": "r1-distill",
                    "sets": ["learning_rate=2e-5"], "kind": "sft", "teacher": None}
    code, _, err = _run(["train", "sft", "--data", str(data), "--model", str(tiny_model), "--out", str(tmp_path / "o"),
                         "--accelerate", "nccl9", "--dry-run"], capsys)
    assert code == 2 and "no such profile" in err


def test_every_builtin_config_makes_trl_arguments(tmp_path):
    from train.config import load_config
    from train.sft import sft_args

    for name in ("s1", "r1-distill", "lora", "tiny"):
        cfg = load_config(name)
        args = sft_args(cfg, tmp_path / name, max_length=cfg.max_length or 2048, num_processes=1)
        assert args.max_length == (cfg.max_length or 2048)          # never TRL's default of 1024
        assert args.per_device_train_batch_size * args.gradient_accumulation_steps == cfg.global_batch_size
        assert args.assistant_only_loss is False and args.packing == cfg.packing   # masks come pre-tokenized
        if cfg.packing:
            assert args.padding_free and args.packing_strategy == "bfd"
    r1 = sft_args(load_config("r1-distill"), tmp_path / "r1", 32768, num_processes=8)
    assert (r1.gradient_accumulation_steps, r1.lr_scheduler_type.value, r1.lr_scheduler_kwargs) == (
        8, "cosine_with_min_lr", {"min_lr_rate": 0.1})


@pytest.mark.slow
def test_lora_training_saves_an_adapter(tiny_model, tmp_path, capsys):
    pytest.importorskip("peft")
    data = write_messages(tmp_path / "d.parquet", short_rows(8))
    out = tmp_path / "lora"
    code = main(["train", "sft", "--data", str(data), "--model", str(tiny_model), "--out", str(out), "--config", "lora",
                 "--set", "max_steps=2", "--set", "global_batch_size=4", "--set", "per_device_batch_size=4",
                 "--set", "packing=false", "--set", "max_length=null", "--set", "gradient_checkpointing=false",
                 "--set", "lora.r=4"])
    assert code == 0, capsys.readouterr().err
    assert (out / "adapter_config.json").is_file() and (out / "README.md").is_file()


@pytest.mark.slow
def test_packed_training_runs_on_synthetic_traces(tiny_model, tmp_path, capsys):
    import pyarrow.parquet as pq

    # The synthetic rows, and one far over max_length: the over-length report is always checked.
    rows = pq.read_table(synth_messages(tmp_path / "s.parquet", n=12), columns=["messages"])["messages"].to_pylist()
    rows.append(messages("Count on.", " ".join(str(i) for i in range(3000)), "\\boxed{3000}"))
    data = write_messages(tmp_path / "d.parquet", rows)
    out = tmp_path / "packed"
    code = main(["train", "sft", "--data", str(data), "--model", str(tiny_model), "--out", str(out), "--config", "tiny",
                 "--set", "packing=true", "--set", "max_steps=2", "--set", "per_device_batch_size=2",
                 "--set", "global_batch_size=2", "--set", "max_length=1024"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads((out / "train_summary.json").read_text())
    stats = summary["data_stats"]
    assert stats["max_length"] == 1024 and stats["max_length_from"] == "config"
    assert stats["rows_kept"] + stats["overlength_rows"] == 13 and stats["overlength_rows"] >= 1
    assert "longer than max_length 1,024 were dropped" in captured.out
    assert "--overlength error" in captured.out and "on_overlength=error" not in captured.out
