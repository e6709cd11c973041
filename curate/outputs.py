"""Checks on `--out` before anything is written: never onto an input, the right kind, writable.

Every command that reads something and writes `--out` calls `refuse_overlap` with what it reads:
`--out` may not be one of its input files, lie inside an input trace folder (a new `.parquet` there
joins the traces), be one of a run's own files (`traces.parquet`, `selected.parquet`, `manifest.json`,
`recipe.yaml`, `stages/`, `ablation/`), or, when `--out` is a folder the command fills, hold an input.
A run's other files (`RUN/report.html`, `RUN/student/`) are fine: they are outputs of runs.
"""

from __future__ import annotations

import os
from pathlib import Path

from curate.errors import BadInput

RUN_FILES = ("traces.parquet", "selected.parquet", "manifest.json", "recipe.yaml", "stages", "ablation",
             ".distillery-run", ".distillery.lock", ".distillery.snapshot")


def _real(path: Path) -> Path:
    return Path(os.path.realpath(Path(path).expanduser()))


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def is_run(folder: Path) -> bool:
    folder = Path(folder)
    return folder.is_dir() and ((folder / "traces.parquet").is_file() or (folder / ".distillery-run").is_file())


def protected(path: Path) -> list[Path]:
    """What writing must not touch, for one input: a file itself; a run's own files; a whole folder."""
    path = _real(path)
    if path.is_dir() and is_run(path):
        return [path / name for name in RUN_FILES]
    if path.is_dir() and not any(p.suffix == ".parquet" for p in path.iterdir()):
        return []  # not a trace folder: nothing in it is read as traces (the command will say so)
    return [path]


def refuse_overlap(out: Path, inputs: list[Path | None], option: str = "--out", fills_folder: bool = False) -> None:
    """Raise BadInput (exit 2) if writing `out` could overwrite or change one of `inputs`."""
    target = _real(out)
    for given in inputs:
        if given is None:
            continue
        given_path = Path(str(given))
        if not given_path.exists():
            continue  # names such as benchmark ids or hf: sources are not paths
        for p in protected(given_path):
            if _inside(target, p):
                raise BadInput(f"{option} {out}: would overwrite the input {given}"
                               + (f" ({p.name})" if p != _real(given_path) else "")
                               + f"; choose an {option} outside it")
        if fills_folder and _inside(_real(given_path), target):
            raise BadInput(f"{option} {out}: the input {given} lies inside it and would be overwritten; "
                           f"choose another {option}")


def file_out(out: Path, option: str = "--out") -> Path:
    """`out` is to be a file: refuse a folder there, or a parent that is a file or not writable."""
    out = Path(out)
    if out.is_dir():
        raise BadInput(f"{option} {out}: is a folder, and a file is expected here")
    _check_nearest_folder(out, out.parent, option)
    return out


def folder_out(out: Path, option: str = "--out") -> Path:
    """`out` is to be a folder: refuse a file there, or a parent that is a file or not writable."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BadInput(f"{option} {out}: is a file, and a folder is expected here")
    _check_nearest_folder(out, out, option)
    return out


def _check_nearest_folder(out: Path, start: Path, option: str) -> None:
    """The nearest existing one of `start` and its parents must be a writable folder."""
    for p in (start, *start.parents):
        if p.exists():
            if not p.is_dir():
                raise BadInput(f"{option} {out}: {p} is a file, not a folder")
            if not os.access(p, os.W_OK | os.X_OK):
                raise BadInput(f"{option} {out}: folder {p} is not writable")
            return
