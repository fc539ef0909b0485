"""Cell values as text: how a value is shown, header names, markdown previews of tables.

Shared by the table profiler (profile.py) and every tabular reader.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Dict, Iterable, List, Sequence

MAX_CELL_CHARS = 60  # markdown cells are cut here
_WHITESPACE_RE = re.compile(r"\s+")


def display_value(value) -> str:
    """Readable text of a cell: whole floats without '.0', ISO dates."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"
    return str(value)


def is_blank_row(row: Sequence) -> bool:
    return row.count("") + row.count(None) == len(row)


def filled(row: Sequence) -> int:
    return len(row) - row.count("") - row.count(None)


def clean_header(cells: Sequence) -> List[str]:
    """Column names from a header row: trimmed, never empty, never repeated."""
    names: List[str] = []
    seen: Dict[str, int] = {}
    for index, cell in enumerate(cells):
        name = _WHITESPACE_RE.sub(" ", display_value(cell)).strip() or f"column_{index + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        seen.setdefault(name, 1)
        names.append(name)
    return names


def is_auto_name(name: str, index: int) -> bool:
    return name == f"column_{index + 1}"



def markdown_table(header: Sequence, rows: Sequence[Sequence]) -> str:
    """A markdown table of a header row and a few rows; long cells are cut and
    columns with neither a name nor a shown value are left out."""
    names = clean_header(header)
    keep = [
        i for i in range(len(names))
        if not _is_blank(header[i]) or any(i < len(row) and not _is_blank(row[i]) for row in rows)
    ]
    lines = [
        "| " + " | ".join(_markdown_cell(names[i]) for i in keep) + " |",
        "|" + "---|" * len(keep),
    ]
    for row in rows:
        lines.append("| " + " | ".join(_markdown_cell(row[i] if i < len(row) else None) for i in keep) + " |")
    return "\n".join(lines)


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _markdown_cell(value) -> str:
    text = _WHITESPACE_RE.sub(" ", display_value(value)).strip().replace("|", "\\|")
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"


def bounded_text(sections: Iterable[str], limit: int) -> str:
    """Joins text sections, stopping at `limit` characters."""
    parts: List[str] = []
    size = 0
    for section in sections:
        if size >= limit:
            break
        parts.append(section)
        size += len(section) + 2
    text = "\n\n".join(parts)
    return text if len(text) <= limit else text[:limit]

