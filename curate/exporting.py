"""`distillery export RUN --format jsonl|parquet|hf|sharegpt --out PATH`: a run's selected rows in
the shapes trainers read.

- `jsonl`: one JSON object per row: `messages` first, then every trace column of selected.parquet;
- `parquet`: selected.parquet's columns as they are (messages first);
- `hf`: a Hugging Face `datasets` folder (`save_to_disk`; load with `datasets.load_from_disk`);
- `sharegpt`: `{"id": trace_id, "conversations": [{"from": "human"|"gpt"|"system", "value": …}]}`,
  a JSON array when PATH ends in `.json`, else JSON lines.

Rows keep selected.parquet's order; files are written atomically.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl

from curate import store
from curate.errors import BadInput, require

FORMATS = ("jsonl", "parquet", "hf", "sharegpt")
SHAREGPT_ROLES = {"user": "human", "assistant": "gpt", "system": "system"}


def load_selected(run: Path) -> pl.DataFrame:
    run = Path(run)
    path = run / "selected.parquet" if run.is_dir() else run
    if not path.is_file():
        raise BadInput(f"{run}: not a run folder (no selected.parquet; run `distillery curate` first)")
    df = pl.read_parquet(path)
    if "messages" not in df.columns:
        raise BadInput(f"{path}: has no messages column")
    return df


def export(run: Path, fmt: str, out: Path) -> int:
    """Write the run's selected rows as `fmt` to `out`; returns the number of rows."""
    if fmt not in FORMATS:
        raise BadInput(f"--format {fmt}: unknown (known: {', '.join(FORMATS)})")
    df = load_selected(run)
    out = Path(out)
    if fmt == "parquet":
        store.write_parquet(df.to_arrow(), out)
    elif fmt == "jsonl":
        _write_lines((json.dumps(r, ensure_ascii=False, default=str) for r in df.iter_rows(named=True)), out)
    elif fmt == "sharegpt":
        rows = ({"id": r["trace_id"], "conversations": [{"from": SHAREGPT_ROLES.get(m["role"], m["role"]),
                                                          "value": m["content"]} for m in r["messages"]]}
                for r in df.select("trace_id", "messages").iter_rows(named=True))
        if out.suffix == ".json":
            store.write_text(json.dumps(list(rows), ensure_ascii=False, indent=1) + "\n", out)
        else:
            _write_lines((json.dumps(r, ensure_ascii=False) for r in rows), out)
    else:
        datasets = require("datasets", "train", "export --format hf")
        if out.exists() and not out.is_dir():
            raise BadInput(f"{out}: exists and is not a folder")
        tmp = out.with_name(f".{out.name}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        datasets.Dataset(df.to_arrow()).save_to_disk(str(tmp))
        shutil.rmtree(out, ignore_errors=True)
        tmp.rename(out)
    return df.height


def _write_lines(lines, out: Path) -> None:
    with store.atomic_path(out) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(line + "\n")
