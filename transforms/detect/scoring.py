"""Turning strategy results into one typed, directed, calibrated edge.

`classify` applies the relationship definitions of the output contract to the
strategies' features and picks a type and direction. `ConfidenceModel` is a
logistic regression over the same features, fitted on labelled sample
corpora (see `transforms/detect/calibration.py`), so that an edge's confidence reads
as the probability that a person would agree the pair is related.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

from transforms.config import Thresholds
from transforms.detect.identity import is_trivial
from transforms.detect.strategies import StrategyResult
from transforms.model import FILE_KINDS, PRESENTATION_TYPES, FileRecord

RELATIONSHIP_TYPES = ("SUPPORTS", "SUMMARIZES", "DOCUMENTS", "REFERENCES", "VERSION_OF", "RELATED_TO")

# The features the confidence model reads, in a fixed order.
FEATURES = (
    "stem_similarity", "same_stem", "rare_stem", "version_markers",
    "content_jaccard", "identical", "identity_conflict",
    "shared_codes", "shared_identifiers", "shared_code_bits", "project_code_bits", "shared_context_bits",
    "shared_context_tokens", "mentions",
    "inclusion", "inclusion_name_match", "inclusion_containment", "inclusion_significance",
    "inclusion_shared_domain", "value_jaccard", "key_value_hits", "label_value_hits",
    "aggregate_matches", "aggregate_coherence", "aggregate_ratio", "aggregate_significance",
    "schema_overlap", "column_coverage", "rare_column_coverage", "columns_named", "rare_columns_named",
    "column_bits", "tables_named", "heading_overlap",
    "semantic_similarity", "same_author", "same_folder", "near_in_tree", "time_closeness",
)

# The evidence that proves each type: its confidence model reads these features only, so a
# type's confidence cannot lean on the layout or vocabulary of the corpora it was fitted on.
TYPE_FEATURES: Dict[str, Tuple[str, ...]] = {
    "REFERENCES": ("inclusion", "inclusion_name_match", "inclusion_containment", "inclusion_significance",
                   "inclusion_shared_domain", "mentions"),
    "SUMMARIZES": ("aggregate_matches", "aggregate_coherence", "aggregate_ratio", "aggregate_significance",
                   "mentions", "tables_named"),
    "SUPPORTS": ("key_value_hits", "label_value_hits", "rare_columns_named", "columns_named", "mentions",
                 "tables_named"),
    "DOCUMENTS": ("mentions", "column_coverage", "rare_column_coverage", "columns_named", "rare_columns_named",
                  "column_bits", "tables_named", "key_value_hits", "semantic_similarity"),
    "VERSION_OF": ("content_jaccard", "identical", "stem_similarity", "same_stem", "rare_stem", "version_markers",
                   "schema_overlap", "value_jaccard", "semantic_similarity"),
    "RELATED_TO": ("shared_codes", "shared_identifiers", "project_code_bits", "shared_context_bits",
                   "shared_context_tokens", "content_jaccard", "heading_overlap", "semantic_similarity"),
}

_MODEL_PATH = os.path.join(os.path.dirname(__file__), "confidence_model.json")

# Kinds of file whose versions are comparable with each other.
_KIND = FILE_KINDS


@dataclass
class Edge:
    source: str
    target: str
    relationship_type: str
    confidence: float
    evidence: List[str]
    evidence_details: Dict[str, Any]
    description: str
    source_path: str = ""
    target_path: str = ""

    def to_dict(self) -> Dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "relationship_type": self.relationship_type,
            "confidence": self.confidence,
            "evidence": self.evidence,
            "evidence_details": self.evidence_details,
            "description": self.description,
            "source_path": self.source_path,
            "target_path": self.target_path,
        }


@dataclass(frozen=True)
class ConfidenceModel:
    """Logistic regression per relationship type: p = sigmoid(bias + sum(weight_f * feature_f)).

    Each type has its own weights because each is proved by different
    evidence (aggregates for SUMMARIZES, key inclusion for REFERENCES...);
    `"*"` is the pooled model used for a type without enough labelled pairs.
    """

    models: Mapping[str, Mapping[str, Any]]  # type or "*" -> {"weights": {...}, "bias": float}
    fitted_on: Mapping[str, Any] = field(default_factory=dict)
    # type -> [[confidence, precision observed at or above it, pairs], ...], measured on
    # sources the model was not fitted on (calibration.leave_one_source_out).
    reliability: Mapping[str, Any] = field(default_factory=dict)

    def probability(self, features: Mapping[str, float], relationship_type: str = "*") -> float:
        model = self.models.get(relationship_type) or self.models["*"]
        z = model["bias"] + sum(w * float(features.get(name, 0.0)) for name, w in model["weights"].items())
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def to_dict(self) -> Dict[str, Any]:
        return {"models": {k: dict(v) for k, v in sorted(self.models.items())}, "fitted_on": dict(self.fitted_on),
                "reliability": {k: list(v) for k, v in sorted(self.reliability.items())}}

    def with_reliability(self, reliability: Mapping[str, Any]) -> "ConfidenceModel":
        return ConfidenceModel(self.models, self.fitted_on, reliability)

    @classmethod
    def load(cls, path: Optional[str] = None) -> "ConfidenceModel":
        with open(path or _MODEL_PATH, encoding="utf-8") as handle:
            data = json.load(handle)
        return cls(models=data["models"], fitted_on=data.get("fitted_on", {}),
                   reliability=data.get("reliability", {}))


# A reliability point on fewer edges than this says nothing about precision.
MIN_RELIABILITY_PAIRS = 10


def confidence_for_precision(model: ConfidenceModel, relationship_type: str, level: float,
                             min_pairs: int = MIN_RELIABILITY_PAIRS) -> float:
    """The lowest confidence at which the edges kept above it were measured at `level` precision or better.

    Each reliability point [t, precision, n] is the precision of all edges at or
    above t, so keeping edges from the lowest qualifying t keeps that precision.
    Points measured on fewer than `min_pairs` edges are noise, not evidence; a
    point without a count (hand-written curves) counts as enough. Reads the
    type's points, else the pooled "*" ones; without any, the confidence is read
    as a calibrated probability and the answer is `level`. Infinity when no
    threshold reaches the level.
    """
    points = model.reliability.get(relationship_type) or model.reliability.get("*")
    if not points:
        return level
    qualifying = [p[0] for p in points
                  if p[1] >= level and (len(p) < 3 or p[2] >= min_pairs)]
    return min(qualifying) if qualifying else math.inf


def merge_features(results: Mapping[str, StrategyResult]) -> Dict[str, float]:
    merged: Dict[str, float] = {}
    for result in results.values():
        merged.update(result.features)
    return merged


def merge_details(results: Mapping[str, StrategyResult]) -> Dict[str, Any]:
    merged: Dict[str, Any] = {}
    for result in results.values():
        merged.update(result.details)
    return merged


@dataclass(frozen=True)
class Typing:
    relationship_type: str
    source: FileRecord
    target: FileRecord
    reason: str


def _at_least(features: Mapping[str, float], name: str, count: int) -> bool:
    """Count features are stored as log1p(count)."""
    return features.get(name, 0.0) >= math.log1p(count) - 1e-9


def _newer_first(a: FileRecord, b: FileRecord, details: Mapping[str, Any]) -> Tuple[FileRecord, FileRecord]:
    newer = details.get("newer")
    if newer == b.file_id:
        return b, a
    if newer == a.file_id:
        return a, b
    if (a.modified_at or "") != (b.modified_at or ""):
        return (a, b) if (a.modified_at or "") > (b.modified_at or "") else (b, a)
    return (a, b) if a.file_path > b.file_path else (b, a)


def classify(a: FileRecord, b: FileRecord, results: Mapping[str, StrategyResult],
             thresholds: Thresholds = Thresholds()) -> Optional[Typing]:
    """The relationship type and direction the evidence supports, if any."""
    f = merge_features(results)
    details = merge_details(results)

    version = _version(a, b, f, details)
    if version is not None:
        return version
    if a.is_data and b.is_data:
        inclusion = details.get("inclusion")
        if inclusion and f.get("inclusion", 0.0) >= MIN_INCLUSION:
            src, dst = (a, b) if inclusion["source"] == a.file_id else (b, a)
            return Typing("REFERENCES", src, dst, "key values contained in a key column")
    elif a.is_data != b.is_data:
        data, narrative = (a, b) if a.is_data else (b, a)
        if narrative.is_narrative:
            typing = _narrative_to_data(data, narrative, f, details)
            if typing is not None:
                return typing

    mentioned_by = details.get("mentioned_by")
    if mentioned_by:
        src, dst = (a, b) if mentioned_by == a.file_id else (b, a)
        return Typing("REFERENCES", src, dst, "names the other file")
    if _shares_context(a, b, f, thresholds):
        src, dst = (a, b) if a.file_id < b.file_id else (b, a)
        return Typing("RELATED_TO", src, dst, "shared context")
    return None


MIN_INCLUSION = 0.6


def _version(a: FileRecord, b: FileRecord, f: Mapping[str, float], details: Mapping[str, Any]) -> Optional[Typing]:
    """VERSION_OF: one logical file (one identity, non-trivial content), edited or copied."""
    if _KIND.get(a.file_type) != _KIND.get(b.file_type) or f.get("identity_conflict", 0.0) > 0:
        return None
    if is_trivial(a) or is_trivial(b):
        return None
    copies = details.get("identical_copies", 0)
    if f.get("identical", 0.0) > 0 and copies <= 2:
        newer, older = _newer_first(a, b, details)
        return Typing("VERSION_OF", newer, older, "a byte-identical copy under another name")
    jaccard = f.get("content_jaccard", 0.0)
    near_duplicate = jaccard >= 0.85
    similar_content = jaccard >= 0.45 or (
        a.is_data and b.is_data and f.get("schema_overlap", 0.0) >= 0.8 and f.get("value_jaccard", 0.0) >= 0.4
    )
    # A stem many files share ("readme", "notes") names a kind of file, not this one.
    named_alike = f.get("stem_similarity", 0.0) >= 0.85 and (f.get("rare_stem", 0.0) > 0 or not f.get("same_stem"))
    if near_duplicate or (named_alike and similar_content):
        newer, older = _newer_first(a, b, details)
        return Typing("VERSION_OF", newer, older, "same logical file, near-identical content")
    return None


def _narrative_to_data(data: FileRecord, narrative: FileRecord, f: Mapping[str, float],
                       details: Mapping[str, Any]) -> Optional[Typing]:
    if (_at_least(f, "aggregate_coherence", 2) and f.get("aggregate_ratio", 0.0) >= 0.15
            and f.get("aggregate_significance", 0.0) > 0):
        return Typing("SUMMARIZES", narrative, data, "numbers equal aggregates of the data")
    # Naming most of a table's columns describes it, unless the names are a vocabulary many
    # tables share (a standard's columns), which keep_nearest_described resolves further.
    describes = details.get("mentioned_by") == narrative.file_id or (
        f.get("column_coverage", 0.0) >= 0.5 and _at_least(f, "columns_named", 3)
        and f.get("rare_column_coverage", 0.0) >= 0.2
    )
    quotes_keys = _at_least(f, "key_value_hits", 2)
    if describes and narrative.file_type not in PRESENTATION_TYPES and not _at_least(f, "key_value_hits", 3):
        return Typing("DOCUMENTS", narrative, data, "describes the file's structure")
    if quotes_keys or (_at_least(f, "label_value_hits", 2) and _at_least(f, "rare_columns_named", 2)):
        return Typing("SUPPORTS", data, narrative, "the narrative uses the data's values")
    if details.get("mentioned_by") == narrative.file_id:
        return Typing("DOCUMENTS", narrative, data, "names the file")  # a deck that names it
    return None


def _shares_context(a: FileRecord, b: FileRecord, f: Mapping[str, float], thresholds: Thresholds) -> bool:
    """RELATED_TO: one project's files. A project code carried by few files of the run, with
    a second rare token or similar content beside it; one shared code alone is not enough (two
    memos that mention one public code are not related), nor is a shared template."""
    if f.get("identity_conflict", 0.0) > 0 and f.get("shared_codes", 0.0) == 0:
        return False
    semantic = f.get("semantic_similarity", 0.0)
    jaccard = f.get("content_jaccard", 0.0)
    tokens = f.get("shared_context_tokens", 0.0)
    # Kept side by side (a project's folder and its subfolders) supports a shared code; it
    # proves nothing alone.
    support = tokens >= math.log1p(2) or semantic >= 0.5 or jaccard >= 0.1 or f.get("near_in_tree", 0.0) > 0
    project = f.get("project_code_bits", 0.0) >= PROJECT_CODE_BITS and support
    overlapping_prose = a.is_narrative and b.is_narrative and jaccard >= 0.3
    # Tables of one standard read alike wherever they are; similar meaning relates prose.
    similar_meaning = (semantic >= thresholds.semantic_similarity and tokens >= math.log1p(2)
                       and (a.is_narrative or b.is_narrative))
    return project or overlapping_prose or similar_meaning


# A project code carried by at most a quarter of the run's files names a group of files.
PROJECT_CODE_BITS = 2.0


def evidence_types(a: FileRecord, b: FileRecord, f: Mapping[str, float]) -> List[str]:
    """Types whose own evidence is present at all, below its bar or not. A pair typed nothing
    with such evidence is a hard negative (or a miss) for that type's confidence model."""
    found = []
    same_kind = _KIND.get(a.file_type) == _KIND.get(b.file_type)
    if same_kind and (f.get("stem_similarity", 0.0) >= 0.6 or f.get("content_jaccard", 0.0) >= 0.3
                      or f.get("identical", 0.0) > 0):
        found.append("VERSION_OF")
    if a.is_data and b.is_data:
        if f.get("inclusion", 0.0) > 0 or f.get("mentions", 0.0) > 0:
            found.append("REFERENCES")
    elif a.is_data != b.is_data:
        if f.get("aggregate_matches", 0.0) > 0:
            found.append("SUMMARIZES")
        if f.get("key_value_hits", 0.0) > 0 or f.get("label_value_hits", 0.0) > 0:
            found.append("SUPPORTS")
        if f.get("mentions", 0.0) > 0 or f.get("columns_named", 0.0) > 0:
            found.append("DOCUMENTS")
    if (f.get("shared_codes", 0.0) > 0 or f.get("shared_context_tokens", 0.0) > 0
            or f.get("semantic_similarity", 0.0) >= 0.5):
        found.append("RELATED_TO")
    return found


