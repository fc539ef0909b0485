"""Readers for tabular formats: Excel workbooks, CSV/TSV, JSON/JSONL and SQLite.

Each reader is `read_<fmt>(data: bytes, ctx) -> Extracted`. They all share the
same shape of work: find the tables, hand each one's header and row stream
to `profile.profile_table`, and render a bounded markdown preview. Safety
checks (size, zip bombs, encryption) have already run; what is left to fail
here is parsing, which raises `ExtractionError("parse_error", ...)`.

Every reader's `structure` holds at least "columns" (all column names, in
table order) and "row_count" (all tables' data rows), so downstream
strategies can treat tabular files alike.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import sqlite3
import struct
import tempfile
import zipfile
from itertools import chain, islice
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from transforms.extract.context import ExtractContext
from transforms.extract.profile import (
    HEADER_SCAN_ROWS,
    bounded_text,
    clean_header,
    detect_header,
    is_blank_row,
    markdown_table,
    profile_batches,
    profile_table,
)
from transforms.model import Extracted, ExtractionError, TableProfile

PREVIEW_ROWS = 5  # rows shown under each table's header in `text`
LARGE_CSV_BYTES = 4 * 1024 * 1024  # above this, CSV goes through pyarrow
SNIFF_BYTES = 64 * 1024
JSON_PREVIEW_RECORDS = 3
JSON_TABLE_DEPTH = 3  # how deep under the top object record arrays are looked for
MAX_JSON_TABLES = 8
FIELD_PATH_ITEMS = 200  # list items walked per list when collecting field paths
SQLITE_MAGIC = b"SQLite format 3\x00"


# ==========================================================================
# Shared table plumbing


class _Tables:
    """Collects the tables of one file with their text previews."""

    def __init__(self, ctx: ExtractContext):
        self.ctx = ctx
        self.profiles: List[TableProfile] = []
        self.sections: List[str] = []
        self.redactions: Dict[str, int] = {}

    def add(
        self,
        title: str,
        name: str,
        header: Sequence,
        rows: Iterable[Sequence],
        preview: Sequence[Sequence],
        total_rows: Optional[int] = None,
        header_row: int = 0,
    ) -> TableProfile:
        profile = profile_table(
            name, header, rows, self.ctx, total_rows, header_row=header_row, redactions=self.redactions
        )
        self.add_profile(title, profile, header, preview)
        return profile

    def add_profile(self, title: str, profile: TableProfile, header: Sequence, preview: Sequence[Sequence]) -> None:
        self.profiles.append(profile)
        self.sections.append(f"{title}\n\n{markdown_table(header, preview[:PREVIEW_ROWS])}")

    def text(self) -> str:
        return bounded_text(self.sections, self.ctx.limits.max_text_chars)

    def columns(self) -> List[str]:
        return [column.name for table in self.profiles for column in table.columns]

    def row_count(self) -> int:
        return sum(table.row_count for table in self.profiles)

    def extracted(self, structure: Dict[str, Any], properties: Optional[Dict[str, Any]] = None,
                  warnings: Optional[List[str]] = None, text: Optional[str] = None) -> Extracted:
        """The reader's result; `text` replaces the markdown tables when given."""
        return Extracted(
            text=self.text() if text is None else bounded_text([text], self.ctx.limits.max_text_chars),
            tables=self.profiles,
            structure=structure,
            properties=properties or {},
            warnings=warnings or [],
            redactions=self.redactions,
        )


def _split_header(head: List[Sequence]) -> Tuple[int, Sequence, List[Sequence]]:
    """Header index, header row and the non-blank rows after it, from a table's first rows."""
    index = detect_header(head)
    header = head[index] if head else []
    return index, header, [row for row in head[index + 1 :] if not is_blank_row(row)]


def _table_name(ctx: ExtractContext) -> str:
    return Path(ctx.file_name).stem or ctx.file_name


def _iso(value: str) -> Optional[str]:
    """ISO 8601 text of a W3CDTF/ISO timestamp, or None when it is not one."""
    try:
        return dt.datetime.fromisoformat(value.strip()).isoformat()
    except (ValueError, AttributeError):
        return None


# ==========================================================================
# Excel: xlsx / xlsm / xls


