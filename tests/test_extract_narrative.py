"""Narrative readers (pptx, docx, pdf, md, txt) and extract_file on narrative files."""

import dataclasses
import io
import zipfile
from datetime import datetime

import docx
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.enum.chart import XL_CHART_TYPE
from pptx.util import Inches
from pypdf import PdfWriter

from tests.pdf_fixture import (
    REPORT_CREATED_AT,
    REPORT_INFO,
    REPORT_SENTENCE,
    RUNNING_HEADER,
    report_pdf,
)
from transforms.config import Config, ExtractionConfig, PrivacyConfig
from transforms.extract import extract_file
from transforms.extract.context import ExtractContext
from transforms.extract.narrative import (
    decode_text,
    markdown_table,
    read_docx,
    read_markdown,
    read_pdf,
    read_pptx,
    read_text,
)
from transforms.model import ExtractionError


def ctx(extension: str, **limits) -> ExtractContext:
    return ExtractContext(
        uri=f"mem://test.{extension}", file_name=f"test.{extension}", extension=extension,
        limits=ExtractionConfig(**limits),
    )


def with_custom_properties(data: bytes, props: dict) -> bytes:
    """An OOXML package with docProps/custom.xml added, as Word or PowerPoint writes it."""
    items = "".join(
        f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{i}" name="{name}">'
        f"<vt:lpwstr>{value}</vt:lpwstr></property>"
        for i, (name, value) in enumerate(props.items(), start=2)
    )
    custom = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
        'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">' + items + "</Properties>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "[Content_Types].xml":
                body = body.replace(
                    b"</Types>",
                    b'<Override PartName="/docProps/custom.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.custom-properties+xml"/></Types>',
                )
            elif info.filename == "_rels/.rels":
                body = body.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdCustom" Type="http://schemas.openxmlformats.org/officeDocument/'
                    b'2006/relationships/custom-properties" Target="docProps/custom.xml"/></Relationships>',
                )
            dst.writestr(info, body)
        dst.writestr("docProps/custom.xml", custom)
    return out.getvalue()


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def deck_bytes() -> bytes:
    deck = Presentation()
    deck.core_properties.author = "Dana Analyst"
    deck.core_properties.title = "Q3 Business Review"
    deck.core_properties.keywords = "revenue, regions"

    overview = deck.slides.add_slide(deck.slide_layouts[1])
    overview.shapes.title.text = "Revenue Overview"
    body = overview.placeholders[1].text_frame
    body.text = "Revenue grew 12.5% to $1.23M"
    sub = body.add_paragraph()
    sub.text = "North region led (PRJ-4821)"
    sub.level = 1
    overview.notes_slide.notes_text_frame.text = "Source: sales_2024.xlsx"

    by_region = deck.slides.add_slide(deck.slide_layouts[5])
    by_region.shapes.title.text = "Revenue by Region"
    chart_data = CategoryChartData()
    chart_data.categories = ["North", "South"]
    chart_data.add_series("Revenue", (1200.5, 800))
    by_region.shapes.add_chart(
        XL_CHART_TYPE.COLUMN_CLUSTERED, Inches(1), Inches(1), Inches(4), Inches(3), chart_data
    )
    table = by_region.shapes.add_table(2, 2, Inches(1), Inches(4), Inches(4), Inches(1)).table
    for (r, c), text in {(0, 0): "Region", (0, 1): "Total", (1, 0): "North", (1, 1): "1,200.50"}.items():
        table.cell(r, c).text = text

    blank = deck.slides.add_slide(deck.slide_layouts[6])  # no title placeholder
    box = blank.shapes.add_textbox(Inches(1), Inches(1), Inches(4), Inches(1))
    box.text_frame.text = "Next Steps"
    box.text_frame.add_paragraph().text = "Hire two analysts"

    out = io.BytesIO()
    deck.save(out)
    return with_custom_properties(out.getvalue(), {"Department": "Finance"})


