"""Extraction of local files in memory, without Beam (Python API, calibration, benchmarks)."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Iterable, List, Tuple

from transforms.config import Config
from transforms.extract.isolation import ParserPool, extract_one
from transforms.model import ErrorRecord, FileRecord


def modified_iso(path: str) -> str:
    """The file's mtime as ISO 8601 UTC, as the pipeline's matcher reports it."""
    stamp = datetime.fromtimestamp(os.stat(path).st_mtime, tz=timezone.utc)
    return stamp.isoformat().replace("+00:00", "Z")


def extract_paths(paths: Iterable[str], config: Config) -> Tuple[List[FileRecord], List[ErrorRecord]]:
    """(records, errors) for local files: one record or one error per path, in path order.

    Isolated in parser processes when `extraction.isolation` is on, as in the pipeline.
    """
    jobs = []
    for path in paths:
        path = os.path.abspath(path)
        try:
            jobs.append((path, os.path.getsize(path), modified_iso(path)))
        except OSError:
            jobs.append((path, None, None))  # reading reports the error
    if config.extraction.isolation:
        with ParserPool(config) as pool:
            for index, job in enumerate(jobs):
                pool.submit(index, *job)
            outcomes = [outcome for _, outcome in sorted(pool.drain(), key=lambda done: done[0])]
    else:
        outcomes = [extract_one(*job, config) for job in jobs]
    records = [o for o in outcomes if isinstance(o, FileRecord)]
    errors = [o for o in outcomes if isinstance(o, ErrorRecord)]
    return records, errors
