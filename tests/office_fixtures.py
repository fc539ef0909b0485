"""Realistic samples of the formats a company drive holds, written by the tests themselves.

Each builder returns the file's bytes as the usual producer writes them:
odfpy for OpenDocument, python-docx/python-pptx/openpyxl re-labelled the way
Office labels macro-enabled files and templates, the standard library for
e-mail, and an OLE compound file (tests/cfb.py) laid out as Outlook lays
out a .msg.
"""

import io
import re
import struct
import zipfile
from email.message import EmailMessage

import openpyxl
from docx import Document
from pptx import Presentation
from pptx.util import Inches

from tests.cfb import compound_file, filetime, property_stream

# Main-part content types Office writes for each variant.
WORD_TYPES = {
    "docm": "application/vnd.ms-word.document.macroEnabled.main+xml",
    "dotx": "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
    "dotm": "application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
}
DECK_TYPES = {
    "pptm": "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml",
    "potx": "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml",
    "ppsx": "application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml",
}
SHEET_TYPES = {
    "xltx": "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    "xlsm": "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
}


def relabel(data: bytes, content_type: str, macros: bool) -> bytes:
    """An OOXML package with its main part's content type changed (and a VBA project part when `macros`)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            body = source.read(item.filename)
            if item.filename == "[Content_Types].xml":
                text = body.decode("utf-8")
                text = re.sub(r'(PartName="/(?:word/document|ppt/presentation|xl/workbook)\.xml" ContentType=")[^"]+',
                              lambda m: m.group(1) + content_type, text)
                if macros:
                    text = text.replace("</Types>", '<Default Extension="bin" '
                                        'ContentType="application/vnd.ms-office.vbaProject"/></Types>')
                body = text.encode("utf-8")
            target.writestr(item, body)
        if macros:
            root = {"word": "word", "ppt": "ppt", "xl": "xl"}[next(n.split("/")[0] for n in source.namelist()
                                                                   if n.split("/")[0] in ("word", "ppt", "xl"))]
            target.writestr(f"{root}/vbaProject.bin", compound_file({"VBA/dir": b"\x01" * 64}))
    return out.getvalue()


def word_document(kind: str) -> bytes:
    doc = Document()
    doc.core_properties.author = "Ines Ortega"
    doc.core_properties.title = "Vendor onboarding procedure"
    doc.add_heading("Vendor onboarding", level=1)
    doc.add_paragraph("Every new vendor is checked against the supplier register before the first order.")
    table = doc.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Step", "Owner"
    table.cell(1, 0).text, table.cell(1, 1).text = "Register check", "Procurement"
    out = io.BytesIO()
    doc.save(out)
    return relabel(out.getvalue(), WORD_TYPES[kind], kind.endswith("m"))


def deck(kind: str) -> bytes:
    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[1])
    slide.shapes.title.text = "Quarterly business review"
    slide.placeholders[1].text = "Revenue up 12% on last quarter"
    slide.notes_slide.notes_text_frame.text = "Mention the new region"
    box = prs.slides.add_slide(prs.slide_layouts[5])
    box.shapes.title.text = "Next steps"
    box.shapes.add_textbox(Inches(1), Inches(2), Inches(4), Inches(1)).text_frame.text = "Hire two analysts"
    prs.core_properties.author = "Marta Keller"
    out = io.BytesIO()
    prs.save(out)
    return relabel(out.getvalue(), DECK_TYPES[kind], kind.endswith("m"))


def workbook(kind: str) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Budget"
    sheet.append(["cost_centre", "amount"])
    for centre, amount in (("CC-100", 1200), ("CC-200", 800), ("CC-300", 450)):
        sheet.append([centre, amount])
    book.properties.creator = "Tom Baker"
    out = io.BytesIO()
    book.save(out)
    return relabel(out.getvalue(), SHEET_TYPES[kind], kind.endswith("m"))


# ---------------------------------------------------------------- OpenDocument (odfpy)


def odt() -> bytes:
    from odf import dc, meta
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableRow
    from odf.text import H, Note, NoteBody, NoteCitation, P, S

    doc = OpenDocumentText()
    doc.meta.addElement(dc.Title(text="Warehouse audit 2024"))
    doc.meta.addElement(meta.InitialCreator(text="Priya Raman"))
    doc.meta.addElement(meta.CreationDate(text="2024-03-01T10:00:00"))
    doc.meta.addElement(meta.Keyword(text="audit"))
    doc.meta.addElement(meta.UserDefined(name="Classification", text="Internal"))
    doc.text.addElement(H(outlinelevel=1, text="Findings"))
    paragraph = P(text="Stock counts matched")
    paragraph.addElement(S(c=2))
    paragraph.addText("the ledger in 47 of 50 bins.")
    note = Note(noteclass="footnote")
    note.addElement(NoteCitation(text="1"))
    body = NoteBody()
    body.addElement(P(text="Counted on 2024-02-28."))
    note.addElement(body)
    paragraph.addElement(note)
    doc.text.addElement(paragraph)
    doc.text.addElement(H(outlinelevel=2, text="Bins out of balance"))
    table = Table(name="Bins")
    for row in (("Bin", "Difference"), ("A-12", "-3"), ("C-07", "+1")):
        table_row = TableRow()
        for cell in row:
            table_cell = TableCell()
            table_cell.addElement(P(text=cell))
            table_row.addElement(table_cell)
        table.addElement(table_row)
    doc.text.addElement(table)
    return _odf_bytes(doc)


def ods(repeated_rows: int = 0, repeat_values: bool = False) -> bytes:
    """A spreadsheet; `repeated_rows` adds a row repeated that many times: blank and 16384 cells wide,
    or (`repeat_values`) a copy of the last data row."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Shipments")
    rows = [["shipment_id", "region", "weight_kg", "shipped_on"]] + [
        [f"S-{100 + i}", ("North", "South")[i % 2], 10.5 * (i + 1), f"2024-01-{i + 1:02d}"] for i in range(6)]
    for row in rows:
        table_row = TableRow()
        for value in row:
            if isinstance(value, float):
                cell = TableCell(valuetype="float", value=value)
            elif value.startswith("2024-"):
                cell = TableCell(valuetype="date", datevalue=value)
            else:
                cell = TableCell(valuetype="string")
            cell.addElement(P(text=str(value)))
            table_row.addElement(cell)
        table.addElement(table_row)
    if repeated_rows and repeat_values:
        repeated = TableRow(numberrowsrepeated=repeated_rows)
        for value in ("S-999", "North"):
            cell = TableCell(valuetype="string")
            cell.addElement(P(text=value))
            repeated.addElement(cell)
        repeated.addElement(TableCell(valuetype="float", value=1.5))
        table.addElement(repeated)
    elif repeated_rows:
        blank = TableRow(numberrowsrepeated=repeated_rows)
        blank.addElement(TableCell(numbercolumnsrepeated=16384))
        table.addElement(blank)
    doc.spreadsheet.addElement(table)
    return _odf_bytes(doc)


