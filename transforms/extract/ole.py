"""Legacy Word (.doc, .dot) and PowerPoint (.ppt, .pps, .pot) files, from their OLE container.

Both are read with olefile and plain struct parsing, no conversion tool:

- Word 97-2003 ([MS-DOC]): the File Information Block locates the piece
  table (the Clx) in the table stream; each piece is a run of characters,
  8-bit (cp1252) or UTF-16, in the WordDocument stream. The main text, then
  footnotes, headers, comments, endnotes and text boxes, are decoded up to
  the text budget; field codes are dropped and their results kept. Word 6/95
  files keep their 8-bit text between fcMin and fcMac.
- PowerPoint 97-2003 ([MS-PPT]): the current-user stream points at the last
  edit, whose persist directory (merged with earlier edits') maps the
  document and each slide to its record offset. Slides are taken in the
  order of the document's slide list; each slide's text is the text atoms
  after its SlidePersistAtom plus those of the text boxes in its drawing; a
  title is the text whose header says Title or CenterTitle. When the persist
  chain is damaged, every text atom of the stream is read in file order.

Properties come from the SummaryInformation streams (`properties.ole_properties`).
Every offset and length read from the file is checked against the stream
before use, and record trees are walked with an explicit depth limit.
"""

from __future__ import annotations

import io
import struct
from typing import Any, Dict, Iterator, List, Optional, Tuple

from transforms.extract.context import ExtractContext
from transforms.extract.narrative import MAX_HEADINGS, TextSink
from transforms.extract.properties import ole_codepage, ole_properties
from transforms.model import Extracted, ExtractionError

_WORD97, _WORD6 = 0xA5EC, 0xA5DC
_F_COMPLEX, _F_ENCRYPTED, _F_WHICH_TABLE, _F_OBFUSCATED = 0x0004, 0x0100, 0x0200, 0x8000
_FC_CLX_INDEX = 33  # fcClx/lcbClx is the 34th pair of FibRgFcLcb97
# Characters with a meaning in Word's text stream.
_WORD_CONTROLS = str.maketrans({
    "\r": "\n", "\x0b": "\n", "\x0c": "\n", "\x0e": "\n", "\x07": "\t", "\x1e": "-", "\xa0": " ",
    **{chr(c): None for c in range(32) if chr(c) not in "\t\n\r\x0b\x0c\x0e\x07\x1e\x13\x14\x15"},
})
_FIELD_BEGIN, _FIELD_SEPARATOR, _FIELD_END = "\x13", "\x14", "\x15"
_WORD_PARTS = ("main", "footnotes", "headers", "macros", "comments", "endnotes", "text boxes", "header text boxes")

# PowerPoint record types.
_DOCUMENT, _SLIDE, _NOTES, _SLIDE_LIST = 0x03E8, 0x03EE, 0x03F0, 0x0FF0
_SLIDE_PERSIST, _SLIDE_ATOM = 0x03F3, 0x03EF
_TEXT_HEADER, _TEXT_CHARS, _TEXT_BYTES, _CSTRING = 0x0F9F, 0x0FA0, 0x0FA8, 0x0FBA
_USER_EDIT, _PERSIST_DIRECTORY, _CRYPT_SESSION = 0x0FF5, 0x1772, 0x2F14
_TITLE_TYPES = (0, 6)  # TextHeaderAtom: Title, CenterTitle
_NOTES_TYPE = 2
_ENCRYPTED_USER_TOKEN = 0xF3D1C4DF
_MAX_DEPTH = 16
_MAX_EDITS = 1024


def _open(data: bytes):
    import olefile

    try:
        return olefile.OleFileIO(io.BytesIO(data))
    except Exception as exc:  # olefile raises OSError and others for a damaged container
        raise ExtractionError("parse_error", f"unreadable OLE container: {exc}") from exc


def _stream(ole, name: str) -> Optional[bytes]:
    try:
        return ole.openstream(name).read() if ole.exists(name) else None
    except Exception as exc:
        raise ExtractionError("parse_error", f"unreadable '{name}' stream: {exc}") from exc


# ==========================================================================
# Word