_CORE_NS = {
    "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
}
_CORE_FIELDS = {
    f"{{{_CORE_NS['dc']}}}creator": "author",
    f"{{{_CORE_NS['dc']}}}title": "title",
    f"{{{_CORE_NS['dc']}}}subject": "subject",
    f"{{{_CORE_NS['dc']}}}description": "description",
    f"{{{_CORE_NS['cp']}}}keywords": "keywords",
    f"{{{_CORE_NS['cp']}}}category": "category",
    f"{{{_CORE_NS['cp']}}}lastModifiedBy": "last_modified_by",
    f"{{{_CORE_NS['dcterms']}}}created": "created_at",
    f"{{{_CORE_NS['dcterms']}}}modified": "modified_at",
}
_CUSTOM_PROPERTY = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}property"


def read_xlsx(data: bytes, ctx: ExtractContext) -> Extracted:
    """xlsx / xlsm: cached cell values via calamine, properties from docProps."""
    warnings: List[str] = []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            properties = ooxml_properties(archive)
    except zipfile.BadZipFile as exc:
        raise ExtractionError("parse_error", f"not a valid workbook package: {exc}") from exc
    except (SafeET.ParseError, DefusedXmlException, ValueError) as exc:
        # Properties are an extra: a damaged docProps part must not lose the cells.
        properties = {}
        warnings.append(f"document properties unreadable: {exc}")
    return _read_workbook(data, ctx, properties, warnings)


read_xlsm = read_xlsx


def read_xls(data: bytes, ctx: ExtractContext) -> Extracted:
    """Legacy Excel: cells via calamine, properties from the OLE summary stream."""
    return _read_workbook(data, ctx, ole_summary_properties(data), [])


def ooxml_properties(archive: zipfile.ZipFile) -> Dict[str, Any]:
    """Core and custom document properties of an OOXML package."""
    names = set(archive.namelist())
    properties: Dict[str, Any] = {}
    if "docProps/core.xml" in names:
        for element in SafeET.fromstring(archive.read("docProps/core.xml")):
            key = _CORE_FIELDS.get(element.tag)
            text = (element.text or "").strip()
            if key and text:
                properties[key] = (_iso(text) or text) if key.endswith("_at") else text
    if "docProps/custom.xml" in names:
        custom = {
            prop.get("name"): _custom_value(prop)
            for prop in SafeET.fromstring(archive.read("docProps/custom.xml")).iter(_CUSTOM_PROPERTY)
            if prop.get("name")
        }
        if custom:
            properties["custom"] = custom
            label = _classification(custom)
            if label:
                properties["classification"] = label
    return properties


def _custom_value(prop) -> Any:
    """The typed value of a custom property (its one vt:* child)."""
    for child in prop:
        kind = child.tag.rsplit("}", 1)[-1]
        text = (child.text or "").strip()
        if kind in ("i1", "i2", "i4", "i8", "int", "ui1", "ui2", "ui4", "ui8", "uint"):
            return int(text) if text.lstrip("-").isdigit() else text
        if kind in ("r4", "r8", "decimal"):
            try:
                return float(text)
            except ValueError:
                return text
        if kind == "bool":
            return text.lower() in ("true", "1")
        if kind == "filetime" or kind == "date":
            return _iso(text) or text
        return text
    return None


def _classification(custom: Dict[str, Any]) -> Optional[str]:
    """A sensitivity label from custom properties (plain or Microsoft Purview)."""
    for name, value in custom.items():
        lowered = name.lower()
        if lowered in ("classification", "sensitivity", "confidentiality") or (
            lowered.startswith("msip_label_") and lowered.endswith("_name")
        ):
            if isinstance(value, str) and value:
                return value
    return None


def _read_workbook(data: bytes, ctx: ExtractContext, properties: Dict[str, Any],
                   warnings: List[str]) -> Extracted:
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own error types for every format problem
        raise ExtractionError("parse_error", f"cannot open workbook: {exc}") from exc
    tables = _Tables(ctx)
    sheets: List[Dict[str, Any]] = []
    try:
        for meta in book.sheets_metadata:
            hidden = meta.visible != SheetVisibleEnum.Visible
            info = {"name": meta.name, "hidden": hidden, "rows": 0, "columns": [],
                    "header_row": None, "merged_cells": 0}
            sheets.append(info)
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue  # chart and dialog sheets hold no cells
            try:
                sheet = book.get_sheet_by_name(meta.name)
            except Exception as exc:
                warnings.append(f"sheet '{meta.name}' unreadable: {exc}")
                continue
            info["merged_cells"] = len(sheet.merged_cell_ranges or ())
            profile = _read_sheet(sheet, hidden, tables)
            if profile is not None:
                info.update(rows=profile.row_count, columns=[c.name for c in profile.columns],
                            header_row=profile.header_row)
    except ExtractionError:
        raise
    except Exception as exc:
        raise ExtractionError("parse_error", f"cannot read workbook cells: {exc}") from exc
    finally:
        book.close()
    structure = {"sheets": sheets, "columns": tables.columns(), "row_count": tables.row_count()}
    return tables.extracted(structure, properties, warnings)


