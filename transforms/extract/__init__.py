"""From a file to a FileRecord: compliance, reading, safety, parsing, redaction, signals.

    record = extract_path(path, config, size=..., modified_at=...)   # reads the file itself
    record = extract_file(uri, data, config, size=..., modified_at=...)   # bytes in memory

Order matters and is fixed here:
  1. compliance: `privacy.exclude_paths` (fnmatch on the URI) -> `excluded`;
     an excluded file is never opened
  2. reading, bounded (`reading.read_content`): read_error, too_large
  3. the format: the extension's, unless the bytes say otherwise within one
     family (a .doc that is RTF, HTML or a Word 2007 package; a .docx that is a
     Word 97 file) -> read by the right reader, with a warning
  4. safety checks (`safety.check`): too_large, unsupported_format, encrypted,
     corrupt_archive, zip_bomb, xml_bomb
  5. the reader for the format, then the tables and keys the file declares
     (`declared.py`: CSVW, datapackage.json, JSON Schema, SQL DDL, dbt), under
     `extraction.timeout_seconds` (in this process a best-effort thread limit;
     in a parser process, `isolation.py`, a hard one); any unexpected reader
     exception becomes `parse_error`, a MemoryError `memory_limit`, a native
     panic (a BaseException) `crash`
  6. compliance: a classification in `privacy.exclude_classifications` -> `excluded`
  7. every string made valid Unicode (no lone surrogates, no NUL), then
     redaction of text, titles, structure, properties and table/column names,
     in one pass, before any signal is computed from them
  8. signals: key terms, entities, numbers (narrative files), file mentions,
     MinHash and value hashes
Every failure is an `ExtractionError` with a specific `error_type`.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import importlib
import posixpath
from functools import lru_cache
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from transforms.config import Config, PrivacyConfig
from transforms.detect.inclusion import table_links
from transforms.extract import safety
from transforms.extract.context import ExtractContext
from transforms.extract.declared import with_declared_schema
from transforms.extract.encoding import display_path, valid_text
from transforms.extract.reading import FileContent, read_content
from transforms.model import NARRATIVE_TYPES, Extracted, ExtractionError, FileRecord, file_modified_at
from transforms.pii import Redactor, mask_marks
from transforms.signatures import file_id_for, minhash_of, shingles, text_value_hashes, text_word_hashes
from transforms.text_signals import (
    extract_entities,
    extract_numbers,
    key_terms,
    mentioned_files,
)

Reader = Callable[[bytes, ExtractContext], Extracted]

# Extension -> "module.function" under transforms.extract. Resolved on first use, so importing
# this package (or its safety checks) does not load openpyxl, python-pptx, pypdf...
READERS: Dict[str, str] = {
    **dict.fromkeys(("xlsx", "xlsm", "xltx", "xltm"), "workbook.read_xlsx"),
    **dict.fromkeys(("xls", "xlt"), "workbook.read_xls"),
    "ods": "odf.read_ods",
    **dict.fromkeys(("csv", "tsv"), "tabular.read_csv"),
    "json": "jsondata.read_json",
    "jsonl": "jsondata.read_jsonl",
    **dict.fromkeys(("sqlite", "db"), "tabular.read_sqlite"),
    **dict.fromkeys(("pptx", "pptm", "potx", "potm", "ppsx", "ppsm"), "narrative.read_pptx"),
    **dict.fromkeys(("docx", "docm", "dotx", "dotm"), "narrative.read_docx"),
    **dict.fromkeys(("doc", "dot"), "ole.read_doc"),
    **dict.fromkeys(("ppt", "pps", "pot"), "ole.read_ppt"),
    "odt": "odf.read_odt",
    "odp": "odf.read_odp",
    "rtf": "markup.read_rtf",
    **dict.fromkeys(("html", "htm"), "markup.read_html"),
    "eml": "mail.read_eml",
    "msg": "mail.read_msg",
    "pdf": "narrative.read_pdf",
    **dict.fromkeys(("md", "markdown"), "narrative.read_markdown"),
    "txt": "narrative.read_text",
    # Read as text; what they declare (SQL DDL, dbt schema.yml) is read by declared.py.
    "sql": "narrative.read_text",
    "yml": "narrative.read_text",
    "yaml": "narrative.read_text",
}
_FILE_TYPES = {"db": "sqlite", "markdown": "md", "yml": "yaml", "htm": "html"}
# Within a family, the format the bytes show wins over the extension's.
_ZIP_MAGIC = b"PK\x03\x04"
_AS_OOXML = {"doc": "docx", "dot": "docx", "ppt": "pptx", "pps": "pptx", "pot": "pptx", "xls": "xlsx", "xlt": "xlsx"}
_AS_LEGACY = {"docx": "doc", "docm": "doc", "dotx": "doc", "dotm": "doc", "pptx": "ppt", "pptm": "ppt",
              "ppsx": "ppt", "potx": "ppt", "xlsx": "xls", "xlsm": "xls", "xltx": "xls"}
_TEXT_SAVED_AS = frozenset({"doc", "dot", "xls", "xlt"})  # Word and Excel save RTF and HTML under these
# Custom properties that carry a sensitivity label (MIP labels are MSIP_Label_<guid>_Name).
_CLASSIFICATION_KEYS = ("classification", "sensitivity")
# Properties written to the node as metadata, not free text: not redacted.
# Timestamps are metadata, never PII; every other property (author included) is redacted.
_DATE_PROPERTIES = frozenset({"created_at", "modified_at"})
_MAX_ERROR_MESSAGE = 300
# Joins the strings of one file into a single redaction call; no recognizer spans it.
_SEPARATOR = "\n\u241e\n"

__all__ = ["READERS", "extract_file", "extract_path", "extract_content", "file_type_for", "reader_for",
           "register_reader"]


def extract_path(
    path: str,
    config: Config,
    *,
    size: Optional[int] = None,
    modified_at: Optional[str] = None,
    thread_timeout: bool = True,
) -> FileRecord:
    """One file's FileRecord, read from `path` (local or any Beam filesystem) under the limits."""
    _check_path_allowed(path, config.privacy)
    if size is not None:
        safety.check_size(size, config.extraction, stage="read")
    content = read_content(path, _extension_of(_file_name_of(path)), config.extraction)
    return extract_content(display_path(path), content, config, modified_at=modified_at, thread_timeout=thread_timeout)