@pytest.fixture(scope="module")
def deck(deck_bytes):
    return read_pptx(deck_bytes, ctx("pptx"))


@pytest.fixture(scope="module")
def doc_bytes() -> bytes:
    document = docx.Document()
    document.core_properties.author = "Lee Writer"
    document.core_properties.modified = datetime(2024, 5, 6, 7, 8, 9)
    document.add_heading("Annual Plan", 0)
    document.add_heading("Goals", 1)
    goal = document.add_paragraph("Grow revenue to $2.5M by March 2025.")
    document.add_heading("Regional Budgets", 2)
    table = document.add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "Region", (0, 1): "Budget", (1, 0): "North", (1, 1): "1,500"}.items():
        table.cell(r, c).text = text
    outlined = document.add_paragraph("Risks and Mitigations")
    level = OxmlElement("w:outlineLvl")
    level.set(qn("w:val"), "0")  # outline level 0: a level-1 heading without a heading style
    outlined._p.get_or_add_pPr().append(level)
    document.add_paragraph("Staffing may slip.")
    document.add_comment(goal.runs[0], text="Check the target with finance", author="Reviewer")
    out = io.BytesIO()
    document.save(out)
    return with_custom_properties(out.getvalue(), {"Sensitivity": "Restricted", "Project": "PRJ-4821"})


@pytest.fixture(scope="module")
def doc(doc_bytes):
    return read_docx(doc_bytes, ctx("docx"))


# ---------------------------------------------------------------- pptx


def test_pptx_slide_titles_come_from_title_placeholders(deck):
    assert deck.structure["slide_titles"][:2] == ["Revenue Overview", "Revenue by Region"]


def test_pptx_slide_without_title_placeholder_uses_its_first_text(deck):
    assert deck.structure["slide_titles"][2] == "Next Steps"
    assert "- Hire two analysts" in deck.text


def test_pptx_text_has_slide_headers_and_indented_bullets(deck):
    assert "## Slide 1: Revenue Overview\n- Revenue grew 12.5% to $1.23M\n  - North region led (PRJ-4821)" in deck.text


def test_pptx_notes_are_in_text_and_flagged(deck):
    assert "Notes: Source: sales_2024.xlsx" in deck.text
    assert deck.structure["has_notes"] is True


def test_pptx_tables_are_markdown(deck):
    assert "| Region | Total |\n|---|---|\n| North | 1,200.50 |" in deck.text
    assert deck.structure["tables"] == 1


def test_pptx_chart_series_values_and_categories(deck):
    (chart,) = deck.structure["charts"]
    assert chart["slide"] == 2
    assert chart["type"] == "column_clustered"
    assert chart["categories"] == ["North", "South"]
    assert chart["series"] == [{"name": "Revenue", "values": [1200.5, 800.0]}]
    assert "- Revenue: North = 1200.5, South = 800" in deck.text


def test_pptx_counts_slides(deck):
    assert deck.structure["slide_count"] == 3


def test_pptx_core_and_custom_properties(deck):
    assert deck.properties["author"] == "Dana Analyst"
    assert deck.properties["title"] == "Q3 Business Review"
    assert deck.properties["keywords"] == "revenue, regions"
    assert deck.properties["custom"] == {"Department": "Finance"}
    assert deck.properties["modified_at"].startswith("20")


# ---------------------------------------------------------------- docx


def test_docx_headings_by_style_with_title_as_level_zero(doc):
    assert doc.structure["headings"][:3] == [
        {"level": 0, "text": "Annual Plan"},
        {"level": 1, "text": "Goals"},
        {"level": 2, "text": "Regional Budgets"},
    ]


def test_docx_outline_level_makes_a_heading(doc):
    assert {"level": 1, "text": "Risks and Mitigations"} in doc.structure["headings"]


