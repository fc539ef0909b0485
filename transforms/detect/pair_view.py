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
from dataclasses import dataclass, field
from typing import Any, Dict

from transforms.detect import strategies  # noqa: F401  (registers the per-file facts)
from transforms.detect.facts import FACTS
from transforms.model import FileRecord

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
