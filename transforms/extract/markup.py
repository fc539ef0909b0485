"""HTML and RTF documents.

- HTML: the standard library's tolerant parser (no DTDs, no entities beyond
  HTML's own, nothing fetched). The title, meta author/description/keywords,
  headings, paragraphs, list items and tables (as markdown) are kept; script,
  style and template content is not. Parsing stops once the text budget is
  full. `html_text` is shared with the e-mail reader for HTML bodies.
- RTF: striprtf turns the body into plain text (the document's code page
  from `\\ansicpgN`); the `{\\info}` group gives title, author, dates...
"""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from typing import Any, Dict, List, Optional, Tuple

from transforms.extract.context import ExtractContext
from transforms.extract.encoding import decode, decode_text
from transforms.extract.narrative import MAX_HEADINGS, TextSink, markdown_table
from transforms.model import Extracted, ExtractionError

_SKIPPED = frozenset({"script", "style", "noscript", "template", "svg", "head"})
_BLOCKS = frozenset({"p", "div", "section", "article", "header", "footer", "blockquote", "pre", "ul", "ol",
                     "dl", "dt", "dd", "address", "figcaption", "main", "nav", "aside", "form", "hr"})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_META = {"author": "author", "description": "description", "keywords": "keywords", "dcterms.created": "created_at",
         "dc.creator": "author", "dc.title": "title", "dc.date": "created_at", "generator": "generator"}
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_FEED_BYTES = 64 * 1024  # characters fed to the parser at a time
_MAX_CELLS = 1000  # cells kept per table for the markdown rendering


class _HtmlText(HTMLParser):
    """Collects text lines, headings and tables of one HTML document."""

    def __init__(self, sink: TextSink):
        super().__init__(convert_charrefs=True)
        self.sink = sink
        self.title = ""
        self.meta: Dict[str, str] = {}
        self.headings: List[Dict[str, Any]] = []
        self.tables = 0
        self.links = 0
        self._line: List[str] = []
        self._skip = 0
        self._in_title = False
        self._heading: Optional[int] = None
        self._rows: List[List[str]] = []  # of the outermost open table
        self._table_depth = 0
        self._cell: Optional[List[str]] = None
        self._cells = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _SKIPPED and tag != "head":
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag == "meta":
            values = dict(attrs)
            name = (values.get("name") or values.get("property") or "").lower()
            if name in _META and values.get("content"):
                self.meta.setdefault(_META[name], values["content"].strip())
        elif tag == "a":
            self.links += 1
        elif tag == "br":
            self._text("\n")
        elif tag == "table":
            self._table_depth += 1
            if self._table_depth == 1:
                self._flush()
                self._rows, self._cells = [], 0
        elif tag == "tr" and self._table_depth == 1:
            self._rows.append([])
        elif tag in ("td", "th") and self._table_depth == 1:
            self._cell = []
        elif tag in _HEADINGS:
            self._flush()
            self._heading = _HEADINGS[tag]
        elif tag == "li":
            self._flush()
            self._line.append("- ")
        elif tag in _BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED and tag != "head":
            self._skip = max(self._skip - 1, 0)
        elif tag == "title":
            self._in_title = False
        elif tag in ("td", "th") and self._table_depth == 1 and self._cell is not None:
            if self._rows and self._cells < _MAX_CELLS:
                self._rows[-1].append(" ".join("".join(self._cell).split()))
                self._cells += 1
            self._cell = None
        elif tag == "table" and self._table_depth:
            self._table_depth -= 1
            if not self._table_depth:
                self.tables += 1
                self.sink.extend(markdown_table(self._rows))
                self._rows = []
        elif tag in _HEADINGS and self._heading is not None:
            text = " ".join("".join(self._line).split())
            if text and len(self.headings) < MAX_HEADINGS:
                self.headings.append({"level": self._heading, "text": text})
            self._line = ["#" * self._heading + " "] + self._line
            self._heading = None
            self._flush()
        elif tag in _BLOCKS or tag == "li":
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self.title += data
        elif self._cell is not None:
            self._cell.append(data)
        elif not self._table_depth:
            self._text(data)

    def _text(self, data: str) -> None:
        self._line.append(data)

    def _flush(self) -> None:
        lines = "".join(self._line).split("\n")
        self._line = []
        for line in lines:
            line = " ".join(line.split())
            if line and line not in ("-", "#"):
                self.sink.add(line)

    def close(self) -> None:
        super().close()
        self._flush()