def _read_sheet(sheet, hidden: bool, tables: _Tables) -> Optional[TableProfile]:
    """Profiles one worksheet under its detected header; None when it is empty."""
    if sheet.start is None:
        return None
    first_row = sheet.start[0]
    # iter_rows starts at row 0 whatever the used range: skip the blank top.
    rows = islice(sheet.iter_rows(), first_row, None)
    head = list(islice(rows, HEADER_SCAN_ROWS))
    index, header, preview = _split_header(head)
    if is_blank_row(header):
        return None
    body = _without_total_row(
        row for row in chain(head[index + 1 :], rows) if not is_blank_row(row)
    )
    title = f"## Sheet: {sheet.name}" + (" (hidden)" if hidden else "")
    profile = tables.add(title, sheet.name, header, body, preview, header_row=first_row + index)
    if profile.sampled:  # the used range's height, blank rows included, is the best total known
        profile.row_count = max(profile.row_count, sheet.start[0] + sheet.height - profile.header_row - 1)
    return profile


def _without_total_row(rows: Iterator[Sequence]) -> Iterator[Sequence]:
    """Drops a trailing "Total" row, so column sums are not counted twice."""
    previous = None
    for row in rows:
        if previous is not None:
            yield previous
        previous = row
    if previous is not None and not _is_total_row(previous):
        yield previous


def _is_total_row(row: Sequence) -> bool:
    for cell in row:
        if cell not in ("", None):
            return isinstance(cell, str) and cell.strip().lower().startswith(("total", "grand total"))
    return False


# OLE property set ids of the SummaryInformation stream.
_SUMMARY_FIELDS = {2: "title", 3: "subject", 4: "author", 5: "keywords", 6: "description",
                   8: "last_modified_by", 12: "created_at", 13: "modified_at"}
_FILETIME_EPOCH = dt.datetime(1601, 1, 1, tzinfo=dt.timezone.utc)


def ole_summary_properties(data: bytes) -> Dict[str, Any]:
    """Title, author and dates from a legacy Office file's SummaryInformation.

    Best effort: legacy files without the stream, or with a damaged one,
    simply yield no properties.
    """
    from xlrd.compdoc import CompDoc

    try:
        stream = CompDoc(data, logfile=io.StringIO()).get_named_stream("\x05SummaryInformation")
        return _parse_property_set(stream) if stream else {}
    except Exception:  # a damaged property stream must not fail the workbook
        return {}


