"""Read a generated corpus back with the ordinary readers (openpyxl, python-pptx,
python-docx, sqlite3, json, csv), as the sample-corpus tests check it."""

import csv
import hashlib
import json
import re
import sqlite3
from pathlib import Path, PurePosixPath

import docx
import openpyxl
import pptx


def ext(rel: str) -> str:
    return PurePosixPath(rel).suffix.lstrip(".").lower()


def read_tables(path: Path) -> dict:
    """Table name -> (header, rows) for a data file, as the file stores it."""
    kind = ext(path.name)
    if kind == "csv":
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        return {path.stem: (rows[0], rows[1:])}
    if kind in ("json", "jsonl"):
        text = path.read_text(encoding="utf-8")
        if kind == "jsonl":
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            data = json.loads(text)
            records = data["data"] if isinstance(data, dict) else data
        header = list(records[0])
        return {path.stem: (header, [[r[c] for c in header] for r in records])}
    if kind in ("sqlite", "db"):
        con = sqlite3.connect(str(path))
        try:
            out = {}
            for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"):
                cur = con.execute(f'SELECT * FROM "{name}"')
                out[name] = ([d[0] for d in cur.description], [list(r) for r in cur.fetchall()])
            return out
        finally:
            con.close()
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        out = {}
        for ws in wb.worksheets:
            values = [list(r) for r in ws.iter_rows(values_only=True)]
            # The header is the first row with two or more cells (title rows have
            # one); a notes sheet has none and is read from its first row.
            start = next((i for i, r in enumerate(values) if sum(v is not None for v in r) >= 2), 0)
            body = []
            for r in values[start + 1:]:
                if r[0] == "Total":  # formula total row
                    break
                body.append(r)
            out[ws.title] = (values[start], body)
        return out
    finally:
        wb.close()


def narrative_text(path: Path) -> str:
    kind = ext(path.name)
    if kind == "docx":
        d = docx.Document(str(path))
        parts = [p.text for p in d.paragraphs]
        parts += [c.text for t in d.tables for row in t.rows for c in row.cells]
        parts += [p.text for s in d.sections for p in s.footer.paragraphs]
        return "\n".join(parts)
    if kind == "pptx":
        parts = []
        for slide in pptx.Presentation(str(path)).slides:
            for shape in slide.shapes:
                if shape.has_text_frame:
                    parts += [p.text for p in shape.text_frame.paragraphs]
                if shape.has_table:
                    parts += [c.text for row in shape.table.rows for c in row.cells]
            if slide.has_notes_slide:
                parts.append(slide.notes_slide.notes_text_frame.text)
        return "\n".join(parts)
    return path.read_text(encoding="utf-8")


def modified_at(path: Path):
    if ext(path.name) == "xlsx":
        wb = openpyxl.load_workbook(path, read_only=True)
        try:
            return wb.properties.modified
        finally:
            wb.close()
    if ext(path.name) == "docx":
        return docx.Document(str(path)).core_properties.modified
    return pptx.Presentation(str(path)).core_properties.modified


def parse_figure(text: str):
    """'$1.23M' / '45.2k' / '1,234.50' -> (value, rounding tolerance)."""
    s = text.strip().lstrip("$").replace(",", "")
    scale = {"k": 1e3, "M": 1e6, "B": 1e9}.get(s[-1], 1.0)
    if scale != 1.0:
        s = s[:-1]
    decimals = len(s.split(".")[1]) if "." in s else 0
    return float(s) * scale, 0.5 * 10 ** -decimals * scale + 1e-6


# ---- truth look-ups and comparisons ------------------------------------------


def project_of(truth, rel: str):
    """The project code of a file; None for files of no project."""
    return truth["file_projects"].get(rel)


def tree(root: Path) -> dict:
    """Relative path -> sha256 of every file under root except truth.json."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != "truth.json"}


def edges_of(truth, kind):
    return [e for e in truth["edges"] if e["type"] == kind]


def target_of(edge):
    return edge["b"] if edge["source"] == edge["a"] else edge["a"]


def negatives_of(truth, cls):
    return [n for n in truth["hard_negatives"] if n["class"] == cls]


def lines_of(path: Path) -> set:
    """Text lines without Markdown or plain-text list and heading markers, so .md and .docx compare."""
    lines = (re.sub(r"^(#+|[-*]|\d+\.)\s+", "", line.strip()).strip("_= ") for line in narrative_text(path).splitlines())
    return {line for line in lines if line and set(line) != {"-"}}


def shared_lines(root: Path, pair: dict) -> float:
    a, b = lines_of(root / pair["a"]), lines_of(root / pair["b"])
    return len(a & b) / min(len(a), len(b))


def int_columns(path: Path) -> dict:
    """Column -> set of values, for columns holding only integers."""
    out = {}
    for header, rows in read_tables(path).values():
        for i, column in enumerate(header):
            cells = [r[i] for r in rows]
            if cells and all(re.fullmatch(r"-?\d+", str(v)) for v in cells):
                out[column] = {int(v) for v in cells}
    return out


def cell_values(path: Path) -> set:
    return {str(v) for _, rows in read_tables(path).values() for r in rows for v in r}


def classed(truth, cls):
    return [e for e in truth["edges"] if e.get("class") == cls]


def fk_and_keys(root, edge):
    fk, key = edge["columns"]
    child = [str(r[h.index(fk)]) for h, rows in read_tables(root / edge["source"]).values() if fk in h for r in rows]
    keys = {str(r[h.index(key)]) for h, rows in read_tables(root / target_of(edge)).values() if key in h for r in rows}
    return child, keys
