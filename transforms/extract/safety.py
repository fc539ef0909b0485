"""Checks that run before any reader, and the per-file time limit.

Every check looks at bytes already in memory and at container directories
only (zip central directory, OLE/CFB directory, the first few KB of XML
parts); nothing is fully decompressed or parsed here. Each failure raises
`ExtractionError` with a specific `error_type`:

    too_large          the file is bigger than `max_file_bytes`
    unsupported_format no reader for the extension
    encrypted          a password-protected Office file
    corrupt_archive    an Office or OpenDocument extension whose bytes are not a readable zip package
    zip_bomb           the zip directory promises too much uncompressed data
    xml_bomb           a DOCTYPE/ENTITY declaration in a package XML part
    timeout            `run_with_timeout` gave up waiting for a reader
"""

from __future__ import annotations

import io
import struct
import threading
import zipfile
import zlib
from typing import Callable, Collection, Dict, List, NamedTuple, Optional, TypeVar

from transforms.config import ExtractionConfig
from transforms.model import ExtractionError

OOXML_EXTENSIONS = frozenset({
    "xlsx", "xlsm", "xltx", "xltm",
    "docx", "docm", "dotx", "dotm",
    "pptx", "pptm", "potx", "potm", "ppsx", "ppsm",
})
ODF_EXTENSIONS = frozenset({"odt", "ods", "odp"})
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SQLITE_MAGIC = b"SQLite format 3\x00"
# Streams an encrypted OOXML file carries inside its CFB wrapper (MS-OFFCRYPTO), lower-cased:
# CFB names compare case-insensitively.
_ENCRYPTION_STREAMS = frozenset({"encryptioninfo", "encryptedpackage"})
_XML_HEAD_BYTES = 4096  # a DOCTYPE must precede the root element, so the head is enough
# Parts smaller than this cannot bomb; tiny, very repetitive XML legitimately compresses 100:1+.
_RATIO_MIN_BYTES = 1024 * 1024

T = TypeVar("T")


def check(
    data: bytes,
    extension: str,
    limits: ExtractionConfig,
    supported: Collection[str],
    size: Optional[int] = None,
) -> None:
    """All pre-read checks for one file, cheapest first."""
    check_size(len(data) if size is None else max(size, len(data)), limits)
    check_supported(data, extension, supported)
    if extension in OOXML_EXTENSIONS:
        check_ooxml_package(data, limits)
    elif extension in ODF_EXTENSIONS:
        check_zip_package(data, limits, "mimetype", "OpenDocument")
    elif extension in ("xls", "xlt"):
        check_legacy_excel(data)


def check_size(size: int, limits: ExtractionConfig, stage: str = "extract") -> None:
    if size > limits.max_file_bytes:
        raise ExtractionError("too_large", f"{size} bytes exceeds the {limits.max_file_bytes}-byte limit", stage)


def check_supported(data: bytes, extension: str, supported: Collection[str]) -> None:
    if extension not in supported:
        what = f"'.{extension}' files" if extension else "files without an extension"
        raise ExtractionError("unsupported_format", f"no reader for {what}")
    # A .db is often not SQLite at all (Windows Thumbs.db is a CFB container).
    if extension in ("db", "sqlite") and data and not data.startswith(SQLITE_MAGIC):
        raise ExtractionError("unsupported_format", f"'.{extension}' file is not a SQLite 3 database")


# ---------------------------------------------------------------- OOXML packages


def check_ooxml_package(data: bytes, limits: ExtractionConfig) -> None:
    """encrypted / corrupt_archive / zip_bomb / xml_bomb for the Office Open XML formats."""
    if data.startswith(CFB_MAGIC):
        _raise_for_cfb_package(data)
    check_zip_package(data, limits, "[Content_Types].xml", "Office Open XML")


def check_zip_package(data: bytes, limits: ExtractionConfig, marker: str, kind: str) -> None:
    """corrupt_archive / zip_bomb / xml_bomb for a zip package that must hold the part `marker`."""
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        members = package.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, struct.error) as exc:
        raise ExtractionError("corrupt_archive", f"not a readable zip package: {exc}") from exc
    if not any(m.filename == marker for m in members):
        raise ExtractionError("corrupt_archive", f"zip has no {marker}: not an {kind} package")
    _check_members(members, len(data), limits)
    _check_xml_parts(package, members)


