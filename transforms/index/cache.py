"""Pair scores cached by a digest of everything scoring reads.

A pair's score is a pure function of its two records, its context (the third
element of a joined pair: today the kinds of blocking keys it shares), the
configuration and the code and confidence model (`plan.scoring_fingerprint`).
The digest covers all of them, so a cached score is reused only when a fresh
one would be identical; adding one file that changes any part of a pair's
context changes its digest. Whatever scoring comes to read (a side input of
corpus statistics, say) must enter `pair_digest` too.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Dict, Optional

from transforms.detect.scoring import Edge
from transforms.model import FileRecord


def record_digest(record: FileRecord) -> str:
    """A digest of every field of a record, the same for a record read back from the index.

    Canonical JSON with dataclasses encoded by their fields: several times
    faster than `to_dict()`, which deep-copies first.
    """
    text = json.dumps(record, default=vars, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def pair_digest(scoring_fingerprint: str, digest_a: str, digest_b: str, context: Any) -> str:
    parts = [scoring_fingerprint, digest_a, digest_b, json.dumps(context, sort_keys=True, default=str)]
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


def edge_to_json(edge: Optional[Edge]) -> Optional[str]:
    return None if edge is None else json.dumps(edge.to_dict(), ensure_ascii=False)


def edge_from_json(text: Optional[str]) -> Optional[Edge]:
    return None if text is None else Edge(**json.loads(text))


class RecordDigests:
    """record_digest once per file per worker: within a run a file ID names one record."""

    def __init__(self) -> None:
        self._digests: Dict[str, str] = {}

    def __call__(self, record: FileRecord) -> str:
        digest = self._digests.get(record.file_id)
        if digest is None:
            digest = self._digests[record.file_id] = record_digest(record)
        return digest
