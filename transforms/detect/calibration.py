"""Fitting the confidence model on labelled corpora from several sources.

Rows are the candidate pairs of a corpus: every typed edge (global steps
applied, no threshold) and every near miss, a pair typed nothing whose
evidence for some type is present below its bar (`scoring.evidence_types`).
The label is "this pair is in the truth". Near misses are the hard negatives
(two memos sharing one public code, a README naming a standard's columns)
and the misses a model must rank low, so no type is left with all-positive
rows and a constant.

A logistic regression per type, over the chance-aware features, gives
`ConfidenceModel`. Sources are checked one at a time against a model fitted
on the others (leave one source out); the out-of-source predictions give each
type's reliability: the precision observed above each confidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Sequence, Tuple

import numpy as np

from transforms.config import Config
from transforms.detect import declared
from transforms.detect.evaluation import relative_to_root
from transforms.detect.relationships import resolve, scored_pairs
from transforms.detect.scoring import (
    FEATURES,
    RELATIONSHIP_TYPES,
    TYPE_FEATURES,
    ConfidenceModel,
    evidence_types,
    merge_features,
    typed_edge,
)
from transforms.model import FileRecord

# Weak signals (author, folder, timestamps) describe how a corpus was laid
# out more than whether two files are related; fitted on them, the model
# would learn the layout. They stay out of the fitted models.
WEAK_FEATURES = frozenset({"same_author", "same_folder", "near_in_tree", "time_closeness"})
FITTED_FEATURES = tuple(f for f in FEATURES if f not in WEAK_FEATURES)
# Confidences at which reliability (observed precision) is reported.
RELIABILITY_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
_NEUTRAL = ConfidenceModel(models={"*": {"weights": {}, "bias": 0.0}})
# The type of rows that stand for declared edges: kept in scores, left out of fits.
DECLARED = "DECLARED"


@dataclass
class Source:
    """One labelled corpus: its extracted records, its truth and the root truth paths are relative to."""

    name: str
    records: Sequence[FileRecord]
    truth: Mapping[str, Any]
    root: str


@dataclass
class LabelledRows:
    """Candidate pairs: features, related or not, the type they were typed (or nearly), whether
    they became an edge, their pair of relative paths and their source."""

    x: np.ndarray
    y: np.ndarray
    types: List[str]
    edges: List[bool]
    pairs: List[Tuple[str, str]]
    sources: List[str] = field(default_factory=list)

    @classmethod
    def concat(cls, parts: Sequence["LabelledRows"]) -> "LabelledRows":
        parts = [p for p in parts if len(p.y)]
        if not parts:
            return cls(np.zeros((0, len(FEATURES))), np.zeros(0, dtype=int), [], [], [], [])
        return cls(np.vstack([p.x for p in parts]), np.concatenate([p.y for p in parts]),
                   [t for p in parts for t in p.types], [e for p in parts for e in p.edges],
                   [q for p in parts for q in p.pairs], [s for p in parts for s in p.sources])

    def subset(self, mask: np.ndarray) -> "LabelledRows":
        idx = np.flatnonzero(mask)
        return LabelledRows(self.x[idx], self.y[idx], [self.types[i] for i in idx], [self.edges[i] for i in idx],
                            [self.pairs[i] for i in idx], [self.sources[i] for i in idx])


def _pair(a: str, b: str) -> Tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def labelled_rows(source: Source, config: Config) -> LabelledRows:
    """Feature rows of one corpus: its typed edges and its near misses."""
    expected = {_pair(e["a"], e["b"]) for e in source.truth["edges"]}
    thresholds = config.relationships.thresholds
    typed, misses = [], []
    for a, b, results in scored_pairs(source.records, config):
        edge = typed_edge(a, b, results, _NEUTRAL, thresholds)
        if edge is not None:
            typed.append(edge)
            continue
        features = merge_features(results)
        for kind in evidence_types(a, b, features):
            misses.append((a, b, kind, features))
    rows: List[List[float]] = []
    labels: List[int] = []
    types: List[str] = []
    is_edge: List[bool] = []
    pairs: List[Tuple[str, str]] = []

    def add(path_a: str, path_b: str, kind: str, features: Mapping[str, float], edge: bool) -> None:
        pair = _pair(relative_to_root(path_a, source.root) or path_a, relative_to_root(path_b, source.root) or path_b)
        rows.append([float(features.get(name, 0.0)) for name in FEATURES])
        labels.append(int(pair in expected))
        types.append(kind)
        is_edge.append(edge)
        pairs.append(pair)

    # Declared edges (detect/declared.py) win their pairs with a fixed confidence: they are
    # scored as edges but never fitted on.
    found = declared.declared_edges(source.records)
    scope = declared.declared_scope((r.file_id for r in source.records if r.declared), found)
    declared_pairs = {declared.pair_key(e) for e in found}
    for edge in found:
        add(edge.source_path, edge.target_path, DECLARED, {}, True)
    for edge in resolve(typed):
        if declared.pair_key(edge) in declared_pairs or declared.overruled(edge, scope):
            continue
        add(edge.source_path, edge.target_path, edge.relationship_type, edge.evidence_details["features"], True)
    for a, b, kind, features in misses:
        add(a.file_path, b.file_path, kind, features, False)
    x = np.asarray(rows, dtype=float).reshape(-1, len(FEATURES))
    return LabelledRows(x, np.asarray(labels, dtype=int), types, is_edge, pairs, [source.name] * len(labels))


def _logistic(x: np.ndarray, y: np.ndarray, c: float, names: Sequence[str] = FITTED_FEATURES) -> Dict[str, Any]:
    """L2-regularised logistic regression (scikit-learn, lbfgs) over `names`, as weights and bias."""
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:  # a developer command: say how to get it
        raise RuntimeError('calibration needs scikit-learn: pip install -e ".[calibrate]"') from exc

    columns = [FEATURES.index(f) for f in names]
    model = LogisticRegression(C=c, max_iter=5000, solver="lbfgs")
    model.fit(x[:, columns], y)
    weights = {name: round(float(w), 6) for name, w in zip(names, model.coef_[0]) if abs(w) > 1e-9}
    return {"weights": weights, "bias": round(float(model.intercept_[0]), 6), "rows": int(len(y)),
            "positives": int(y.sum())}


def fit(rows: LabelledRows, about: Dict[str, Any], c: float = 1.0) -> ConfidenceModel:
    """One logistic model per relationship type, plus a pooled one for types without both labels."""
    rows = rows.subset(np.asarray(rows.types) != DECLARED)
    if len(set(rows.y.tolist())) < 2:
        raise ValueError("calibration needs both related and unrelated candidate pairs")
    models = {"*": _logistic(rows.x, rows.y, c)}
    types = np.asarray(rows.types)
    for kind in sorted(set(rows.types)):
        mask = types == kind
        if len(set(rows.y[mask].tolist())) == 2:
            models[kind] = _logistic(rows.x[mask], rows.y[mask], c, TYPE_FEATURES[kind])
    return ConfidenceModel(models=models, fitted_on={
        **about, "method": f"sklearn LogisticRegression(C={c:g}, lbfgs) per relationship type, "
                           "typed edges and near misses"})


def predict(model: ConfidenceModel, rows: LabelledRows) -> np.ndarray:
    return np.array([1.0 if kind == DECLARED else model.probability(dict(zip(FEATURES, row)), kind)
                     for row, kind in zip(rows.x, rows.types)])


def reliability_table(probs: np.ndarray, y: np.ndarray, bins: int = 5) -> Dict[str, Any]:
    """Mean predicted vs observed share of related pairs per bin, expected calibration error, Brier."""
    cuts = np.linspace(0.0, 1.0, bins + 1)
    table, ece = [], 0.0
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        mask = (probs >= lo) & ((probs < hi) if hi < 1.0 else (probs <= hi))
        if mask.any():
            predicted, observed = float(probs[mask].mean()), float(y[mask].mean())
            ece += mask.sum() / len(y) * abs(predicted - observed)
            table.append({"bin": f"{lo:.1f}-{hi:.1f}", "pairs": int(mask.sum()),
                          "mean_predicted": round(predicted, 3), "observed_related": round(observed, 3)})
    brier = float(np.mean((probs - y) ** 2)) if len(y) else 0.0
    return {"ece": round(ece, 4), "brier": round(brier, 4), "bins": table}


def precision_above(probs: np.ndarray, y: np.ndarray, types: Sequence[str]) -> Dict[str, List[List[float]]]:
    """Per type: [confidence, observed precision, pairs] for edges at or above each threshold."""
    out: Dict[str, List[List[float]]] = {}
    kinds = np.asarray(types)
    for kind in RELATIONSHIP_TYPES:
        points = []
        for t in RELIABILITY_THRESHOLDS:
            mask = (kinds == kind) & (probs >= t)
            if mask.any():
                points.append([t, round(float(y[mask].mean()), 4), int(mask.sum())])
        if points:
            out[kind] = points
    return out


def edge_scores(rows: LabelledRows, probs: np.ndarray, truth_pairs: int, threshold: float) -> Dict[str, Any]:
    """Precision, recall and F1 of the edges a model keeps at a confidence threshold."""
    edges = np.asarray(rows.edges, dtype=bool) & (probs >= threshold)
    found = {rows.pairs[i] for i in np.flatnonzero(edges)}
    right = {rows.pairs[i] for i in np.flatnonzero(edges) if rows.y[i]}
    precision = len(right) / len(found) if found else 0.0
    recall = len(right) / truth_pairs if truth_pairs else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4), "edges": len(found)}


def leave_one_source_out(rows: LabelledRows, truth_pairs: Mapping[str, int], c: float,
                         threshold: float) -> Tuple[Dict[str, Any], np.ndarray]:
    """Each source scored by a model fitted on the others; the out-of-source predictions."""
    sources = np.asarray(rows.sources)
    probs = np.zeros(len(rows.y))
    table: Dict[str, Any] = {}
    for name in sorted(set(rows.sources)):
        held = sources == name
        model = fit(rows.subset(~held), {"held_out": name}, c)
        held_rows = rows.subset(held)
        held_probs = predict(model, held_rows)
        probs[held] = held_probs
        edge_mask = np.asarray(held_rows.edges, dtype=bool)
        table[name] = {**edge_scores(held_rows, held_probs, truth_pairs[name], threshold),
                       **{k: v for k, v in reliability_table(held_probs[edge_mask], held_rows.y[edge_mask]).items()
                          if k in ("ece", "brier")}}
    return table, probs
