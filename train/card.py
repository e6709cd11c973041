"""What a training run leaves next to the model: README.md (model card), loss.png, train_log.jsonl.

The loss curve is drawn with matplotlib, which the `train` extra installs with torch and TRL:
nothing here trains without it.
"""

from __future__ import annotations

import json
from pathlib import Path

from curate.errors import require

LOSS_PNG = "loss.png"
CARD = "README.md"
LOG = "train_log.jsonl"
SUMMARY = "train_summary.json"


def losses(history: list[dict]) -> tuple[list[float], list[float]]:
    steps, values = [], []
    for row in history:
        if "loss" in row and "step" in row:
            steps.append(float(row["step"]))
            values.append(float(row["loss"]))
    return steps, values


def write_png(path: Path, steps: list[float], values: list[float], title: str = "training loss") -> Path:
    matplotlib = require("matplotlib", "train", "the loss curve")   # in the same extra as torch and TRL
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    ax.plot(steps, values, color="#1f77b4")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def write_log(out: Path, history: list[dict]) -> Path:
    path = out / LOG
    path.write_text("".join(json.dumps(row, sort_keys=True) + "\n" for row in history))
    return path


def write_card(out: Path, *, model: str, data: str, recipe: str, config: dict, stats: dict,
               history: list[dict], manifest: dict | None, kind: str = "sft", extra: dict | None = None) -> Path:
    steps, values = losses(history)
    write_png(out / LOSS_PNG, steps, values, title=f"{kind} loss ({recipe})")
    final = values[-1] if values else None
    fingerprint = None
    if manifest:
        fingerprint = {k: manifest[k] for k in ("inputs", "outputs", "recipe", "rows_in", "rows_selected", "seed")
                       if k in manifest} or {"manifest_keys": sorted(manifest)}
    summary = {"kind": kind, "base_model": model, "data": data, "recipe": recipe, "final_loss": final,
               "steps": int(steps[-1]) if steps else 0, "data_stats": stats, "config": config,
               "data_fingerprint": fingerprint, **(extra or {})}
    (out / SUMMARY).write_text(json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n")
    hp = "\n".join(f"| `{k}` | `{v}` |" for k, v in sorted(config.items()) if k not in ("kd",) or kind == "kd")
    text = f"""---
base_model: {model}
library_name: transformers
tags: [distillery, {kind}, reasoning-distillation]
---

# {out.name}

Student trained by `distillery train {kind}` (recipe **{recipe}**) from `{model}` on `{data}`.

- final training loss: **{final if final is None else f"{final:.4f}"}** after {summary["steps"]} steps
- data: {stats.get("rows_kept")} rows of {stats.get("rows_in")} ({stats.get("overlength_rows", 0)} longer than max_length {stats.get("max_length")}, {stats.get("overlength_action")}), {stats.get("tokens")} tokens, {stats.get("assistant_tokens")} with loss (assistant turn only, thinking and end-of-turn token included)

![loss]({LOSS_PNG})

## Data fingerprint (from the run manifest)

```json
{json.dumps(fingerprint, indent=2, sort_keys=True, default=str)}
```

## Hyper-parameters

| key | value |
|---|---|
{hp}

Training log: `{LOG}`; everything above as JSON: `{SUMMARY}`.
"""
    path = out / CARD
    path.write_text(text)
    return path