def is_encrypted_package(data: bytes) -> bool:
    """An OLE/CFB container holding an encrypted OOXML package (MS-OFFCRYPTO)."""
    try:
        return bool(set(cfb_directory(data)) & _ENCRYPTION_STREAMS)
    except ValueError:
        return False


def _raise_for_cfb_package(data: bytes) -> None:
    """An Office extension holding a CFB container: encrypted, or a legacy file renamed."""
    try:
        names = set(cfb_directory(data))  # lower-cased
    except ValueError as exc:
        raise ExtractionError("corrupt_archive", f"unreadable OLE/CFB container: {exc}") from exc
    if names & _ENCRYPTION_STREAMS:
        raise ExtractionError("encrypted", "password-protected Office file (encrypted package in an OLE container)")
    raise ExtractionError("corrupt_archive", "OLE/CFB container (legacy binary format) where a zip package was expected")


def _check_members(members: List[zipfile.ZipInfo], archive_size: int, limits: ExtractionConfig) -> None:
    total = 0
    for member in members:
        # Local header (30 bytes + name) plus data must lie inside the file; else it was cut short.
        if member.header_offset + 30 + len(member.filename) + member.compress_size > archive_size:
            raise ExtractionError("corrupt_archive", f"truncated zip: part '{member.filename}' runs past the end")
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size >= _RATIO_MIN_BYTES and ratio > limits.max_compression_ratio:
            raise ExtractionError(
                "zip_bomb",
                f"part '{member.filename}' expands {ratio:.0f}x (limit {limits.max_compression_ratio:g}x)",
            )
    if total > limits.max_uncompressed_bytes:
        raise ExtractionError(
            "zip_bomb", f"{total} uncompressed bytes exceeds the {limits.max_uncompressed_bytes}-byte limit"
        )


def _check_xml_parts(package: zipfile.ZipFile, members: List[zipfile.ZipInfo]) -> None:
    """Rejects DTDs: the Office parsers use lxml, which may expand internal entities."""
    for member in members:
        if not member.filename.endswith((".xml", ".rels", ".vml")):
            continue
        try:
            with package.open(member) as part:
                head = _as_utf8(part.read(_XML_HEAD_BYTES))
        except (zipfile.BadZipFile, zlib.error, NotImplementedError, ValueError, OSError, EOFError) as exc:
            raise ExtractionError("corrupt_archive", f"unreadable part '{member.filename}': {exc}") from exc
        if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
            raise ExtractionError("xml_bomb", f"DOCTYPE/ENTITY declaration in '{member.filename}'")