def read_doc(data: bytes, ctx: ExtractContext) -> Extracted:
    """Word 97-2003 (and 6/95) text and properties."""
    with _open(data) as ole:
        word = _stream(ole, "WordDocument")
        if word is None or len(word) < 0x40:
            raise ExtractionError("parse_error", "no WordDocument stream: not a Word document")
        ident, n_fib = struct.unpack_from("<HH", word, 0)
        flags = struct.unpack_from("<H", word, 0x0A)[0]
        if flags & (_F_ENCRYPTED | _F_OBFUSCATED):
            raise ExtractionError("encrypted", "password-protected Word document")
        budget = ctx.limits.max_text_chars * 2  # characters decoded before control codes are removed
        if ident == _WORD97 and n_fib >= 101:
            table = _stream(ole, "1Table" if flags & _F_WHICH_TABLE else "0Table")
            parts = _word97_text(word, table, budget)
        elif ident in (_WORD97, _WORD6):
            parts = _word6_text(word, flags, budget, ole_codepage(ole))
        else:
            raise ExtractionError("parse_error", f"unknown Word file identifier 0x{ident:04X}")
        props = ole_properties(ole)
    return _word_extracted(parts, props, ctx)


def _word97_text(word: bytes, table: Optional[bytes], budget: int) -> Dict[str, str]:
    if table is None:
        raise ExtractionError("parse_error", "the Word document's table stream is missing")
    csw = struct.unpack_from("<H", word, 0x20)[0]
    lw_at = 0x22 + csw * 2 + 2
    cslw = struct.unpack_from("<H", word, lw_at - 2)[0]
    lengths = struct.unpack_from("<8I", word, lw_at + 12) if cslw >= 11 else (0,) * 8
    fc_lcb_at = lw_at + cslw * 4 + 2
    fc_clx, lcb_clx = struct.unpack_from("<II", word, fc_lcb_at + _FC_CLX_INDEX * 8)
    if not lcb_clx or fc_clx + lcb_clx > len(table):
        raise ExtractionError("parse_error", "the piece table lies outside the table stream")
    text = "".join(_pieces(word, table[fc_clx : fc_clx + lcb_clx], budget))
    return _split_parts(text, lengths)


def _pieces(word: bytes, clx: bytes, budget: int) -> Iterator[str]:
    """The document's characters, piece by piece, up to `budget` characters."""
    position = 0
    while position < len(clx) and clx[position] == 0x01:  # Prc: formatting, skipped
        position += 3 + struct.unpack_from("<H", clx, position + 1)[0]
    if position + 5 > len(clx) or clx[position] != 0x02:
        raise ExtractionError("parse_error", "no piece table in the Clx")
    size = struct.unpack_from("<I", clx, position + 1)[0]
    plc = clx[position + 5 : position + 5 + size]
    count = (len(plc) - 4) // 12
    if count <= 0:
        return
    cps = struct.unpack_from(f"<{count + 1}I", plc, 0)
    produced = 0
    for index in range(count):
        start, end = cps[index], cps[index + 1]
        if end <= start:
            continue
        fc = struct.unpack_from("<I", plc, (count + 1) * 4 + index * 8 + 2)[0]
        chars = min(end - start, budget - produced)
        if fc & 0x40000000:  # compressed: one cp1252 byte a character
            offset = (fc & 0x3FFFFFFF) // 2
            raw = word[offset : offset + chars]
            piece = raw.decode("cp1252", errors="replace")
        else:
            raw = word[fc : fc + 2 * chars]
            piece = raw.decode("utf-16-le", errors="replace")
        yield piece
        produced += len(piece)
        if produced >= budget:
            return


def _word6_text(word: bytes, flags: int, budget: int, codec: str) -> Dict[str, str]:
    """Word 6/95: 8-bit text between fcMin and fcMac (a fast-saved file keeps pieces too, unread)."""
    fc_min, fc_mac = struct.unpack_from("<II", word, 0x18)
    if not fc_min < fc_mac <= len(word):
        raise ExtractionError("parse_error", "Word 6/95 text range lies outside the document stream")
    lengths = struct.unpack_from("<8I", word, 0x34)
    text = word[fc_min : min(fc_mac, fc_min + budget)].decode(codec, errors="replace")
    parts = _split_parts(text, lengths)
    if flags & _F_COMPLEX:
        parts["warning"] = "fast-saved Word 6/95 file: text edited since the last full save may be missing"
    return parts


