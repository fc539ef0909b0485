"""Readers for narrative files: decks, Word documents, PDFs, Markdown and plain text.

Each reader is `(data: bytes, ctx: ExtractContext) -> Extracted` and returns a
markdown-like text (bounded by `ctx.limits.max_text_chars`), a structure
summary and the document properties. Readers do not redact: the dispatcher
redacts text, titles and structure before anything is computed from them.
Pre-read checks (encryption, zip and XML bombs, size) have already run.
"""

from __future__ import annotations

import functools
import io
import re
import zipfile
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from docx.opc.constants import CONTENT_TYPE as WORD_CONTENT_TYPE
from docx.opc.constants import RELATIONSHIP_TYPE as WORD_RELATIONSHIP
from docx.opc.package import Unmarshaller as WordUnmarshaller
from docx.opc.part import Part as WordPart
from docx.opc.part import PartFactory as WordPartFactory
from docx.opc.pkgreader import PackageReader as WordPackageReader
from docx.oxml.ns import qn
from docx.oxml.parser import parse_xml
from docx.package import Package as WordPackage
from docx.parts.document import DocumentPart
from docx.table import Table
from pptx.package import Package as DeckPackage
from pptx.parts.presentation import PresentationPart
from pptx.shapes.group import GroupShape
from pypdf import PdfReader

from transforms.extract.context import ExtractContext
from transforms.extract.encoding import decode_text
from transforms.extract.properties import package_properties
from transforms.model import Extracted, ExtractionError
from transforms.signatures import normalise_value

MAX_HEADINGS = 200  # per file, in the structure summary
MAX_CHART_POINTS = 100  # values kept per chart series
MAX_PDF_PAGES = 500  # pages read for text; the page count covers all pages

# ---------------------------------------------------------------- shared helpers


class TextSink:
    """Collects text lines up to a character budget; later lines are dropped, not kept in memory."""

    def __init__(self, limit: int):
        self.limit = limit
        self.size = 0
        self._lines: List[str] = []

    @property
    def full(self) -> bool:
        return self.size >= self.limit

    def add(self, line: str) -> None:
        if self.full:
            return
        self._lines.append(line)
        self.size += len(line) + 1

    def extend(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.add(line)

    def text(self) -> str:
        return "\n".join(self._lines)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def markdown_table(rows: Sequence[Sequence[str]]) -> List[str]:
    """A table as markdown lines; the first non-empty row is the header."""
    cells = [[_one_line(c).replace("|", "\\|") for c in row] for row in rows]
    cells = [row for row in cells if any(row)]
    if not cells:
        return []
    width = max(len(row) for row in cells)
    cells = [row + [""] * (width - len(row)) for row in cells]
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * width]
    return lines + ["| " + " | ".join(row) + " |" for row in cells[1:]]


def _heading(level: int, text: str) -> Dict[str, Any]:
    return {"level": level, "text": text}


def _first_heading(headings: Iterable[Dict[str, Any]], max_level: int = 1) -> Optional[str]:
    return next((h["text"] for h in headings if h["level"] <= max_level), None)


def _default_title(props: Dict[str, Any], title: Optional[str]) -> None:
    """Uses the document's first title or heading when its properties name none."""
    if title and not props.get("title"):
        props["title"] = title


def _properties(data: bytes) -> Tuple[Dict[str, Any], List[str]]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return package_properties(package)


# ---------------------------------------------------------------- pptx and its variants


def open_deck(data: bytes):
    """A python-pptx Presentation of a pptx, pptm, potx, potm, ppsx or ppsm package.

    python-pptx's own `Presentation()` refuses templates and shows; its part
    factory knows them all, so the main part is taken as it is.
    """
    part = DeckPackage.open(io.BytesIO(data)).main_document_part
    if not isinstance(part, PresentationPart):
        raise ExtractionError("parse_error", f"not a PowerPoint package: main part is '{part.content_type}'")
    return part.presentation


