"""The hostile-input corpus: files built to break parsers, and what each must come out as.

    cases = write_hostile_corpus(directory)   # {file name: Case}

Every case is generated here (no downloads, no committed binaries). A case's
`expected` is the set of acceptable outcomes: "node", or specific error
types. `isolated_only` marks files that take down any process that parses
them (a native abort in a real parser): they are safe only with parser
isolation on, which is the point of it. The README's table of hostile
inputs is this list; `python -m benchmarks.robustness` runs it end to end.

Cases that need a live condition rather than a file (a file that vanishes
between match and read, an unreadable file as a non-root user, a locked
database, a parser that segfaults) are in tests/test_hostile.py.
"""

from __future__ import annotations

import codecs
import io
import os
import random
import sqlite3
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, FrozenSet, List

from docx import Document

from tests import office_fixtures
from tests.cfb import compound_file

SECRET = "FILEGRAPH-XXE-CANARY-7f3a9c"  # written to a local file that external entities point at
SECRET_FILE = "xxe-target-secret.txt"  # beside the corpus, never inside it


@dataclass(frozen=True)
class Case:
    description: str
    expected: FrozenSet[str]
    isolated_only: bool = False


_BUILDERS: Dict[str, Callable[[Path], None]] = {}
CASES: Dict[str, Case] = {}


def case(name: str, description: str, *expected: str, isolated_only: bool = False):
    def register(builder: Callable[[Path], None]):
        _BUILDERS[name] = builder
        CASES[name] = Case(description, frozenset(expected), isolated_only)
        return builder

    return register


def write_hostile_corpus(directory, isolated: bool = True) -> Dict[str, Case]:
    """Writes every case into `directory` (and the XXE target file beside it); the cases written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory.parent / SECRET_FILE).write_text(SECRET + "\n")
    for name, builder in _BUILDERS.items():
        if isolated or not CASES[name].isolated_only:
            builder(directory / name)
    return {name: c for name, c in CASES.items() if os.path.lexists(directory / name)}


# ---------------------------------------------------------------- helpers


def _docx() -> bytes:
    doc = Document()
    doc.add_paragraph("Quarterly figures for the northern region.")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _with_parts(package: bytes, parts: Dict[str, bytes]) -> bytes:
    """A zip package with some parts replaced or added."""
    source = zipfile.ZipFile(io.BytesIO(package))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item.filename, parts.get(item.filename, source.read(item.filename)))
        for name, data in parts.items():
            if name not in source.namelist():
                target.writestr(name, data)
    return out.getvalue()


def _random_bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def _xxe(path: Path) -> str:
    target = (path.parent.parent / SECRET_FILE).resolve().as_uri()
    return f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY secret SYSTEM "{target}">]>'


_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
           + "]>")


def _sheet(cells: str, dimension: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            f'spreadsheetml/2006/main"><dimension ref="{dimension}"/><sheetData>{cells}</sheetData></worksheet>'
            ).encode()


def _far_cell_workbook(dimension: str, far_cell: str) -> bytes:
    """A real workbook with two header cells, one value and a single cell far away."""
    base = office_fixtures.workbook("xltx")
    base = office_fixtures.relabel(base, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                                   False)
    column, row = far_cell.rstrip("0123456789"), far_cell[len(far_cell.rstrip("0123456789")):]
    cells = ('<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c><c r="B1" t="inlineStr"><is><t>name</t></is>'
             '</c></row><row r="2"><c r="A2"><v>1</v></c><c r="B2" t="inlineStr"><is><t>x</t></is></c></row>'
             f'<row r="{row}"><c r="{far_cell}"><v>7</v></c></row>')
    del column
    return _with_parts(base, {"xl/worksheets/sheet1.xml": _sheet(cells, dimension)})


def _pdf_with_to_unicode(mapping: List[bytes], shown: bytes) -> bytes:
    """A one-page PDF whose font's ToUnicode map sends codes where the test wants (lone surrogates, NUL)."""
    cmap = (b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Adobe-Identity-UCS def "
            b"/CMapType 2 def\n1 begincodespacerange <00> <FF> endcodespacerange\n%d beginbfchar\n" % len(mapping)
            + b"\n".join(mapping) + b"\nendbfchar endcmap CMapName currentdict /CMap defineresource pop end end\n")
    content = b"BT /F1 12 Tf 72 700 Td (" + shown + b") Tj ET\n"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
        b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"endstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _fib(table_stream_one: bool = True) -> bytes:
    """A Word 97 FIB with a piece table (Clx) at offset 0 of the table stream, 64 bytes long."""
    word = bytearray(1024)
    struct.pack_into("<HH", word, 0, 0xA5EC, 193)
    struct.pack_into("<H", word, 0x0A, 0x0200 if table_stream_one else 0)
    struct.pack_into("<H", word, 0x20, 14)  # csw
    struct.pack_into("<H", word, 0x22 + 28, 22)  # cslw
    lw_at = 0x22 + 28 + 2
    struct.pack_into("<I", word, lw_at + 12, 40)  # ccpText
    fc_lcb = lw_at + 22 * 4 + 2
    struct.pack_into("<H", word, fc_lcb - 2, 93)  # cbRgFcLcb
    struct.pack_into("<II", word, fc_lcb + 33 * 8, 0, 64)  # fcClx, lcbClx
    return bytes(word)


