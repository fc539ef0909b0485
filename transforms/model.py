"""The records that flow between pipeline stages.

A `FileRecord` is everything one file yields: the node metadata written to
``nodes/`` plus the signatures that blocking and scoring read. All fields are
plain, picklable Python values so records cross Beam stages and can be stored
in a metadata index unchanged.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

_ATOMS = frozenset({str, int, float, bool, type(None)})


def plain(value: Any) -> Any:
    """dataclasses.asdict(value), equal and of the same types, without its per-element deep copy: a
    record's hash lists run to thousands of numbers, and asdict took 0.36 ms a record."""
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is list:
        return value.copy() if all(type(v) in _ATOMS for v in value) else [plain(v) for v in value]
    if kind is dict:
        return {plain(k): plain(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return dataclasses.asdict(_Boxed(value))["value"]  # tuples, named tuples and the rest, as asdict does


@dataclass
class _Boxed:
    value: Any

# File types the pipeline knows, by kind: files of one kind can be versions of each other.
FILE_KINDS: Dict[str, str] = {
    **dict.fromkeys(("xlsx", "xlsm", "xltx", "xltm", "xls", "xlt", "ods"), "sheet"),
    **dict.fromkeys(("csv", "tsv"), "delimited"),
    **dict.fromkeys(("json", "jsonl"), "json"),
    "sqlite": "sqlite",
    **dict.fromkeys(("pptx", "pptm", "potx", "potm", "ppsx", "ppsm", "ppt", "pps", "pot", "odp"), "deck"),
    **dict.fromkeys(("docx", "docm", "dotx", "dotm", "doc", "dot", "odt", "rtf", "pdf", "md", "txt", "html"),
                    "document"),
    **dict.fromkeys(("eml", "msg"), "email"),
}
# ... and by the role they play in relationships.
DATA_TYPES = frozenset(t for t, kind in FILE_KINDS.items() if kind in ("sheet", "delimited", "json", "sqlite"))
NARRATIVE_TYPES = frozenset(t for t, kind in FILE_KINDS.items() if kind in ("deck", "document", "email"))
PRESENTATION_TYPES = frozenset(t for t, kind in FILE_KINDS.items() if kind == "deck")


@dataclass
class ColumnProfile:
    """One column of one table: its type, size and value signatures."""

    name: str
    dtype: str  # integer | float | string | date | boolean | empty
    count: int = 0  # non-empty values seen
    distinct: int = 0  # distinct non-empty values seen
    samples: List[str] = field(default_factory=list)  # a few redacted values
    # Bottom-k 64-bit hashes of the normalised distinct values, sorted. When
    # `distinct <= len(value_hashes)` the set is exact; otherwise it is a
    # bottom-k sketch usable for containment estimates.
    value_hashes: List[int] = field(default_factory=list)
    # Numeric summary for numeric columns: sum, mean, min, max, count.
    numeric: Optional[Dict[str, float]] = None
    # Whole-number columns that cover a small contiguous range (1..n ids).
    small_int_range: bool = False
    unique: bool = False  # every non-empty value distinct (a key candidate)
    # Set for a column of lists ("ann;bob"): its counts and value hashes are of the items.
    separator: str = ""
    # Whole-number columns: quantiles (0, 1/32, ..., 1) of a uniform sample of
    # the distinct values, so a key's density inside any range can be told.
    quantiles: List[float] = field(default_factory=list)
    # Space-separated lists of identifiers ("DE FR"): bottom-k hashes of the items and their
    # distinct count, beside the whole values (a space also joins one value's words).
    item_hashes: List[int] = field(default_factory=list)
    item_distinct: int = 0

    @property
    def exact(self) -> bool:
        return self.distinct <= len(self.value_hashes)


@dataclass
class TableProfile:
    """A sheet, CSV body, JSON record array or SQLite table."""

    name: str
    columns: List[ColumnProfile] = field(default_factory=list)
    row_count: int = 0
    header_row: int = 0  # 0-based row index of the detected header
    sampled: bool = False  # True when rows beyond the configured cap were skipped
    primary_key: List[str] = field(default_factory=list)
    # Declared foreign keys: {"columns": [...], "ref_table": str, "ref_columns": [...]}
    foreign_keys: List[Dict[str, Any]] = field(default_factory=list)
    # Group sums: {dimension column: {numeric column: {label: sum}}} for
    # low-cardinality dimensions, so decks showing "by region" totals match.
    grouped_sums: Dict[str, Dict[str, Dict[str, float]]] = field(default_factory=dict)

    def column(self, name: str) -> Optional[ColumnProfile]:
        for col in self.columns:
            if col.name == name:
                return col
        return None


@dataclass
class FileRecord:
    """One extracted file: node metadata plus matching signatures."""

    file_id: str
    file_path: str
    file_name: str
    file_type: str
    file_size: int
    content_hash: str  # sha256 of the raw bytes
    created_at: Optional[str] = None  # ISO 8601
    modified_at: Optional[str] = None
    author: Optional[str] = None
    title: Optional[str] = None
    key_terms: List[str] = field(default_factory=list)
    # entity kind -> sorted values, e.g. {"project_code": ["PRJ-1042"], "amount": [...]}
    entities: Dict[str, List[str]] = field(default_factory=dict)
    # Format-specific structure summary written to the node: sheets, columns,
    # row_count, slide_titles, headings, tables, ...
    structure: Dict[str, Any] = field(default_factory=dict)
    properties: Dict[str, Any] = field(default_factory=dict)  # core/custom doc properties
    tables: List[TableProfile] = field(default_factory=list)
    text: str = ""  # bounded, redacted markdown-like representation
    # Numbers shown in narrative text with their rounding precision:
    # [[value, half_unit], ...]; aggregate matching compares them with sums.
    numbers: List[List[float]] = field(default_factory=list)
    mentions: List[str] = field(default_factory=list)  # file names mentioned in text
    minhash: List[int] = field(default_factory=list)  # content shingle MinHash
    # Hashes of the values the text shows (signatures.text_value_hashes), so
    # narrative files can be matched against data files' column values.
    token_hashes: List[int] = field(default_factory=list)
    # Hashes of the single words it shows (signatures.text_word_hashes): weaker matches.
    word_hashes: List[int] = field(default_factory=list)
    redactions: Dict[str, int] = field(default_factory=dict)  # PII kind -> count
    warnings: List[str] = field(default_factory=list)
    # int8 sentence embedding (transforms/detect/semantic.py); empty when not computed.
    embedding: List[int] = field(default_factory=list)
    # Tables and foreign keys the file declares (CSVW, datapackage.json, JSON Schema,
    # SQL DDL, dbt schema.yml): the shape is documented in transforms/extract/declared.py.
    declared: Dict[str, Any] = field(default_factory=dict)

    @property
    def is_data(self) -> bool:
        return self.file_type in DATA_TYPES

    @property
    def is_narrative(self) -> bool:
        return self.file_type in NARRATIVE_TYPES

    def to_dict(self) -> Dict[str, Any]:
        return plain(self)

    def to_node(self) -> Dict[str, Any]:
        """The graph node written to nodes/: metadata, never raw signatures."""
        return {
            "file_id": self.file_id,
            "file_path": self.file_path,
            "file_name": self.file_name,
            "file_type": self.file_type,
            "file_size": self.file_size,
            "created_at": self.created_at,
            "modified_at": self.modified_at,
            "author": self.author,
            "title": self.title,
            "content_signature": {
                "hash": self.content_hash,
                "key_terms": list(self.key_terms),
                "entities": {k: list(v) for k, v in sorted(self.entities.items())},
            },
            "structure": self.structure,
            "properties": self.properties,
            "text_preview": self.text[:2000],
            "redactions": dict(self.redactions),
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "FileRecord":
        data = dict(data)
        data["tables"] = [
            TableProfile(
                **{
                    **t,
                    "columns": [ColumnProfile(**c) for c in t.get("columns", [])],
                }
            )
            for t in data.get("tables", [])
        ]
        return cls(**data)


def file_modified_at(properties: Dict[str, Any], filesystem_modified_at: Optional[str]) -> Optional[str]:
    """A record's modified_at: the document's own date when it has one, else the file's mtime."""
    return properties.get("modified_at") or filesystem_modified_at


# Stages where a failure keeps a file from becoming a node (counted as `failed`), and the
# stages after it, where a failure loses one file's blocking keys, one pair or one
# training record but not the node (counted as `stage_errors`).
FILE_STAGES = ("match", "read", "compliance", "safety", "extract", "redact", "embed")
LATER_STAGES = ("block", "score", "train")


@dataclass
class ErrorRecord:
    """A file (or a pair of files) that failed at one stage, and why."""

    file_path: str
    stage: str  # one of FILE_STAGES or LATER_STAGES
    error_type: str  # e.g. unsupported_format, encrypted, too_large, zip_bomb, parse_error, timeout, crash
    message: str
    file_id: Optional[str] = None
    paired_with: Optional[str] = None  # the other file of a pair, for a "score" error

    def to_dict(self) -> Dict[str, Any]:
        return plain(self)


# Outcomes of a step that can fail per element travel as (kind, value) tuples (ptransforms.common.split_outcomes).
OK = "ok"
FAILED = "failed"


def stage_error(stage: str, exc: BaseException, path: str, paired_with: Optional[str] = None) -> ErrorRecord:
    """The error record of one element that failed at a stage after extraction."""
    from transforms.extract import describe
    from transforms.signatures import file_id_for

    return ErrorRecord(path, stage, "internal_error", describe(exc), file_id_for(path), paired_with)


class ExtractionError(Exception):
    """Raised by extractors for a file that cannot become a node."""

    def __init__(self, error_type: str, message: str, stage: str = "extract"):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.stage = stage


@dataclass
class Extracted:
    """What a format reader returns; `transforms.extract.extract_file` turns it into a FileRecord."""

    text: str = ""  # markdown-like text representation, before redaction
    tables: List[TableProfile] = field(default_factory=list)
    structure: Dict[str, Any] = field(default_factory=dict)
    # Document properties: author, title, created_at, modified_at (ISO 8601),
    # subject, keywords, category, classification, custom {name: value}.
    properties: Dict[str, Any] = field(default_factory=dict)
    warnings: List[str] = field(default_factory=list)
    redactions: Dict[str, int] = field(default_factory=dict)  # PII kind -> count, from sample values
    declared: Dict[str, Any] = field(default_factory=dict)  # FileRecord.declared
