"""What a training run leaves next to the model: README.md (model card), loss.png, train_log.jsonl.

The loss curve is drawn with matplotlib when it is installed, else by a small rasteriser here
(numpy + zlib, a valid PNG with axes, no text), so the card never depends on a plotting stack.
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np

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
    try:
        import matplotlib

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
    except ImportError:
        return _raster_png(path, steps, values)


def _raster_png(path: Path, steps: list[float], values: list[float], width: int = 600, height: int = 320) -> Path:
    img = np.full((height, width, 3), 255, dtype=np.uint8)
    left, right, top, bottom = 40, width - 15, 15, height - 30
    img[top:bottom + 1, left] = 0            # y axis
    img[bottom, left:right + 1] = 0          # x axis
    for k in range(1, 5):                    # light grid
        y = top + (bottom - top) * k // 5
        img[y, left + 1:right + 1] = 225
    if len(values) >= 1:
        xs = np.asarray(steps if len(steps) == len(values) else range(len(values)), dtype=float)
        ys = np.asarray(values, dtype=float)
        x0, x1 = float(xs.min()), float(xs.max()) or 1.0
        y0, y1 = float(ys.min()), float(ys.max())
        if x1 == x0:
            x1 = x0 + 1
        if y1 == y0:
            y1 = y0 + 1
        px = left + (xs - x0) / (x1 - x0) * (right - left - 1)
        py = bottom - 1 - (ys - y0) / (y1 - y0) * (bottom - top - 2)
        pts = list(zip(px, py))
        if len(pts) == 1:
            pts = pts * 2
        for (xa, ya), (xb, yb) in zip(pts, pts[1:]):
            n = int(max(abs(xb - xa), abs(yb - ya))) + 2
            for t in np.linspace(0, 1, n):
                x, y = int(round(xa + (xb - xa) * t)), int(round(ya + (yb - ya) * t))
                img[max(y - 1, 0):y + 2, max(x - 1, 0):x + 2] = (31, 119, 180)
    raw = b"".join(b"\x00" + img[r].tobytes() for r in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    path.write_bytes(png)
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