def _split_parts(text: str, lengths: Tuple[int, ...]) -> Dict[str, str]:
    """The document's character stream cut into its parts (main text, footnotes, headers...)."""
    parts: Dict[str, str] = {}
    start = 0
    for name, length in zip(_WORD_PARTS, lengths):
        if length:
            parts[name] = text[start : start + length]
        start += length
    if not lengths[0] and text:
        parts["main"] = text
    return parts


def _without_field_codes(text: str) -> str:
    """Field instructions (between 0x13 and 0x14) dropped, their results (0x14..0x15) kept."""
    if _FIELD_BEGIN not in text:
        return text.replace(_FIELD_SEPARATOR, "").replace(_FIELD_END, "")
    kept: List[str] = []
    stack: List[bool] = []  # per open field: showing its result yet?
    for char in text:
        if char == _FIELD_BEGIN:
            stack.append(False)
        elif char == _FIELD_SEPARATOR and stack:
            stack[-1] = True
        elif char == _FIELD_END:
            if stack:
                stack.pop()
        elif char != _FIELD_SEPARATOR and all(stack):
            kept.append(char)
    return "".join(kept)


def _paragraphs(text: str) -> List[str]:
    """Lines of text; a table row (cells end with 0x07) becomes one line of ' | '-separated cells."""
    text = _without_field_codes(text).translate(_WORD_CONTROLS)
    lines = []
    for line in text.split("\n"):
        cells = [" ".join(cell.split()) for cell in line.split("\t")]
        cells = [cell for cell in cells if cell]
        if cells:
            lines.append(" | ".join(cells))
    return lines


def _word_extracted(parts: Dict[str, str], props: Dict[str, Any], ctx: ExtractContext) -> Extracted:
    sink = TextSink(ctx.limits.max_text_chars)
    body = _paragraphs(parts.get("main", ""))
    sink.extend(body)
    counts = {}
    for name in ("headers", "footnotes", "endnotes", "comments", "text boxes"):
        lines = _paragraphs(parts.get(name, ""))
        counts[name] = len(lines)
        if lines:
            sink.add(f"{name.capitalize()}:")
            sink.extend(f"- {line}" for line in lines)
    if not props.get("title"):
        first = next((line for line in body if len(line) <= 200 and " | " not in line), None)
        if first:
            props["title"] = first
    structure = {
        "headings": [],  # paragraph styles are not read from the binary format
        "paragraph_count": len(body),
        "table_rows": sum(" | " in line for line in body),
        "comments": counts["comments"],
        "footnotes": counts["footnotes"] + counts["endnotes"],
        "word_count": sum(len(line.replace(" | ", " ").split()) for line in body),
    }
    warnings = [parts["warning"]] if "warning" in parts else []
    return Extracted(text=sink.text(), structure=structure, properties=props, warnings=warnings)


# ==========================================================================
# PowerPoint


class _Record:
    __slots__ = ("kind", "instance", "start", "end", "container")

    def __init__(self, kind: int, instance: int, start: int, end: int, container: bool):
        self.kind, self.instance, self.start, self.end, self.container = kind, instance, start, end, container


def _record_at(stream: bytes, offset: int, limit: Optional[int] = None) -> Optional[_Record]:
    limit = len(stream) if limit is None else limit
    if offset < 0 or offset + 8 > limit:
        return None
    ver_instance, kind, length = struct.unpack_from("<HHI", stream, offset)
    return _Record(kind, ver_instance >> 4, offset + 8, min(offset + 8 + length, limit), ver_instance & 0xF == 0xF)


def _children(stream: bytes, parent: _Record) -> Iterator[_Record]:
    position = parent.start
    while position + 8 <= parent.end:
        record = _record_at(stream, position, parent.end)
        if record is None:
            return
        yield record
        position = record.end


def _walk(stream: bytes, record: _Record, depth: int = 0) -> Iterator[_Record]:
    """The record and every record inside it, in file order."""
    yield record
    if record.container and depth < _MAX_DEPTH:
        for child in _children(stream, record):
            yield from _walk(stream, child, depth + 1)


