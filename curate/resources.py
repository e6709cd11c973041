"""Named YAML resources shipped with distillery (rubrics, domain taxonomies) or given by path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curate import safe_yaml
from curate.errors import BadInput


def known(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.yaml"))


def load_named_yaml(name: str, folder: Path, kind: str) -> tuple[Path, Any]:
    """`name` is a YAML path, or the stem of a file in `folder`; returns the path and its data."""
    path = Path(name)
    if not path.is_file():
        path = folder / f"{name}.yaml"
        if "/" in name or not path.is_file():
            raise BadInput(f"{kind} {name!r}: no such file, and no built-in {kind} of that name "
                           f"(built-in: {', '.join(known(folder))})")
    return path, safe_yaml.load_file(path, kind) or {}
