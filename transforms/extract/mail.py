"""E-mail: RFC 822 messages (.eml) and Outlook messages (.msg).

Both give the same shape: headers as properties (subject as the title, the
sender as the author, to/cc, the date, message and reply ids), the body as
text (plain text preferred, else the HTML body through `markup.html_text`),
and the attachments listed by name, type and size, in `structure` and at the
end of the text, so that the files a message carries are mentioned files.

- .eml: the standard library's parser with the compat32 policy (the modern
  header parser is slower and has had pathological cases on crafted headers);
  encoded words are decoded explicitly. At most MAX_PARTS parts are walked.
- .msg: an OLE compound file ([MS-OXMSG]). Properties are the
  `__substg1.0_<tag><type>` streams of the message, its recipients and its
  attachments, read with olefile; dates come from the fixed-size property
  stream. No third-party .msg library: extract-msg, the maintained one, is
  GPL-3.0 and brings a dozen dependencies for what is a few dozen lines here.
"""

from __future__ import annotations

import datetime as dt
import email
import email.errors
import email.policy
import io
import re
import struct
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any, Dict, List, Optional, Tuple

from transforms.extract.context import ExtractContext
from transforms.extract.encoding import decode, detect_encoding
from transforms.extract.markup import html_text
from transforms.extract.narrative import TextSink
from transforms.extract.properties import codec_of
from transforms.model import Extracted, ExtractionError

MAX_PARTS = 1000
MAX_ATTACHMENTS_LISTED = 100
_HEADER_PROPERTIES = {"to": "to", "cc": "cc", "message-id": "message_id", "in-reply-to": "in_reply_to"}
_MAX_HEADER_CHARS = 2000


def _mail_extracted(headers: Dict[str, Any], body: str, html: str, attachments: List[Dict[str, Any]],
                    ctx: ExtractContext, warnings: List[str]) -> Extracted:
    sink = TextSink(ctx.limits.max_text_chars)
    for name, label in (("title", "Subject"), ("author", "From"), ("to", "To"), ("cc", "Cc")):
        if headers.get(name):
            sink.add(f"{label}: {headers[name]}")
    if body.strip():
        sink.extend(line.rstrip() for line in body.splitlines())
    elif html:
        sink.extend(html_text(html, ctx.limits.max_text_chars).sink.text().splitlines())
    if attachments:
        sink.add("Attachments:")
        sink.extend(f"- {a['name']}" for a in attachments[:MAX_ATTACHMENTS_LISTED] if a["name"])
    structure = {
        "attachments": attachments[:MAX_ATTACHMENTS_LISTED],
        "attachment_count": len(attachments),
        "has_html_body": bool(html),
        "recipients": sum(len(getaddresses([headers.get(k, "")])) for k in ("to", "cc") if headers.get(k)),
    }
    props = {k: v for k, v in headers.items() if v}
    return Extracted(text=sink.text(), structure=structure, properties=props, warnings=warnings)


# ---------------------------------------------------------------- .eml


def read_eml(data: bytes, ctx: ExtractContext) -> Extracted:
    """An RFC 822 message: headers, body text and the attachments' list."""
    message = email.message_from_bytes(data, policy=email.policy.compat32)
    if not message.keys():
        raise ExtractionError("parse_error", "no message headers: not an e-mail message")
    headers = {
        "title": _header(message, "subject"),
        "author": _header(message, "from"),
        **{key: _header(message, name) for name, key in _HEADER_PROPERTIES.items()},
        "created_at": _date(message.get("date")),
    }
    body, html, attachments, walked = [], [], [], 0
    for part in message.walk():
        walked += 1
        if walked > MAX_PARTS:
            break
        if part.is_multipart():
            continue
        name = _header_text(part.get_filename() or "")
        disposition = (part.get("content-disposition") or "").split(";", 1)[0].strip().lower()
        kind = part.get_content_type()
        if name or disposition == "attachment":
            payload = part.get_payload(decode=True) or b""
            attachments.append({"name": name, "content_type": kind, "size": len(payload)})
        elif kind == "text/plain" and not body:
            body.append(_part_text(part))
        elif kind == "text/html" and not html:
            html.append(_part_text(part))
    warnings = [f"message has more than {MAX_PARTS} parts; the rest not read"] if walked > MAX_PARTS else []
    if message.defects:
        warnings.append(f"{len(message.defects)} structural defects in the message")
    return _mail_extracted(headers, "".join(body), "".join(html), attachments, ctx, warnings)


def _header(message: Message, name: str) -> str:
    value = message.get(name)
    return _header_text(str(value)) if value is not None else ""


def _header_text(value: str) -> str:
    """A header with its encoded words (=?utf-8?b?...?=) decoded, on one line."""
    try:
        text = str(make_header(decode_header(value)))
    except (ValueError, LookupError, UnicodeError, email.errors.HeaderParseError):
        text = value
    return " ".join(text.split())[:_MAX_HEADER_CHARS]


def _date(value: Optional[str]) -> Optional[str]:
    if not value:
        return None
    try:
        return parsedate_to_datetime(str(value)).isoformat()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset()
    try:
        return payload.decode(charset or detect_encoding(payload[:65536]), errors="replace")
    except LookupError:
        return decode(payload, detect_encoding(payload[:65536]))


# ---------------------------------------------------------------- .msg