def _styled_document(style_outline: str, without_styles_part: bool = False) -> bytes:
    """A document whose custom paragraph style "Chapter" carries outline level `style_outline`."""
    document = docx.Document()
    chapter = document.styles.add_style("Chapter", 1)  # WD_STYLE_TYPE.PARAGRAPH
    level = OxmlElement("w:outlineLvl")
    level.set(qn("w:val"), style_outline)
    chapter.element.get_or_add_pPr().append(level)
    document.add_heading("Plan", 1)
    document.add_paragraph("Scope", style="Chapter")
    document.add_paragraph("Body text.")
    out = io.BytesIO()
    document.save(out)
    if not without_styles_part:
        return out.getvalue()
    import re

    source, cut = zipfile.ZipFile(out), io.BytesIO()
    with zipfile.ZipFile(cut, "w") as package:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/_rels/document.xml.rels":
                data = re.sub(rb'<Relationship [^>]*Target="styles.xml"[^>]*/>', b"", data)
            if item.filename != "word/styles.xml":
                package.writestr(item, data)
    return cut.getvalue()


def test_docx_heading_levels_come_from_style_names_outline_levels_and_default_styles():
    from transforms.extract import narrative

    narrative._heading_levels_of_part.cache_clear()
    outlined = read_docx(_styled_document("2"), ctx("docx")).structure["headings"]
    assert outlined == [{"level": 1, "text": "Plan"}, {"level": 3, "text": "Scope"}]
    body = read_docx(_styled_document("9"), ctx("docx")).structure["headings"]  # 9: body text
    assert body == [{"level": 1, "text": "Plan"}]
    # Documents of one template share their styles part: it is parsed once, not per document.
    read_docx(_styled_document("2"), ctx("docx"))
    assert narrative._heading_levels_of_part.cache_info().hits >= 1
    # Without a styles part the document still reads, its styles python-docx's defaults, which
    # define no heading styles: no heading, as before.
    bare = read_docx(_styled_document("2", without_styles_part=True), ctx("docx"))
    assert bare.structure["headings"] == [] and "Scope" in bare.text


def test_docx_text_renders_headings_paragraphs_and_tables_in_order(doc):
    expected = (
        "# Annual Plan\n# Goals\nGrow revenue to $2.5M by March 2025.\n## Regional Budgets\n"
        "| Region | Budget |\n|---|---|\n| North | 1,500 |\n# Risks and Mitigations\nStaffing may slip."
    )
    assert doc.text.startswith(expected)


def test_docx_comments_are_counted_and_in_text(doc):
    assert doc.structure["comments"] == 1
    assert "Comments:\n- Check the target with finance" in doc.text


def test_docx_counts(doc):
    assert doc.structure["tables"] == 1
    assert doc.structure["paragraph_count"] == 6
    assert doc.structure["word_count"] == 22


def test_docx_custom_properties(doc):
    assert doc.properties["custom"] == {"Sensitivity": "Restricted", "Project": "PRJ-4821"}
    assert doc.properties["author"] == "Lee Writer"


def test_docx_title_falls_back_to_first_heading(doc):
    assert doc.properties["title"] == "Annual Plan"


# ---------------------------------------------------------------- pdf


@pytest.fixture
def report_pdf_bytes(tmp_path) -> bytes:
    """A two-page text PDF written by hand (tests/pdf_fixture.py)."""
    return report_pdf(tmp_path).read_bytes()


def test_pdf_page_count_metadata_and_text(report_pdf_bytes):
    pdf = read_pdf(report_pdf_bytes, ctx("pdf"))
    assert pdf.structure["page_count"] == 2
    assert pdf.properties["title"] == REPORT_INFO["Title"]
    assert pdf.properties["author"] == REPORT_INFO["Author"]
    assert pdf.properties["created_at"] == REPORT_CREATED_AT
    assert REPORT_SENTENCE in pdf.text
    assert "2.1. Northern warehouses" in pdf.text  # page 2 is read too
    assert pdf.warnings == []