def read_pptx(data: bytes, ctx: ExtractContext) -> Extracted:
    """Slides in order: title, bullets, tables, chart series and speaker notes."""
    deck = open_deck(data)
    sink = TextSink(ctx.limits.max_text_chars)
    titles: List[str] = []
    charts: List[Dict[str, Any]] = []
    tables = 0
    has_notes = False
    warnings: List[str] = []
    for number, slide in enumerate(deck.slides, start=1):
        lines, title, slide_tables, slide_charts = _slide_content(slide, number, warnings)
        notes = _slide_notes(slide)
        titles.append(title)
        tables += slide_tables
        charts.extend(slide_charts)
        has_notes = has_notes or bool(notes)
        sink.add(f"## Slide {number}: {title}" if title else f"## Slide {number}")
        sink.extend(lines)
        if notes:
            sink.add(f"Notes: {notes}")
    props, prop_warnings = _properties(data)
    _default_title(props, next((t for t in titles if t), None))
    structure = {
        "slide_count": len(titles),
        "slide_titles": titles[:MAX_HEADINGS],
        "tables": tables,
        "charts": charts,
        "has_notes": has_notes,
    }
    return Extracted(text=sink.text(), structure=structure, properties=props, warnings=warnings + prop_warnings)


def _slide_content(slide, number: int, warnings: List[str]) -> Tuple[List[str], str, int, List[Dict[str, Any]]]:
    """(body lines, title, table count, chart summaries) of one slide."""
    title_shape = slide.shapes.title
    title = _one_line(title_shape.text_frame.text) if title_shape is not None and title_shape.has_text_frame else ""
    lines: List[str] = []
    tables, charts = 0, []
    for shape in _flat_shapes(slide.shapes):
        if title_shape is not None and shape.shape_id == title_shape.shape_id:
            continue
        if shape.has_text_frame:
            bullets = _bullets(shape.text_frame)
            if bullets and not title:  # no title placeholder: the first text stands in
                title = bullets[0].split("- ", 1)[1]
                bullets = bullets[1:]
            lines.extend(bullets)
        elif shape.has_table:
            tables += 1
            lines.extend(markdown_table([[cell.text for cell in row.cells] for row in shape.table.rows]))
        elif shape.has_chart:
            try:
                chart = _chart_summary(shape.chart, number)
            except Exception as exc:  # chart XML python-pptx cannot model: keep the slide's text
                warnings.append(f"slide {number}: chart skipped: {type(exc).__name__}")
                continue
            charts.append(chart)
            lines.extend(_chart_lines(chart))
    return lines, title, tables, charts


def _flat_shapes(shapes) -> Iterator[Any]:
    for shape in shapes:
        if isinstance(shape, GroupShape):
            yield from _flat_shapes(shape.shapes)
        else:
            yield shape


def _bullets(text_frame) -> List[str]:
    lines = []
    for paragraph in text_frame.paragraphs:
        text = _one_line(paragraph.text)
        if text:
            lines.append("  " * paragraph.level + "- " + text)
    return lines


def _chart_summary(chart, slide_number: int) -> Dict[str, Any]:
    try:
        chart_type = chart.chart_type.name.lower()
    except Exception:  # python-pptx raises for chart kinds it does not model
        chart_type = "unknown"
    categories: List[str] = []
    series = []
    for plot in chart.plots:
        if not categories:
            categories = [str(c) for c in plot.categories][:MAX_CHART_POINTS]
        for s in plot.series:
            values = [v if v is None else float(v) for v in list(s.values)[:MAX_CHART_POINTS]]
            series.append({"name": s.name, "values": values})
    title = ""
    if chart.has_title and chart.chart_title.has_text_frame:
        title = _one_line(chart.chart_title.text_frame.text)
    return {"slide": slide_number, "type": chart_type, "title": title, "series": series, "categories": categories}


def _chart_lines(chart: Dict[str, Any]) -> List[str]:
    lines = [f"Chart: {chart['title']}" if chart["title"] else "Chart"]
    for s in chart["series"]:
        points = zip(chart["categories"] or [""] * len(s["values"]), s["values"])
        shown = ", ".join(f"{c} = {normalise_value(v)}".lstrip(" =") for c, v in points if v is not None)
        lines.append(f"- {s['name']}: {shown}")
    return lines


def _slide_notes(slide) -> str:
    if not slide.has_notes_slide:
        return ""
    frame = slide.notes_slide.notes_text_frame
    return _one_line(frame.text) if frame is not None else ""


# ---------------------------------------------------------------- docx and its variants

# Main-part content types of macro-enabled documents and templates, which python-docx's
# part factory does not know: their main part is a plain Word document part.
_WORD_MAIN_TYPES = (
    "application/vnd.ms-word.document.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
)
for _content_type in _WORD_MAIN_TYPES:
    WordPartFactory.part_type_for.setdefault(_content_type, DocumentPart)