# ---------------------------------------------------------------- archives and XML


@case("zip-bomb-part.docx", "a package part expanding 4 MB of zeros at >1000:1", "zip_bomb")
def _(path):
    path.write_bytes(_with_parts(_docx(), {"word/document.xml": b"\0" * (4 * 1024 * 1024)}))


@case("zip-bomb-declared.xlsx", "a zip directory claiming 8 GB of uncompressed parts", "zip_bomb")
def _(path):
    data = bytearray(office_fixtures.workbook("xltx"))
    position = data.find(b"PK\x01\x02")
    while position >= 0:  # every central directory entry: uncompressed size = 1 GB
        struct.pack_into("<I", data, position + 24, 1 << 30)
        position = data.find(b"PK\x01\x02", position + 4)
    path.write_bytes(bytes(data))


@case("billion-laughs.docx", "nested entity expansion (billion laughs) in the main document part", "xml_bomb")
def _(path):
    body = (_LAUGHS + "<w:document><w:body>&lol9;</w:body></w:document>").encode()
    path.write_bytes(_with_parts(_docx(), {"word/document.xml": body}))


@case("billion-laughs.odt", "billion laughs in an OpenDocument content.xml", "xml_bomb")
def _(path):
    body = (_LAUGHS + "<office:document-content>&lol9;</office:document-content>").encode()
    path.write_bytes(_with_parts(office_fixtures.odt(), {"content.xml": body}))


@case("xxe-local-file.docx", "an external entity reading a local file into the document text", "xml_bomb")
def _(path):
    body = (_xxe(path) + "<w:document><w:body><w:p><w:r><w:t>&secret;</w:t></w:r></w:p></w:body></w:document>")
    path.write_bytes(_with_parts(_docx(), {"word/document.xml": body.encode()}))


@case("xxe-local-file.xlsx", "an external entity in the shared strings of a workbook", "xml_bomb")
def _(path):
    base = office_fixtures.workbook("xltx")
    strings = _xxe(path) + '<sst><si><t>&secret;</t></si></sst>'
    path.write_bytes(_with_parts(base, {"xl/sharedStrings.xml": strings.encode()}))


@case("xxe-local-file.odt", "an external entity in OpenDocument meta.xml", "xml_bomb")
def _(path):
    body = _xxe(path) + "<office:document-meta><dc:title>&secret;</dc:title></office:document-meta>"
    path.write_bytes(_with_parts(office_fixtures.odt(), {"meta.xml": body.encode()}))


@case("xxe-local-file.html", "an external entity in an HTML page (HTML parsers never resolve it)", "node")
def _(path):
    path.write_text(_xxe(path).replace('<?xml version="1.0"?>', "") + "<html><body><p>Entity: &secret;</p></body></html>")