def extract_file(
    uri: str,
    data: bytes,
    config: Config,
    *,
    size: Optional[int] = None,
    modified_at: Optional[str] = None,
) -> FileRecord:
    """One file's FileRecord from its bytes, or ExtractionError with the reason it cannot be a node."""
    _check_path_allowed(uri, config.privacy)
    return extract_content(uri, FileContent.of(data, size), config, modified_at=modified_at)


def extract_content(
    uri: str,
    content: FileContent,
    config: Config,
    *,
    modified_at: Optional[str] = None,
    thread_timeout: bool = True,
) -> FileRecord:
    uri = display_path(uri)
    file_name = _file_name_of(uri)
    extension = _extension_of(file_name)
    limits = config.extraction
    data = content.data
    fmt, warning = _format_of(extension, data)
    safety.check(data, fmt, limits, READERS, size=content.size)
    redactor = _redactor(config.privacy.redact, config.privacy.policy)
    ctx = ExtractContext(uri=uri, file_name=file_name, extension=fmt, limits=limits, redactor=redactor,
                         size=content.size, complete=content.complete, line_count=content.line_count)
    extracted = _read(with_declared_schema(reader_for(fmt)), data, ctx,
                      limits.timeout_seconds if thread_timeout else None)
    if warning:
        extracted.warnings.insert(0, warning)
    _check_classification(extracted.properties, config.privacy)
    return _build_record(uri, file_name, file_type_for(extension), content, modified_at, extracted, ctx)


def file_type_for(extension: str) -> str:
    """The normalised file type: "db" -> "sqlite", "markdown" -> "md", others unchanged."""
    return _FILE_TYPES.get(extension, extension)


def reader_for(extension: str) -> Reader:
    """The reader of an extension: READERS names "module.function" under transforms.extract, or
    "package.module:function" anywhere (readers added by `register_reader`)."""
    target = READERS[extension]
    module, function = target.split(":") if ":" in target else (f"transforms.extract.{target.split('.')[0]}",
                                                                  target.split(".")[1])
    return getattr(importlib.import_module(module), function)


def register_reader(extension: str, target: str) -> None:
    """Adds or replaces the reader of an extension ("package.module:function"), in this process."""
    READERS[extension] = target


def _file_name_of(uri: str) -> str:
    return uri.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def _extension_of(file_name: str) -> str:
    return posixpath.splitext(file_name)[1][1:].lower()


