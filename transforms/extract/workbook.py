"""Excel workbooks: xlsx / xlsm / xltx / xltm (OOXML) and xls (BIFF in an OLE container).

Cells come from calamine, which is fast but builds each sheet's whole used
range in memory at once, empty cells included (and, for .xls, every sheet of
the workbook as soon as it is opened). A sheet with a few cells far apart
would cost gigabytes, so the used range each sheet declares is read first
(the `<dimension>` of a worksheet part, the DIMENSIONS record of a BIFF
sheet) and a workbook whose range exceeds `extraction.max_table_cells` is read
by a streaming reader instead: openpyxl's read-only mode for OOXML (rows up to
the cell budget, the rest of the sheet a sample), xlrd with ragged rows
(memory for the cells that exist only) for .xls. Either way `profile_table`
reads at most the cell budget of each sheet.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from itertools import chain, islice
from typing import Any, Dict, Iterator, List, Optional, Sequence

from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from transforms.extract.context import ExtractContext
from transforms.extract.cells import is_blank_row
from transforms.extract.profile import HEADER_SCAN_ROWS
from transforms.extract.properties import ole_properties, package_properties
from transforms.extract.tabular import Tables, split_header
from transforms.model import Extracted, ExtractionError, TableProfile

_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]{1,3})?(\d+)?(?::([A-Z]{1,3})(\d+))?\"")
_CELL_REF = re.compile(rb"<(?:\w+:)?c\s[^>]*?r=\"([A-Z]{1,3})(\d+)\"")
_HEAD_BYTES = 64 * 1024
_SCAN_CHUNK = 1 << 20
_BOUNDSHEET, _DIMENSIONS, _BOF, _EOF = 0x0085, 0x0200, 0x0809, 0x000A
_RECORDS_BEFORE_DIMENSIONS = 200  # DIMENSIONS comes early in a sheet's substream


def read_xlsx(data: bytes, ctx: ExtractContext) -> Extracted:
    """xlsx / xlsm / xltx / xltm: cached cell values, properties from docProps."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            properties, warnings = package_properties(archive)
            cells = max((_declared_cells(archive, name) for name in _worksheet_parts(archive)), default=0)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ExtractionError("parse_error", f"not a valid workbook package: {exc}") from exc
    if cells > ctx.limits.max_table_cells:
        warnings.append(f"a sheet's used range spans {cells} cells; read row by row")
        return _read_streaming_xlsx(data, ctx, properties, warnings)
    return _read_workbook(data, ctx, properties, warnings)


def read_xls(data: bytes, ctx: ExtractContext) -> Extracted:
    """Legacy Excel: cells via calamine (or xlrd past the cell budget), properties from the OLE summary."""
    import olefile

    properties: Dict[str, Any] = {}
    cells = 0
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            properties = ole_properties(ole)
            stream = next((name for name in ("Workbook", "Book") if ole.exists(name)), None)
            if stream:
                cells = sum(_biff_sheet_cells(ole.openstream(stream).read()))
    except Exception:  # not OLE (BIFF2-4, HTML saved as .xls) or damaged: calamine decides
        pass
    if cells > ctx.limits.max_table_cells:
        return _read_streaming_xls(data, ctx, properties, [f"sheets' used ranges span {cells} cells; read by xlrd"])
    return _read_workbook(data, ctx, properties, [])


# ---------------------------------------------------------------- declared used ranges


def _worksheet_parts(archive: zipfile.ZipFile) -> List[str]:
    return [n for n in archive.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]


def _declared_cells(archive: zipfile.ZipFile, part: str) -> int:
    """Cells in a worksheet's used range: its <dimension>, or the cell references when it has none."""
    with archive.open(part) as stream:
        head = stream.read(_HEAD_BYTES)
        match = _DIMENSION.search(head)
        if match and match.group(3):
            first_col, first_row, last_col, last_row = match.groups()
            return _span(first_col, first_row, last_col, last_row)
        rows = cols = 0
        tail = b""
        chunk = head
        while chunk:
            window = tail + chunk
            for col, row in _CELL_REF.findall(window):
                rows, cols = max(rows, int(row)), max(cols, _column_number(col))
            tail = window[-256:]
            chunk = stream.read(_SCAN_CHUNK)
    return rows * cols


def _span(first_col: Optional[bytes], first_row: Optional[bytes], last_col: bytes, last_row: bytes) -> int:
    width = _column_number(last_col) - _column_number(first_col or b"A") + 1
    height = int(last_row) - int(first_row or 1) + 1
    return max(width, 1) * max(height, 1)


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _biff_sheet_cells(stream: bytes) -> Iterator[int]:
    """Declared cells (DIMENSIONS) of each sheet of a BIFF5/8 workbook stream."""
    offsets = []
    position = 0
    while position + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, position)
        if kind == _BOUNDSHEET and length >= 4:
            offsets.append(struct.unpack_from("<I", stream, position + 4)[0])
        elif kind == _EOF:
            break
        position += 4 + length
    for offset in offsets:
        position = offset
        for _ in range(_RECORDS_BEFORE_DIMENSIONS):
            if position + 4 > len(stream):
                break
            kind, length = struct.unpack_from("<HH", stream, position)
            if kind == _DIMENSIONS and length >= 14:
                first_row, last_row, first_col, last_col = struct.unpack_from("<IIHH", stream, position + 4)
                yield max(last_row - first_row, 0) * max(last_col - first_col, 0)
                break
            if kind == _DIMENSIONS and length >= 10:  # BIFF5: 16-bit rows
                first_row, last_row, first_col, last_col = struct.unpack_from("<HHHH", stream, position + 4)
                yield max(last_row - first_row, 0) * max(last_col - first_col, 0)
                break
            if kind == _EOF:
                break
            position += 4 + length