def _parse_property_set(stream: bytes) -> Dict[str, Any]:
    (section_offset,) = struct.unpack_from("<I", stream, 44)  # first section, after the FMTID
    _, count = struct.unpack_from("<II", stream, section_offset)
    entries = [struct.unpack_from("<II", stream, section_offset + 8 + 8 * i) for i in range(count)]
    codepage = "cp1252"
    values: Dict[int, Any] = {}
    for pid, offset in entries:
        start = section_offset + offset
        (vtype,) = struct.unpack_from("<I", stream, start)
        if pid == 1 and vtype == 2:  # codepage of the 8-bit strings
            (number,) = struct.unpack_from("<H", stream, start + 4)
            codepage = {65001: "utf-8", 1200: "utf-16-le"}.get(number, f"cp{number}")
        elif vtype in (30, 31):  # VT_LPSTR / VT_LPWSTR
            (length,) = struct.unpack_from("<I", stream, start + 4)
            size = length * 2 if vtype == 31 else length
            values[pid] = (vtype, stream[start + 8 : start + 8 + size])
        elif vtype == 64:  # VT_FILETIME, 100 ns ticks since 1601
            (ticks,) = struct.unpack_from("<Q", stream, start + 4)
            stamp = _FILETIME_EPOCH + dt.timedelta(microseconds=ticks // 10)
            if stamp.year >= 1980:  # smaller values are durations or unset fields
                values[pid] = (vtype, stamp)
    properties: Dict[str, Any] = {}
    for pid, (vtype, raw) in values.items():
        key = _SUMMARY_FIELDS.get(pid)
        if key is None:
            continue
        if vtype == 64:
            properties[key] = raw.isoformat()
            continue
        try:
            text = raw.decode("utf-16-le" if vtype == 31 else codepage, errors="replace")
        except LookupError:
            text = raw.decode("cp1252", errors="replace")
        text = text.split("\x00", 1)[0].strip()
        if text:
            properties[key] = text
    return properties


# ==========================================================================
# CSV / TSV


_DELIMITERS = ",;\t|"


def read_csv(data: bytes, ctx: ExtractContext) -> Extracted:
    """CSV/TSV: encoding and delimiter sniffed, header detected under title rows."""
    encoding = detect_encoding(data[:SNIFF_BYTES])
    sample = _decode(_cut_at_newline(data[:SNIFF_BYTES], len(data)), encoding)
    dialect = sniff_dialect(sample, prefer_tab=ctx.extension == "tsv")
    head = list(islice(_csv_rows(sample, dialect), HEADER_SCAN_ROWS))
    index, header, preview = _split_header(head)
    tables = _Tables(ctx)
    warnings: List[str] = []
    profile = None
    if len(data) > LARGE_CSV_BYTES:
        redactions: Dict[str, int] = {}
        profile = _profile_csv_arrow(data, encoding, dialect, index, header, ctx, redactions, warnings)
    if profile is not None:
        tables.add_profile(f"## Table: {_table_name(ctx)}", profile, header, preview)
        tables.redactions.update(redactions)
    elif header:
        rows = _csv_rows(_decode(data, encoding), dialect)
        body = (row for row in islice(rows, index + 1, None) if row)  # csv yields [] for blank lines
        profile = tables.add(f"## Table: {_table_name(ctx)}", _table_name(ctx), header, body, preview,
                             header_row=index)
    if profile is not None and profile.sampled:  # estimate the rows not read; quoted newlines count too
        profile.row_count = max(profile.row_count, data.count(b"\n") - index - 1)
    structure = {
        "columns": tables.columns(),
        "row_count": tables.row_count(),
        "delimiter": dialect.delimiter,
        "encoding": encoding,
        "header_row": index,
    }
    return tables.extracted(structure, {}, warnings)


read_tsv = read_csv


def detect_encoding(sample: bytes) -> str:
    """BOM, then UTF-8, then charset-normalizer's best guess."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 3:  # a character cut by the sample's end
            return "utf-8"
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    return best.encoding if best is not None else "cp1252"


def _decode(data: bytes, encoding: str) -> str:
    text = data.decode(encoding, errors="replace")
    # The csv module refuses NUL bytes; they carry nothing in text exports.
    return text.replace("\x00", "") if "\x00" in text else text


def _cut_at_newline(sample: bytes, full_size: int) -> bytes:
    """Drops the partial last line of a sample taken from a longer file."""
    if len(sample) >= full_size:
        return sample
    end = sample.rfind(b"\n")
    return sample[: end + 1] if end > 0 else sample


def sniff_dialect(sample: str, prefer_tab: bool = False) -> type:
    """The CSV dialect of a text sample.

    csv.Sniffer first, kept only when it splits the sample into rows of a
    consistent width; otherwise the delimiter that does so best.
    """
    lines = sample.splitlines()[:50]
    if prefer_tab and lines and "\t" in lines[0]:
        return _dialect("\t")
    try:
        sniffed = csv.Sniffer().sniff("\n".join(lines), delimiters=_DELIMITERS)
        if _consistency(lines, sniffed.delimiter)[0] >= 0.8:
            return _dialect(sniffed.delimiter, sniffed.quotechar or '"')
    except csv.Error:
        pass
    best = max(_DELIMITERS, key=lambda d: _consistency(lines, d))
    return _dialect(best if _consistency(lines, best)[1] > 1 else ("\t" if prefer_tab else ","))


def _consistency(lines: List[str], delimiter: str) -> Tuple[float, int]:
    """Share of rows with the most common field count (>1), and that count."""
    widths = [len(row) for row in csv.reader(lines, delimiter=delimiter) if row]
    if not widths:
        return 0.0, 0
    mode = max(set(widths), key=widths.count)
    if mode < 2:
        return 0.0, mode
    return widths.count(mode) / len(widths), mode


def _dialect(delimiter: str, quotechar: str = '"') -> type:
    class Sniffed(csv.excel):
        pass

    Sniffed.delimiter = delimiter
    Sniffed.quotechar = quotechar
    return Sniffed


def _csv_rows(text: str, dialect) -> Iterator[List[str]]:
    try:
        yield from csv.reader(io.StringIO(text), dialect)
    except csv.Error as exc:
        raise ExtractionError("parse_error", f"malformed CSV: {exc}") from exc


def _profile_csv_arrow(data, encoding, dialect, index, header, ctx, redactions, warnings) -> Optional[TableProfile]:
    """Profiles a large CSV through pyarrow's streaming reader, all columns as text.

    Reading every column as a string keeps the profile identical to the
    csv-module path (types are inferred by the profiler, not by Arrow).
    Returns None when Arrow cannot parse the file, so the caller falls back.
    """
    import pyarrow as pa
    from pyarrow import csv as pacsv

    names = clean_header(header)
    if not names:
        return None
    skipped = [0]

    def skip_row(_row) -> str:
        skipped[0] += 1
        return "skip"

    try:
        reader = pacsv.open_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(
                encoding="utf8" if encoding in ("utf-8", "utf-8-sig") else encoding,
                skip_rows=index + 1,
                column_names=names,
                block_size=1 << 20,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=dialect.delimiter,
                quote_char=dialect.quotechar,
                newlines_in_values=True,
                invalid_row_handler=skip_row,
            ),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names}),
        )
        batches = ([column.to_pylist() for column in batch.columns] for batch in reader)
        profile = profile_batches(_table_name(ctx), names, batches, ctx, header_row=index, redactions=redactions)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError, LookupError) as exc:
        warnings.append(f"arrow CSV reader failed ({exc}); read with the csv module")
        return None
    if skipped[0]:
        warnings.append(f"{skipped[0]} rows with a wrong number of fields skipped")
    return profile


# ==========================================================================
# JSON / JSONL


_JSON_PROPERTY_KEYS = {
    "title": "title", "name": "title", "author": "author", "created_by": "author", "owner": "author",
    "created": "created_at", "created_at": "created_at", "createdat": "created_at",
    "generated_at": "created_at", "generatedat": "created_at", "exported_at": "created_at",
    "modified": "modified_at", "modified_at": "modified_at", "updated_at": "modified_at",
    "updatedat": "modified_at", "last_updated": "modified_at",
}


def read_json(data: bytes, ctx: ExtractContext) -> Extracted:
    """JSON: record arrays become tables; any document yields field paths."""
    text = _decode(data, detect_encoding(data[:SNIFF_BYTES]))
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # one JSON value per line, saved as .json
            extracted = _read_json_lines(text, ctx)
            extracted.warnings.insert(0, "JSON with one value per line; read as JSONL")
            return extracted
        raise ExtractionError("parse_error", f"invalid JSON: {exc}") from exc
    arrays = _record_arrays(document, _table_name(ctx))
    tables = _Tables(ctx)
    for name, records in arrays:
        _add_record_table(tables, name, records)
    structure = {
        "field_paths": field_paths(document),
        "record_count": sum(len(records) for _, records in arrays),
        "tables": [_table_summary(t) for t in tables.profiles],
        "columns": tables.columns(),
        "row_count": tables.row_count(),
    }
    return tables.extracted(structure, _json_properties(document), [], _pretty(document))


def read_jsonl(data: bytes, ctx: ExtractContext) -> Extracted:
    """JSON Lines: one record per line; bad lines are counted, not fatal."""
    return _read_json_lines(_decode(data, detect_encoding(data[:SNIFF_BYTES])), ctx)


def _read_json_lines(text: str, ctx: ExtractContext) -> Extracted:
    limit = ctx.limits.max_rows_per_table
    records: List[Any] = []
    bad: List[int] = []
    total = 0
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        total += 1
        if len(records) >= limit:
            continue  # beyond the profiling cap lines are only counted
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            bad.append(number)
            continue
        records.append(value if isinstance(value, dict) else {"value": value})
    if bad and not records:
        raise ExtractionError("parse_error", f"no valid JSON line among {total}")
    warnings = [f"{len(bad)} of {total} lines are not valid JSON (first: line {bad[0]})"] if bad else []
    tables = _Tables(ctx)
    if records:
        _add_record_table(tables, _table_name(ctx), records, total - len(bad))
    structure = {
        "field_paths": field_paths(records),
        "record_count": total - len(bad),
        "tables": [_table_summary(t) for t in tables.profiles],
        "columns": tables.columns(),
        "row_count": tables.row_count(),
    }
    return tables.extracted(structure, {}, warnings, _pretty(records))


def _add_record_table(tables: _Tables, name: str, records: List[Any], total: Optional[int] = None) -> None:
    """Flattens records (dotted paths) into a header and rows and profiles them."""
    limit = tables.ctx.limits.max_rows_per_table
    flat = [_flatten(record) for record in islice(records, limit) if isinstance(record, dict)]
    header: Dict[str, None] = {}
    for record in flat:
        header.update(dict.fromkeys(record))
    keys = list(header)
    rows = [[record.get(key) for key in keys] for record in flat]
    total = len(records) if total is None else total
    tables.add(f"## Records: {name}", name, keys, rows, rows[:PREVIEW_ROWS], total_rows=total)


def _flatten(record: Dict[str, Any], prefix: str = "", out: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Nested objects become dotted keys; lists become compact JSON text (cells must be scalars)."""
    out = {} if out is None else out
    for key, value in record.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            _flatten(value, path + ".", out)
        elif isinstance(value, (dict, list)):
            out[path] = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str) if value else None
        else:
            out[path] = value
    return out


