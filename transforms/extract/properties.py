"""Document properties from the three containers office files use.

- OOXML packages (docx, xlsx, pptx and their macro/template variants):
  docProps/core.xml and docProps/custom.xml.
- OLE compound files (doc, xls, ppt, msg): the SummaryInformation and
  DocumentSummaryInformation property sets.
- OpenDocument packages: meta.xml (see `odf.py`, which reuses `iso`).

Every reader reports the same keys: author, title, subject, keywords,
description, category, last_modified_by, created_at / modified_at (ISO 8601),
custom {name: value} and classification (a sensitivity label found among the
custom properties). A damaged property part never loses the document: it
becomes a warning.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from typing import Any, Dict, List, Optional, Tuple

from defusedxml import ElementTree as SafeET

# Core property element (local name) -> our property name.
_CORE_PROPERTIES = {
    "creator": "author",
    "title": "title",
    "subject": "subject",
    "keywords": "keywords",
    "category": "category",
    "description": "description",
    "created": "created_at",
    "modified": "modified_at",
    "lastModifiedBy": "last_modified_by",
    "contentStatus": "content_status",
}
_INTEGER_TYPES = frozenset({"i1", "i2", "i4", "i8", "int", "ui1", "ui2", "ui4", "ui8", "uint"})
_CLASSIFICATION_NAMES = ("classification", "sensitivity", "confidentiality")
# OLE SummaryInformation / DocumentSummaryInformation fields (olefile's names) -> ours.
_OLE_FIELDS = {
    "title": "title", "subject": "subject", "author": "author", "keywords": "keywords",
    "comments": "description", "last_saved_by": "last_modified_by", "category": "category",
    "company": "company", "manager": "manager",
}
_OLE_DATES = {"create_time": "created_at", "last_saved_time": "modified_at"}


def iso(value: str) -> Optional[str]:
    """ISO 8601 text of a W3CDTF/ISO timestamp, or None when it is not one."""
    try:
        return dt.datetime.fromisoformat(value.strip()).isoformat()
    except (ValueError, AttributeError, TypeError):
        return None


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def classification(custom: Dict[str, Any]) -> Optional[str]:
    """A sensitivity label among custom properties (plain, or Microsoft Purview's MSIP_Label_<id>_Name)."""
    for name, value in custom.items():
        lowered = name.lower()
        if lowered in _CLASSIFICATION_NAMES or (lowered.startswith("msip_label_") and lowered.endswith("_name")):
            if isinstance(value, str) and value:
                return value
    return None


def with_custom(props: Dict[str, Any], custom: Dict[str, Any]) -> Dict[str, Any]:
    """`props` with custom properties and the classification they carry."""
    if custom:
        props["custom"] = custom
        label = classification(custom)
        if label:
            props["classification"] = label
    return props


# ---------------------------------------------------------------- OOXML


def package_properties(archive: zipfile.ZipFile) -> Tuple[Dict[str, Any], List[str]]:
    """(properties, warnings) of an OOXML package."""
    names = set(archive.namelist())
    props: Dict[str, Any] = {}
    warnings: List[str] = []
    for part, parse in (("docProps/core.xml", _core_properties), ("docProps/custom.xml", _custom_properties)):
        if part not in names:
            continue
        try:
            props.update(parse(SafeET.fromstring(archive.read(part))))
        except Exception as exc:  # a bad properties part must not lose the document
            warnings.append(f"{part} unreadable: {type(exc).__name__}")
    return props, warnings


def _core_properties(root) -> Dict[str, Any]:
    props: Dict[str, Any] = {}
    for element in root:
        key = _CORE_PROPERTIES.get(local_name(element.tag))
        text = (element.text or "").strip()
        if key and text:
            props[key] = (iso(text) or text) if key.endswith("_at") else text
    return props


def _custom_properties(root) -> Dict[str, Any]:
    custom = {prop.get("name"): _custom_value(prop) for prop in root if prop.get("name")}
    return with_custom({}, {k: v for k, v in custom.items() if v is not None})


def _custom_value(prop) -> Any:
    """The typed value of a custom property (its one vt:* child)."""
    for child in prop:
        kind = local_name(child.tag)
        text = (child.text or "").strip()
        if kind in _INTEGER_TYPES:
            return int(text) if text.lstrip("-").isdigit() else text
        if kind in ("r4", "r8", "decimal"):
            try:
                return float(text)
            except ValueError:
                return text
        if kind == "bool":
            return text.lower() in ("true", "1")
        if kind in ("filetime", "date"):
            return iso(text) or text
        return text
    return None


# ---------------------------------------------------------------- OLE compound files


def ole_properties(ole) -> Dict[str, Any]:
    """Title, author, dates... of an open `olefile.OleFileIO`; {} when the streams are missing or damaged."""
    try:
        meta = ole.get_metadata()
    except Exception:  # a damaged property stream must not lose the document
        return {}
    codepage = codec_of(getattr(meta, "codepage", None))
    props: Dict[str, Any] = {}
    for field, key in _OLE_FIELDS.items():
        text = _ole_text(getattr(meta, field, None), codepage)
        if text:
            props[key] = text
    for field, key in _OLE_DATES.items():
        stamp = getattr(meta, field, None)
        if isinstance(stamp, dt.datetime) and stamp.year >= 1980:  # earlier values are durations or unset
            props[key] = stamp.replace(tzinfo=dt.timezone.utc).isoformat()
    return props


def ole_codepage(ole) -> str:
    """The Python codec of an OLE file's 8-bit strings (its SummaryInformation code page)."""
    try:
        return codec_of(ole.get_metadata().codepage)
    except Exception:  # no or damaged property stream
        return "cp1252"


def codec_of(codepage: Optional[int]) -> str:
    """The Python codec of a Windows code page number (stored as a signed 16-bit value)."""
    if not isinstance(codepage, int) or codepage == 0:
        return "cp1252"
    codepage &= 0xFFFF
    name = {65001: "utf-8", 1200: "utf-16-le", 10000: "mac_roman"}.get(codepage, f"cp{codepage}")
    try:
        "".encode(name)
    except LookupError:
        return "cp1252"
    return name


def _ole_text(value: Any, codepage: str) -> str:
    if isinstance(value, bytes):
        value = value.decode(codepage, errors="replace")
    if not isinstance(value, str):
        return ""
    return value.split("\x00", 1)[0].strip()
