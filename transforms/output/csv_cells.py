"""CSV cells that a spreadsheet opens as text, never as a formula.

A cell starting with =, +, - or @ (or a tab or carriage return) is run as a formula
by Excel, LibreOffice and Google Sheets (CSV / formula injection). File names and
paths come from the drive, so every text cell of a CSV export is neutralised with a
leading apostrophe, and `restore` undoes it when filegraph reads its own CSV back.
"""

from __future__ import annotations

import csv
import io
from typing import Any, BinaryIO, Iterable, List, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str:
    """The cell text for a value: one line, formula-like starts prefixed with an apostrophe."""
    text = "" if value is None else str(value)
    text = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def restore(cell: str) -> str:
    """The value a neutralised cell stood for."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


ROWS_WRITTEN_TOGETHER = 10_000


def write_csv(handle: BinaryIO, header: Sequence[str], rows: Iterable[Sequence[Any]],
              text_columns: Sequence[bool]) -> None:
    """UTF-8 CSV to a binary handle, some rows at a time; cells of text columns are neutralised,
    typed (numeric) cells written as they are."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for index, row in enumerate(rows, 1):
        writer.writerow([neutralise(v) if is_text else ("" if v is None else v)
                         for v, is_text in zip(row, text_columns)])
        if index % ROWS_WRITTEN_TOGETHER == 0:
            handle.write(out.getvalue().encode("utf-8"))
            out.seek(0)
            out.truncate()
    handle.write(out.getvalue().encode("utf-8"))


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]], text_columns: Sequence[bool]) -> bytes:
    """The CSV that write_csv writes, as bytes."""
    out = io.BytesIO()
    write_csv(out, header, rows, text_columns)
    return out.getvalue()


def read_rows(data: bytes) -> List[dict]:
    """Rows of a CSV as dicts of restored cells (header from the first line)."""
    text = data.decode("utf-8-sig")
    return [{k: restore(v or "") for k, v in row.items() if k is not None}
            for row in csv.DictReader(io.StringIO(text))]