def _record_arrays(document: Any, top_name: str) -> List[Tuple[str, List[Any]]]:
    """Arrays of objects in a document, largest first: the top-level list or
    lists under object keys (a few levels deep, e.g. {"data": [...]})."""
    if isinstance(document, list):
        return [(top_name, document)] if _is_records(document) else []
    found: List[Tuple[str, List[Any]]] = []

    def walk(node: Dict[str, Any], prefix: str, depth: int) -> None:
        for key, value in node.items():
            path = f"{prefix}{key}"
            if isinstance(value, list) and _is_records(value):
                found.append((path, value))
            elif isinstance(value, dict) and depth < JSON_TABLE_DEPTH:
                walk(value, path + ".", depth + 1)

    if isinstance(document, dict):
        walk(document, "", 1)
    found.sort(key=lambda item: -len(item[1]))
    return found[:MAX_JSON_TABLES]


def _is_records(items: List[Any]) -> bool:
    head = items[:100]
    return bool(head) and sum(isinstance(item, dict) for item in head) >= 0.8 * len(head)


def field_paths(document: Any) -> List[str]:
    """Sorted dotted paths of every leaf; lists are transparent (a[].b is a.b)."""
    paths: set = set()

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if not node and path:
                paths.add(path)
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list):
            containers = [item for item in node[:FIELD_PATH_ITEMS] if isinstance(item, (dict, list))]
            for item in containers:
                walk(item, path)
            if len(containers) < min(len(node), FIELD_PATH_ITEMS) and path:
                paths.add(path)  # a list of scalars is itself a leaf
        elif path:
            paths.add(path)

    walk(document, "")
    return sorted(paths)


