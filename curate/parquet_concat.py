"""Parquet files concatenated as bytes: one file whose row groups are the files' row groups, in order.

A cluster's workers each encode a run of a file's row groups (`curate.store.parquet_bytes`); the driver appends their
bodies to one file and writes one footer whose row groups are theirs with every file offset
shifted to where their bytes now lie (`concat`). No value is decoded or compressed again. When
every piece was written with the same schema, metadata and writer settings and cut at the row
groups the whole file would have, the result is byte for byte the file one writer gives the whole
table: a row group's bytes depend only on its rows and the settings, and its offsets appear only
in the footer (Parquet keeps no offset in a page).

The footer is Thrift's compact protocol. `_read` and `_write` keep every field as it came (type,
id, value), known to this module or not, so a footer read and written again is the same bytes;
only the fields named below are changed (parquet.thrift's ids: FileMetaData, RowGroup,
ColumnChunk, ColumnMetaData).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterable
from pathlib import Path

MAGIC = b"PAR1"

# Compact protocol types.
TRUE, FALSE, BYTE, I16, I32, I64, DOUBLE, BINARY, LIST, SET, MAP, STRUCT = range(1, 13)

# FileMetaData: num_rows, row_groups. RowGroup: columns, file_offset, ordinal. ColumnChunk:
# file_offset, meta_data, offset_index_offset, column_index_offset. ColumnMetaData:
# data_page_offset, index_page_offset, dictionary_page_offset, bloom_filter_offset.
FILE_ROWS, FILE_GROUPS = 3, 4
GROUP_COLUMNS, GROUP_OFFSETS, GROUP_ORDINAL = 1, (5,), 7
CHUNK_META, CHUNK_OFFSETS = 3, (2, 4, 6)
META_OFFSETS = (9, 10, 11, 14)


class BadParquet(ValueError):
    """A piece that is not a Parquet file this module can join."""


# ------------------------------------------------------------------------------ the Thrift codec

def _varint(buf: io.BytesIO) -> int:
    shift = value = 0
    while True:
        b = buf.read(1)
        if not b:
            raise BadParquet("footer ends inside a number")
        value |= (b[0] & 0x7F) << shift
        if b[0] < 0x80:
            return value
        shift += 7


def _put_varint(out: bytearray, value: int) -> None:
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)


def _unzig(n: int) -> int:
    return (n >> 1) ^ -(n & 1)


def _zig(n: int) -> int:
    return (n << 1) ^ (n >> 63)


def _read_value(buf: io.BytesIO, kind: int):
    if kind in (TRUE, FALSE):  # a bool inside a list: one byte
        return buf.read(1)[0] == TRUE
    if kind == BYTE:
        return buf.read(1)[0]
    if kind in (I16, I32, I64):
        return _unzig(_varint(buf))
    if kind == DOUBLE:
        return buf.read(8)
    if kind == BINARY:
        return buf.read(_varint(buf))
    if kind in (LIST, SET):
        head = buf.read(1)[0]
        size, elem = head >> 4, head & 0x0F
        if size == 15:
            size = _varint(buf)
        return elem, [_read_value(buf, elem) for _ in range(size)]
    if kind == MAP:
        size = _varint(buf)
        if not size:
            return 0, []
        types = buf.read(1)[0]
        return types, [(_read_value(buf, types >> 4), _read_value(buf, types & 0x0F)) for _ in range(size)]
    if kind == STRUCT:
        return _read(buf)
    raise BadParquet(f"footer has an unknown Thrift type {kind}")


def _read(buf: io.BytesIO) -> list[list]:
    """A struct: its fields as [id, type, value], in the order written."""
    fields, last = [], 0
    while True:
        head = buf.read(1)
        if not head:
            raise BadParquet("footer ends inside a struct")
        if head[0] == 0:
            return fields
        delta, kind = head[0] >> 4, head[0] & 0x0F
        fid = last + delta if delta else _unzig(_varint(buf))
        value = kind == TRUE if kind in (TRUE, FALSE) else _read_value(buf, kind)
        fields.append([fid, kind, value])
        last = fid


def _write_value(out: bytearray, kind: int, value) -> None:
    if kind in (TRUE, FALSE):
        out.append(TRUE if value else FALSE)
    elif kind == BYTE:
        out.append(value)
    elif kind in (I16, I32, I64):
        _put_varint(out, _zig(value))
    elif kind == DOUBLE:
        out += value
    elif kind == BINARY:
        _put_varint(out, len(value))
        out += value
    elif kind in (LIST, SET):
        elem, items = value
        if len(items) < 15:
            out.append(len(items) << 4 | elem)
        else:
            out.append(0xF0 | elem)
            _put_varint(out, len(items))
        for item in items:
            _write_value(out, elem, item)
    elif kind == MAP:
        types, items = value
        _put_varint(out, len(items))
        if items:
            out.append(types)
            for k, v in items:
                _write_value(out, types >> 4, k)
                _write_value(out, types & 0x0F, v)
    else:
        _write(out, value)


def _write(out: bytearray, fields: list[list]) -> None:
    last = 0
    for fid, kind, value in fields:
        wire = (TRUE if value else FALSE) if kind in (TRUE, FALSE) else kind
        if 0 < fid - last <= 15:
            out.append((fid - last) << 4 | wire)
        else:
            out.append(wire)
            _put_varint(out, _zig(fid))
        if kind not in (TRUE, FALSE):
            _write_value(out, kind, value)
        last = fid
    out.append(0)


def _field(fields: list[list], fid: int):
    return next((f for f in fields if f[0] == fid), None)


# ------------------------------------------------------------------------------ files

def footer(data: bytes) -> tuple[list[list], int]:
    """A Parquet file's footer (FileMetaData as fields) and where its body ends."""
    if len(data) < 12 or data[:4] != MAGIC or data[-4:] != MAGIC:
        raise BadParquet("not a Parquet file (no PAR1 at both ends)")
    size = struct.unpack("<i", data[-8:-4])[0]
    start = len(data) - 8 - size
    if size <= 0 or start < 4:
        raise BadParquet("its footer length is wrong")
    buf = io.BytesIO(data[start:-8])
    fields = _read(buf)
    if buf.tell() != size:
        raise BadParquet("its footer has bytes after the metadata")
    return fields, start