def test_pdf_numbered_headings_with_depth_and_running_header_once(report_pdf_bytes):
    headings = read_pdf(report_pdf_bytes, ctx("pdf")).structure["headings"]
    assert {"level": 1, "text": "1. Introduction"} in headings
    assert {"level": 1, "text": "2. Regional Results"} in headings
    assert {"level": 2, "text": "2.1. Northern warehouses"} in headings
    assert [h["text"] for h in headings].count(RUNNING_HEADER) == 1


def test_pdf_stops_reading_pages_at_the_text_budget(report_pdf_bytes):
    pdf = read_pdf(report_pdf_bytes, ctx("pdf", max_text_chars=2000))
    assert len(pdf.text) < 2000 + 200
    assert "2.1. Northern warehouses" not in pdf.text
    assert any(w.startswith("text read from") for w in pdf.warnings)


def test_pdf_fixture_xref_offsets_point_at_their_objects(report_pdf_bytes):
    data = report_pdf_bytes
    xref_at = int(data.rsplit(b"startxref", 1)[1].split()[0])
    assert data[xref_at:].startswith(b"xref\n")
    header, *entries = data[xref_at:].split(b"trailer", 1)[0].splitlines()[1:]
    first, count = map(int, header.split())
    assert (first, count) == (0, len(entries))
    for number, entry in enumerate(entries[1:], start=1):
        offset = int(entry.split()[0])
        assert data[offset:].startswith(b"%d 0 obj" % number)


def _blank_pdf(**encrypt) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_metadata({"/Author": "Pat Doe", "/Title": "Blank Report"})
    if encrypt:
        writer.encrypt(**encrypt)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pdf_blank_page_metadata():
    pdf = read_pdf(_blank_pdf(), ctx("pdf"))
    assert pdf.structure == {"page_count": 1, "headings": []}
    assert pdf.properties["author"] == "Pat Doe"


def test_pdf_with_user_password_is_encrypted():
    with pytest.raises(ExtractionError) as error:
        read_pdf(_blank_pdf(user_password="secret", algorithm="RC4-128"), ctx("pdf"))
    assert error.value.error_type == "encrypted"


def test_pdf_with_only_an_owner_password_is_read():
    pdf = read_pdf(_blank_pdf(user_password="", owner_password="owner", algorithm="RC4-128"), ctx("pdf"))
    assert pdf.properties["title"] == "Blank Report"


# ---------------------------------------------------------------- markdown and text

MARKDOWN = """---
title: Sales Playbook
author: Kim Lee
---
# Overview
Pricing follows Q3 Forecast.pptx.

```
# not a heading
```
Discount Rules
--------------
## Approvals ##
"""


def test_markdown_atx_and_setext_headings_outside_code_fences():
    md = read_markdown(MARKDOWN.encode(), ctx("md"))
    assert md.structure["headings"] == [
        {"level": 1, "text": "Overview"},
        {"level": 2, "text": "Discount Rules"},
        {"level": 2, "text": "Approvals"},
    ]


def test_markdown_front_matter_gives_properties():
    md = read_markdown(MARKDOWN.encode(), ctx("md"))
    assert md.properties == {"title": "Sales Playbook", "author": "Kim Lee"}


def test_text_headings_are_underlined_or_all_caps_lines():
    text = "QUARTERLY REPORT\n\nSummary\n=======\nSales rose.\nDetails\n-------\nNothing else.\n"
    assert read_text(text.encode(), ctx("txt")).structure["headings"] == [
        {"level": 1, "text": "QUARTERLY REPORT"},
        {"level": 1, "text": "Summary"},
        {"level": 2, "text": "Details"},
    ]


@pytest.mark.parametrize(
    "encoded, encoding",
    [
        ("Café costs €5".encode("utf-8"), "utf-8"),
        ("Café costs €5".encode("utf-8-sig"), "utf-8-sig"),
        ("Café costs €5".encode("utf-16"), "utf-16"),
        ("Café costs €5".encode("cp1252"), "cp1252"),
    ],
)
def test_text_encoding_detection(encoded, encoding):
    assert decode_text(encoded, 1000) == ("Café costs €5", encoding)