def _shrink(node: Any, depth: int = 0) -> Any:
    """A small copy of a document for the text preview (first items, short strings)."""
    if depth > 6:
        return "…"
    if isinstance(node, dict):
        return {k: _shrink(v, depth + 1) for k, v in islice(node.items(), 50)}
    if isinstance(node, list):
        return [_shrink(v, depth + 1) for v in node[:JSON_PREVIEW_RECORDS]]
    if isinstance(node, str) and len(node) > 300:
        return node[:300] + "…"
    return node


def _pretty(value: Any) -> str:
    return json.dumps(_shrink(value), indent=2, ensure_ascii=False, default=str)


def _table_summary(table: TableProfile) -> Dict[str, Any]:
    return {"name": table.name, "columns": [c.name for c in table.columns], "row_count": table.row_count}


def _json_properties(document: Any) -> Dict[str, Any]:
    """Document-level metadata a JSON export carries at its top, e.g. {"title", "generated_at", "data"}."""
    if not isinstance(document, dict):
        return {}
    properties: Dict[str, Any] = {}
    for key, value in document.items():
        target = _JSON_PROPERTY_KEYS.get(str(key).lower())
        if target is None or not isinstance(value, str) or not value.strip() or target in properties:
            continue
        if target.endswith("_at"):
            stamp = _iso(value)
            if stamp:
                properties[target] = stamp
        else:
            properties[target] = value.strip()
    return properties


