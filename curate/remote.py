"""Trace folders on any file system Arrow or fsspec can open: `s3://`, `gs://`, `hf://`, `file://`.

`distillery curate --input URI` reads the folder's top-level `*.parquet` shards one at a time
through `pyarrow.fs` (or fsspec's implementation of the scheme, wrapped for Arrow: `hf://` needs
`huggingface_hub`, `s3://` Arrow's own S3 or `s3fs`), checks each against the trace schema as a
local folder's shards are checked, and fingerprints each by a streamed hash of its bytes, the same
hash a local file gets: the same shards give the same cache keys and the same run, wherever they lie.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import xxhash

from curate.errors import BadInput

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
CHUNK = 1 << 22
RETRY_S = 30.0  # how long a cloud file system may retry before the run says it cannot reach it


def is_uri(text: str) -> bool:
    return bool(_URI.match(str(text)))


def local_path(uri: str) -> Path | None:
    """The local path a `file://` URI names (companion files such as attempts/ are found beside it)."""
    parsed = urlparse(uri)
    return Path(parsed.path) if parsed.scheme == "file" else None


def open_fs(uri: str) -> tuple[pafs.FileSystem, str]:
    """(file system, path inside it) for `uri`; one BadInput line when no file system serves it."""
    parsed = urlparse(uri)
    if parsed.scheme in ("gs", "gcs"):
        # Arrow's GCS client retries an unreachable endpoint for 15 minutes by default.
        return pafs.GcsFileSystem(retry_time_limit=timedelta(seconds=RETRY_S)), f"{parsed.netloc}{parsed.path}"
    try:
        return pafs.FileSystem.from_uri(uri)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as arrow_exc:
        arrow_why = str(arrow_exc).splitlines()[0]
    except (OSError, pa.ArrowException) as exc:
        raise BadInput(f"--input {uri}: cannot open ({str(exc).splitlines()[0]})") from None
    try:
        import fsspec

        fs, path = fsspec.core.url_to_fs(uri)
    except ImportError as exc:
        raise BadInput(f"--input {uri}: Arrow cannot open it ({arrow_why}) and fsspec is not installed "
                       f"({exc.name or exc})") from None
    except (ValueError, OSError) as exc:
        raise BadInput(f"--input {uri}: no file system for it ({str(exc).splitlines()[0]})") from None
    return pafs.PyFileSystem(pafs.FSSpecHandler(fs)), path


def trace_files(uri: str) -> tuple[pafs.FileSystem, list[str]]:
    """The Parquet shards `uri` stands for: the file itself, or a folder's top-level `*.parquet` in
    name order (as `store.parquet_files` for a local folder)."""
    fs, path = open_fs(uri)
    try:
        info = fs.get_file_info(path)
        if info.type == pafs.FileType.NotFound:
            raise BadInput(f"--input {uri}: no such file or folder")
        if info.type == pafs.FileType.File:
            return fs, [path]
        entries = fs.get_file_info(pafs.FileSelector(path, recursive=False))
    except BadInput:
        raise
    except Exception as exc:  # noqa: BLE001 - each fsspec file system raises its own kinds (HTTP, auth)
        raise BadInput(f"--input {uri}: cannot list it ({str(exc).splitlines()[0]})") from None
    files = sorted(e.path for e in entries if e.type == pafs.FileType.File and e.base_name.endswith(".parquet")
                   and not e.base_name.startswith("."))
    if not files:
        raise BadInput(f"--input {uri}: folder holds no .parquet files")
    return fs, files


def shard_name(uri: str, path: str) -> str:
    """What messages call a shard of `uri` (the scheme, then its path)."""
    scheme = urlparse(uri).scheme
    return f"{scheme}://{path.lstrip('/')}" if scheme != "file" else f"file://{path}"


def fingerprint(uri: str, fs: pafs.FileSystem, files: list[str]) -> dict[str, dict]:
    """Size and streamed xxh3 of each shard: the same values `store.fingerprint` gives a local copy."""
    out = {}
    for path in files:
        h, size = xxhash.xxh3_64(), 0
        try:
            with fs.open_input_stream(path) as f:
                while block := f.read(CHUNK):
                    h.update(block)
                    size += len(block)
        except Exception as exc:  # noqa: BLE001 - as above
            raise BadInput(f"{shard_name(uri, path)}: cannot read ({str(exc).splitlines()[0]})") from None
        out[shard_name(uri, path)] = {"bytes": size, "xxh3_64": h.hexdigest()}
    return out


def read_shard(uri: str, fs: pafs.FileSystem, path: str, check_ids: bool = True) -> pa.Table:
    """One shard, read and checked against the trace schema (errors name the shard)."""
    from curate import schema, store

    where = shard_name(uri, path)
    try:
        with fs.open_input_file(path) as f:
            table = pq.read_table(f)
    except Exception as exc:  # noqa: BLE001 - as above
        raise BadInput(f"{where}: unreadable Parquet file: {str(exc).splitlines()[0]}") from None
    store.check_utf8(table, where)
    return schema.conform(table, where, check_ids=check_ids)


def shard_rows(uri: str, fs: pafs.FileSystem, path: str) -> int:
    """A shard's row count from its footer (what the Ray engine cuts it into blocks by)."""
    try:
        with fs.open_input_file(path) as f:
            return pq.read_metadata(f).num_rows
    except Exception as exc:  # noqa: BLE001 - as above
        raise BadInput(f"{shard_name(uri, path)}: unreadable Parquet file: {str(exc).splitlines()[0]}") from None


def load_traces(uri: str, fs: pafs.FileSystem, files: list[str], check_ids: bool = True) -> pa.Table:
    """Every shard, read and checked one at a time (errors name the shard), then concatenated."""
    from curate import schema

    tables = [read_shard(uri, fs, path, check_ids=check_ids) for path in files]
    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="permissive")
    if len(tables) > 1:
        schema.check(table, uri, check_ids=False)  # ids unique across shards too
    return table