def _format_of(extension: str, data: bytes) -> Tuple[str, str]:
    """(format to read the bytes as, warning) within the extension's family."""
    actual = ""
    if extension in _AS_OOXML and data.startswith(_ZIP_MAGIC):
        actual = _AS_OOXML[extension]
    elif extension in _TEXT_SAVED_AS and not data.startswith(safety.CFB_MAGIC):
        head = data[:1024].lstrip().lower()
        if head.startswith(b"{\\rtf"):
            actual = "rtf"
        elif head.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml")) and b"<html" in data[:4096].lower():
            actual = "html"
    elif extension in _AS_LEGACY and data.startswith(safety.CFB_MAGIC) and not safety.is_encrypted_package(data):
        actual = _AS_LEGACY[extension]
    if not actual:
        return extension, ""
    return actual, f"a .{extension} file holding a .{actual} document; read as .{actual}"


# ---------------------------------------------------------------- steps


def _check_path_allowed(uri: str, privacy: PrivacyConfig) -> None:
    for pattern in privacy.exclude_paths:
        if fnmatch.fnmatch(uri, pattern):
            raise ExtractionError("excluded", f"path matches privacy.exclude_paths '{pattern}'", stage="compliance")


def _read(reader: Reader, data: bytes, ctx: ExtractContext, timeout: Optional[float]) -> Extracted:
    try:
        return safety.run_with_timeout(lambda: reader(data, ctx), timeout)
    except ExtractionError:
        raise
    except MemoryError as exc:
        raise ExtractionError("memory_limit", f"the reader ran out of memory: {exc}"[:_MAX_ERROR_MESSAGE]) from exc
    except Exception as exc:  # any reader failure is this file's parse error, never the run's
        raise ExtractionError("parse_error", describe(exc)) from exc
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # a native panic (pyo3's PanicException derives from BaseException)
        raise ExtractionError("crash", f"the reader panicked: {describe(exc)}") from exc


def describe(exc: BaseException) -> str:
    """`Type: message` of an exception, bounded, for an error record."""
    return f"{type(exc).__name__}: {exc}"[:_MAX_ERROR_MESSAGE]


def _classifications(properties: Dict[str, Any]) -> List[str]:
    labels = [properties.get("classification"), properties.get("category")]
    for key, value in (properties.get("custom") or {}).items():
        key = key.lower()
        if key in _CLASSIFICATION_KEYS or (key.startswith("msip_label_") and key.endswith("_name")):
            labels.append(value)
    return [str(label).strip() for label in labels if label]


def _check_classification(properties: Dict[str, Any], privacy: PrivacyConfig) -> None:
    excluded = {c.casefold() for c in privacy.exclude_classifications}
    for label in _classifications(properties):
        if label.casefold() in excluded:
            raise ExtractionError(
                "excluded", f"classification '{label}' is in privacy.exclude_classifications", stage="compliance"
            )


@lru_cache(maxsize=8)  # one Redactor per privacy setting and worker process
def _redactor(enabled: bool, policy: str) -> Redactor:
    return Redactor(enabled=enabled, policy=policy)


def _build_record(
    uri: str,
    file_name: str,
    file_type: str,
    content: FileContent,
    modified_at: Optional[str],
    extracted: Extracted,
    ctx: ExtractContext,
) -> FileRecord:
    limits = ctx.limits
    redacted, counts = _redact_extracted(ctx.redactor, _valid_unicode(extracted))
    text = redacted.text[: limits.max_text_chars]
    props, structure = redacted.properties, redacted.structure
    if len(redacted.tables) > 1:  # links between the tables of one file (a SQLite mart, a workbook)
        structure = {**structure, "table_links": table_links(redacted.tables)}
    columns = [column.name for table in redacted.tables for column in table.columns]
    narrative = file_type in NARRATIVE_TYPES
    signal_text = mask_marks(text)  # pseudonyms written as masks: signals do not depend on the policy
    return FileRecord(
        file_id=file_id_for(uri),
        file_path=uri,
        file_name=file_name,
        file_type=file_type,
        file_size=content.size,
        content_hash=content.content_hash,
        created_at=props.get("created_at"),
        modified_at=file_modified_at(props, modified_at),
        author=props.get("author"),
        title=props.get("title"),
        key_terms=key_terms(signal_text, _extra_terms(redacted)),
        entities=extract_entities(signal_text),
        structure=structure,
        properties=props,
        tables=redacted.tables,
        text=text,
        numbers=extract_numbers(signal_text) if narrative else [],
        mentions=[name for name in mentioned_files(signal_text) if posixpath.basename(name) != file_name],
        minhash=minhash_of(shingles(signal_text + " " + " ".join(columns)), limits.num_perm),
        token_hashes=text_value_hashes(signal_text) if narrative else [],
        word_hashes=text_word_hashes(signal_text) if narrative else [],
        redactions=counts,
        warnings=list(redacted.warnings),
        declared=redacted.declared,
    )