_SUBJECT, _BODY, _HTML_BODY, _HEADERS = 0x0037, 0x1000, 0x1013, 0x007D
_SENDER_NAME, _SENDER_EMAIL, _SENDER_SMTP = 0x0C1A, 0x0C1F, 0x5D01
_DISPLAY_TO, _DISPLAY_CC, _MESSAGE_ID, _REPLY_TO_ID = 0x0E04, 0x0E03, 0x1035, 0x1042
_SUBMIT_TIME, _DELIVERY_TIME, _CODEPAGE, _INTERNET_CPID = 0x0039, 0x0E06, 0x3FFD, 0x3FDE
_ATTACH_LONG_NAME, _ATTACH_NAME, _ATTACH_MIME, _ATTACH_DATA, _ATTACH_SIZE = 0x3707, 0x3704, 0x370E, 0x3701, 0x0E20
_UNICODE, _STRING8, _BINARY, _SYSTIME, _INT32 = 0x001F, 0x001E, 0x0102, 0x0040, 0x0003
_STREAM = re.compile(r"__substg1\.0_([0-9A-Fa-f]{4})([0-9A-Fa-f]{4})$")
_FILETIME_EPOCH = dt.datetime(1601, 1, 1, tzinfo=dt.timezone.utc)


class _MsgObject:
    """The properties of one storage of a .msg: the message itself, an attachment or a recipient."""

    def __init__(self, ole, path: List[str], codec: str = "cp1252"):
        self.ole = ole
        self.path = path
        self.codec = codec
        self.streams: Dict[int, Tuple[int, List[str]]] = {}
        for entry in ole.listdir(streams=True, storages=False):
            if entry[:-1] == path:
                match = _STREAM.match(entry[-1])
                if match:
                    self.streams.setdefault(int(match.group(1), 16), (int(match.group(2), 16), entry))

    def text(self, tag: int) -> str:
        if tag not in self.streams:
            return ""
        kind, entry = self.streams[tag]
        raw = self.ole.openstream(entry).read()
        if kind == _UNICODE:
            return raw.decode("utf-16-le", errors="replace").split("\x00", 1)[0]
        if kind == _STRING8:
            return raw.decode(self.codec, errors="replace").split("\x00", 1)[0]
        if kind == _BINARY:
            return decode(raw, detect_encoding(raw[:65536]))
        return ""

    def size(self, tag: int) -> int:
        return self.ole.get_size(self.streams[tag][1]) if tag in self.streams else 0

    def fixed(self, header_bytes: int) -> Dict[int, bytes]:
        """Fixed-size property values (8 bytes each) from the storage's property stream."""
        entry = self.path + ["__properties_version1.0"]
        if not self.ole.exists("/".join(entry)):
            return {}
        raw = self.ole.openstream(entry).read()
        values = {}
        for offset in range(header_bytes, len(raw) - 15, 16):
            tag = struct.unpack_from("<I", raw, offset)[0]
            values[tag >> 16] = raw[offset + 8 : offset + 16]
        return values


def read_msg(data: bytes, ctx: ExtractContext) -> Extracted:
    """An Outlook message: the same fields as an .eml, from the OLE container."""
    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except Exception as exc:
        raise ExtractionError("parse_error", f"unreadable OLE container: {exc}") from exc
    with ole:
        message = _MsgObject(ole, [])
        if not message.streams:
            raise ExtractionError("parse_error", "no message properties: not an Outlook message")
        fixed = message.fixed(32)
        codepage = next((struct.unpack_from("<i", fixed[t])[0] for t in (_INTERNET_CPID, _CODEPAGE) if t in fixed), 0)
        message.codec = codec_of(codepage)
        sender = message.text(_SENDER_NAME)
        address = message.text(_SENDER_SMTP) or message.text(_SENDER_EMAIL)
        stamp = next((_filetime(fixed[t]) for t in (_SUBMIT_TIME, _DELIVERY_TIME) if t in fixed), None)
        headers = {
            "title": message.text(_SUBJECT),
            "author": f"{sender} <{address}>" if sender and address and "@" in address else (sender or address),
            "to": message.text(_DISPLAY_TO),
            "cc": message.text(_DISPLAY_CC),
            "message_id": message.text(_MESSAGE_ID),
            "in_reply_to": message.text(_REPLY_TO_ID),
            "created_at": stamp or _date(_header_line(message.text(_HEADERS), "date")),
        }
        headers = {k: " ".join(v.split())[:_MAX_HEADER_CHARS] if isinstance(v, str) else v for k, v in headers.items()}
        attachments = [_msg_attachment(ole, storage, message.codec) for storage in _attachment_storages(ole)]
        body = message.text(_BODY)
        html = "" if body.strip() else message.text(_HTML_BODY)
    return _mail_extracted(headers, body, html, attachments, ctx, [])


def _attachment_storages(ole) -> List[str]:
    names = {entry[0] for entry in ole.listdir(streams=False, storages=True) if len(entry) == 1}
    return sorted(name for name in names if name.startswith("__attach_version1.0_#"))[:MAX_PARTS]


def _msg_attachment(ole, storage: str, codec: str) -> Dict[str, Any]:
    attachment = _MsgObject(ole, [storage], codec)
    name = attachment.text(_ATTACH_LONG_NAME) or attachment.text(_ATTACH_NAME)
    fixed = attachment.fixed(8)
    size = attachment.size(_ATTACH_DATA) or (struct.unpack_from("<i", fixed[_ATTACH_SIZE])[0]
                                             if _ATTACH_SIZE in fixed else 0)
    return {"name": " ".join(name.split()), "content_type": attachment.text(_ATTACH_MIME), "size": size}


def _filetime(raw: bytes) -> Optional[str]:
    ticks = struct.unpack_from("<Q", raw)[0]
    try:
        stamp = _FILETIME_EPOCH + dt.timedelta(microseconds=ticks // 10)
    except OverflowError:
        return None
    return stamp.isoformat() if stamp.year >= 1980 else None


def _header_line(headers: str, name: str) -> Optional[str]:
    match = re.search(rf"^{name}:\s*(.+)$", headers, re.IGNORECASE | re.MULTILINE)
    return match.group(1).strip() if match else None