def _word_part(partname, content_type: str, reltype: str, blob: bytes, package):
    """python-docx's part for a package part, but the styles part kept as its bytes: only its
    heading levels are read (_style_heading_levels), once per distinct styles part."""
    if content_type == WORD_CONTENT_TYPE.WML_STYLES:
        return WordPart(partname, content_type, blob, package)
    return WordPartFactory(partname, content_type, reltype, blob, package)


def open_document(data: bytes):
    """A python-docx Document of a docx, docm, dotx or dotm package (WordPackage.open, with _word_part)."""
    package = WordPackage()
    WordUnmarshaller.unmarshal(WordPackageReader.from_file(io.BytesIO(data)), package, _word_part)
    part = package.main_document_part
    if not isinstance(part, DocumentPart):
        raise ExtractionError("parse_error", f"not a Word package: main part is '{part.content_type}'")
    return part.document


_HEADING_STYLE = re.compile(r"^heading\s*([1-9])$", re.IGNORECASE)
_BODY_OUTLINE_LEVEL = 9  # w:outlineLvl 9 means body text
_OUTLINE_LEVEL, _VAL = qn("w:outlineLvl"), qn("w:val")
_STYLE, _STYLE_NAME, _STYLE_ID, _PARAGRAPH_PROPERTIES = qn("w:style"), qn("w:name"), qn("w:styleId"), qn("w:pPr")


def read_docx(data: bytes, ctx: ExtractContext) -> Extracted:
    """Body in order (headings as '#' lines, paragraphs, tables), then comments."""
    doc = open_document(data)
    style_levels = _style_heading_levels(doc)
    sink = TextSink(ctx.limits.max_text_chars)
    headings: List[Dict[str, Any]] = []
    paragraphs = tables = words = 0
    warnings: List[str] = []
    for block in doc.iter_inner_content():
        if isinstance(block, Table):
            tables += 1
            rows = _docx_table_rows(block, warnings)
            words += sum(len(cell.split()) for row in rows for cell in row)
            sink.extend(markdown_table(rows))
            continue
        text = _one_line(block.text)
        if not text:
            continue
        paragraphs += 1
        words += len(text.split())
        level = _paragraph_heading_level(block, style_levels)
        if level is None:
            sink.add(text)
        else:
            if len(headings) < MAX_HEADINGS:
                headings.append(_heading(level, text))
            sink.add("#" * max(level, 1) + " " + text)
    comments = [_one_line(c.text) for c in doc.comments]
    comments = [c for c in comments if c]
    if comments:
        sink.add("Comments:")
        sink.extend(f"- {c}" for c in comments)
    props, prop_warnings = _properties(data)
    _default_title(props, _first_heading(headings))
    structure = {
        "headings": headings,
        "paragraph_count": paragraphs,
        "tables": tables,
        "comments": len(comments),
        "word_count": words,
    }
    return Extracted(text=sink.text(), structure=structure, properties=props, warnings=warnings + prop_warnings)


def _style_heading_levels(doc) -> Dict[str, int]:
    """Paragraph style id -> heading level (Title 0, Heading N -> N, else the style's outline level).

    Built once per document: looking a paragraph's style up through `paragraph.style`
    searches the styles part on every call. Documents made from one template share
    their styles part, and python-docx's is 349 KB: parsing it was most of a Word
    document's reading time, so its levels are kept per distinct part.
    """
    try:
        styles = doc.part.part_related_by(WORD_RELATIONSHIP.STYLES)
    except KeyError:  # none: python-docx's default styles, as doc.styles gives them
        return _heading_levels(doc.styles.element)
    return dict(_heading_levels_of_part(styles.blob))


@functools.lru_cache(maxsize=16)
def _heading_levels_of_part(blob: bytes) -> Tuple[Tuple[str, int], ...]:
    return tuple(_heading_levels(parse_xml(blob)).items())


