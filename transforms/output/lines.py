"""The JSONL line format of every output, and records carried between stages as their line.

A line has its keys sorted, no NaN (a non-finite number is written as null) and
readable UTF-8. While records wait in memory (a shard being gathered, a stage's
output on the in-process runner) they travel as their line compressed.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Mapping
from typing import Any, Dict, Optional, Tuple


def dumps(record: Mapping[str, Any]) -> str:
    """One JSONL line: keys sorted, no NaN (a non-finite number is written as null), UTF-8 kept readable.

    A lone surrogate (a path whose bytes are not UTF-8) is written as its JSON
    escape, which reads back to the same string: the line is always valid UTF-8.
    """
    if isinstance(record, PackedRecord):
        return unpacked_line(record.compressed())
    return _utf8_line(record).decode("utf-8")


def _utf8_line(record: Mapping[str, Any]) -> bytes:
    try:
        line = json.dumps(record, sort_keys=True, ensure_ascii=False, allow_nan=False, default=str)
    except ValueError:
        line = json.dumps(_finite(record), sort_keys=True, ensure_ascii=False, allow_nan=False, default=str)
    try:
        return line.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: its JSON escape
        return line.encode("utf-8", "backslashreplace")


def packed_line(record: Mapping[str, Any]) -> bytes:
    """A record's line compressed while its shard is gathered (a shard's lines wait in memory)."""
    if isinstance(record, PackedRecord):
        return record.compressed()
    return zlib.compress(_utf8_line(record), 1)


def unpacked_line(packed: bytes) -> str:
    return line_bytes(packed).decode("utf-8")


def line_bytes(packed: bytes) -> bytes:
    """The UTF-8 line a packed record carries, as written."""
    return zlib.decompress(packed)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


class PackedRecord(Mapping):
    """A record carried as its output line (compressed) plus the few fields (FIELDS) that stages
    read before it is written. Filtering, counting and keying read those fields; the line is
    decoded only when another field is asked for, and is written as it is, never encoded again.
    Reading it gives the record as written (a NaN reads back as None)."""

    FIELDS: Tuple[str, ...] = ()
    __slots__ = ("packed", "fields", "_record")

    def __init__(self, record: Mapping[str, Any]):
        self.packed = packed_line(record)
        self.fields = {k: record[k] for k in self.FIELDS if k in record}
        self._record: Optional[Dict[str, Any]] = None

    def compressed(self) -> bytes:
        """The compressed line."""
        return self.packed

    def payload(self):
        """What a shard carries for this record until it is written (writer.shard_payload)."""
        return self.packed

    def _decoded(self) -> Dict[str, Any]:
        if self._record is None:
            self._record = json.loads(line_bytes(self.compressed()))
        return self._record

    def __getitem__(self, key: str) -> Any:
        if key in self.fields:
            return self.fields[key]
        return self._decoded()[key]

    def __iter__(self):
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())

    def __reduce__(self):  # pickled without the decoded copy
        return packed_record, (type(self), self.fields, self.packed)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.fields})"


def packed_record(cls, fields: Dict[str, Any], packed: bytes) -> PackedRecord:
    """A PackedRecord (of class `cls`) from its fields and line as stored."""
    record = cls.__new__(cls)
    record.packed, record.fields, record._record = packed, fields, None
    return record