def _texts(stream: bytes, records) -> Iterator[Tuple[int, str]]:
    """(text type, text) of the text atoms among `records`; the type comes from the last TextHeaderAtom."""
    text_type = -1
    for record in records:
        if record.kind == _TEXT_HEADER and record.end - record.start >= 4:
            text_type = struct.unpack_from("<I", stream, record.start)[0]
        elif record.kind in (_TEXT_CHARS, _TEXT_BYTES):
            raw = stream[record.start : record.end]
            codec = "utf-16-le" if record.kind == _TEXT_CHARS else "latin-1"
            text = raw.decode(codec, errors="replace")
            lines = [" ".join(line.split()) for line in text.replace("\x0b", "\r").split("\r")]
            text = "\n".join(line for line in lines if line)
            if text:
                yield text_type, text


def read_ppt(data: bytes, ctx: ExtractContext) -> Extracted:
    """PowerPoint 97-2003 slides (titles, text, notes) and properties."""
    with _open(data) as ole:
        if ole.exists("EncryptedSummary"):
            raise ExtractionError("encrypted", "password-protected presentation")
        stream = _stream(ole, "PowerPoint Document")
        if stream is None:
            raise ExtractionError("parse_error", "no 'PowerPoint Document' stream: not a PowerPoint file")
        current_user = _stream(ole, "Current User") or b""
        props = ole_properties(ole)
    warnings: List[str] = []
    try:
        slides, notes = _slides_by_persist(stream, current_user)
    except (ValueError, struct.error) as exc:
        if isinstance(exc, _Encrypted):
            raise ExtractionError("encrypted", "password-protected presentation") from exc
        warnings.append(f"slide list unreadable ({exc}); text read in file order")
        slides, notes = _slides_in_file_order(stream), {}
    if not slides:
        raise ExtractionError("parse_error", "no slides found in the presentation")
    return _deck_extracted(slides, notes, props, warnings, ctx)


class _Encrypted(ValueError):
    pass