def odp() -> bytes:
    from odf.draw import Frame, Page, TextBox
    from odf.namespaces import PRESENTATIONNS
    from odf.opendocument import OpenDocumentPresentation
    from odf.presentation import Notes
    from odf.style import MasterPage, PageLayout
    from odf.text import P

    doc = OpenDocumentPresentation()
    layout = PageLayout(name="layout")
    doc.automaticstyles.addElement(layout)
    master = MasterPage(name="master", pagelayoutname=layout)
    doc.masterstyles.addElement(master)

    def frame(kind: str, text: str):
        box = Frame(width="20cm", height="3cm", x="1cm", y="1cm")
        box.setAttrNS(PRESENTATIONNS, "class", kind)
        content = TextBox()
        content.addElement(P(text=text))
        box.addElement(content)
        return box

    for title, body, notes in (("Roadmap 2025", "Ship the supplier portal", "Budget is approved"),
                               ("Risks", "Two vendors may exit", "")):
        page = Page(masterpagename=master)
        page.addElement(frame("title", title))
        page.addElement(frame("outline", body))
        if notes:
            speaker = Notes()
            speaker.addElement(frame("notes", notes))
            page.addElement(speaker)
        doc.presentation.addElement(page)
    return _odf_bytes(doc)


def _odf_bytes(doc) -> bytes:
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()


