"""Human review: a queue of borderline edges, and accept/reject decisions that later runs apply.

A decision is keyed by the two files' paths relative to the input root and the
relationship type, never by run-specific ids, so it survives reruns, moved drives and
other shard layouts. The pair is compared without direction: a detector that flips an
edge's direction between runs still meets the decision. Applied inside the pipeline
(ApplyReview in transforms/ptransforms/output.py): a rejected edge is dropped; an accepted edge
is kept with confidence 1.0 and evidence `human_review`, and added back from the
decision when the detector no longer finds it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from apache_beam.io.filesystems import FileSystems

from transforms.config import ConfigError
from transforms.detect.scoring import RELATIONSHIP_TYPES, Edge
from transforms.extract.matching import relative_path
from transforms.output.csv_cells import csv_bytes, read_rows

HUMAN_REVIEW = "human_review"
QUEUE_COLUMNS = ("source", "target", "relationship_type", "confidence", "evidence", "description",
                 "decision", "note")
REQUIRED_COLUMNS = ("source", "target", "relationship_type", "decision")
_ACCEPT = {"accept", "accepted", "yes", "y", "true", "1"}
_REJECT = {"reject", "rejected", "no", "n", "false", "0"}

Key = Tuple[str, str, str]


class FeedbackError(ConfigError):
    """The feedback file cannot be read or has a bad row."""


def review_key(source: str, target: str, relationship_type: str) -> Key:
    return (min(source, target), max(source, target), relationship_type)


@dataclass(frozen=True)
class Decision:
    source: str  # relative paths, as in the review queue
    target: str
    relationship_type: str
    accept: bool
    note: str = ""

    @property
    def key(self) -> Key:
        return review_key(self.source, self.target, self.relationship_type)


@dataclass(frozen=True)
class Feedback:
    decisions: Tuple[Decision, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.decisions)

    def by_key(self) -> Dict[Key, Decision]:
        return {d.key: d for d in self.decisions}

    def accepted(self) -> List[Decision]:
        return [d for d in self.decisions if d.accept]

    def accepted_paths(self) -> frozenset:
        return frozenset(p for d in self.accepted() for p in (d.source, d.target))


def parse_feedback(data: bytes, name: str) -> Feedback:
    """Decisions from a CSV with source, target, relationship_type, decision (and note) columns.

    Rows with an empty decision are skipped, so a review queue filled in part is valid feedback."""
    try:
        rows = read_rows(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise FeedbackError(f"feedback file {name} is not a UTF-8 CSV: {exc}") from exc
    if rows:
        missing = [c for c in REQUIRED_COLUMNS if c not in rows[0]]
        if missing:
            raise FeedbackError(f"feedback file {name} lacks column '{missing[0]}' "
                                f"(needs {', '.join(REQUIRED_COLUMNS)})")
    decisions: Dict[Key, Tuple[int, Decision]] = {}
    for line, row in enumerate(rows, start=2):
        verdict = row["decision"].strip().lower()
        if not verdict:
            continue
        if verdict not in _ACCEPT | _REJECT:
            raise FeedbackError(f"feedback file {name} line {line}: decision must be accept or reject, "
                                f"got '{row['decision']}'")
        kind = row["relationship_type"].strip().upper()
        if kind not in RELATIONSHIP_TYPES:
            raise FeedbackError(f"feedback file {name} line {line}: unknown relationship_type "
                                f"'{row['relationship_type']}'")
        source, target = row["source"].strip(), row["target"].strip()
        if not source or not target:
            raise FeedbackError(f"feedback file {name} line {line}: source and target are required")
        decision = Decision(source, target, kind, verdict in _ACCEPT, (row.get("note") or "").strip())
        earlier = decisions.get(decision.key)
        if earlier and earlier[1].accept != decision.accept:
            raise FeedbackError(f"feedback file {name} line {line} contradicts line {earlier[0]}")
        decisions[decision.key] = (line, decision)
    return Feedback(tuple(d for _, d in sorted(decisions.values(), key=lambda ld: ld[1].key)))


def read_feedback(path: str) -> Feedback:
    """The decisions of a feedback file (local or any Beam filesystem); none for an empty path."""
    if not path:
        return Feedback()
    try:
        with FileSystems.open(path) as handle:
            data = handle.read()
    except Exception as exc:  # Beam wraps every filesystem error differently
        raise FeedbackError(f"cannot read feedback file {path}: {type(exc).__name__}") from exc
    return parse_feedback(data, path)


def edge_key(edge: Edge, roots: Sequence[str]) -> Key:
    return review_key(relative_path(edge.source_path, roots), relative_path(edge.target_path, roots),
                      edge.relationship_type)


def _human_review(decision: Decision, detector_confidence: Optional[float]) -> Dict[str, Any]:
    return {"decision": "accept" if decision.accept else "reject", "note": decision.note,
            "detector_confidence": detector_confidence}


def review_edge(edge: Edge, decisions: Mapping[Key, Decision], roots: Sequence[str]) -> Optional[Edge]:
    """The edge after review: None when rejected, marked as accepted, or unchanged."""
    decision = decisions.get(edge_key(edge, roots))
    if decision is None:
        return edge
    if not decision.accept:
        return None
    return dataclasses.replace(
        edge, confidence=1.0, evidence=sorted(set(edge.evidence) | {HUMAN_REVIEW}),
        evidence_details={**edge.evidence_details, HUMAN_REVIEW: _human_review(decision, edge.confidence)})


def restored_edges(feedback: Feedback, found: Iterable[Key],
                   files: Mapping[str, Tuple[str, str]]) -> List[Edge]:
    """Accepted edges the detector did not find this run, when both files are still there.

    `files` maps a relative path to (file_id, file_path) for the files of this run."""
    found = set(found)
    edges = []
    for decision in feedback.accepted():
        if decision.key in found or decision.source not in files or decision.target not in files:
            continue
        (source_id, source_path), (target_id, target_path) = files[decision.source], files[decision.target]
        description = (f"{decision.source.rsplit('/', 1)[-1]} {decision.relationship_type} "
                       f"{decision.target.rsplit('/', 1)[-1]}: accepted in human review"
                       + (f" ({decision.note})" if decision.note else "") + ".")
        edges.append(Edge(source_id, target_id, decision.relationship_type, 1.0, [HUMAN_REVIEW],
                          {HUMAN_REVIEW: _human_review(decision, None)}, description, source_path, target_path))
    return edges


def in_band(confidence: float, low: float, high: float) -> bool:
    return low <= confidence < high


def queue_csv(edges: Iterable[Mapping[str, Any]], low: float, high: float, roots: Sequence[str]) -> Tuple[bytes, int]:
    """The review queue: edges in [low, high) not yet reviewed, least confident first.

    Its decision and note columns are empty; filled in, the file is a feedback file."""
    rows = []
    for edge in edges:
        if HUMAN_REVIEW in edge["evidence"] or not in_band(edge["confidence"], low, high):
            continue
        rows.append((relative_path(edge["source_path"], roots), relative_path(edge["target_path"], roots),
                     edge["relationship_type"], edge["confidence"], ";".join(edge["evidence"]),
                     edge["description"], "", ""))
    rows.sort(key=lambda r: (r[3], r[0], r[1], r[2]))
    text = [True, True, True, False, True, True, True, True]
    return csv_bytes(QUEUE_COLUMNS, rows, text), len(rows)
