"""Reading and writing tables: Parquet shards (zstd, atomic), JSONL/JSON/CSV, fingerprints.

Writes go to a temporary name in the target folder and are renamed into place, so a killed
process never leaves a half-written Parquet file under a real name. Reads of user files turn
every way a file can be wrong into one `BadInput` line naming the file (and the line, for JSONL).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import xxhash

from curate import parquet_concat
from curate.errors import BadInput

PARQUET_MAGIC = b"PAR1"
ROW_GROUP_SIZE = 16_384
TABLE_SUFFIXES = (".parquet", ".jsonl", ".ndjson", ".json", ".csv")
_UMASK = os.umask(0)
os.umask(_UMASK)


# ----------------------------------------------------------------------------------------- writing

@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success rename it onto `path`, else remove it."""
    path = Path(path)
    if path.is_dir():
        raise BadInput(f"{path}: is a folder, and a file is to be written there")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except FileExistsError:
        raise BadInput(f"{path}: a parent of it is a file, not a folder") from None
    except NotADirectoryError:
        raise BadInput(f"{path}: a parent of it is a file, not a folder") from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot write here ({exc.strerror})") from None
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; the file should get the usual mode
    try:
        yield Path(tmp)
        crash_point()
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


_CRASH = {"left": None}


def crash_point() -> None:
    """Fault injection for the crash-safety tests: with DISTILLERY_CRASH_AT=N in the environment,
    the process kills itself (SIGKILL, as `kill -9` would) at the N-th point where a file has been
    written under its temporary name and not yet renamed. Unset, this costs one dict lookup."""
    left = _CRASH["left"]
    if left is None:
        left = _CRASH["left"] = int(os.environ.get("DISTILLERY_CRASH_AT", "0") or 0)
    if left <= 0:
        return
    _CRASH["left"] = left - 1
    if left == 1:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def sync_folder(folder: Path) -> None:
    """fsync a folder, so renames into it survive a power cut (best effort)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_parquet(table: pa.Table, path: Path, metadata: dict[str, str] | None = None) -> Path:
    """Write one Parquet file atomically, zstd-compressed, byte-identical for identical tables."""
    table = table.replace_schema_metadata(with_metadata(table.schema, metadata).metadata)
    with atomic_path(Path(path)) as tmp:
        pq.write_table(table, tmp, compression="zstd", row_group_size=ROW_GROUP_SIZE)
    return Path(path)


def with_metadata(schema: pa.Schema, metadata: dict[str, str] | None) -> pa.Schema:
    """`schema` with `metadata` added to its key-value metadata, as `write_parquet` adds it."""
    if not metadata:
        return schema
    merged = dict(schema.metadata or {})
    merged.update({k.encode(): v.encode() for k, v in metadata.items()})
    return schema.with_metadata(merged)


def parquet_bytes(table: pa.Table) -> bytes:
    """`table` as one Parquet file in memory, with `write_parquet`'s settings and row groups, each
    row group written from one contiguous chunk (a writer's pages depend on the chunks it is given,
    and `write_parquet` is given whole tables): a shard of a file (`write_parquet_shards`)."""
    sink = pa.BufferOutputStream()
    with pq.ParquetWriter(sink, table.schema, compression="zstd") as writer:
        for start in range(0, max(table.num_rows, 1), ROW_GROUP_SIZE):  # no row: one empty row group
            writer.write_table(table.slice(start, ROW_GROUP_SIZE).combine_chunks(), row_group_size=ROW_GROUP_SIZE)
    return sink.getvalue().to_pybytes()


def shard_spans(counts: list[int], size: int) -> list[list[tuple[int, int, int]]]:
    """Tables of `counts` rows, in order, cut into shards of `size` rows (the last one fewer): per
    shard, its (table, offset, rows) runs, no empty one. With `size` a whole number of row groups,
    the shards' files join as the whole table's (`write_parquet_shards`)."""
    shards, current, held = [], [], 0
    for i, n in enumerate(counts):
        at = 0
        while at < n:
            take = min(n - at, size - held)
            current.append((i, at, take))
            at, held = at + take, held + take
            if held == size:
                shards.append(current)
                current, held = [], 0
    if current:
        shards.append(current)
    return shards


def write_parquet_shards(shards: Iterable[bytes], path: Path) -> tuple[Path, int]:
    """Parquet files' bytes (`parquet_bytes` of consecutive runs of a table's rows, each but the
    last a whole number of row groups) joined atomically as one file (`curate.parquet_concat`): the
    bytes `write_parquet` gives the whole table, no value encoded again. Holds one shard at a
    time. Returns (path, rows written)."""
    with atomic_path(Path(path)) as tmp:
        rows = parquet_concat.concat(shards, tmp)
    return Path(path), rows


def write_text(text: str, path: Path) -> Path:
    with atomic_path(Path(path)) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_shards(table: pa.Table, folder: Path, prefix: str, rows_per_shard: int = 100_000) -> list[Path]:
    """Write `table` as `folder/PREFIX-00000.parquet`, … and remove older shards of the same prefix.

    Shards of other prefixes stay: one trace folder can hold several sources side by side
    (`s1k-*.parquet`, `limo-*.parquet`), and rewriting one never touches the others.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    n = max(1, -(-table.num_rows // rows_per_shard))
    for i in range(n):
        part = table.slice(i * rows_per_shard, rows_per_shard)
        written.append(write_parquet(part, folder / f"{prefix}-{i:05d}.parquet"))
    keep = {p.name for p in written}
    for old in folder.glob(f"{prefix}-[0-9][0-9][0-9][0-9][0-9].parquet"):
        if old.name not in keep:
            old.unlink()
    return written


# ----------------------------------------------------------------------------------------- reading

def parquet_files(path: Path) -> list[Path]:
    """The Parquet files a trace path stands for: the file itself, or a folder's top-level
    `*.parquet` files in name order (sub-folders such as `attempts/` are companions, not traces)."""
    path = Path(path)
    if not path.exists():
        raise BadInput(f"{path}: no such file or folder")
    if path.is_dir():
        files = sorted(p for p in path.glob("*.parquet") if not p.name.startswith("."))
        if not files:
            raise BadInput(f"{path}: folder holds no .parquet files")
        return files
    return [path]


def read_parquet_footer(path: Path):
    """A Parquet file's metadata, or one line saying why the file is not readable Parquet."""
    path = Path(path)
    _check_file(path)
    with open(path, "rb") as f:
        head = f.read(4)
        f.seek(-4, os.SEEK_END)
        tail = f.read(4)
    if head != PARQUET_MAGIC or tail != PARQUET_MAGIC:
        raise BadInput(f"{path}: not a Parquet file (no PAR1 magic bytes)")
    try:
        return pq.read_metadata(path)
    except (pa.ArrowException, OSError) as exc:
        raise BadInput(f"{path}: unreadable Parquet file: {_first_line(exc)}") from exc


def read_parquet(path: Path) -> pa.Table:
    path = Path(path)
    read_parquet_footer(path)
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise BadInput(f"{path}: unreadable Parquet file: {_first_line(exc)}") from exc
    check_utf8(table, str(path))
    return table


def check_utf8(table: pa.Table, where: str) -> None:
    """Refuse text columns holding bytes that are not UTF-8 (Parquet writers other than Arrow do
    not check): one line naming the column and row, instead of a panic deep inside Polars."""
    for name, column in zip(table.column_names, table.columns):
        if not _has_text(column.type):
            continue
        offset = 0
        for chunk in column.chunks:
            try:
                chunk.validate(full=True)
            except pa.ArrowInvalid:
                row = offset + _first_invalid(chunk)
                raise BadInput(f"{where}: column {name!r}, row {row}: text is not valid UTF-8") from None
            offset += len(chunk)


def _has_text(kind: pa.DataType) -> bool:
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return True
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return _has_text(kind.value_type)
    if pa.types.is_struct(kind):
        return any(_has_text(kind.field(i).type) for i in range(kind.num_fields))
    if pa.types.is_map(kind):
        return _has_text(kind.key_type) or _has_text(kind.item_type)
    return False


def _first_invalid(chunk: pa.Array) -> int:
    """The first row of `chunk` that fails full validation (bisection: the error path only)."""
    lo, hi = 0, len(chunk)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            chunk.slice(lo, mid - lo).validate(full=True)
            lo = mid
        except pa.ArrowInvalid:
            hi = mid
    return lo


def read_parquet_files(files: list[Path]) -> pa.Table:
    tables = [read_parquet(f) for f in files]
    if len(tables) == 1:
        return tables[0]
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except pa.ArrowException as exc:
        raise BadInput(f"{files[0].parent}: shards have incompatible columns: {_first_line(exc)}") from exc


def read_table(path: Path, fmt: str | None = None) -> pa.Table:
    """Read a Parquet, JSONL, JSON or CSV file (or a folder of Parquet files) into Arrow."""
    path = Path(path)
    if not path.exists():
        raise BadInput(f"{path}: no such file or folder")
    if path.is_dir():
        return read_parquet_files(parquet_files(path))
    fmt = fmt or _format_of(path)
    if fmt == "parquet":
        return read_parquet(path)
    _check_file(path)
    if fmt == "jsonl":
        return read_jsonl(path)
    if fmt == "json":
        return read_json(path)
    if fmt == "csv":
        return read_csv(path)
    raise BadInput(f"{path}: unknown file format {fmt!r} (expected parquet, jsonl, json or csv)")


def _format_of(path: Path) -> str:
    name = path.name.lower()
    for suffix, fmt in ((".parquet", "parquet"), (".jsonl", "jsonl"), (".ndjson", "jsonl"),
                        (".json", "json"), (".csv", "csv")):
        if name.endswith(suffix) or name.endswith(suffix + ".gz"):
            return fmt
    raise BadInput(f"{path}: cannot tell the format from the name (use .parquet, .jsonl, .json or .csv)")


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise BadInput(f"{path}: not a file")
    if path.stat().st_size == 0:
        raise BadInput(f"{path}: file is empty")


def _open_text(path: Path):
    if path.name.endswith(".gz"):
        import gzip

        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def read_jsonl(path: Path) -> pa.Table:
    rows, lines = [], []
    with _open_text(path) as f:
        try:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise BadInput(f"{path}: line {lineno}: not valid JSON ({exc.msg})") from exc
                except RecursionError:
                    raise BadInput(f"{path}: line {lineno}: JSON nested too deeply to read") from None
                if not isinstance(obj, dict):
                    raise BadInput(f"{path}: line {lineno}: expected a JSON object, found {type(obj).__name__}")
                rows.append(obj)
                lines.append(lineno)
        except UnicodeDecodeError as exc:
            raise BadInput(f"{path}: not UTF-8 text ({exc.reason})") from exc
    if not rows:
        raise BadInput(f"{path}: holds no JSON objects")
    return _from_rows(rows, path, [f"line {n}" for n in lines])


def read_json(path: Path) -> pa.Table:
    try:
        with _open_text(path) as f:
            data = json.load(f)
    except json.JSONDecodeError:
        # Many ".json" files in the wild are JSON Lines.
        return read_jsonl(path)
    except RecursionError:
        raise BadInput(f"{path}: JSON nested too deeply to read") from None
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path}: not UTF-8 text ({exc.reason})") from exc
    if isinstance(data, dict):
        # {"data": [...]} / {"rows": [...]} or a single column-oriented object.
        lists = [v for v in data.values() if isinstance(v, list) and v and isinstance(v[0], dict)]
        if len(lists) == 1:
            data = lists[0]
        elif all(isinstance(v, list) for v in data.values()):
            return pa.table(data)
        else:
            data = [data]
    if not isinstance(data, list) or not data:
        raise BadInput(f"{path}: expected a JSON array of objects")
    bad = next((i for i, r in enumerate(data) if not isinstance(r, dict)), None)
    if bad is not None:
        raise BadInput(f"{path}: item {bad} is not a JSON object")
    return _from_rows(data, path)


def _from_rows(rows: list[dict], path: Path, names: list[str] | None = None) -> pa.Table:
    try:
        return pa.Table.from_pylist(rows)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        # Arrow infers one type per field; rows that disagree (a number here, text there) land here.
        clash = type_clash(rows, names or [f"item {i}" for i in range(len(rows))])
        raise BadInput(f"{path}: {clash or 'rows disagree on a field type: ' + _first_line(exc)}") from exc


_KINDS = {bool: "a boolean", int: "a number", float: "a number", str: "text", list: "a list", dict: "an object"}


def type_clash(rows: list[dict], names: list[str]) -> str | None:
    """The first field (a dotted path into nested objects, `[]` for list items) whose values have
    different JSON types across rows, with the first row of each type: "field a.b is text at
    line 1 and a list at line 7". Nulls go with any type."""
    first: dict[str, dict[str, str]] = {}

    def walk(value, where: str, name: str) -> str | None:
        if value is None:
            return None
        kind = _KINDS.get(type(value), type(value).__name__)
        seen = first.setdefault(where, {})
        if kind not in seen:
            seen[kind] = name
            if len(seen) > 1:
                a, b = list(seen.items())[:2]
                return f"field {where} is {a[0]} at {a[1]} and {b[0]} at {b[1]}"
        if isinstance(value, dict):
            for k, v in value.items():
                found = walk(v, f"{where}.{k}" if where else str(k), name)
                if found:
                    return found
        elif isinstance(value, list):
            for v in value:
                found = walk(v, f"{where}[]", name)
                if found:
                    return found
        return None

    for row, name in zip(rows, names):
        for key, value in row.items():
            found = walk(value, str(key), name)
            if found:
                return found
    return None


def read_csv(path: Path) -> pa.Table:
    import pyarrow.csv as pcsv

    try:
        return pcsv.read_csv(path)
    except pa.ArrowException as exc:
        raise BadInput(f"{path}: unreadable CSV: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ------------------------------------------------------------------------------------ fingerprints

def file_hash(path: Path, chunk: int = 1 << 22) -> str:
    h = xxhash.xxh3_64()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def fingerprint(files: list[Path]) -> dict[str, dict]:
    """Name, size and content hash of each file: what a manifest records about its inputs."""
    return {str(p): {"bytes": p.stat().st_size, "xxh3_64": file_hash(p)} for p in files}


# ---------------------------------------------------------------------------------------- traces

def load_traces(path: Path, check_ids: bool = True) -> pa.Table:
    """Read a trace file or folder and check every shard against the schema (errors name the shard)."""
    from curate import schema

    tables = [schema.conform(read_parquet(f), str(f), check_ids=check_ids) for f in parquet_files(path)]
    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="permissive")
    if len(tables) > 1:
        schema.check(table, str(path), check_ids=False)  # ids unique across shards too
    return table


def save_traces(table: pa.Table, folder: Path, prefix: str, rows_per_shard: int = 100_000) -> list[Path]:
    """Validate, then write trace shards (see `write_shards`)."""
    from curate import schema

    return write_shards(schema.conform(table, f"{folder}/{prefix}"), folder, prefix, rows_per_shard)