# ---------------------------------------------------------------- RTF, HTML, e-mail


RTF = (rb"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0 Arial;}}"
       rb"{\info{\title Board minutes March}{\author Grace Hopper}{\operator Alan Turing}"
       rb"{\creatim\yr2023\mo3\dy14\hr9\min30}{\revtim\yr2023\mo3\dy15\hr8\min0}}"
       rb"\pard\b Minutes of the board\b0\par Revenue rose 12\'25 in Q3; the caf\'e9 budget was cut.\par"
       rb"{\*\generator Writer}Next meeting: 2023-04-11.\par}")

HTML = b"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>Supplier scorecard Q3</title>
<meta name="author" content="Lena Fischer"><meta name="description" content="Quarterly supplier ratings">
<style>td { color: red }</style><script>var secret = "never shown";</script></head>
<body><h1>Supplier scorecard</h1><p>Ratings are based on <b>on-time delivery</b> &amp; quality.</p>
<h2>Top suppliers</h2><ul><li>Acme Metals: 98%</li><li>Borealis Plastics: 95%</li></ul>
<table><tr><th>Supplier</th><th>Score</th></tr><tr><td>Acme Metals</td><td>98</td></tr>
<tr><td>Borealis Plastics</td><td>95</td></tr></table><p>Source: supplier_scores_q3.xlsx</p></body></html>"""


def eml() -> bytes:
    message = EmailMessage()
    message["Subject"] = "=?utf-8?q?Q3_r=C3=A9sum=C3=A9_and_forecast?="
    message["From"] = "Ada Lovelace <ada@example.com>"
    message["To"] = "Bob Stone <bob@example.com>, carol@example.com"
    message["Date"] = "Tue, 01 Oct 2024 10:00:00 +0200"
    message["Message-ID"] = "<q3-forecast-1@example.com>"
    message.set_content("Hi Bob,\n\nThe Q3 forecast is attached (forecast_q3.xlsx).\nRevenue is 1,200 k.\n")
    message.add_alternative("<p>Hi Bob,</p><p>The Q3 forecast is attached.</p>", subtype="html")
    message.add_attachment(workbook("xlsm"), maintype="application",
                           subtype="vnd.ms-excel.sheet.macroEnabled.12", filename="forecast_q3.xlsx")
    message.add_attachment(b"%PDF-1.4 minimal", maintype="application", subtype="pdf", filename="terms.pdf")
    return bytes(message)


def msg(body: str = "Please review the attached contract before Friday.\r\nThanks, Dana") -> bytes:
    """An Outlook message: Unicode property streams, fixed-size properties, one recipient, one attachment."""

    def text(tag: int) -> str:
        return f"__substg1.0_{tag:04X}001F"

    attachment = "__attach_version1.0_#00000000"
    recipient = "__recip_version1.0_#00000000"
    streams = {
        text(0x0037): "Contract renewal 2025".encode("utf-16-le"),
        text(0x0C1A): "Dana Whitfield".encode("utf-16-le"),
        text(0x5D01): "dana@example.com".encode("utf-16-le"),
        text(0x0E04): "Legal Team".encode("utf-16-le"),
        text(0x1000): body.encode("utf-16-le"),
        "__properties_version1.0": property_stream(
            {0x0039 << 16 | 0x0040: filetime(2024, 11, 5, 14, 30), 0x3FDE << 16 | 0x0003: struct.pack("<i", 65001)},
            header=32),
        (recipient, text(0x3001)): "Legal Team".encode("utf-16-le"),
        (recipient, "__properties_version1.0"): property_stream({}, header=8),
        (attachment, text(0x3707)): "contract_2025.docx".encode("utf-16-le"),
        (attachment, text(0x370E)): "application/vnd.openxmlformats-officedocument.wordprocessingml.document".encode(
            "utf-16-le"),
        (attachment, "__substg1.0_37010102"): word_document("docm"),
        (attachment, "__properties_version1.0"): property_stream({}, header=8),
        ("__nameid_version1.0", "__substg1.0_00020102"): b"",
    }
    return compound_file(streams)