@case("zip-slip.docx", "a package member named ../../../tmp/filegraph-zip-slip.txt (nothing is unpacked)", "node")
def _(path):
    path.write_bytes(_with_parts(_docx(), {"../../../tmp/filegraph-zip-slip.txt": b"escaped"}))


@case("odf-repeat-bomb.ods", "a row of 16,384 cells repeated 1,048,000 times", "node")
def _(path):
    path.write_bytes(office_fixtures.ods(repeated_rows=1_048_000))


@case("far-cell-honest.xlsx", "two cells 17 billion cells apart, used range declared (read row by row)", "node")
def _(path):
    path.write_bytes(_far_cell_workbook("A1:XFD1048576", "XFD1048576"))


@case("far-cell-lying.xlsx", "a used range declared as A1:B2 with a cell at XFD1048576: calamine aborts",
      "memory_limit", "crash", isolated_only=True)
def _(path):
    path.write_bytes(_far_cell_workbook("A1:B2", "XFD1048576"))


# ---------------------------------------------------------------- truncated, empty, mislabelled


@case("truncated.docx", "a Word package cut in half", "corrupt_archive")
def _(path):
    data = _docx()
    path.write_bytes(data[: len(data) // 2])


@case("truncated.xlsx", "a workbook cut in half", "corrupt_archive")
def _(path):
    data = office_fixtures.workbook("xltx")
    path.write_bytes(data[: len(data) // 2])


@case("truncated.pdf", "a PDF cut before its cross-reference table", "node", "parse_error")
def _(path):
    data = _pdf_with_to_unicode([b"<41> <0041>"], b"AAAA")
    path.write_bytes(data[: len(data) * 2 // 3])


@case("truncated.json", "a JSON array cut mid-record", "parse_error")
def _(path):
    path.write_text('[{"id": 1, "name": "a"}, {"id": 2, "na')


@case("truncated.doc", "a Word 97 file whose piece table points past its streams", "node", "parse_error")
def _(path):
    clx = b"\x02" + struct.pack("<I", 16) + struct.pack("<II", 0, 10_000_000) + struct.pack("<HIH", 0, 0x7FFFFFF0, 0)
    path.write_bytes(compound_file({"WordDocument": _fib(), "1Table": clx.ljust(64, b"\0")}))


@case("looping-edits.ppt", "a PowerPoint file whose chain of edits points at itself", "parse_error", "node")
def _(path):
    edit = struct.pack("<HHI", 0, 0x0FF5, 28) + struct.pack("<IHBBIIII", 0, 0, 0, 3, 0, 36, 1, 2) + b"\0" * 4
    directory = struct.pack("<HHI", 0, 0x1772, 8) + struct.pack("<II", 1 | (1 << 20), 0)
    user = struct.pack("<HHI", 0, 0x0FF6, 20) + struct.pack("<IIIHHBB", 20, 0xE391C05F, 0, 0, 0, 3, 0)
    path.write_bytes(compound_file({"PowerPoint Document": edit + directory + b"\0" * 64, "Current User": user}))


for _extension, _expected in (("docx", "corrupt_archive"), ("xlsx", "corrupt_archive"), ("pdf", "parse_error"),
                              ("json", "parse_error"), ("xls", "parse_error"), ("doc", "parse_error"),
                              ("msg", "parse_error"), ("odt", "corrupt_archive")):
    case(f"zero-bytes.{_extension}", f"an empty .{_extension}", _expected)(lambda path: path.write_bytes(b""))
case("zero-bytes.csv", "an empty .csv", "node")(lambda path: path.write_bytes(b""))
case("zero-bytes.txt", "an empty .txt", "node")(lambda path: path.write_bytes(b""))


@case("pdf-named.docx", "a PDF saved with a .docx name", "corrupt_archive")
def _(path):
    path.write_bytes(_pdf_with_to_unicode([b"<41> <0041>"], b"A"))


@case("zip-named.pdf", "a zip archive saved with a .pdf name", "parse_error")
def _(path):
    path.write_bytes(_docx())


@case("docx-named.doc", "a Word 2007 package saved with a .doc name (read as .docx)", "node")
def _(path):
    path.write_bytes(_docx())


@case("rtf-named.doc", "RTF saved with a .doc name, as Word does (read as RTF)", "node")
def _(path):
    path.write_bytes(office_fixtures.RTF)


@case("png-named.csv", "PNG bytes saved with a .csv name", "node", "parse_error")
def _(path):
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _random_bytes(4000, 1))


for _index, _extension in enumerate(("docx", "xlsx", "pptx", "xls", "doc", "ppt", "msg", "odp")):
    case(f"random-bytes.{_extension}", f"64 KB of random bytes named .{_extension}", "corrupt_archive",
         "parse_error")(lambda path, seed=_index: path.write_bytes(_random_bytes(64 * 1024, seed)))


@case("random-ole.doc", "an OLE container of random streams named .doc", "parse_error")
def _(path):
    path.write_bytes(compound_file({"WordDocument": _random_bytes(3000, 7), "1Table": _random_bytes(700, 8)}))


# ---------------------------------------------------------------- text: size, shape, encodings


@case("one-line-20mb.csv", "a 20 MB CSV that is one line of 10 million fields", "node")
def _(path):
    path.write_bytes(b"x," * (10 * 1024 * 1024))


@case("one-line-20mb.txt", "a 20 MB text file without a line break", "node")
def _(path):
    path.write_bytes(b"word " * (4 * 1024 * 1024))


@case("5000-columns.csv", "a CSV 5,000 columns wide, 200 rows", "node")
def _(path):
    header = ",".join(f"c{i}" for i in range(5000))
    rows = "\n".join(",".join(str(r * i % 97) for i in range(5000)) for r in range(200))
    path.write_text(header + "\n" + rows + "\n")


@case("unclosed-quote.csv", "a CSV whose first field opens a quote that never closes (2 MB)", "node", "parse_error")
def _(path):
    path.write_text('id,name\n1,"never closed\n' + "2,plain\n" * 200_000)


for _name, _codec, _bom in (("utf16le-bom", "utf-16-le", codecs.BOM_UTF16_LE), ("utf16le-nobom", "utf-16-le", b""),
                            ("utf16be-bom", "utf-16-be", codecs.BOM_UTF16_BE), ("utf16be-nobom", "utf-16-be", b""),
                            ("utf8-bom", "utf-8", codecs.BOM_UTF8), ("latin1", "latin-1", b"")):
    case(f"{_name}.csv", f"a CSV in {_codec} {'with' if _bom else 'without'} a byte order mark", "node")(
        lambda path, codec=_codec, bom=_bom: path.write_bytes(
            bom + "città,größe,prix\nZürich,12,3.5\nSão Paulo,7,9.25\n".encode(codec)))


@case("nul-bytes.csv", "a CSV with NUL bytes inside fields", "node")
def _(path):
    path.write_bytes(b"id,name\n1,ab\x00cd\n2,\x00\x00\n")


@case("nul-bytes.txt", "text with NUL bytes", "node")
def _(path):
    path.write_bytes(b"Revenue\x00 grew\x00 by 12%.\n" * 50)


@case("lone-surrogates.pdf", "a PDF whose ToUnicode map yields lone surrogates and NUL", "node")
def _(path):
    path.write_bytes(_pdf_with_to_unicode([b"<41> <D800>", b"<42> <0042>", b"<43> <0000>", b"<20> <0020>"],
                                          b"BABCAB Budget B"))


@case("escaped-surrogates.json", "JSON whose strings are lone surrogate and NUL escapes", "node")
def _(path):
    path.write_text('[{"name": "a\\ud800b", "note": "x\\u0000y", "\\udc80key": 1}]')


@case("deep-array.json", "a JSON array nested 100,000 deep", "parse_error")
def _(path):
    path.write_text("[" * 100_000 + "]" * 100_000)


@case("deep-object.json", "a JSON object nested 500 deep", "node")
def _(path):
    path.write_text('{"a": ' * 500 + "1" + "}" * 500)


@case("deep-lines.jsonl", "JSON Lines whose lines nest 100,000 deep", "parse_error")
def _(path):
    path.write_text(("[" * 100_000 + "]" * 100_000 + "\n") * 3)


@case("deep-nesting.html", "HTML with 100,000 nested <div> elements", "node")
def _(path):
    path.write_text("<html><body>" + "<div>" * 100_000 + "deep" + "</div>" * 100_000 + "</body></html>")


@case("deep-nesting.rtf", "RTF with 100,000 nested groups", "node", "parse_error")
def _(path):
    path.write_bytes(b"{\\rtf1 " + b"{" * 100_000 + b"deep" + b"}" * 100_000 + b"}")


@case("10000-attachments.eml", "an e-mail with 10,000 attachments", "node")
def _(path):
    parts = [f"--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=f{i}.txt\r\n\r\nx\r\n"
             for i in range(10_000)]
    path.write_text("Subject: many\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
                    + "".join(parts) + "--b--\r\n")


# ---------------------------------------------------------------- databases and the filesystem


@case("corrupt.sqlite", "a SQLite header followed by garbage pages", "parse_error")
def _(path):
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    connection.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"n{i}") for i in range(2000)])
    connection.commit()
    connection.close()
    data = bytearray(path.read_bytes())
    data[100:] = _random_bytes(len(data) - 100, 3)
    path.write_bytes(bytes(data))


@case("wal-pending.sqlite", "a SQLite database in WAL mode with uncheckpointed changes beside it", "node")
def _(path):
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    connection.commit()
    connection.execute("PRAGMA wal_autocheckpoint=0")
    connection.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"n{i}") for i in range(100)])
    connection.commit()
    os.link(path.with_name(path.name + "-wal"), path.with_name("wal-pending.sqlite-wal.keep"))
    connection.close()  # closing checkpoints; the kept copy of the log is put back below
    os.replace(path.with_name("wal-pending.sqlite-wal.keep"), path.with_name(path.name + "-wal"))