def _extra_terms(extracted: Extracted) -> List[str]:
    """Names that describe the content: tables/sheets, columns, slide titles, headings."""
    terms = []
    for table in extracted.tables:
        terms.append(table.name)
        terms.extend(column.name for column in table.columns)
    terms.extend(t for t in extracted.structure.get("slide_titles", []) if isinstance(t, str))
    terms.extend(h.get("text", "") for h in extracted.structure.get("headings", []) if isinstance(h, dict))
    return terms


# ---------------------------------------------------------------- valid text and redaction


def _valid_unicode(extracted: Extracted) -> Extracted:
    """Every string a reader returned, keys included, made valid Unicode (see encoding.valid_text)."""
    for table in extracted.tables:
        table.name = valid_text(table.name)
        table.grouped_sums = _valid_tree(table.grouped_sums)
        for column in table.columns:
            column.name = valid_text(column.name)
            column.samples = [valid_text(sample) for sample in column.samples]
    return dataclasses.replace(
        extracted,
        text=valid_text(extracted.text),
        structure=_valid_tree(extracted.structure),
        properties=_valid_tree(extracted.properties),
        warnings=[valid_text(w) for w in extracted.warnings],
        declared=_valid_tree(extracted.declared),
    )


def _valid_tree(value: Any) -> Any:
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, dict):
        return {_valid_tree(key): _valid_tree(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_valid_tree(item) for item in value)
    return value



def _redact_extracted(redactor: Redactor, extracted: Extracted) -> Tuple[Extracted, Dict[str, int]]:
    """The reader's output with PII redacted from every free-text string, and all counts.

    Text, structure, free-text properties and table/column names go through
    one redaction call, so nothing computed later sees an unredacted value.
    Counts add to those the reader made redacting sample values.
    """
    metadata = {k: v for k, v in extracted.properties.items() if k in _DATE_PROPERTIES}
    free_props = {k: _long_numbers_as_text(v) for k, v in extracted.properties.items() if k not in _DATE_PROPERTIES}
    names = [table.name for table in extracted.tables]
    names += [column.name for table in extracted.tables for column in table.columns]
    # Table previews and key: value lines are redacted column-aware first.
    structured_text, counts = redactor.redact_structured(extracted.text)
    tree = [structured_text, extracted.structure, free_props, names, extracted.declared]
    redacted, more = _redact_strings(redactor, list(_strings(tree)))
    for kind, n in more.items():
        counts[kind] = counts.get(kind, 0) + n
    text, structure, free_props, names, declared = _replace_strings(tree, iter(redacted))
    _rename_tables(extracted.tables, iter(names))
    for kind, n in extracted.redactions.items():
        counts[kind] = counts.get(kind, 0) + n
    return dataclasses.replace(extracted, text=text, structure=structure, properties={**free_props, **metadata},
                               declared=declared), counts


def _long_numbers_as_text(value: Any) -> Any:
    """Numbers of 7+ digits (card numbers saved as numeric properties) become text to be checked."""
    if isinstance(value, dict):
        return {k: _long_numbers_as_text(v) for k, v in value.items()}
    if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) >= 1e6:
        return str(int(value)) if float(value).is_integer() else str(value)
    return value


def _rename_tables(tables, names: Iterator[str]) -> None:
    for table in tables:
        table.name = next(names)
    for table in tables:
        for column in table.columns:
            column.name = next(names)


def _redact_strings(redactor: Redactor, strings: Sequence[str]) -> Tuple[List[str], Dict[str, int]]:
    if not strings:
        return [], {}
    text, counts = redactor.redact(_SEPARATOR.join(strings))
    parts = text.split(_SEPARATOR)
    if len(parts) == len(strings):
        return parts, dict(counts)
    # A finding swallowed a separator: redact the strings one by one instead.
    parts, counts = [], {}
    for string in strings:
        part, found = redactor.redact(string)
        parts.append(part)
        for kind, n in found.items():
            counts[kind] = counts.get(kind, 0) + n
    return parts, counts


def _strings(value: Any) -> Iterator[str]:
    """The string leaves of nested dicts and lists, in a stable order."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def _replace_strings(value: Any, replacements: Iterator[str]) -> Any:
    """`value` with its string leaves replaced, in `_strings` order."""
    if isinstance(value, str):
        return next(replacements)
    if isinstance(value, dict):
        return {key: _replace_strings(item, replacements) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_replace_strings(item, replacements) for item in value)
    return value
