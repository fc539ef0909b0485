"""Pair scores cached by a digest of everything scoring reads.

A pair's score is a pure function of

- its two pair views (transforms/detect/pair_view.py: the slimmed records and
  their per-file facts),
- its shared keys with their bucket sizes (the third element of a joined pair),
- the run's corpus statistics (detect/corpus.py `CorpusStats`: the number of
  files and the frequent-key table), and
- the configuration, the code and the confidence model
  (`plan.scoring_fingerprint`).

The digest covers all of them, so a cached score is reused only when a fresh
one would be identical. Since evidence is weighed against the corpus, adding
or deleting any file (a new `n_files`) or changing a frequent key's count
changes every pair's digest: the cache serves reruns of an unchanged corpus,
not reruns after a change. Whatever scoring comes to read must enter
`pair_digest` too.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Dict, Mapping, Optional

from transforms.detect.corpus import CorpusStats
from transforms.detect.facts import LAZY_FACTS
from transforms.detect.scoring import Edge


def _plain(value: Any) -> Any:
    """JSON for what `json` cannot encode: sets in a stable order, objects by their fields."""
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return vars(value)


def canonical_digest(value: Any) -> str:
    """sha256 of canonical JSON (sorted keys, dataclasses by their fields)."""
    text = json.dumps(value, default=_plain, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_digest(record) -> str:
    """A digest of every field of a record or pair view, the same for one read back from the index.
    Facts a view builds lazily on the worker are left out: they follow from its other fields, and
    whether they exist yet depends on which pairs the worker scored first."""
    facts = getattr(record, "facts", None)
    if facts and not LAZY_FACTS.isdisjoint(facts):
        record = {**vars(record), "facts": {k: v for k, v in facts.items() if k not in LAZY_FACTS}}
    return canonical_digest(record)


def corpus_digest(stats: CorpusStats) -> str:
    """A digest of the corpus statistics a run scores against."""
    return canonical_digest({"n_files": stats.n_files, "frequent": dict(stats.frequent)})


def pair_digest(scoring_fingerprint: str, corpus: str, digest_a: str, digest_b: str,
                shared: Mapping[str, int]) -> str:
    parts = [scoring_fingerprint, corpus, digest_a, digest_b, canonical_digest(dict(shared))]
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


def edge_to_json(edge: Optional[Edge]) -> Optional[str]:
    return None if edge is None else json.dumps(edge.to_dict(), ensure_ascii=False)


def edge_from_json(text: Optional[str]) -> Optional[Edge]:
    return None if text is None else Edge(**json.loads(text))


class PairDigester:
    """A pair's digest under a scoring fingerprint, each view's and the corpus's computed once
    (a scoring process gets its own Digests)."""

    def __init__(self, fingerprint: str):
        self._fingerprint = fingerprint
        self._digests: Optional[Digests] = None

    def __call__(self, a, b, shared: Mapping[str, int], stats: CorpusStats) -> str:
        if self._digests is None:
            self._digests = Digests()
        d = self._digests
        return pair_digest(self._fingerprint, d.corpus(stats), d.record(a), d.record(b), shared)

    def __getstate__(self):
        return {"_fingerprint": self._fingerprint, "_digests": None}


class Digests:
    """Digests computed once per worker: a file ID names one record within a run, and the
    corpus statistics are one side input (kept referenced, so its identity is never reused)."""

    def __init__(self) -> None:
        self._records: Dict[str, str] = {}
        self._stats: Optional[CorpusStats] = None
        self._corpus = ""

    def record(self, record) -> str:
        digest = self._records.get(record.file_id)
        if digest is None:
            digest = self._records[record.file_id] = record_digest(record)
        return digest

    def corpus(self, stats: CorpusStats) -> str:
        if stats is not self._stats:
            self._stats, self._corpus = stats, corpus_digest(stats)
        return self._corpus