def _evidence_names(results: Mapping[str, StrategyResult]) -> List[str]:
    strong = {"same_author", "same_folder", "time_closeness"}
    names = []
    for name, result in results.items():
        if any(v > 0 and k not in strong for k, v in result.features.items()) or (
            name == "metadata_matching" and result.fired
        ):
            names.append(name)
    return sorted(names)


def describe(typing: Typing, details: Mapping[str, Any]) -> str:
    s, t = typing.source.file_name, typing.target.file_name
    kind = typing.relationship_type
    if kind == "SUMMARIZES":
        n = len(details.get("aggregates", []))
        return f"{s} summarizes {t}: {n} number(s) it shows equal aggregates of {t}'s rows."
    if kind == "REFERENCES" and "inclusion" in details:
        inc = details["inclusion"]
        return (f"{s} references {t}: {inc['containment']:.0%} of {inc['source_column']} values "
                f"appear in key column {inc['target_column']}.")
    if kind == "REFERENCES":
        return f"{s} names {t}."
    if kind == "DOCUMENTS":
        cols = details.get("columns_named", [])
        return f"{s} documents {t}" + (f": describes columns {', '.join(cols[:5])}." if cols else ".")
    if kind == "SUPPORTS":
        return f"{s} supports {t}: {t} quotes values from {s}."
    if kind == "VERSION_OF":
        return f"{s} is a newer version of {t}."
    shared = details.get("shared_entities", {}).get("project_code")
    return f"{s} and {t} share context" + (f" (project {', '.join(shared)})." if shared else ".")


