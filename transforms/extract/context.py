"""What every format reader receives besides the file's bytes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from transforms.config import ExtractionConfig


@dataclass(frozen=True)
class ExtractContext:
    uri: str  # the file's URI as matched (for messages only; readers never reopen it)
    file_name: str
    extension: str  # lower case, without the dot
    limits: ExtractionConfig
    redactor: Optional[Any] = None  # transforms.pii.Redactor, applied to sample values
    size: int = 0  # bytes in the whole file
    # False when the reader gets only the head of the file (reading.HEAD_FORMATS past
    # `max_read_bytes`); `line_count` then counts the line breaks of the whole file.
    complete: bool = True
    line_count: Optional[int] = None
