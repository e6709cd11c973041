"""`distillery train sft`: TRL's SFTTrainer on a run's `messages`, with the defaults that matter.

What goes wrong in reasoning distillation, and what this module does about it:
- the student never stops: the end-of-turn token of the template (e.g. `<|im_end|>`) is inside
  the assistant mask, becomes the tokenizer's EOS and the generation config's stop token;
- loss on the whole sequence: labels only on the assistant turn (thinking, response, end-of-turn);
- thinking dropped by the template: a probe conversation is rendered and must keep its thinking;
- silent truncation at TRL's default max_length=1024: max_length comes from the config or the
  longest row, and longer rows are counted, reported and dropped or refused;
- attention across packed examples: `bfd` packing is padding-free (position_ids restart per
  example; flash attention / sdpa see separate sequences);
- out of memory at 32K: gradient checkpointing, bf16, liger kernels and FSDP2/ZeRO-3 profiles.

`train()` is the one entry point for both `sft` and `kd` (see `train.kd`).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from curate.errors import BadInput, require
from train.config import TrainConfig, load_config
from train.data import DataStats, load_table, prepare_tokenizer, run_manifest, tokenize


@dataclass
class TrainResult:
    out: Path
    stats: DataStats
    final_loss: float | None
    steps: int
    seconds: float
    history: list[dict]

    def summary(self) -> str:
        loss = "n/a" if self.final_loss is None else f"{self.final_loss:.4f}"
        return (f"{self.stats.summary()}\ntrained {self.steps} steps in {self.seconds:.1f} s, final loss {loss}"
                f"\n→ {self.out} (model, tokenizer, README.md, loss.png, train_log.jsonl)")


def is_local(name: str) -> bool:
    return name.startswith((".", "/", "~")) or os.path.exists(name) or name.count("/") > 1 or "\\" in name


def check_model(name: str) -> None:
    if is_local(name) and not Path(name).expanduser().exists():
        raise BadInput(f"{name}: model path does not exist")
    if is_local(name) and not (Path(name).expanduser() / "config.json").is_file():
        raise BadInput(f"{name}: not a model folder (no config.json)")


def load_tokenizer(name: str):
    transformers = require("transformers", "train", "training")
    check_model(name)
    try:
        return transformers.AutoTokenizer.from_pretrained(name)
    except (OSError, ValueError) as exc:
        raise BadInput(f"{name}: cannot load a tokenizer ({str(exc).splitlines()[0]})") from exc


def _dtype(cfg: TrainConfig):
    import torch

    if cfg.torch_dtype != "auto":
        return getattr(torch, cfg.torch_dtype)
    return torch.bfloat16 if _bf16(cfg) else torch.float32


def _bf16(cfg: TrainConfig) -> bool:
    import torch

    if cfg.bf16 == "auto":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    return bool(cfg.bf16) and torch.cuda.is_available()   # bf16 mixed precision on CPU is slow: off there


def load_model(name: str, cfg: TrainConfig):
    transformers = require("transformers", "train", "training")
    import torch

    kwargs = {"dtype": _dtype(cfg)}
    attn = cfg.attn_implementation
    if attn == "flash_attention_2" and not (torch.cuda.is_available() and _has("flash_attn")):
        attn = "sdpa"   # no flash-attn here: sdpa reads packed position_ids as separate sequences too
    if attn:
        kwargs["attn_implementation"] = attn
    try:
        return transformers.AutoModelForCausalLM.from_pretrained(name, **kwargs)
    except (OSError, ValueError) as exc:
        raise BadInput(f"{name}: cannot load the model ({str(exc).splitlines()[0]})") from exc


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def sft_args(cfg: TrainConfig, out: Path, max_length: int, num_processes: int, kd: bool = False):
    trl = require("trl", "train", "training")
    import torch

    liger = cfg.use_liger_kernel
    if liger == "auto":
        liger = torch.cuda.is_available() and _has("liger_kernel")
    packing = cfg.packing and not kd
    kwargs = dict(
        output_dir=str(out), seed=cfg.seed, learning_rate=cfg.learning_rate, num_train_epochs=cfg.num_train_epochs,
        max_steps=cfg.max_steps, weight_decay=cfg.weight_decay, warmup_steps=cfg.warmup_ratio,
        lr_scheduler_type=cfg.lr_scheduler_type, lr_scheduler_kwargs=dict(cfg.lr_scheduler_kwargs),
        adam_beta1=cfg.adam_beta1, adam_beta2=cfg.adam_beta2, max_grad_norm=cfg.max_grad_norm,
        bf16=_bf16(cfg), per_device_train_batch_size=cfg.per_device_batch_size,
        gradient_accumulation_steps=cfg.grad_accum(num_processes),
        gradient_checkpointing=cfg.gradient_checkpointing, use_liger_kernel=bool(liger),
        train_sampling_strategy="group_by_length" if cfg.group_by_length else "random",
        logging_steps=cfg.logging_steps, save_strategy=cfg.save_strategy, report_to=cfg.report_to or "none",
        # Never TRL's default of 1024: the limit the data was checked against (no row exceeds it).
        max_length=max_length, packing=packing, packing_strategy=cfg.packing_strategy,
        padding_free=packing and cfg.packing_strategy == "bfd",
        # Rows arrive tokenized with `assistant_masks`: TRL turns them into labels (-100 elsewhere).
        assistant_only_loss=False, completion_only_loss=False,
        eos_token=None, disable_tqdm=True, dataloader_num_workers=0, save_only_model=True,
    )
    if kd:
        kwargs.update(remove_unused_columns=False, dataset_kwargs={"skip_prepare_dataset": True})
    if not torch.cuda.is_available():
        kwargs["use_cpu"] = True
    return trl.SFTConfig(**kwargs)


def train(data: str | Path, model: str, out: str | Path, config: str | Path | None = None,
          sets: list[str] | None = None, num_processes: int | None = None, kind: str = "sft",
          teacher: str | None = None, log=print) -> TrainResult:
    """Train `model` on the `messages` of `data` (a RUN folder or Parquet file) into `out`."""
    cfg = load_config(config, sets)
    out = Path(out)
    check_model(model)
    tokenizer = load_tokenizer(model)
    eos = prepare_tokenizer(tokenizer, cfg.eos_token, name=model)
    extra_cols: list[str] = []
    if kind == "kd":
        from train import kd as kdlib

        extra_cols = [cfg.kd.ids_column, cfg.kd.logprobs_column]
        if teacher is not None:
            kdlib.check_same_tokenizer(tokenizer, load_tokenizer(teacher), model, teacher)
    table, file = load_table(data, ["messages", *extra_cols])
    if cfg.max_rows is not None and cfg.max_rows < table.num_rows:
        import numpy as np

        pick = np.sort(np.random.default_rng(cfg.seed).choice(table.num_rows, cfg.max_rows, replace=False))
        table = table.take(pick)
        log(f"data: a seeded sample of {cfg.max_rows:,} rows (max_rows)")
    columns, stats = tokenize(tokenizer, table, cfg.max_length, cfg.on_overlength, str(file), extra_cols)
    log(f"data: {stats.summary()}")
    if stats.overlength_rows:
        log(f"warning: {stats.overlength_rows:,} rows longer than max_length {stats.max_length:,} were dropped "
            f"(rows {stats.overlength_examples}{'…' if stats.overlength_rows > 10 else ''}); "
            f"--overlength error (on_overlength: error in a config) refuses them")
    procs = num_processes or int(os.environ.get("WORLD_SIZE", "1"))
    import torch

    torch.manual_seed(cfg.seed)
    if cfg.packing and kind == "sft" and not torch.cuda.is_available():
        log("note: packing on CPU (no flash attention) is several times slower than padding; "
            "`--set packing=false` for CPU runs")
    datasets = require("datasets", "train", "training")
    dataset = datasets.Dataset.from_dict(columns)
    student = load_model(model, cfg)
    args = sft_args(cfg, out, stats.max_length, procs, kd=kind == "kd")
    peft_config = None
    if cfg.lora is not None:
        peft = require("peft", "train", "LoRA training")
        peft_config = peft.LoraConfig(r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
                                      target_modules=cfg.lora.target_modules, task_type="CAUSAL_LM")
    # the student must stop where the teacher's turn ends
    eos_id = tokenizer.convert_tokens_to_ids(eos)
    student.config.eos_token_id = eos_id
    if student.generation_config is not None:
        ids = student.generation_config.eos_token_id
        ids = [] if ids is None else [ids] if isinstance(ids, int) else list(ids)
        student.generation_config.eos_token_id = [eos_id, *[i for i in ids if i != eos_id]] if ids else eos_id
        if student.generation_config.pad_token_id is None:
            student.generation_config.pad_token_id = tokenizer.pad_token_id
    if kind == "kd":
        from train import kd as kdlib

        kdlib.check_ids_in_vocab(columns[cfg.kd.ids_column], len(tokenizer), str(file))
        trainer = kdlib.KDTrainer(model=student, args=args, train_dataset=dataset, processing_class=tokenizer,
                                  peft_config=peft_config, data_collator=kdlib.KDCollator(tokenizer.pad_token_id,
                                  cfg.kd.ids_column, cfg.kd.logprobs_column), kd=cfg.kd)
    else:
        trl = require("trl", "train", "training")
        trainer = trl.SFTTrainer(model=student, args=args, train_dataset=dataset, processing_class=tokenizer,
                                 peft_config=peft_config)
    _compact_logs(trainer, log)
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    history = [dict(row) for row in trainer.state.log_history]
    return _save(trainer, tokenizer, out, model, data, file, cfg, stats, history, seconds, kind)


def _compact_logs(trainer, log) -> None:
    """One short line per logging step instead of transformers' printed dicts of every metric
    (all of them still land in train_log.jsonl)."""
    import transformers

    class ProgressLine(transformers.TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if state.is_world_process_zero and logs and "loss" in logs:
                log(f"step {state.global_step:>5}/{state.max_steps}  loss {logs['loss']:.4f}  "
                    f"lr {logs.get('learning_rate', 0):.2e}")

    trainer.remove_callback(transformers.PrinterCallback)
    trainer.add_callback(ProgressLine())


def _save(trainer, tokenizer, out: Path, model: str, data, file: Path, cfg: TrainConfig, stats: DataStats,
          history: list[dict], seconds: float, kind: str) -> TrainResult:
    from train import card

    if trainer.accelerator.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
    trainer.save_model(str(out))
    if not trainer.accelerator.is_main_process:
        return TrainResult(out, stats, None, int(trainer.state.global_step), seconds, history)
    tokenizer.save_pretrained(out)   # with the (training) chat template and the end-of-turn EOS
    card.write_log(out, history)
    _, values = card.losses(history)
    card.write_card(out, model=model, data=str(data), recipe=cfg.recipe, config=cfg.model_dump(mode="json"),
                    stats=stats.as_dict(), history=history, manifest=run_manifest(file), kind=kind,
                    extra={"train_seconds": round(seconds, 2), "global_step": int(trainer.state.global_step)})
    (out / "distillery_train.json").write_text(json.dumps({"kind": kind, "config": cfg.model_dump(mode="json")},
                                                          indent=2) + "\n")
    return TrainResult(out, stats, values[-1] if values else None, int(trainer.state.global_step), seconds, history)


# ------------------------------------------------------------------------------ accelerate launch

ACCELERATE = Path(__file__).parent / "configs" / "accelerate"


def launch_command(spec: dict, profile: str, num_processes: int, num_machines: int = 1,
                   machine_rank: int = 0, main_process_ip: str | None = None,
                   main_process_port: int | None = None) -> list[str]:
    """`accelerate launch --config_file PROFILE … -m train.launch SPEC`: every process calls
    `train(**spec)` (`train.launch`); `num_processes` is per machine."""
    path = Path(profile)
    if not path.is_file():
        path = ACCELERATE / f"{profile}.yaml"
    if not path.is_file():
        names = ", ".join(sorted(p.stem for p in ACCELERATE.glob("*.yaml")))
        raise BadInput(f"--accelerate {profile}: no such profile (built-in: {names})")
    import sys

    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(path), "--num_processes", str(num_processes * num_machines),
           "--num_machines", str(num_machines), "--machine_rank", str(machine_rank)]
    if main_process_ip:
        cmd += ["--main_process_ip", main_process_ip]
    if main_process_port:
        cmd += ["--main_process_port", str(main_process_port)]
    import json

    return [*cmd, "-m", "train.launch", json.dumps(spec, sort_keys=True)]