# ==========================================================================
# SQLite


def read_sqlite(data: bytes, ctx: ExtractContext) -> Extracted:
    """SQLite: tables with declared types, keys and row counts, opened read-only."""
    if not data.startswith(SQLITE_MAGIC):
        raise ExtractionError("parse_error", "not a SQLite database")
    # sqlite3 reads files only; `immutable=1` stops it writing locks or journals.
    with tempfile.NamedTemporaryFile(suffix=".sqlite") as handle:
        handle.write(data)
        handle.flush()
        uri = Path(handle.name).as_uri() + "?mode=ro&immutable=1"
        try:
            connection = sqlite3.connect(uri, uri=True)
        except sqlite3.Error as exc:
            raise ExtractionError("parse_error", f"cannot open SQLite database: {exc}") from exc
        try:
            return _read_database(connection, ctx)
        except sqlite3.DatabaseError as exc:
            raise ExtractionError("parse_error", f"cannot read SQLite database: {exc}") from exc
        finally:
            connection.close()


read_db = read_sqlite


def _read_database(connection: sqlite3.Connection, ctx: ExtractContext) -> Extracted:
    tables = _Tables(ctx)
    summaries: List[Dict[str, Any]] = []
    warnings: List[str] = []
    names = [
        name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    for name in names:
        try:
            summaries.append(_read_sqlite_table(connection, name, tables))
        except sqlite3.OperationalError as exc:  # e.g. a virtual table whose module is missing
            warnings.append(f"table '{name}' unreadable: {exc}")
    structure = {"tables": summaries, "columns": tables.columns(), "row_count": tables.row_count()}
    return tables.extracted(structure, {}, warnings)


def _read_sqlite_table(connection: sqlite3.Connection, name: str, tables: _Tables) -> Dict[str, Any]:
    quoted = _quote(name)
    info = connection.execute(f"PRAGMA table_info({quoted})").fetchall()  # cid, name, type, notnull, default, pk
    columns = [{"name": row[1], "type": row[2] or ""} for row in info]
    primary_key = [row[1] for row in sorted((r for r in info if r[5]), key=lambda r: r[5])]
    foreign_keys = _foreign_keys(connection, name)
    (row_count,) = connection.execute(f"SELECT COUNT(*) FROM {quoted}").fetchone()
    cursor = connection.execute(f"SELECT * FROM {quoted} LIMIT ?", (tables.ctx.limits.max_rows_per_table,))
    header = [d[0] for d in cursor.description]
    preview = cursor.fetchmany(PREVIEW_ROWS)
    profile = tables.add(f"## Table: {name}", name, header, chain(preview, cursor), preview, total_rows=row_count)
    profile.primary_key = primary_key
    profile.foreign_keys = foreign_keys
    return {"name": name, "columns": columns, "row_count": row_count,
            "primary_key": primary_key, "foreign_keys": foreign_keys}


def _foreign_keys(connection: sqlite3.Connection, name: str) -> List[Dict[str, Any]]:
    """Declared foreign keys; a reference without columns means the target's primary key."""
    groups: Dict[int, Dict[str, Any]] = {}
    # id, seq, table, from, to, on_update, on_delete, match
    for fk_id, _seq, ref_table, column, ref_column, *_ in connection.execute(
        f"PRAGMA foreign_key_list({_quote(name)})"
    ):
        group = groups.setdefault(fk_id, {"columns": [], "ref_table": ref_table, "ref_columns": []})
        group["columns"].append(column)
        group["ref_columns"].append(ref_column)
    for group in groups.values():
        if any(c is None for c in group["ref_columns"]):
            info = connection.execute(f"PRAGMA table_info({_quote(group['ref_table'])})").fetchall()
            group["ref_columns"] = [r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]
    return [groups[key] for key in sorted(groups)]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'