class Concat:
    """One Parquet file from pieces appended in order (`add`), its footer written by `close`: the
    pieces' row groups, their offsets shifted, numbered in order. Every piece must have the first
    one's schema and key-value metadata (the footer is the first piece's, but its row groups)."""

    def __init__(self, f):
        self._f = f
        self._at = 4
        self._groups: list = []
        self._rows = 0
        self._head: list[list] | None = None
        f.write(MAGIC)

    def add(self, data: bytes) -> int:
        """Append one piece (a whole Parquet file's bytes); returns its rows."""
        fields, end = footer(data)
        rest = [f for f in fields if f[0] not in (FILE_ROWS, FILE_GROUPS)]
        if self._head is None:
            self._head = fields
        elif rest != [f for f in self._head if f[0] not in (FILE_ROWS, FILE_GROUPS)]:
            raise BadParquet("a piece's schema or metadata differs from the first piece's")
        shift = self._at - 4
        groups = _field(fields, FILE_GROUPS)
        for group in (groups[2][1] if groups else []):
            for fid in GROUP_OFFSETS:
                _shift(group, fid, shift)
            ordinal = _field(group, GROUP_ORDINAL)
            if ordinal is not None:
                ordinal[2] = len(self._groups)
            for chunk in _field(group, GROUP_COLUMNS)[2][1]:
                for fid in CHUNK_OFFSETS:
                    _shift(chunk, fid, shift)
                meta = _field(chunk, CHUNK_META)
                for fid in META_OFFSETS if meta is not None else ():
                    _shift(meta[2], fid, shift)
            self._groups.append(group)
        rows = _field(fields, FILE_ROWS)[2]
        self._f.write(memoryview(data)[4:end])
        self._at += end - 4
        self._rows += rows
        return rows

    def close(self) -> None:
        if self._head is None:
            raise BadParquet("no piece to join")
        fields = []
        for fid, kind, value in self._head:
            if fid == FILE_ROWS:
                value = self._rows
            elif fid == FILE_GROUPS:
                value = (STRUCT, self._groups)
            fields.append([fid, kind, value])
        out = bytearray()
        _write(out, fields)
        self._f.write(out)
        self._f.write(struct.pack("<i", len(out)))
        self._f.write(MAGIC)


def _shift(fields: list[list], fid: int, by: int) -> None:
    found = _field(fields, fid)
    if found is not None and found[2]:  # 0: a field the writer left unset, kept so
        found[2] += by


def concat(pieces: Iterable[bytes], path: Path) -> int:
    """Write `pieces` (whole Parquet files' bytes) as one file at `path`; returns its rows."""
    rows = 0
    with open(path, "wb") as f:
        joined = Concat(f)
        for data in pieces:
            rows += joined.add(data)
        joined.close()
    return rows