def _persist_directory(stream: bytes, current_user: bytes) -> Tuple[Dict[int, int], int]:
    """(persist id -> stream offset, document persist id) from the chain of user edits."""
    if len(current_user) < 20:
        raise ValueError("no current user atom")
    token, offset = struct.unpack_from("<II", current_user, 12)
    if token == _ENCRYPTED_USER_TOKEN:
        raise _Encrypted("encrypted")
    directory: Dict[int, int] = {}
    document_ref = None
    seen = set()
    while offset and offset not in seen and len(seen) < _MAX_EDITS:
        seen.add(offset)
        edit = _record_at(stream, offset)
        if edit is None or edit.kind != _USER_EDIT or edit.end - edit.start < 28:
            raise ValueError(f"no user edit at offset {offset}")
        last_edit, directory_at, doc_ref = struct.unpack_from("<III", stream, edit.start + 8)
        if edit.end - edit.start >= 32 and struct.unpack_from("<I", stream, edit.start + 28)[0]:
            raise _Encrypted("encrypted")
        document_ref = doc_ref if document_ref is None else document_ref  # the newest edit's
        entries = _record_at(stream, directory_at)
        if entries is None or entries.kind != _PERSIST_DIRECTORY:
            raise ValueError(f"no persist directory at offset {directory_at}")
        position = entries.start
        while position + 4 <= entries.end:
            head = struct.unpack_from("<I", stream, position)[0]
            first, count = head & 0xFFFFF, head >> 20
            offsets = stream[position + 4 : min(position + 4 + 4 * count, entries.end)]
            for index in range(len(offsets) // 4):
                directory.setdefault(first + index, struct.unpack_from("<I", offsets, 4 * index)[0])  # newer first
            position += 4 + 4 * count
        offset = last_edit
    if document_ref is None or document_ref not in directory:
        raise ValueError("no document in the persist directory")
    return directory, document_ref


def _slides_by_persist(stream: bytes, current_user: bytes) -> Tuple[List[List[Tuple[int, str]]], Dict[int, str]]:
    """Each slide's texts in slide-list order, and each slide's notes (by slide index)."""
    directory, document_ref = _persist_directory(stream, current_user)
    document = _record_at(stream, directory[document_ref])
    if document is None or document.kind != _DOCUMENT:
        raise ValueError("the document record is missing")
    slides: List[List[Tuple[int, str]]] = []
    notes_refs: List[int] = []  # per slide, the id of its notes page (0: none)
    notes_by_id: Dict[int, str] = {}
    for slide_list in _children(stream, document):
        if slide_list.kind != _SLIDE_LIST or slide_list.instance not in (0, 2):
            continue
        groups: List[Tuple[int, int, List[_Record]]] = []  # (persist ref, slide or notes id, records)
        for record in _children(stream, slide_list):
            if record.kind == _SLIDE_PERSIST and record.end - record.start >= 16:
                persist_ref, _flags, _texts_count, page_id = struct.unpack_from("<IIII", stream, record.start)
                groups.append((persist_ref, page_id, []))
            elif groups:
                groups[-1][2].append(record)
        for persist_ref, page_id, records in groups:
            page = _record_at(stream, directory[persist_ref]) if persist_ref in directory else None
            texts = list(_texts(stream, records)) + _drawing_texts(stream, page)
            if slide_list.instance == 0:
                slides.append(texts)
                notes_refs.append(_notes_ref(stream, page))
            elif texts:
                notes_by_id[page_id] = " ".join(text.replace("\n", " ") for _, text in texts)
    notes = {index: notes_by_id[ref] for index, ref in enumerate(notes_refs) if ref in notes_by_id}
    return slides, notes


def _notes_ref(stream: bytes, slide: Optional[_Record]) -> int:
    """The notes page id a slide's SlideAtom names (0 when none)."""
    if slide is None or slide.kind != _SLIDE:
        return 0
    atom = next((r for r in _children(stream, slide) if r.kind == _SLIDE_ATOM), None)
    if atom is None or atom.end - atom.start < 20:
        return 0
    return struct.unpack_from("<I", stream, atom.start + 16)[0]


def _drawing_texts(stream: bytes, record: Optional[_Record]) -> List[Tuple[int, str]]:
    """Text atoms inside a slide's or notes page's own records (text boxes of its drawing)."""
    if record is None or record.kind not in (_SLIDE, _NOTES):
        return []
    return list(_texts(stream, _walk(stream, record)))


def _slides_in_file_order(stream: bytes) -> List[List[Tuple[int, str]]]:
    """Every text atom in the stream, one pseudo-slide per Slide record (or one for all)."""
    slides: List[List[Tuple[int, str]]] = [[]]
    position = 0
    while position + 8 <= len(stream):
        record = _record_at(stream, position)
        if record.kind == _SLIDE and slides[-1]:
            slides.append([])
        texts = list(_texts(stream, _walk(stream, record)))
        for text in texts:
            if not slides[-1] or slides[-1][-1] != text:
                slides[-1].append(text)
        position = record.end
    return [slide for slide in slides if slide]


def _deck_extracted(slides, notes: Dict[int, str], props: Dict[str, Any], warnings: List[str],
                    ctx: ExtractContext) -> Extracted:
    sink = TextSink(ctx.limits.max_text_chars)
    titles: List[str] = []
    for number, texts in enumerate(slides, start=1):
        title = next((text.replace("\n", " ") for kind, text in texts if kind in _TITLE_TYPES), "")
        titles.append(title)
        sink.add(f"## Slide {number}: {title}" if title else f"## Slide {number}")
        seen = {title}
        for kind, text in texts:
            if kind == _NOTES_TYPE or text in seen:
                continue
            seen.add(text)
            sink.extend(f"- {line}" for line in text.split("\n"))
        if number - 1 in notes:
            sink.add(f"Notes: {notes[number - 1]}")
    if not props.get("title"):
        first = next((t for t in titles if t), "")
        if first:
            props["title"] = first
    structure = {
        "slide_count": len(slides),
        "slide_titles": titles[:MAX_HEADINGS],
        "tables": 0,
        "charts": [],
        "has_notes": bool(notes),
    }
    return Extracted(text=sink.text(), structure=structure, properties=props, warnings=warnings)
