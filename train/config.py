"""Training configs: typed (unknown keys are errors), loaded from YAML, overridden with `--set`.

    cfg = load_config("train/configs/s1.yaml", ["learning_rate=2e-5", "lora.r=32"])

Built-in names (`s1`, `r1-distill`, `lora`, `tiny`) resolve to `train/configs/NAME.yaml`. `--set`
values are parsed as YAML scalars (`1e-5`, `true`, `null`, `[q_proj, v_proj]`); dotted keys reach
into nested sections. The global batch is a property of the recipe: gradient accumulation is derived
from it, the per-device batch and the number of processes, so the same recipe trains the same way on
1 or 64 GPUs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from curate.errors import BadInput

CONFIGS = Path(__file__).parent / "configs"


class LoraSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    r: int = Field(16, ge=1)
    alpha: int = Field(32, ge=1)
    dropout: float = Field(0.05, ge=0, lt=1)
    target_modules: list[str] | str = "all-linear"


class KDSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alpha: float = Field(0.5, ge=0, le=1, description="weight of the hard-label CE; 1-alpha on the KL")
    temperature: float = Field(1.0, gt=0)
    ids_column: str = "topk_ids"
    logprobs_column: str = "topk_logprobs"


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recipe: str = "custom"
    # optimisation
    learning_rate: float = Field(1e-5, gt=0)
    num_train_epochs: float = Field(3.0, gt=0)
    max_steps: int = Field(-1, description="stop after this many optimiser steps (-1: epochs decide)")
    weight_decay: float = Field(0.0, ge=0)
    warmup_ratio: float = Field(0.0, ge=0, lt=1)
    lr_scheduler_type: str = "cosine"
    lr_scheduler_kwargs: dict[str, Any] = Field(default_factory=dict)
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    max_grad_norm: float = 1.0
    bf16: bool | Literal["auto"] = "auto"
    seed: int = 42
    # batch: global batch constant across GPU counts through gradient accumulation
    global_batch_size: int = Field(16, ge=1)
    per_device_batch_size: int = Field(1, ge=1)
    # sequences
    max_length: int | None = Field(None, ge=8, description="null: the longest row of the data")
    on_overlength: Literal["drop", "error"] = "drop"
    group_by_length: bool = Field(False, description="batch rows of similar length (less padding without packing)")
    max_rows: int | None = Field(None, ge=1, description="train on a seeded sample of this many rows (null: all)")
    packing: bool = True
    packing_strategy: Literal["bfd", "wrapped"] = "bfd"
    eos_token: str | None = Field(None, description="end-of-turn token (default: the template's, e.g. <|im_end|>)")
    # memory and kernels
    gradient_checkpointing: bool = False
    attn_implementation: str | None = Field(None, description="sdpa, flash_attention_2, … (null: the model's)")
    use_liger_kernel: bool | Literal["auto"] = False
    torch_dtype: Literal["auto", "bfloat16", "float16", "float32"] = "auto"
    # logging and saving
    logging_steps: int = Field(1, ge=1)
    save_strategy: Literal["no", "epoch", "steps"] = "no"
    report_to: list[str] = Field(default_factory=list)
    # variants
    lora: LoraSection | None = None
    kd: KDSection = Field(default_factory=KDSection)

    @model_validator(mode="after")
    def _batch_divides(self) -> TrainConfig:
        if self.global_batch_size % self.per_device_batch_size:
            raise ValueError(f"global_batch_size {self.global_batch_size} is not a multiple of "
                             f"per_device_batch_size {self.per_device_batch_size}")
        return self

    def grad_accum(self, num_processes: int = 1) -> int:
        per_step = self.per_device_batch_size * max(1, num_processes)
        if self.global_batch_size % per_step:
            raise BadInput(f"global_batch_size {self.global_batch_size} is not a multiple of "
                           f"per_device_batch_size × processes = {per_step}")
        return self.global_batch_size // per_step


def resolve_path(config: str | Path | None) -> Path:
    if config is None:
        return CONFIGS / "s1.yaml"
    path = Path(config)
    if path.is_file():
        return path
    builtin = CONFIGS / f"{config}.yaml"
    if builtin.is_file():
        return builtin
    names = ", ".join(sorted(p.stem for p in CONFIGS.glob("*.yaml")))
    raise BadInput(f"{config}: no such config file or built-in config (built-in: {names})")


def _parse_set(item: str) -> tuple[list[str], Any]:
    if "=" not in item:
        raise BadInput(f"--set {item!r}: expected key=value")
    key, raw = item.split("=", 1)
    key = key.strip()
    if not key:
        raise BadInput(f"--set {item!r}: empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.split("."), value


def _known(model: type[BaseModel], path: list[str], full: str) -> None:
    fields = model.model_fields
    if path[0] not in fields:
        raise BadInput(f"--set {full}: unknown config key {path[0]!r} (known: {', '.join(sorted(fields))})")
    if len(path) > 1:
        ann = fields[path[0]].annotation
        sub = next((a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)),
                   None)
        if sub is None:
            if fields[path[0]].annotation in (dict, dict[str, Any]):
                return
            raise BadInput(f"--set {full}: {path[0]!r} has no sub-keys")
        _known(sub, path[1:], full)


def merge_sets(data: dict, sets: list[str] | None) -> dict:
    data = dict(data)
    for item in sets or []:
        path, value = _parse_set(item)
        _known(TrainConfig, path, item.split("=", 1)[0])
        node = data
        for part in path[:-1]:
            child = node.get(part)
            node[part] = dict(child) if isinstance(child, dict) else {}
            node = node[part]
        node[path[-1]] = value
    return data


def _first_error(exc: ValidationError, where: str) -> BadInput:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "config"
    if err["type"] == "extra_forbidden":
        return BadInput(f"{where}: unknown config key {loc!r}")
    return BadInput(f"{where}: {loc}: {err['msg']}")


def load_config(config: str | Path | None = None, sets: list[str] | None = None) -> TrainConfig:
    path = resolve_path(config)
    from curate import safe_yaml  # shared files: alias bombs, tags, size and encoding refused

    data = safe_yaml.load_file(path, "config") or {}
    if not isinstance(data, dict):
        raise BadInput(f"{path}: a config is a mapping of keys to values")
    try:
        TrainConfig.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc, str(path)) from exc
    merged = merge_sets(data, sets)
    try:
        return TrainConfig.model_validate(merged)
    except ValidationError as exc:
        raise _first_error(exc, "--set") from exc