def _heading_levels(styles) -> Dict[str, int]:
    """_style_heading_levels from a styles part's root element."""
    levels = {}
    for style in styles.iterchildren(_STYLE):
        name_element = style.find(_STYLE_NAME)
        name = (name_element.get(_VAL) or "" if name_element is not None else "").strip()
        style_id = style.get(_STYLE_ID)
        match = _HEADING_STYLE.match(name)
        if name.lower() == "title":
            levels[style_id] = 0
        elif match:
            levels[style_id] = int(match.group(1))
        else:
            properties = style.find(_PARAGRAPH_PROPERTIES)
            outline = properties.find(_OUTLINE_LEVEL) if properties is not None else None
            value = outline.get(_VAL, "") if outline is not None else ""
            if value.isdigit() and int(value) < _BODY_OUTLINE_LEVEL:
                levels[style_id] = int(value) + 1
    return levels


def _paragraph_heading_level(paragraph, style_levels: Dict[str, int]) -> Optional[int]:
    element = paragraph._p  # the CT_P element: direct formatting and style id without a style lookup
    properties = element.pPr
    outline = properties.find(_OUTLINE_LEVEL) if properties is not None else None
    if outline is not None and outline.get(_VAL, "").isdigit():  # find(): xpath is slow per paragraph
        level = int(outline.get(_VAL))
        return level + 1 if level < _BODY_OUTLINE_LEVEL else None
    return style_levels.get(element.style) if element.style else None


def _docx_table_rows(table: Table, warnings: List[str]) -> List[List[str]]:
    try:
        return [[cell.text for cell in row.cells] for row in table.rows]
    except Exception as exc:  # malformed grid spans: keep the document, note the table
        warnings.append(f"table skipped: {type(exc).__name__}")
        return []


# ---------------------------------------------------------------- pdf

_NUMBERED_HEADING = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+([A-Z][^.!;:,]{1,78})$")
_SMALL_WORDS = frozenset("a an and as at by for from in of on or the to vs with".split())


def read_pdf(data: bytes, ctx: ExtractContext) -> Extracted:
    """Page text in order (up to MAX_PDF_PAGES or the text budget), metadata, guessed headings."""
    reader = PdfReader(io.BytesIO(data))
    warnings = _unlock_pdf(reader)
    sink = TextSink(ctx.limits.max_text_chars)
    headings: Dict[str, Dict[str, Any]] = {}  # by text: running page headers repeat on every page
    page_count = len(reader.pages)
    pages_read = 0
    for page in reader.pages:
        if sink.full or pages_read >= MAX_PDF_PAGES:
            warnings.append(f"text read from {pages_read} of {page_count} pages")
            break
        pages_read += 1
        lines = [_one_line(line) for line in (page.extract_text() or "").splitlines()]
        lines = [line for line in lines if line]
        sink.extend(lines)
        for heading in _pdf_headings(lines):
            if len(headings) < MAX_HEADINGS:
                headings.setdefault(heading["text"], heading)
    props = _pdf_metadata(reader)
    _default_title(props, _first_heading(headings.values()))
    structure = {"page_count": page_count, "headings": list(headings.values())}
    return Extracted(text=sink.text(), structure=structure, properties=props, warnings=warnings)


def _unlock_pdf(reader: PdfReader) -> List[str]:
    """Opens PDFs encrypted with an empty user password (owner restrictions only); else `encrypted`."""
    if not reader.is_encrypted:
        return []
    try:
        unlocked = reader.decrypt("")
    except Exception as exc:  # e.g. AES without a crypto library
        raise ExtractionError("encrypted", f"encrypted PDF: {type(exc).__name__}: {exc}") from exc
    if not unlocked:
        raise ExtractionError("encrypted", "password-protected PDF")
    return ["PDF encrypted with an empty user password; opened read-only"]


def _pdf_headings(lines: Sequence[str]) -> Iterator[Dict[str, Any]]:
    """Numbered section lines ("2.1 Scope", level = depth), short ALL CAPS or Title Case lines."""
    for line in lines:
        numbered = _NUMBERED_HEADING.match(line)
        if numbered and len(numbered.group(2).split()) <= 10:
            yield _heading(numbered.group(1).count(".") + 1, line)
        elif _is_caps_heading(line) or _is_title_case_heading(line):
            yield _heading(1, line)


def _is_caps_heading(line: str) -> bool:
    letters = sum(c.isalpha() for c in line)
    return (
        letters >= 4 and len(line) <= 60 and len(line.split()) <= 8
        and line[-1] not in ".,;:" and line.upper() == line
    )


def _is_title_case_heading(line: str) -> bool:
    words = line.split()
    if not 2 <= len(words) <= 10 or len(line) > 80 or line[-1] in ".,;:" or not line[0].isupper():
        return False
    return all(w[0].isupper() or w.lower() in _SMALL_WORDS or not w[0].isalpha() for w in words)