def test_text_decoding_stops_at_the_byte_budget_without_splitting_a_character():
    text, _ = decode_text("ééé".encode("utf-8"), 5)  # the cut falls inside the third é
    assert text == "éé"


def test_text_is_bounded_and_warns():
    txt = read_text(b"word " * 1000, ctx("txt", max_text_chars=100))
    assert len(txt.text) == 100
    assert txt.warnings == ["read the first 400 of 5000 bytes"]


def test_markdown_table_pads_rows_and_escapes_pipes():
    assert markdown_table([["a", "b|c"], ["1"]]) == ["| a | b\\|c |", "|---|---|", "| 1 |  |"]


# ---------------------------------------------------------------- extract_file on narrative files


def test_extract_file_redacts_before_computing_signals():
    text = b"# Contacts\nMail jane.doe@example.com about PRJ-4821 and $1.5M.\n"
    record = extract_file("gs://bucket/notes/contacts.md", text, Config())
    assert "jane.doe@example.com" not in record.text
    assert "[EMAIL]" in record.text
    assert record.redactions == {"EMAIL": 1}
    assert not any("jane" in term or "doe" in term for term in record.key_terms)
    assert record.entities["project_code"] == ["PRJ-4821"]
    assert record.numbers == [[1500000.0, 50000.0]]


def test_extract_file_record_metadata(doc_bytes):
    record = extract_file("gs://bucket/plans/plan.docx", doc_bytes, Config(), modified_at="2024-01-01T00:00:00Z")
    assert record.file_name == "plan.docx"
    assert record.file_type == "docx"
    assert record.author == "Lee Writer"
    assert record.title == "Annual Plan"
    assert record.modified_at == "2024-05-06T07:08:09+00:00"  # the document's own date wins, in ISO 8601
    assert record.file_size == len(doc_bytes)
    assert len(record.content_hash) == 64
    assert len(record.minhash) == Config().extraction.num_perm


def test_extract_file_modified_at_falls_back_to_the_argument():
    record = extract_file("notes.txt", b"plain words here", Config(), modified_at="2024-01-01T00:00:00Z")
    assert record.modified_at == "2024-01-01T00:00:00Z"


def test_extract_file_normalises_markdown_extension():
    assert extract_file("docs/README.markdown", b"# Hi there", Config()).file_type == "md"


def test_extract_file_headings_and_slide_titles_feed_key_terms(deck_bytes):
    record = extract_file("decks/review.pptx", deck_bytes, Config())
    assert "revenue" in record.key_terms[:3]
    assert "region" in record.key_terms


def test_extract_file_mentions_other_files_not_itself():
    record = extract_file("a/summary.md", b"Built from sales_2024.xlsx; see summary.md.", Config())
    assert record.mentions == ["sales_2024.xlsx"]


def test_extract_file_text_is_truncated_to_the_limit():
    config = dataclasses.replace(Config(), extraction=ExtractionConfig(max_text_chars=50))
    assert len(extract_file("a/long.txt", b"lorem ipsum " * 100, config).text) == 50


def test_excluded_path_is_refused_before_reading():
    config = dataclasses.replace(Config(), privacy=PrivacyConfig(exclude_paths=("*/hr/*",)))
    with pytest.raises(ExtractionError) as error:
        extract_file("gs://bucket/hr/salaries.md", b"# Salaries", config)
    assert (error.value.error_type, error.value.stage) == ("excluded", "compliance")


def test_excluded_classification_in_custom_properties(doc_bytes):
    config = dataclasses.replace(Config(), privacy=PrivacyConfig(exclude_classifications=("restricted",)))
    with pytest.raises(ExtractionError) as error:
        extract_file("plans/plan.docx", doc_bytes, config)
    assert (error.value.error_type, error.value.stage) == ("excluded", "compliance")
    assert "Restricted" in error.value.message
