"""Format writers, one per file format and free of corpus logic.

Office files get seeded core properties and zip timestamps, SQLite files are
written in one fixed order: the same input gives the same bytes.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import struct
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Sequence, Tuple

import docx
import pptx
from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter
from pptx.util import Inches, Pt

from beam_pipeline.sample_corpus.values import cell_text

if TYPE_CHECKING:
    from beam_pipeline.sample_corpus.tables import Table


@dataclass(frozen=True)
class Meta:
    title: str
    author: str
    created: datetime
    modified: datetime



@dataclass
class Slide:
    title: str
    bullets: Sequence[str] = ()
    table: Optional[Tuple[Sequence[str], Sequence[Sequence[str]]]] = None
    notes: str = ""
    subtitle: Optional[str] = None  # set on the title slide only


def save_zip(path: Path, save: Callable[[io.BytesIO], None], when: datetime) -> None:
    """Save an OOXML package with every zip entry stamped `when`.

    zipfile stamps entries with the wall clock; rewriting the 4 timestamp
    bytes of each local and central header in place keeps the compressed
    data untouched (re-compressing doubled the cost of writing a file).
    """
    buf = io.BytesIO()
    save(buf)
    data = bytearray(buf.getvalue())
    dos_time = (when.hour << 11) | (when.minute << 5) | (when.second // 2)
    dos_date = ((when.year - 1980) << 9) | (when.month << 5) | when.day
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        infos, pos = zf.infolist(), zf.start_dir
    for info in infos:
        struct.pack_into("<HH", data, info.header_offset + 10, dos_time, dos_date)
    for _ in infos:  # central directory entries, in order
        if data[pos:pos + 4] != b"PK\x01\x02":
            raise ValueError("unexpected zip layout")
        struct.pack_into("<HH", data, pos + 12, dos_time, dos_date)
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, pos + 28)
        pos += 46 + name_len + extra_len + comment_len
    path.write_bytes(bytes(data))


@dataclass
class Sheet:
    name: str
    rows: List[list]  # everything written, top to bottom (titles, header, body, totals)


def save_xlsx(path: Path, sheets: Sequence[Sheet], meta: Meta) -> None:
    wb = Workbook(write_only=True)
    for sheet in sheets:
        ws = wb.create_sheet(sheet.name)
        for row in sheet.rows:
            ws.append(row)
    props = wb.properties
    props.creator, props.lastModifiedBy, props.title = meta.author, meta.author, meta.title
    props.created, props.modified = meta.created, meta.modified
    # ExcelWriter directly: openpyxl's save_workbook stamps `modified` with now().
    save_zip(path, lambda buf: ExcelWriter(wb, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED)).save(), meta.modified)


def _set_core(props: Any, meta: Meta, revision: int) -> None:
    props.author, props.last_modified_by, props.title = meta.author, meta.author, meta.title
    props.created, props.modified, props.revision = meta.created, meta.modified, revision


def save_pptx(path: Path, slides: Sequence[Slide], meta: Meta, footer: str, revision: int = 1) -> None:
    prs = pptx.Presentation()
    for s in slides:
        if s.subtitle is not None:
            slide = prs.slides.add_slide(prs.slide_layouts[0])
            slide.placeholders[1].text = s.subtitle
        elif s.table is not None:
            slide = prs.slides.add_slide(prs.slide_layouts[5])
            header, body = s.table
            shape = slide.shapes.add_table(len(body) + 1, len(header), Inches(0.5), Inches(1.5), Inches(9),
                                           Inches(0.35 * (len(body) + 1)))
            for r, values in enumerate([header, *body]):
                for c, value in enumerate(values):
                    shape.table.cell(r, c).text = str(value)
        else:
            slide = prs.slides.add_slide(prs.slide_layouts[1])
            frame = slide.placeholders[1].text_frame
            for i, bullet in enumerate(s.bullets):
                para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
                para.text = bullet
        slide.shapes.title.text = s.title
        box = slide.shapes.add_textbox(Inches(0.5), Inches(7.0), Inches(9), Inches(0.4))
        box.text_frame.text = footer
        box.text_frame.paragraphs[0].runs[0].font.size = Pt(9)
        if s.notes:
            slide.notes_slide.notes_text_frame.text = s.notes
    _set_core(prs.core_properties, meta, revision)
    save_zip(path, prs.save, meta.modified)


# Narrative blocks: ("title", text) ("h", text) ("p", text) ("bullets", [..])
# ("numbered", [..]) ("table", header, rows). One content model, three renderers.
Block = Tuple[Any, ...]


# Style ids of python-docx's default template. Setting ids directly skips
# python-docx's by-name style lookup, which dominated generation time.
DOCX_STYLE_IDS = {"title": "Title", "h": "Heading1", "bullets": "ListBullet", "numbered": "ListNumber"}


def _docx_paragraph(d: Any, text: str, style_id: Optional[str]) -> None:
    para = d.add_paragraph(text)
    if style_id:
        para._p.style = style_id


def save_docx(path: Path, blocks: Sequence[Block], meta: Meta, footer: str, revision: int = 1) -> None:
    d = docx.Document()
    for block in blocks:
        kind = block[0]
        if kind in ("title", "h", "p"):
            _docx_paragraph(d, block[1], DOCX_STYLE_IDS.get(kind))
        elif kind in ("bullets", "numbered"):
            for item in block[1]:
                _docx_paragraph(d, item, DOCX_STYLE_IDS[kind])
        elif kind == "table":
            header, body = block[1], block[2]
            table = d.add_table(rows=len(body) + 1, cols=len(header))
            table._tbl.tblPr.style = "TableGrid"
            for row, values in zip(table.rows, [header, *body]):
                for cell, value in zip(row.cells, values):
                    cell.text = str(value)
    d.sections[0].footer.paragraphs[0].text = footer
    _set_core(d.core_properties, meta, revision)
    save_zip(path, d.save, meta.modified)


def render_markdown(blocks: Sequence[Block], footer: str) -> str:
    out: List[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "title":
            out += [f"# {block[1]}", ""]
        elif kind == "h":
            out += [f"## {block[1]}", ""]
        elif kind == "p":
            out += [block[1], ""]
        elif kind == "bullets":
            out += [f"- {item}" for item in block[1]] + [""]
        elif kind == "numbered":
            out += [f"{i}. {item}" for i, item in enumerate(block[1], 1)] + [""]
        elif kind == "table":
            header, body = block[1], block[2]
            out.append("| " + " | ".join(header) + " |")
            out.append("|" + "|".join("---" for _ in header) + "|")
            out += ["| " + " | ".join(str(v) for v in row) + " |" for row in body]
            out.append("")
    out += ["---", f"_{footer}_", ""]
    return "\n".join(out)


def render_text(blocks: Sequence[Block], footer: str) -> str:
    out: List[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "title":
            out += [block[1], "=" * len(block[1]), ""]
        elif kind == "h":
            out += [block[1], "-" * len(block[1])]
        elif kind == "p":
            out += [block[1], ""]
        elif kind in ("bullets", "numbered"):
            out += [f"  * {item}" if kind == "bullets" else f"  {i}. {item}" for i, item in enumerate(block[1], 1)]
            out.append("")
        elif kind == "table":
            rows = [list(map(str, block[1]))] + [list(map(str, r)) for r in block[2]]
            widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
            out += ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows] + [""]
    out += [footer, ""]
    return "\n".join(out)


def save_narrative(path: Path, blocks: Sequence[Block], meta: Meta, footer: str, revision: int = 1) -> None:
    ext = path.suffix.lower()
    if ext == ".docx":
        save_docx(path, blocks, meta, footer, revision)
    elif ext == ".md":
        path.write_text(render_markdown(blocks, footer), encoding="utf-8")
    else:
        path.write_text(render_text(blocks, footer), encoding="utf-8")


def save_csv(path: Path, table: Table) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(table.columns)
        for row in table.rows:
            w.writerow([cell_text(v, table.kinds.get(c, "")) for c, v in zip(table.columns, row)])


def _json_value(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date) else v


def save_json(path: Path, table: Table, layout: str) -> None:
    """layout: list (a JSON array), envelope ({"data": [...]}) or jsonl."""
    records = [{c: _json_value(v) for c, v in zip(table.columns, row)} for row in table.rows]
    if layout == "jsonl":
        text = "".join(json.dumps(r, sort_keys=False) + "\n" for r in records)
    elif layout == "envelope":
        text = json.dumps({"data": records, "count": len(records), "next": None}, indent=2) + "\n"
    else:
        text = json.dumps(records, indent=2) + "\n"
    path.write_text(text, encoding="utf-8")


def _sql_type(kind: str, sample: Any) -> str:
    if isinstance(sample, int) and kind in ("key", "fk", "int", "smallint", "constant", "pct"):
        return "INTEGER"
    return "REAL" if kind in ("money", "float") else "TEXT"


def save_sqlite(path: Path, tables: Sequence[Table]) -> None:
    """Tables in a fixed order with declared keys; same input, same bytes."""
    if path.exists():
        path.unlink()
    con = sqlite3.connect(str(path))
    try:
        for t in tables:
            cols = [f'"{c}" {_sql_type(t.kinds.get(c, ""), t.rows[0][i] if t.rows else None)}'
                    + (" PRIMARY KEY" if c == t.key else "") for i, c in enumerate(t.columns)]
            cols += [f'FOREIGN KEY ("{fk.column}") REFERENCES "{fk.target_table}" ("{fk.target_column}")'
                     for fk in t.fks]
            con.execute(f'CREATE TABLE "{t.name}" ({", ".join(cols)})')
            marks = ", ".join("?" for _ in t.columns)
            con.executemany(f'INSERT INTO "{t.name}" VALUES ({marks})',
                            [[_json_value(v) for v in row] for row in t.rows])
        con.commit()
    finally:
        con.close()