def _pdf_metadata(reader: PdfReader) -> Dict[str, Any]:
    info = reader.metadata
    if not info:
        return {}
    props = {}
    for name, key in (("author", "/Author"), ("title", "/Title"), ("subject", "/Subject"),
                      ("keywords", "/Keywords"), ("creator", "/Creator"), ("producer", "/Producer")):
        value = info.get(key)
        if isinstance(value, str) and value.strip():
            props[name] = value.strip()
    for name, attribute in (("created_at", "creation_date"), ("modified_at", "modification_date")):
        try:
            value = getattr(info, attribute)
        except Exception:  # malformed date strings are common; the rest of the metadata stands
            continue
        if value is not None:
            props[name] = value.isoformat()
    return props


# ---------------------------------------------------------------- markdown and plain text

_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.+?)(?:\s+#+)?\s*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)\s*$")
_FRONT_MATTER_KEYS = {"title": "title", "author": "author", "date": "created_at"}


def read_markdown(data: bytes, ctx: ExtractContext) -> Extracted:
    return _read_plain(data, ctx, markdown=True)


def read_text(data: bytes, ctx: ExtractContext) -> Extracted:
    return _read_plain(data, ctx, markdown=False)


def _read_plain(data: bytes, ctx: ExtractContext, markdown: bool) -> Extracted:
    # Up to 4 bytes a character: the text budget never needs more of the file than this.
    budget = ctx.limits.max_text_chars * 4
    text, encoding = decode_text(data, budget)
    warnings = [f"read the first {budget} of {len(data)} bytes"] if len(data) > budget else []
    lines = text.splitlines()
    props, body_start = _front_matter(lines) if markdown else ({}, 0)
    headings = (_markdown_headings if markdown else _plain_headings)(lines[body_start:])[:MAX_HEADINGS]
    _default_title(props, _first_heading(headings))
    structure = {
        "headings": headings,
        "line_count": len(lines),
        "word_count": len(text.split()),
        "encoding": encoding,
    }
    return Extracted(text=text[: ctx.limits.max_text_chars], structure=structure, properties=props, warnings=warnings)


def _front_matter(lines: Sequence[str]) -> Tuple[Dict[str, Any], int]:
    """Simple `key: value` YAML front matter (title, author, date) and where the body starts."""
    if not lines or lines[0].strip() != "---":
        return {}, 0
    for end in range(1, min(len(lines), 100)):
        if lines[end].strip() in ("---", "..."):
            props = {}
            for line in lines[1:end]:
                key, _, value = line.partition(":")
                name = _FRONT_MATTER_KEYS.get(key.strip().lower())
                if name and value.strip():
                    props[name] = value.strip().strip("\"'")
            return props, end + 1
    return {}, 0


def _markdown_headings(lines: Sequence[str]) -> List[Dict[str, Any]]:
    """ATX ('# Title') and setext (underlined) headings, ignoring fenced code."""
    headings = []
    in_fence = False
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        atx = _ATX_HEADING.match(line)
        if atx:
            headings.append(_heading(len(atx.group(1)), atx.group(2).strip()))
        elif _is_underlined(lines, i):
            headings.append(_heading(1 if lines[i + 1].strip()[0] == "=" else 2, line.strip()))
    return headings


def _plain_headings(lines: Sequence[str]) -> List[Dict[str, Any]]:
    """Underlined lines ('===' level 1, '---' level 2) and short ALL CAPS lines (level 1)."""
    headings = []
    for i, line in enumerate(lines):
        text = line.strip()
        if _is_underlined(lines, i):
            headings.append(_heading(1 if lines[i + 1].strip()[0] == "=" else 2, text))
        elif text and _is_caps_heading(text):
            headings.append(_heading(1, text))
    return headings


def _is_underlined(lines: Sequence[str], i: int) -> bool:
    """A text line followed by a line of '=' or '-' (at least 3, and half its length)."""
    text = lines[i].strip()
    if not text or i + 1 >= len(lines) or text.startswith(("-", "*", "|", ">")) or _UNDERLINE.match(lines[i]):
        return False
    underline = lines[i + 1].strip()
    return bool(_UNDERLINE.match(lines[i + 1])) and len(underline) >= max(3, len(text) // 2)