def typed_edge(
    a: FileRecord,
    b: FileRecord,
    results: Mapping[str, StrategyResult],
    model: ConfidenceModel,
    thresholds: Thresholds = Thresholds(),
) -> Optional[Edge]:
    """The typed edge the evidence supports, with its confidence, before any threshold."""
    typing = classify(a, b, results, thresholds)
    if typing is None:
        return None
    features = merge_features(results)
    details = merge_details(results)
    details["features"] = {k: round(v, 4) for k, v in sorted(features.items()) if v}
    return Edge(
        source=typing.source.file_id,
        target=typing.target.file_id,
        relationship_type=typing.relationship_type,
        confidence=round(model.probability(features, typing.relationship_type), 4),
        evidence=_evidence_names(results),
        evidence_details=details,
        description=describe(typing, details),
        source_path=typing.source.file_path,
        target_path=typing.target.file_path,
    )


def score_pair(
    a: FileRecord,
    b: FileRecord,
    results: Mapping[str, StrategyResult],
    model: ConfidenceModel,
    thresholds: Thresholds = Thresholds(),
) -> Optional[Edge]:
    """The edge for a candidate pair, or None when the evidence is too weak."""
    edge = typed_edge(a, b, results, model, thresholds)
    return edge if edge is not None and edge.confidence >= thresholds.min_confidence else None
