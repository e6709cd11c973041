"""`distillery export RUN --format jsonl|parquet|hf|sharegpt --out PATH`: a run's selected rows in
the shapes trainers read.

- `jsonl`: one JSON object per row: `messages` first, then every trace column of selected.parquet;
- `parquet`: selected.parquet's columns as they are (messages first);
- `hf`: a Hugging Face `datasets` folder (`save_to_disk`; load with `datasets.load_from_disk`);
- `sharegpt`: `{"id": trace_id, "conversations": [{"from": "human"|"gpt"|"system", "value": …}]}`,
  a JSON array when PATH ends in `.json`, else JSON lines.

Rows keep selected.parquet's order; files are written atomically.

Every export writes a dataset card (`curate.dataset_card`): OUT/README.md for `hf`, README.md
beside the file otherwise (refused, before anything is written, where a README.md that distillery
did not write is already there). `--push-to-hub REPO` then uploads the data and the card with
`huggingface_hub`; whether the hub is reachable is checked first, once, with a short timeout and no
retries, so an offline machine gets one line and exit status 2 with nothing written.
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


def card_path(fmt: str, out: Path) -> Path:
    return out / "README.md" if fmt == "hf" else out.parent / "README.md"


def export(run: Path, fmt: str, out: Path, push_to_hub: str | None = None, command: str | None = None) -> int:
    """Write the run's selected rows as `fmt` to `out` with a dataset card (and upload both to
    `push_to_hub`); returns the number of rows."""
    from curate import dataset_card

    if fmt not in FORMATS:
        raise BadInput(f"--format {fmt}: unknown (known: {', '.join(FORMATS)})")
    df = load_selected(run)
    out = Path(out)
    card = card_path(fmt, out)
    if card.exists() and not dataset_card.is_ours(card):
        raise BadInput(f"{card}: exists and is not a card distillery wrote; export into another folder")
    if not (Path(run) / "manifest.json").is_file():
        raise BadInput(f"{run}: has no manifest.json (an unfinished run); rerun `distillery curate`")
    if push_to_hub is not None:
        hub_preflight(push_to_hub)
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
    dataset_card.write(dataset_card.build(Path(run), df, fmt, out, command), card)
    if push_to_hub is not None:
        push(push_to_hub, fmt, out, card)
    return df.height


# ------------------------------------------------------------------------------------------ the hub

HUB_TIMEOUT = 5.0


def _endpoint() -> str:
    import os

    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def hub_preflight(repo: str) -> None:
    """One line and exit 2 when the hub cannot be reached: offline mode, or no answer in a few seconds."""
    import os

    import httpx

    if not repo or repo.count("/") != 1 or not all(repo.split("/")):
        raise BadInput(f"--push-to-hub {repo!r}: expected a dataset repository as OWNER/NAME")
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        raise BadInput(f"--push-to-hub {repo}: HF_HUB_OFFLINE is set, so the hub is not contacted; nothing written "
                       f"(export without --push-to-hub, and upload later)")
    require("huggingface_hub", "train", "export --push-to-hub")
    endpoint = _endpoint()
    try:
        httpx.head(f"{endpoint}/api/whoami-v2", timeout=HUB_TIMEOUT, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise BadInput(f"--push-to-hub {repo}: cannot reach the Hugging Face Hub at {endpoint} "
                       f"({type(exc).__name__}); nothing written (no network? export without --push-to-hub "
                       f"and upload later)") from None


def push(repo: str, fmt: str, out: Path, card: Path) -> None:
    """Upload the exported data and its card to the dataset repository `repo`."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi(endpoint=_endpoint())
    try:
        api.create_repo(repo, repo_type="dataset", exist_ok=True)
        if fmt == "hf":
            datasets = require("datasets", "train", "export --format hf")
            datasets.load_from_disk(str(out)).push_to_hub(repo)
        else:
            api.upload_file(path_or_fileobj=str(out), path_in_repo=f"data/{out.name}", repo_id=repo, repo_type="dataset")
        api.upload_file(path_or_fileobj=str(card), path_in_repo="README.md", repo_id=repo, repo_type="dataset")
    except (HfHubHTTPError, OSError) as exc:
        raise BadInput(f"--push-to-hub {repo}: the upload failed ({str(exc).splitlines()[0]}); the export and its "
                       f"card are in {out}") from None


def _write_lines(lines, out: Path) -> None:
    with store.atomic_path(out) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(line + "\n")
