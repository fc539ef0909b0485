"""OpenDocument text (.odt), spreadsheet (.ods) and presentation (.odp) files.

An OpenDocument file is a zip package; the document is content.xml and its
properties meta.xml. Both are read with defusedxml's streaming parser (no
DTDs, no entities, the safety checks have already rejected any), one element
at a time, and each finished block is cleared, so memory follows the largest
paragraph or row, not the document. Repeated cells and rows
(`number-columns-repeated`, `number-rows-repeated`, which can claim millions)
are expanded only up to the last value that is not empty, and never beyond
the cell budget.
"""

from __future__ import annotations

import io
import zipfile
from itertools import chain, islice
from typing import Any, Dict, Iterator, List, Optional, Tuple

from defusedxml.ElementTree import iterparse

from transforms.extract.context import ExtractContext
from transforms.extract.narrative import MAX_HEADINGS, TextSink, markdown_table
from transforms.extract.cells import is_blank_row
from transforms.extract.profile import HEADER_SCAN_ROWS, MAX_COLUMNS
from transforms.extract.properties import iso, with_custom
from transforms.extract.tabular import Tables, split_header
from transforms.model import Extracted, ExtractionError

_NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "draw": "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
    "presentation": "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0",
    "meta": "urn:oasis:names:tc:opendocument:xmlns:meta:1.0",
    "dc": "http://purl.org/dc/elements/1.1/",
}


def _q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{_NS[prefix]}}}{local}"


P, H, SPACE, TAB, BREAK = _q("text:p"), _q("text:h"), _q("text:s"), _q("text:tab"), _q("text:line-break")
NOTE, NOTE_CITATION, ANNOTATION = _q("text:note"), _q("text:note-citation"), _q("office:annotation")
TABLE, ROW, CELL, COVERED = _q("table:table"), _q("table:table-row"), _q("table:table-cell"), _q(
    "table:covered-table-cell")
PAGE, FRAME, NOTES = _q("draw:page"), _q("draw:frame"), _q("presentation:notes")
_MAX_REPEAT_TEXT = 1000  # characters of spaces one <text:s> may stand for


