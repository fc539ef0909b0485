"""A small, valid text PDF written by hand, for the PDF reader tests.

`write_text_pdf(path, pages, info)` writes raw PDF objects: a catalog, a page
tree, one page per list of lines (Helvetica text shown line by line), a
document information dictionary, and an xref table whose byte offsets are
exact, so strict parsers read it without repairs. `report_pdf(tmp_path)`
writes the two-page report the narrative tests use: a running header on
both pages, numbered section headings at two depths and enough text on
page 1 to exceed a 2,000-character budget.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Sequence

PAGE_WIDTH, PAGE_HEIGHT = 612, 792  # US Letter, in points
FONT_SIZE, LEADING, MARGIN = 10, 12, 72

RUNNING_HEADER = "Quarterly Operations Review"
REPORT_INFO = {
    "Title": "Operations Review Q2 2022",  # differs from the running header: read from /Info
    "Author": "Dana Writer",
    "Subject": "Operations",
    "CreationDate": "D:20220429171908+00'00'",
    "ModDate": "D:20220502090000+00'00'",
    "Producer": "filegraph tests/pdf_fixture.py",
}
REPORT_SENTENCE = "This is version 2.3 of the Quarterly Operations Review for the northern region."
REPORT_CREATED_AT = "2022-04-29T17:19:08+00:00"


def pdf_string(text: str) -> bytes:
    """A PDF literal string: (text) with backslashes and parentheses escaped; Latin-1 only."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("latin-1") + b")"


def _content_stream(lines: Sequence[str]) -> bytes:
    top = PAGE_HEIGHT - MARGIN
    ops = [b"BT", b"/F1 %d Tf" % FONT_SIZE, b"%d TL" % LEADING, b"%d %d Td" % (MARGIN, top)]
    for i, line in enumerate(lines):
        if i:
            ops.append(b"T*")  # next line, LEADING points lower
        ops.append(pdf_string(line) + b" Tj")
    ops.append(b"ET")
    return b"\n".join(ops) + b"\n"


def _dictionary(entries: Dict[str, bytes]) -> bytes:
    return b"<< " + b" ".join(b"/" + key.encode("ascii") + b" " + value for key, value in entries.items()) + b" >>"


def build_text_pdf(pages: Sequence[Sequence[str]], info: Dict[str, str]) -> bytes:
    """The bytes of a PDF with one page per list of lines and `info` as its /Info dictionary."""
    if not pages:
        raise ValueError("a PDF needs at least one page")
    max_lines = (PAGE_HEIGHT - 2 * MARGIN) // LEADING + 1
    if any(len(lines) > max_lines for lines in pages):
        raise ValueError(f"at most {max_lines} lines fit on a page")
    # Object numbers: 1 catalog, 2 page tree, 3 font, 4 info, then (page, contents) pairs.
    page_numbers = [5 + 2 * i for i in range(len(pages))]
    objects: List[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % n for n in page_numbers)
        + b"] /Count %d >>" % len(pages),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        _dictionary({key: pdf_string(value) for key, value in info.items()}),
    ]
    for number, lines in zip(page_numbers, pages):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d]" % (PAGE_WIDTH, PAGE_HEIGHT)
            + b" /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (number + 1)
        )
        stream = _content_stream(lines)
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream")

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")  # the binary comment marks the file as binary
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n" % (len(objects) + 1)
    out += b"0000000000 65535 f \n"  # each entry is exactly 20 bytes, ending in space + newline
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def write_text_pdf(path: Path, pages: Sequence[Sequence[str]], info: Dict[str, str]) -> Path:
    path = Path(path)
    path.write_bytes(build_text_pdf(pages, info))
    return path


def report_pages() -> List[List[str]]:
    """Two pages: running header, numbered headings (levels 1 and 2), over 2,000 characters on page 1."""
    regions = ("north", "south", "east", "west", "central")
    page1 = [RUNNING_HEADER, "1. Introduction", REPORT_SENTENCE]
    page1 += [
        f"Week {week} saw {120 + 7 * week} shipments leave the {regions[week % 5]} depot, "
        f"with {week % 4 + 1} late deliveries."
        for week in range(1, 31)
    ]
    page2 = [RUNNING_HEADER, "2. Regional Results", "2.1. Northern warehouses"]
    page2 += [
        "Stock turns rose to 8.4 (from 7.9) while picking errors fell by 12 percent.",
        "2.2. Southern warehouses",
        "The Atlanta site closed in March; its volume moved to the Miami site.",
    ]
    return [page1, page2]


def report_pdf(directory: Path, name: str = "operations-review.pdf") -> Path:
    """Writes the two-page report PDF into `directory` (e.g. pytest's tmp_path); its path."""
    return write_text_pdf(Path(directory) / name, report_pages(), REPORT_INFO)
