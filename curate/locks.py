"""One writer per output folder, consistent reads, and files published together.

- `writer(folder, command)`: an exclusive lock on `FOLDER/.distillery.lock` (flock, so the kernel
  frees it when its holder dies, kill -9 included). The file holds the holder's pid and command: a
  second writer fails at once with exit 2 naming them; a lock file left by a dead holder is taken
  over with a warning (a `curate.errors.Notice` for the caller to show: the CLI prints one line). Re-entrant inside one process (ablate runs curate into its own
  folder). Stale `.NAME.*.tmp` files of dead writers are removed once the lock is held.
- `publish(folder, names)`: files written under temporary names, then renamed into place together
  while holding `FOLDER/.distillery.snapshot` exclusively. Readers hold it shared for the length of
  a query (`reading`), so a query sees all old files or all new ones, never a mix.
- `check_generation(run)`: the manifest names the generation its Parquet files belong to (their
  metadata carries it too); a mismatch (a writer killed between two renames) is reported, not read.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

from curate.errors import BadInput, Notice

LOCK = ".distillery.lock"
SNAPSHOT = ".distillery.snapshot"
GENERATION_META = "distillery.generation"
# Folders whose lock a parent process holds for us (an accelerate launcher and its ranks).
INHERITED = "DISTILLERY_LOCKS_INHERITED"
_HELD: dict[Path, int] = {}


def _command() -> str:
    return " ".join(["distillery", *sys.argv[1:]])[:300] if sys.argv else "distillery"


def _holder(text: str) -> str:
    try:
        info = json.loads(text)
        return f"pid {info.get('pid')}: {info.get('command')}"
    except (json.JSONDecodeError, AttributeError):
        return "an unknown process"


def writable_folder(folder: Path, option: str = "--out") -> Path:
    """Create `folder` (and parents) or say in one line why it cannot be."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise BadInput(f"{option} {folder}: is a file, and a folder is expected here")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise BadInput(f"{option} {folder}: a parent of it is a file, not a folder") from None
    except OSError as exc:
        raise BadInput(f"{option} {folder}: cannot create the folder ({exc.strerror})") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BadInput(f"{option} {folder}: folder is not writable")
    return folder


@contextlib.contextmanager
def writer(folder: Path, command: str | None = None, option: str = "--out",
           clean: tuple[str, ...] = (".",)) -> Iterator[Path]:
    """Hold the writer lock of `folder` (created if missing) for the block; see the module doc.
    `clean` names the sub-folders whose stale temporary files are removed once the lock is ours."""
    created = not Path(folder).exists()
    folder = writable_folder(folder, option)
    key = folder.resolve()
    if str(key) in os.environ.get(INHERITED, "").split(os.pathsep):
        yield folder
        return
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield folder
        finally:
            _HELD[key] -= 1
        return
    try:
        fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise BadInput(f"{option} {folder}: cannot create its lock file ({exc.strerror})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            held = os.pread(fd, 4096, 0).decode("utf-8", "replace")
            raise BadInput(f"{folder}: another distillery command is writing here ({_holder(held)}); "
                           f"wait for it to finish or choose another {option}") from None
        previous = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
        if previous:
            # The caller shows it (the CLI: one `warning:` line); a library prints nothing.
            warnings.warn(Notice(f"{folder}: taking over the lock of {_holder(previous)}, which is no longer "
                                 f"running"), stacklevel=3)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "command": command or _command()}).encode(), 0)
        _HELD[key] = 1
        for sub in clean:
            remove_stale_tmp(folder / sub)
        try:
            yield folder
        finally:
            del _HELD[key]
            os.ftruncate(fd, 0)  # an empty lock file: released cleanly, nothing to take over
            if created and {p.name for p in folder.iterdir()} <= {LOCK, SNAPSHOT}:
                # A command that failed before writing anything leaves no folder behind.
                for name in (LOCK, SNAPSHOT):
                    with contextlib.suppress(OSError):
                        (folder / name).unlink()
                with contextlib.suppress(OSError):
                    folder.rmdir()
    finally:
        os.close(fd)  # closing drops the flock


def remove_stale_tmp(folder: Path) -> list[Path]:
    """Remove `.NAME.*.tmp` files (atomic writes a killed process never renamed) in `folder`.
    Only called by the holder of the folder's writer lock, so no live writer owns them."""
    removed = []
    if folder.is_dir():
        for tmp in folder.glob(".*.tmp"):
            if tmp.is_file():
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
                    removed.append(tmp)
    return removed


# -------------------------------------------------------------------------------------- snapshots

@contextlib.contextmanager
def _snapshot_lock(folder: Path, exclusive: bool) -> Iterator[None]:
    path = Path(folder) / SNAPSHOT
    try:
        fd = os.open(path, (os.O_RDWR | os.O_CREAT) if exclusive else os.O_RDONLY, 0o644)
    except FileNotFoundError:  # a run written before snapshots existed: nothing to coordinate with
        yield
        return
    except PermissionError:
        if exclusive:
            raise
        yield  # a read-only copy of a run: nobody can be writing it
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def reading(folder: Path):
    """Hold the run's snapshot shared: no `publish` swaps its files meanwhile."""
    return _snapshot_lock(folder, exclusive=False)


class Publication:
    """Temporary paths for files that `commit` renames into `folder` together."""

    def __init__(self, folder: Path, generation: str):
        self.folder = Path(folder)
        self.generation = generation
        self.paths: dict[str, Path] = {}

    def path(self, name: str) -> Path:
        """Where to write `name` before it is published (a `.NAME.GEN.tmp` beside it)."""
        self.paths[name] = self.folder / f".{name}.{self.generation[:16]}.tmp"
        return self.paths[name]

    def commit(self) -> None:
        from curate import store

        with _snapshot_lock(self.folder, exclusive=True):
            for name, tmp in self.paths.items():
                store.crash_point()
                os.replace(tmp, self.folder / name)
        store.sync_folder(self.folder)


def generation_of_parquet(path: Path) -> str | None:
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
    except Exception:  # noqa: BLE001 - unreadable: the reader's own error says so later
        return None
    value = meta.get(GENERATION_META.encode())
    return value.decode() if value else None


def check_generation(run: Path, names: tuple[str, ...] = ("traces.parquet", "selected.parquet")) -> str | None:
    """The generation a run's manifest names, after checking its Parquet files belong to it."""
    run = Path(run)
    with reading(run):
        try:
            manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BadInput(f"{run}/manifest.json: unreadable ({exc})") from None
        generation = manifest.get("generation") if isinstance(manifest, dict) else None
        if generation is None:
            return None  # written before generations were recorded
        for name in names:
            if (run / name).is_file() and generation_of_parquet(run / name) != generation:
                raise BadInput(f"{run}: {name} and manifest.json belong to different writes (a curate run is "
                               f"writing this folder, or was killed while publishing); wait for it, or run "
                               f"distillery curate again")
    return generation