# ---------------------------------------------------------------- calamine


def _read_workbook(data: bytes, ctx: ExtractContext, properties: Dict[str, Any], warnings: List[str]) -> Extracted:
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own error types for every format problem
        raise ExtractionError("parse_error", f"cannot open workbook: {exc}") from exc
    try:
        sheets = ((meta.name, meta.visible != SheetVisibleEnum.Visible, meta.typ == SheetTypeEnum.WorkSheet,
                   lambda name=meta.name: book.get_sheet_by_name(name)) for meta in book.sheets_metadata)
        return _read_sheets(sheets, ctx, properties, warnings)
    finally:
        book.close()


def _read_sheets(sheets, ctx: ExtractContext, properties: Dict[str, Any], warnings: List[str]) -> Extracted:
    """Profiles each (name, hidden, is_worksheet, open_sheet) under its detected header."""
    tables = Tables(ctx)
    summaries: List[Dict[str, Any]] = []
    try:
        for name, hidden, is_worksheet, open_sheet in sheets:
            info = {"name": name, "hidden": hidden, "rows": 0, "columns": [], "header_row": None, "merged_cells": 0}
            summaries.append(info)
            if not is_worksheet:
                continue  # chart and dialog sheets hold no cells
            try:
                sheet = open_sheet()
            except Exception as exc:
                warnings.append(f"sheet '{name}' unreadable: {exc}")
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
    structure = {"sheets": summaries, "columns": tables.columns(), "row_count": tables.row_count()}
    return tables.extracted(structure, properties, warnings)


def _read_sheet(sheet, hidden: bool, tables: Tables) -> Optional[TableProfile]:
    """Profiles one worksheet under its detected header; None when it is empty."""
    if sheet.start is None:
        return None
    first_row = sheet.start[0]
    # iter_rows starts at row 0 whatever the used range: skip the blank top.
    rows = islice(sheet.iter_rows(), first_row, None)
    head = list(islice(rows, HEADER_SCAN_ROWS))
    index, header, preview = split_header(head)
    if is_blank_row(header):
        return None
    body = _without_total_row(row for row in chain(head[index + 1 :], rows) if not is_blank_row(row))
    title = f"## Sheet: {sheet.name}" + (" (hidden)" if hidden else "")
    profile = tables.add(title, sheet.name, header, body, preview, header_row=first_row + index)
    profile.sampled = profile.sampled or getattr(sheet, "cut", False)
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


# ---------------------------------------------------------------- streaming readers past the cell budget


class _StreamedSheet:
    """The part of calamine's sheet interface `_read_sheet` uses, over a row iterator."""

    def __init__(self, name: str, rows: Iterator[Sequence], height: int, read: int, merged: int = 0):
        self.name = name
        self.height = height
        self.start = (0, 0) if height else None
        self.merged_cell_ranges = [None] * merged
        self.cut = read < height  # rows past the cell budget were not read: the profile is a sample
        self._rows = rows

    def iter_rows(self) -> Iterator[Sequence]:
        return self._rows


def _budget_rows(ctx: ExtractContext, width: int) -> int:
    """Rows worth reading from a sheet `width` columns wide (header scan included)."""
    return min(ctx.limits.max_rows_per_table, ctx.limits.max_table_cells // max(width, 1)) + HEADER_SCAN_ROWS


def _read_streaming_xlsx(data: bytes, ctx: ExtractContext, properties, warnings) -> Extracted:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise ExtractionError("parse_error", f"cannot open workbook: {exc}") from exc
    try:
        def sheet(ws):
            width = min(ws.max_column or 1, ctx.limits.max_table_cells)
            height = ws.max_row or 0
            read = min(height, _budget_rows(ctx, width))
            rows = ws.iter_rows(max_row=read, max_col=width, values_only=True)
            return _StreamedSheet(ws.title, (["" if v is None else v for v in row] for row in rows), height, read)

        sheets = ((ws.title, ws.sheet_state != "visible", ws.__class__.__name__ == "ReadOnlyWorksheet",
                   lambda ws=ws: sheet(ws)) for ws in book.worksheets)
        return _read_sheets(sheets, ctx, properties, warnings)
    finally:
        book.close()


def _read_streaming_xls(data: bytes, ctx: ExtractContext, properties, warnings) -> Extracted:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, ragged_rows=True, on_demand=True, logfile=io.StringIO())
    except Exception as exc:
        raise ExtractionError("parse_error", f"cannot open workbook: {exc}") from exc

    def sheet(index: int) -> _StreamedSheet:
        # Ragged rows hold only the cells that exist: walking every row costs what xlrd already holds.
        ws = book.sheet_by_index(index)
        return _StreamedSheet(ws.name, (_xls_row(book, ws, r) for r in range(ws.nrows)), ws.nrows, ws.nrows,
                              len(ws.merged_cells))

    try:
        sheets = ((name, book.sheet_by_index(i).visibility != 0, True, lambda i=i: sheet(i))
                  for i, name in enumerate(book.sheet_names()))
        return _read_sheets(sheets, ctx, properties, warnings)
    finally:
        book.release_resources()


def _xls_row(book, ws, index: int) -> List[Any]:
    import xlrd

    row = []
    for cell in ws.row(index):
        if cell.ctype == xlrd.XL_CELL_DATE:
            try:
                row.append(xlrd.xldate_as_datetime(cell.value, book.datemode))
            except (ValueError, OverflowError, xlrd.xldate.XLDateError):
                row.append(cell.value)
        elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
            row.append(bool(cell.value))
        elif cell.ctype in (xlrd.XL_CELL_ERROR, xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
            row.append("")
        else:
            row.append(cell.value)
    return row
