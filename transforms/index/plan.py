"""Which files a run must extract, given what the index remembers.

A file is reused when the index holds it from an extraction with the same
fingerprint (same filegraph code, reader libraries and extraction/privacy
settings) and its size and mtime are unchanged; when only the mtime moved,
its content hash decides. Everything else is extracted again. Indexed files
the run no longer matches are deleted from the index, and so from the graph.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import importlib.metadata
import importlib.util
import json
import os
from functools import lru_cache
from typing import Any, Dict, Optional, Tuple

from transforms.config import Config
from transforms.extract.matching import MatchedFile
from transforms.index.store import ERROR, RECORD, IndexEntry, StoredFile
from transforms.model import ErrorRecord, FileRecord, file_modified_at

EXTRACT = "extract"  # new, changed, extracted under other settings, or a failure to retry
REUSE = "reuse"  # size and mtime unchanged
CONFIRM = "confirm"  # size unchanged, mtime moved: the content hash decides
DELETE = "delete"  # indexed but no longer matched

# Libraries whose output is part of a record: a new version may read a file differently.
READER_DISTRIBUTIONS = ("openpyxl", "python-pptx", "python-docx", "pypdf", "python-calamine", "xlrd",
                        "charset-normalizer", "defusedxml", "datasketch", "olefile", "striprtf", "tokenizers",
                        "numpy")
# Failures that say nothing about a file's content are never stored, so the next run tries again:
# read errors (a permission, a network blip) and what the machine's load decides (a parser process
# killed for time or memory, or gone).
TRANSIENT_STAGES = frozenset({"read"})
TRANSIENT_ERROR_TYPES = frozenset({"timeout", "memory_limit", "crash"})
_HASH_CHUNK = 1024 * 1024
# Extraction settings that decide how files are read, not what a record holds (their
# failures are transient, above): changing them re-extracts nothing.
RUN_ONLY_EXTRACTION = frozenset({"timeout_seconds", "isolation", "workers", "memory_budget_mb", "worker_max_files"})


def plan_file(matched: Optional[MatchedFile], entry: Optional[IndexEntry], fingerprint: str,
              retry_errors: bool) -> str:
    """EXTRACT, REUSE, CONFIRM or DELETE for one URI."""
    if matched is None:
        return DELETE
    if entry is None or entry.fingerprint != fingerprint or entry.size != matched.size:
        return EXTRACT
    if entry.outcome == ERROR and retry_errors:
        return EXTRACT
    if entry.modified_at == matched.modified_at:
        return REUSE
    return CONFIRM if entry.content_hash else EXTRACT


def file_content_hash(path: str) -> str:
    """The hash FileRecord.content_hash holds: sha256 of the file's raw bytes, read in chunks."""
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    digest = hashlib.sha256()
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        for chunk in iter(lambda: handle.read(_HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


@lru_cache(maxsize=None)
def code_digest(packages: Tuple[str, ...] = ("transforms",)) -> str:
    """sha256 over every file of these packages (code, the confidence model, the packaged
    embeddings, templates): any change to them is a new fingerprint."""
    digest = hashlib.sha256()
    for package in packages:
        spec = importlib.util.find_spec(package)
        root = list(spec.submodule_search_locations)[0]
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith(".pyc"):
                    continue
                path = os.path.join(folder, name)
                digest.update(f"{package}/{os.path.relpath(path, root)}".encode("utf-8") + b"\0")
                with open(path, "rb") as handle:
                    digest.update(hashlib.sha256(handle.read()).digest())
    return digest.hexdigest()


def _versions() -> Dict[str, str]:
    found = {}
    for name in READER_DISTRIBUTIONS:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = ""
    return found


def _digest(document: Any) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def _pii_key_digest() -> str:
    """Pseudonyms and value signatures are keyed (FILEGRAPH_PII_KEY): a new key is a new fingerprint.

    Only an HMAC of a constant under the key is kept, never the key.
    """
    from transforms.pii.pseudonyms import pii_key

    return hmac.new(pii_key(warn=False), b"filegraph metadata index", hashlib.sha256).hexdigest()


def extraction_fingerprint(config: Config, embeddings: bool) -> str:
    """Everything besides a file's bytes and stamp that its record depends on."""
    return _digest({
        "code": code_digest(),
        "pii_key": _pii_key_digest(),
        "libraries": _versions(),
        "extraction": {k: v for k, v in dataclasses.asdict(config.extraction).items()
                       if k not in RUN_ONLY_EXTRACTION},
        "privacy": dataclasses.asdict(config.privacy),
        "embeddings": embeddings,
    })


def scoring_fingerprint(config: Config) -> str:
    """Everything besides a pair's views and context that its score depends on: the whole
    package (strategies, scoring code, the confidence model's weights), the relationship
    settings and the strategies that can run here. Other settings (training, exports,
    the index itself) never touch a score.
    """
    from transforms.detect.relationships import active_strategies

    return _digest({"code": code_digest(), "relationships": dataclasses.asdict(config.relationships),
                    "strategies": list(active_strategies(config))})


def stored_record(record: FileRecord, matched: Optional[MatchedFile], fingerprint: str,
                  keys) -> Optional[StoredFile]:
    """The row for an extracted record (None when its match is unknown: it is extracted again next run)."""
    if matched is None:
        return None
    entry = IndexEntry(record.file_path, matched.size, matched.modified_at, record.content_hash, fingerprint, RECORD)
    return StoredFile(entry, record.to_dict(), tuple(keys))


def stored_error(error: ErrorRecord, matched: Optional[MatchedFile], fingerprint: str) -> Optional[StoredFile]:
    """The row for a failure, or None for a transient one that the next run retries."""
    if matched is None or error.stage in TRANSIENT_STAGES or error.error_type in TRANSIENT_ERROR_TYPES:
        return None
    entry = IndexEntry(error.file_path, matched.size, matched.modified_at, None, fingerprint, ERROR)
    return StoredFile(entry, error.to_dict())


def reused(entry: IndexEntry, payload: Dict[str, Any], matched: MatchedFile):
    """The stored record or error (a decoded payload) as this run's, stamped with the file's current mtime."""
    if entry.outcome == ERROR:
        return ErrorRecord(**payload)
    record = FileRecord.from_dict(payload)
    record.modified_at = file_modified_at(record.properties, matched.modified_at)
    return record