@case("not-sqlite.db", "a Windows Thumbs.db (an OLE container) named .db", "unsupported_format")
def _(path):
    path.write_bytes(compound_file({"Catalog": b"\0" * 64}))


@case("symlink-loop-a.csv", "a symbolic link to a link back to it", "read_error")
def _(path):
    os.symlink(path.with_name("symlink-loop-b.csv").name, path)
    os.symlink(path.name, path.with_name("symlink-loop-b.csv"))


CASES["symlink-loop-b.csv"] = Case("the other half of the loop", frozenset({"read_error"}))


@case("dangling-link.csv", "a symbolic link to a file that does not exist", "read_error")
def _(path):
    os.symlink("/nonexistent/filegraph/data.csv", path)


@case("named-pipe.csv", "a FIFO with no writer (opening it would block forever)", "read_error")
def _(path):
    os.mkfifo(path)


@case("device.txt", "a symbolic link to /dev/zero (endless bytes)", "read_error")
def _(path):
    os.symlink("/dev/zero", path)


@case("sparse-300mb.csv", "a 300 MB sparse file, over the size limit", "too_large")
def _(path):
    with open(path, "wb") as handle:
        handle.truncate(300 * 1024 * 1024)


@case("name-not-utf8-\udcff.csv", "a file name with a byte that is not UTF-8", "node")
def _(path):
    path.write_text("id,value\n1,2\n")


def expected_outcomes() -> Dict[str, List[str]]:
    """{case: sorted acceptable outcomes}, for reports."""
    return {name: sorted(c.expected) for name, c in CASES.items()}


def secret_leaks(root) -> List[str]:
    """Output files under `root` that contain the XXE canary."""
    leaks = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            with open(os.path.join(folder, name), "rb") as handle:
                if SECRET.encode() in handle.read():
                    leaks.append(os.path.join(folder, name))
    return leaks

