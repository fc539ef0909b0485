"""Extraction of local files in memory, without Beam (Python API, calibration, benchmarks)."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Iterable, List, Tuple

from transforms.config import Config
from transforms.extract import extract_file
from transforms.model import ErrorRecord, ExtractionError, FileRecord
from transforms.signatures import file_id_for


def modified_iso(path: str) -> str:
    """The file's mtime as ISO 8601 UTC, as the pipeline's matcher reports it."""
    stamp = datetime.fromtimestamp(os.stat(path).st_mtime, tz=timezone.utc)
    return stamp.isoformat().replace("+00:00", "Z")


def extract_paths(paths: Iterable[str], config: Config) -> Tuple[List[FileRecord], List[ErrorRecord]]:
    """(records, errors) for local files: one record or one error per path."""
    records: List[FileRecord] = []
    errors: List[ErrorRecord] = []
    for path in paths:
        path = os.path.abspath(path)
        try:
            with open(path, "rb") as handle:
                data = handle.read()
            records.append(extract_file(path, data, config, size=len(data), modified_at=modified_iso(path)))
        except ExtractionError as exc:
            errors.append(ErrorRecord(path, exc.stage, exc.error_type, exc.message, file_id_for(path)))
        except OSError as exc:
            errors.append(ErrorRecord(path, "read", "read_error", str(exc), file_id_for(path)))
    return records, errors