def _as_utf8(head: bytes) -> bytes:
    """UTF-16 parts (allowed by OOXML) re-encoded so the ASCII markers can be found."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return head.decode("utf-16", errors="ignore").encode("utf-8")
    return head


# ---------------------------------------------------------------- OLE / CFB containers


class CfbEntry(NamedTuple):
    start_sector: int
    size: int


def cfb_directory(data: bytes) -> Dict[str, CfbEntry]:
    """Lower-cased stream and storage names of an OLE/CFB container (MS-CFB), from its directory.

    Raises ValueError for a malformed container. Chains are bounded by the
    file's sector count, so loops in a crafted FAT cannot hang.
    """
    try:
        return _read_cfb_directory(data)
    except struct.error as exc:  # a record cut off by the end of the file
        raise ValueError(f"truncated container: {exc}") from exc


def _read_cfb_directory(data: bytes) -> Dict[str, CfbEntry]:
    if len(data) < 512 or not data.startswith(CFB_MAGIC):
        raise ValueError("not a CFB container")
    shift = struct.unpack_from("<H", data, 0x1E)[0]
    if shift not in (9, 12):
        raise ValueError(f"bad sector shift {shift}")
    n_fat, first_dir = struct.unpack_from("<II", data, 0x2C)
    first_difat, n_difat = struct.unpack_from("<II", data, 0x44)
    sector_size, max_sectors = 1 << shift, (len(data) >> shift) + 1

    def sector(sid: int) -> int:
        offset = (sid + 1) << shift
        if offset >= len(data):
            raise ValueError(f"sector {sid} outside the file")
        return offset

    fat_sectors = list(struct.unpack_from("<109I", data, 0x4C))
    sid = first_difat
    for _ in range(min(n_difat, max_sectors)):  # DIFAT continuation for FATs beyond 109 sectors
        if sid >= 0xFFFFFFFA:
            break
        entries = struct.unpack_from(f"<{sector_size // 4}I", data, sector(sid))
        fat_sectors.extend(entries[:-1])
        sid = entries[-1]
    fat_sectors = fat_sectors[:n_fat]
    per_sector = sector_size // 4

    def next_sector(sid: int) -> int:
        if sid // per_sector >= len(fat_sectors):
            raise ValueError(f"sector {sid} has no FAT entry")
        return struct.unpack_from("<I", data, sector(fat_sectors[sid // per_sector]) + (sid % per_sector) * 4)[0]

    names: Dict[str, CfbEntry] = {}
    sid = first_dir
    for _ in range(max_sectors):
        if sid >= 0xFFFFFFFA:  # end of chain
            return names
        base = sector(sid)
        for offset in range(base, min(base + sector_size, len(data) - 127), 128):
            name_len, kind = struct.unpack_from("<HB", data, offset + 64)
            if kind in (1, 2, 5) and 2 <= name_len <= 64:
                name = data[offset : offset + name_len - 2].decode("utf-16-le", errors="replace")
                start, size = struct.unpack_from("<IQ", data, offset + 0x74)
                names[name.lower()] = CfbEntry(start, size & 0xFFFFFFFF if shift == 9 else size)
        sid = next_sector(sid)
    raise ValueError("directory chain loops")


def check_legacy_excel(data: bytes) -> None:
    """A BIFF8 workbook whose first record after BOF is FILEPASS is password-protected."""
    if not data.startswith(CFB_MAGIC):
        return  # BIFF2-4 stream or HTML saved as .xls: the reader decides
    try:
        streams = cfb_directory(data)
    except ValueError:
        return  # the reader reports the corruption with its own message
    if streams.keys() & _ENCRYPTION_STREAMS:
        raise ExtractionError("encrypted", "password-protected workbook (encrypted OLE container)")
    book = streams.get("workbook") or streams.get("book")
    shift = struct.unpack_from("<H", data, 0x1E)[0]
    cutoff = struct.unpack_from("<I", data, 0x38)[0]
    if not book or book.size < cutoff:  # small streams live in the mini stream; not worth chasing
        return
    offset = (book.start_sector + 1) << shift
    if offset + 8 > len(data):
        return
    bof_type, bof_len = struct.unpack_from("<HH", data, offset)
    next_at = offset + 4 + bof_len
    if bof_type == 0x0809 and next_at + 2 <= len(data) and struct.unpack_from("<H", data, next_at)[0] == 0x002F:
        raise ExtractionError("encrypted", "password-protected workbook (FILEPASS record)")


# ---------------------------------------------------------------- time limit


def run_with_timeout(fn: Callable[[], T], seconds: Optional[float]) -> T:
    """Runs `fn()` and returns its result, or raises ExtractionError("timeout") after `seconds`.

    Works from any thread (Beam runs DoFns on worker threads, where
    signal.alarm is unavailable): `fn` runs on a daemon thread and the caller
    stops waiting at the limit. Limitation: Python cannot kill a thread, so a
    reader stuck in a loop keeps its CPU and memory until it returns; the run
    moves on and the daemon thread never blocks process exit. The pre-read
    checks bound the input size, so a runaway reader is finite; where a hard
    stop is needed, run workers as processes and recycle them. A daemon thread
    rather than a ThreadPoolExecutor, because executor threads are joined at
    interpreter exit and a stuck one would hang the worker's shutdown.
    """
    if not seconds or seconds <= 0:
        return fn()
    outcome: dict = {}

    def target() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc

    worker = threading.Thread(target=target, name="filegraph-reader", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise ExtractionError("timeout", f"reader did not finish within {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
