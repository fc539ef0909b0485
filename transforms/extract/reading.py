"""Reading one file's bytes, bounded: never more than the limits allow, whatever the file claims.

A file is read once, in the process that extracts it, and its bytes are
dropped with the extraction. Text-like tabular formats (CSV/TSV/JSON/JSONL,
plain text) are parsed from their first `max_read_bytes` only: the rest is
streamed through the content hash and its line breaks are counted, so row
counts stay right without holding the file. Every other format is read whole,
up to `max_file_bytes`; the read stops one byte past it, so a file that grows
or never ends (a device, a FIFO being written) cannot exhaust memory.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from typing import BinaryIO, Optional

from transforms.config import ExtractionConfig
from transforms.model import ExtractionError

# Formats whose readers work from the head of the file and count the rest.
HEAD_FORMATS = frozenset({"csv", "tsv", "json", "jsonl", "txt", "md", "markdown"})
CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class FileContent:
    """The bytes a reader sees and what is known of the whole file."""

    data: bytes  # the whole file, or its head when `complete` is False
    size: int  # bytes in the whole file
    content_hash: str  # sha256 of the whole file
    complete: bool = True
    line_count: Optional[int] = None  # line breaks in the whole file, when only its head was kept

    @classmethod
    def of(cls, data: bytes, size: Optional[int] = None) -> "FileContent":
        """Content already in memory (tests, the Python API)."""
        return cls(data, len(data) if size is None else size, hashlib.sha256(data).hexdigest())


def read_content(path: str, extension: str, limits: ExtractionConfig) -> FileContent:
    """The file's content under the limits, or ExtractionError (stage "read")."""
    try:
        with _open(path) as handle:
            return read_stream(handle, extension, limits)
    except ExtractionError:
        raise
    except Exception as exc:  # any filesystem error is this file's failure, never the run's
        raise ExtractionError("read_error", f"{type(exc).__name__}: {exc}", stage="read") from exc


def read_stream(handle: BinaryIO, extension: str, limits: ExtractionConfig) -> FileContent:
    digest = hashlib.sha256()
    keep = limits.max_read_bytes if extension in HEAD_FORMATS else limits.max_file_bytes
    head = bytearray()
    size = 0
    lines = 0
    while True:
        chunk = handle.read(CHUNK_BYTES)
        if not chunk:
            break
        size += len(chunk)
        if size > limits.max_file_bytes:
            raise ExtractionError(
                "too_large", f"more than the {limits.max_file_bytes}-byte limit (read stopped)", stage="read"
            )
        digest.update(chunk)
        room = keep - len(head)
        if room > 0:
            head += chunk[:room]
        if room < len(chunk):  # only counted: rows beyond the head are estimated from line breaks
            lines += chunk.count(b"\n", max(room, 0))
    complete = size == len(head)
    line_count = None if complete else head.count(b"\n") + lines
    return FileContent(bytes(head), size, digest.hexdigest(), complete, line_count)


def _open(path: str) -> BinaryIO:
    if "://" in path:
        from apache_beam.io.filesystems import FileSystems

        return FileSystems.open(path)
    # O_NONBLOCK: opening a FIFO must not wait for a writer; only regular files are read.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    kind = stat.S_IFMT(os.fstat(fd).st_mode)
    if kind != stat.S_IFREG:
        os.close(fd)
        what = _KINDS.get(kind, "special file")
        raise ExtractionError("read_error", f"not a regular file: a {what}", stage="read")
    return os.fdopen(fd, "rb", buffering=0)


_KINDS = {stat.S_IFIFO: "named pipe (FIFO)", stat.S_IFCHR: "character device", stat.S_IFBLK: "block device",
          stat.S_IFSOCK: "socket", stat.S_IFDIR: "directory"}
