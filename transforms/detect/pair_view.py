"""The slim record that scoring reads: one per file, shipped once per worker (ScorePairs' side input).

`PairView` is a FileRecord holding only what scoring reads (strategies.py,
inclusion.py, scoring.py, families.py), plus the per-file facts
(facts.py) those modules derive from one file, computed once here:

  kept as is   file_id, file_path, file_name, file_type, author, modified_at, title,
               content_hash, mentions, minhash, embedding,
               entities (project codes and identifiers only),
               data files: tables (column samples kept: they tell codes from words),
               narrative files: token_hashes, word_hashes, numbers (what is matched against data)
  facts        every `@per_file` helper of strategies.py and identity.py, warmed from the full record
  dropped      text and structure (read only through facts), properties, key_terms,
               created_at, redactions, warnings, declared; a data file's token_hashes,
               word_hashes and numbers; a narrative file's tables

A strategy that starts reading another field must add it here: the test
tests/test_pair_view.py checks that edges from pair views equal edges from full
records on the sample corpus.
"""

from __future__ import annotations

import dataclasses
import pickle
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, Optional, Tuple

from transforms.detect import strategies  # noqa: F401  (registers the per-file facts)
from transforms.detect.facts import FACTS
from transforms.model import FileRecord
from transforms.signatures import hash64

ENTITY_KINDS = ("project_code", "identifier")


@dataclass
class PairView(FileRecord):
    facts: Dict[str, Any] = field(default_factory=dict)


def pair_view(record: FileRecord) -> PairView:
    """The record as scoring needs it; a PairView is returned unchanged."""
    if isinstance(record, PairView):
        return record
    view = PairView(**{f.name: getattr(record, f.name) for f in dataclasses.fields(FileRecord)})
    for fact in FACTS:
        fact(view)
    view.text = ""
    view.structure = {}
    view.properties = {}
    view.key_terms = []
    view.created_at = None
    view.redactions = {}
    view.warnings = []
    view.declared = {}  # declared schemas become edges apart (DeclaredEdges), never through scoring
    view.entities = {k: v for k, v in record.entities.items() if k in ENTITY_KINDS}
    if record.is_data:  # a data file's own text signals are never compared
        view.token_hashes = []
        view.word_hashes = []
        view.numbers = []
    else:  # nor a narrative file's tables
        view.tables = []
    return view


# Bytes a decoded view holds per value hash (a Python int and its list slot, and the sets that
# per-file facts build from them), and for the rest of it.
VIEW_BYTES_PER_HASH = 100
VIEW_BYTES_BASE = 8192
# Decoded views a scoring worker keeps: every view of a run of about 12,000 files (of the sample
# corpus's kind; 12,413 such files weigh about 520 MB by view_weight). Beyond that, scoring
# batches in path order (ptransforms/detect.scoring_batches) keep a batch's files near each other.
VIEW_CACHE_BYTES = 512 << 20


def view_weight(view: Optional[FileRecord]) -> int:
    """About how many bytes a decoded view and its per-file facts hold (their value hashes dominate)."""
    if view is None:
        return VIEW_BYTES_BASE
    hashes = len(view.token_hashes) + len(view.word_hashes) + len(view.minhash) + len(view.embedding)
    hashes += sum(len(c.value_hashes) + len(c.item_hashes) for t in view.tables for c in t.columns)
    return VIEW_BYTES_BASE + VIEW_BYTES_PER_HASH * hashes


# Keys of scoring's side input: a lookup brings the views of about one file in VIEW_BUCKETS.
# Beam weighs each value its side-input cache loads (objsize, about a millisecond a call however
# small the value); per file, at 125k files, that was half of scoring.
VIEW_BUCKETS = 4096
# Packed views a scoring worker keeps (about 5 KB a file on the sample corpus: every view of a
# run of about 150,000 such files).
PACKED_VIEWS_BYTES = 768 << 20
# A spilled view's place (path, offset, length) as a decoded tuple.
SPILLED_VIEW_BYTES = 200


def packed_view(record: FileRecord) -> bytes:
    """A record's pair view, pickled: the form scoring's side input holds (bytes are weighed at a
    glance; a view's objects would be walked one by one)."""
    return pickle.dumps(pair_view(record), protocol=pickle.HIGHEST_PROTOCOL)


def view_bucket(file_id: str) -> int:
    """The side-input key that holds a file's packed view."""
    return hash64(file_id) % VIEW_BUCKETS


def unpacked_view(packed: Optional[bytes]) -> Optional[PairView]:
    return None if packed is None else pickle.loads(packed)


def packed_weight(packed: Any) -> int:
    """Bytes a side-input value holds: a packed view, or where one was spilled (spill.SpilledLine)."""
    return len(packed) if isinstance(packed, bytes) else SPILLED_VIEW_BYTES


class ViewCache:
    """Decoded pair views by file id (or any values by key, with their own `weigh`), least recently
    used dropped past a byte budget.

    A scoring process reads a file's view for each of its pairs. Here a view is
    decoded once per bundle (pair_scoring.PairScorer's, one per scoring process:
    the whole stage on the local runners), with the facts built lazily on it
    (facts.per_file_lazily), while the budget holds it: every view of a run of
    about 12,000 files. Past that, a view dropped here is unpickled again from
    the packed view its chunk carries.
    """

    def __init__(self, budget_bytes: int = VIEW_CACHE_BYTES, weigh: Callable[[Any], int] = view_weight):
        self._budget = budget_bytes
        self._weigh = weigh
        self._views: "OrderedDict[str, Tuple[Any, int]]" = OrderedDict()
        self._bytes = 0
        self.decoded = 0

    def get(self, file_id: str, load: Callable[[str], Any]):
        """The view of `file_id`, from `load(file_id)` the first time (None when the file has none)."""
        entry = self._views.get(file_id)
        if entry is not None:
            self._views.move_to_end(file_id)
            return entry[0]
        view = load(file_id)
        self.decoded += 1
        weight = self._weigh(view)
        self._views[file_id] = (view, weight)
        self._bytes += weight
        while self._bytes > self._budget and len(self._views) > 1:
            _, (_, dropped) = self._views.popitem(last=False)
            self._bytes -= dropped
        return view


class PackedViews:
    """Packed views by file id, read from the side input a bucket (view_bucket) at a time; the least
    recently used bucket is dropped past a byte budget."""

    def __init__(self, budget_bytes: int = PACKED_VIEWS_BYTES):
        self._buckets = ViewCache(budget_bytes, weigh=lambda views: sum(map(packed_weight, views.values())))

    @property
    def loaded(self) -> int:
        """Buckets read from the side input so far."""
        return self._buckets.decoded

    def get(self, file_id: str, load_bucket: Callable[[int], Iterable[Tuple[str, Any]]]) -> Any:
        """The packed view of `file_id`, or where it was spilled (None when its bucket has none), loading
        its bucket the first time."""
        views = self._buckets.get(view_bucket(file_id), lambda bucket: dict(load_bucket(bucket)))
        return views.get(file_id)