def html_text(html: str, limit: int) -> _HtmlText:
    """The parsed text of an HTML string, fed in pieces until `limit` characters of text are kept."""
    parser = _HtmlText(TextSink(limit))
    for start in range(0, len(html), _FEED_BYTES):
        if parser.sink.full:
            break
        parser.feed(html[start : start + _FEED_BYTES])
    parser.close()
    return parser


def read_html(data: bytes, ctx: ExtractContext) -> Extracted:
    """HTML pages and HTML saved by Office: title, meta properties, headings, text and tables."""
    declared = _CHARSET.search(data[:4096])
    encoding = _codec(declared.group(1).decode("ascii")) if declared else None
    text = decode(data, encoding) if encoding else decode_text(data, len(data))[0]
    parser = html_text(text, ctx.limits.max_text_chars)
    props = dict(parser.meta)
    title = " ".join(parser.title.split())
    if title:
        props["title"] = title
    elif parser.headings:
        props["title"] = parser.headings[0]["text"]
    structure = {"headings": parser.headings, "tables": parser.tables, "links": parser.links,
                 "word_count": len(parser.sink.text().split())}
    warnings = ["text budget reached; the rest of the page not read"] if parser.sink.full else []
    return Extracted(text=parser.sink.text(), structure=structure, properties=props, warnings=warnings)


def _codec(name: str) -> Optional[str]:
    try:
        "".encode(name)
        return name
    except LookupError:
        return None


# ---------------------------------------------------------------- RTF

_CODEPAGE = re.compile(rb"\\ansicpg(\d+)")
_INFO_FIELDS = {"title": "title", "subject": "subject", "author": "author", "keywords": "keywords",
                "doccomm": "description", "operator": "last_modified_by", "category": "category",
                "company": "company", "manager": "manager"}
_INFO_FIELD = re.compile(r"\{\\(title|subject|author|keywords|doccomm|operator|category|company|manager)\s"
                         r"((?:[^{}\\]|\\[^{}]|\\[{}])*)\}")
_INFO_DATE = re.compile(r"\{\\(creatim|revtim)((?:\\[a-z]+\d+\s*)+)\}")
_DATE_PART = re.compile(r"\\(yr|mo|dy|hr|min|sec)(\d+)")
_INFO_SCAN_CHARS = 256 * 1024  # the info group sits in the header


def read_rtf(data: bytes, ctx: ExtractContext) -> Extracted:
    """RTF: body text via striprtf, properties from the info group."""
    from striprtf.striprtf import rtf_to_text

    if not data.lstrip()[:5].lower().startswith(b"{\\rtf"):
        raise ExtractionError("parse_error", "not an RTF document (no {\\rtf header)")
    page = _CODEPAGE.search(data[:4096])
    encoding = _codec(f"cp{int(page.group(1))}") if page else None
    encoding = encoding or "cp1252"
    source = data.decode("latin-1")  # RTF is 7-bit; \'hh escapes are decoded by striprtf
    try:
        body = rtf_to_text(source, encoding=encoding, errors="replace")
    except RecursionError as exc:
        raise ExtractionError("parse_error", "RTF nested deeper than the parser allows") from exc
    sink = TextSink(ctx.limits.max_text_chars)
    lines = [" ".join(line.split()) for line in body.splitlines()]
    sink.extend(line for line in lines if line)
    props = _rtf_info(source[:_INFO_SCAN_CHARS], encoding, rtf_to_text)
    if not props.get("title"):
        first = next((line for line in lines if line), "")
        if first and len(first) <= 200:
            props["title"] = first
    structure = {"headings": [], "paragraph_count": sum(1 for line in lines if line),
                 "word_count": len(body.split()), "encoding": encoding}
    return Extracted(text=sink.text(), structure=structure, properties=props)


def _rtf_info(source: str, encoding: str, rtf_to_text) -> Dict[str, Any]:
    props: Dict[str, Any] = {}
    for name, raw in _INFO_FIELD.findall(source):
        text = " ".join(rtf_to_text("{\\rtf1 " + raw + "}", encoding=encoding, errors="replace").split())
        if text:
            props.setdefault(_INFO_FIELDS[name], text)
    for name, raw in _INFO_DATE.findall(source):
        stamp = _rtf_date(dict(_DATE_PART.findall(raw)))
        if stamp:
            props["created_at" if name == "creatim" else "modified_at"] = stamp
    return props


def _rtf_date(parts: Dict[str, str]) -> Optional[str]:
    try:
        values: Tuple[int, ...] = tuple(int(parts.get(k, d)) for k, d in
                                        (("yr", "0"), ("mo", "1"), ("dy", "1"), ("hr", "0"), ("min", "0"),
                                         ("sec", "0")))
        return dt.datetime(*values).isoformat() if values[0] >= 1980 else None
    except ValueError:
        return None