def _package(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        raise ExtractionError("parse_error", f"not an OpenDocument package: {exc}") from exc


def _events(package: zipfile.ZipFile, part: str) -> Iterator[Tuple[str, Any]]:
    if part not in package.namelist():
        raise ExtractionError("parse_error", f"OpenDocument package without {part}")
    with package.open(part) as stream:
        yield from iterparse(stream, events=("start", "end"))


def odf_properties(package: zipfile.ZipFile) -> Tuple[Dict[str, Any], List[str]]:
    """Properties from meta.xml: author, title, dates, keywords, user-defined fields."""
    if "meta.xml" not in package.namelist():
        return {}, []
    fields = {_q("dc:title"): "title", _q("dc:subject"): "subject", _q("dc:description"): "description",
              _q("meta:initial-creator"): "author", _q("dc:creator"): "last_modified_by",
              _q("meta:creation-date"): "created_at", _q("dc:date"): "modified_at"}
    props: Dict[str, Any] = {}
    keywords: List[str] = []
    custom: Dict[str, Any] = {}
    try:
        for event, element in _events(package, "meta.xml"):
            if event != "end":
                continue
            text = (element.text or "").strip()
            if element.tag in fields and text:
                key = fields[element.tag]
                props[key] = (iso(text) or text) if key.endswith("_at") else text
            elif element.tag == _q("meta:keyword") and text:
                keywords.append(text)
            elif element.tag == _q("meta:user-defined") and element.get(_q("meta:name")):
                custom[element.get(_q("meta:name"))] = text
    except Exception as exc:  # a damaged meta.xml must not lose the document
        return props, [f"meta.xml unreadable: {type(exc).__name__}"]
    if keywords:
        props["keywords"] = ", ".join(keywords)
    props.setdefault("author", props.get("last_modified_by"))
    return with_custom({k: v for k, v in props.items() if v}, custom), []


def _text_of(element, skip=(NOTE, ANNOTATION)) -> str:
    """The text of a paragraph-like element: spaces, tabs and breaks expanded, notes left out."""
    parts = [element.text or ""]
    for child in element:
        if child.tag == SPACE:
            parts.append(" " * min(int(child.get(_q("text:c"), "1") or 1), _MAX_REPEAT_TEXT))
        elif child.tag == TAB:
            parts.append("\t")
        elif child.tag == BREAK:
            parts.append("\n")
        elif child.tag not in skip and child.tag != NOTE_CITATION:
            parts.append(_text_of(child, skip))
        parts.append(child.tail or "")
    return "".join(parts)


def _one_line(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------- odt


def read_odt(data: bytes, ctx: ExtractContext) -> Extracted:
    """Text documents: headings (outline levels), paragraphs, tables, notes and comments, in order."""
    with _package(data) as package:
        props, warnings = odf_properties(package)
        sink = TextSink(ctx.limits.max_text_chars)
        headings: List[Dict[str, Any]] = []
        counts = {"paragraphs": 0, "tables": 0, "notes": 0, "comments": 0, "words": 0}
        depth = {"table": 0, "note": 0, "annotation": 0}
        rows: List[List[str]] = []
        row: List[str] = []
        for event, element in _events(package, "content.xml"):
            tag = element.tag
            if event == "start":
                if tag == TABLE:
                    depth["table"] += 1
                elif tag in (NOTE, ANNOTATION):
                    depth["note" if tag == NOTE else "annotation"] += 1
                continue
            if tag in (P, H) and not depth["table"]:
                text = _one_line(_text_of(element))
                if text:
                    _add_paragraph(sink, headings, counts, depth, element, text)
            elif tag == CELL and depth["table"] == 1:
                row.append(_one_line(" ".join(_text_of(p) for p in element.iter(P))))
            elif tag == ROW and depth["table"] == 1:
                rows.append(row)
                row = []
            elif tag == TABLE:
                depth["table"] -= 1
                if not depth["table"]:
                    counts["tables"] += 1
                    sink.extend(markdown_table(rows))
                    counts["words"] += sum(len(cell.split()) for r in rows for cell in r)
                    rows = []
                    element.clear()
            elif tag in (NOTE, ANNOTATION):
                key = "note" if tag == NOTE else "annotation"
                depth[key] -= 1
                counts["notes" if tag == NOTE else "comments"] += 1
                element.clear()
    if not props.get("title"):
        props["title"] = next((h["text"] for h in headings if h["level"] <= 1), None)
    structure = {
        "headings": headings,
        "paragraph_count": counts["paragraphs"],
        "tables": counts["tables"],
        "comments": counts["comments"],
        "footnotes": counts["notes"],
        "word_count": counts["words"],
    }
    return Extracted(text=sink.text(), structure=structure, properties={k: v for k, v in props.items() if v},
                     warnings=warnings)


def _add_paragraph(sink, headings, counts, depth, element, text: str) -> None:
    counts["words"] += len(text.split())
    if depth["annotation"]:
        sink.add(f"Comment: {text}")
        return
    if depth["note"]:
        sink.add(f"Note: {text}")
        return
    counts["paragraphs"] += 1
    if element.tag == H:
        level = int(element.get(_q("text:outline-level"), "1") or 1)
        if len(headings) < MAX_HEADINGS:
            headings.append({"level": level, "text": text})
        sink.add("#" * max(min(level, 6), 1) + " " + text)
    else:
        sink.add(text)
    element.clear()


# ---------------------------------------------------------------- ods


def read_ods(data: bytes, ctx: ExtractContext) -> Extracted:
    """Spreadsheets: each table profiled under its detected header, streamed row by row."""
    with _package(data) as package:
        props, warnings = odf_properties(package)
        tables = Tables(ctx)
        sheets: List[Dict[str, Any]] = []
        events = _events(package, "content.xml")
        for event, element in events:
            if event == "start" and element.tag == TABLE:
                name = element.get(_q("table:name")) or f"Sheet{len(sheets) + 1}"
                sheets.append(_read_ods_table(name, _table_rows(events, ctx), tables))
    structure = {"sheets": sheets, "columns": tables.columns(), "row_count": tables.row_count()}
    return tables.extracted(structure, {k: v for k, v in props.items() if v}, warnings)


def _read_ods_table(name: str, rows: Iterator[List[Any]], tables: Tables) -> Dict[str, Any]:
    info: Dict[str, Any] = {"name": name, "hidden": False, "rows": 0, "columns": [], "header_row": None}
    head = list(islice(rows, HEADER_SCAN_ROWS))
    index, header, preview = split_header(head)
    if not is_blank_row(header):
        body = (row for row in chain(head[index + 1 :], rows) if not is_blank_row(row))
        profile = tables.add(f"## Sheet: {name}", name, header, body, preview, header_row=index)
        info.update(rows=profile.row_count, columns=[c.name for c in profile.columns], header_row=index)
    for _ in rows:  # the rest of the table is parsed, not kept
        pass
    return info


def _table_rows(events, ctx: ExtractContext) -> Iterator[List[Any]]:
    """Rows of the table whose start event was just read, until its end; cells and rows de-repeated.

    Repeats expand at most to MAX_COLUMNS cells a row and, over the table, to
    the cell budget; past it the table is parsed to its end without rows.
    """
    cells_left = ctx.limits.max_table_cells
    row: List[Any] = []
    nested = 0
    for event, element in events:
        tag = element.tag
        if tag == TABLE:
            if event == "start":
                nested += 1
            elif nested:
                nested -= 1
            else:
                element.clear()
                return
            continue
        if event != "end" or nested:
            continue
        if tag in (CELL, COVERED):
            repeat = int(element.get(_q("table:number-columns-repeated"), "1") or 1)
            row.extend([_cell_value(element)] * max(min(repeat, MAX_COLUMNS - len(row)), 0))
            element.clear()
        elif tag == ROW:
            while row and row[-1] == "":
                row.pop()  # trailing empty cells (often a repeat of thousands)
            repeat = int(element.get(_q("table:number-rows-repeated"), "1") or 1) if row else 1
            for _ in range(min(repeat, cells_left // max(len(row), 1))):
                cells_left -= max(len(row), 1)
                yield list(row)
            row = []
            element.clear()


def _cell_value(cell) -> Any:
    kind = cell.get(_q("office:value-type"))
    if kind in ("float", "percentage", "currency"):
        try:
            number = float(cell.get(_q("office:value"), ""))
            return int(number) if number.is_integer() and abs(number) < 2 ** 53 else number
        except ValueError:
            pass
    elif kind == "date":
        return cell.get(_q("office:date-value")) or ""
    elif kind == "boolean":
        return (cell.get(_q("office:boolean-value")) or "").lower() == "true"
    return _one_line("\n".join(_text_of(p) for p in cell.iter(P)))


# ---------------------------------------------------------------- odp


def read_odp(data: bytes, ctx: ExtractContext) -> Extracted:
    """Presentations: slide titles (the title frame), text frames and speaker notes, in order."""
    with _package(data) as package:
        props, warnings = odf_properties(package)
        sink = TextSink(ctx.limits.max_text_chars)
        titles: List[str] = []
        has_notes = False
        for event, element in _events(package, "content.xml"):
            if event != "end" or element.tag != PAGE:
                continue
            title, lines, notes = _slide(element)
            titles.append(title)
            sink.add(f"## Slide {len(titles)}: {title}" if title else f"## Slide {len(titles)}")
            sink.extend(lines)
            if notes:
                has_notes = True
                sink.add(f"Notes: {notes}")
            element.clear()
    if not props.get("title"):
        props["title"] = next((t for t in titles if t), None)
    structure = {"slide_count": len(titles), "slide_titles": titles[:MAX_HEADINGS], "tables": 0,
                 "charts": [], "has_notes": has_notes}
    return Extracted(text=sink.text(), structure=structure, properties={k: v for k, v in props.items() if v},
                     warnings=warnings)


def _slide(page) -> Tuple[str, List[str], str]:
    """(title, bullet lines, notes) of one draw:page."""
    title = ""
    lines: List[str] = []
    notes_element: Optional[Any] = page.find(NOTES)
    notes_frames = set(map(id, notes_element.iter(FRAME))) if notes_element is not None else set()
    for frame in page.iter(FRAME):
        if id(frame) in notes_frames:
            continue
        texts = [_one_line(_text_of(p)) for p in frame.iter(P)]
        texts = [t for t in texts if t]
        if not texts:
            continue
        if not title and frame.get(_q("presentation:class")) == "title":
            title = " ".join(texts)
        else:
            lines.extend(f"- {t}" for t in texts)
    notes = ""
    if notes_element is not None:
        notes = " ".join(t for t in (_one_line(_text_of(p)) for p in notes_element.iter(P)) if t)
    return title, lines, notes
