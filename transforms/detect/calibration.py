"""Fitting the confidence model on labelled corpora.

For every candidate pair that `scoring.classify` would type, the features are
one row and "is this pair in the truth" is the label. A logistic regression
over those rows gives `ConfidenceModel`; because it is fitted on exactly the
pairs that can become edges, its output reads as the probability that a typed
candidate is a real relationship. Fitting is done on sample corpora of several
seeds and checked on a seed it was not fitted on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Sequence

import numpy as np

from transforms.config import Config
from transforms.detect.evaluation import relative_to_root
from transforms.detect.relationships import typed_edges
from transforms.detect.scoring import FEATURES, ConfidenceModel
from transforms.model import FileRecord

MIN_ROWS_PER_TYPE = 20  # fewer labelled pairs than this: the type uses the pooled model
# Weak signals (author, folder, timestamps) describe how a sample corpus was
# laid out more than whether two files are related; fitted on them, the model
# would learn the layout. They stay out of the fitted models.
WEAK_FEATURES = frozenset({"same_author", "same_folder", "time_closeness"})
FITTED_FEATURES = tuple(f for f in FEATURES if f not in WEAK_FEATURES)


@dataclass
class LabelledRows:
    """Typed candidate pairs: features, whether the pair is related, and the type given."""

    x: np.ndarray
    y: np.ndarray
    types: List[str]

    @classmethod
    def concat(cls, parts: Sequence["LabelledRows"]) -> "LabelledRows":
        return cls(np.vstack([p.x for p in parts]), np.concatenate([p.y for p in parts]),
                   [t for p in parts for t in p.types])


def labelled_rows(records: Sequence[FileRecord], truth: Mapping[str, Any], root: str,
                  config: Config) -> LabelledRows:
    """Feature matrix and labels of the typed candidate pairs of one corpus.

    The candidates are those `relationships.typed_edges` keeps (types given,
    version families resolved), so the model learns on exactly what can
    become an edge. Any model serves here: confidence is not used.
    """
    expected = {tuple(sorted((e["a"], e["b"]))) for e in truth["edges"]}
    rows: List[List[float]] = []
    labels: List[int] = []
    types: List[str] = []
    for edge in typed_edges(records, config, _NEUTRAL):
        features = edge.evidence_details["features"]
        pair = tuple(sorted((relative_to_root(edge.source_path, root) or "",
                             relative_to_root(edge.target_path, root) or "")))
        rows.append([float(features.get(name, 0.0)) for name in FEATURES])
        labels.append(int(pair in expected))
        types.append(edge.relationship_type)
    x = np.asarray(rows, dtype=float).reshape(-1, len(FEATURES))
    return LabelledRows(x, np.asarray(labels, dtype=int), types)


_NEUTRAL = ConfidenceModel(models={"*": {"weights": {}, "bias": 0.0}})


def _logistic(x: np.ndarray, y: np.ndarray, c: float) -> Dict[str, Any]:
    """L2-regularised logistic regression (scikit-learn, lbfgs) as weights and bias."""
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:  # a developer command: say how to get it
        raise RuntimeError('calibration needs scikit-learn: pip install -e ".[calibrate]"') from exc

    columns = [FEATURES.index(f) for f in FITTED_FEATURES]
    model = LogisticRegression(C=c, max_iter=5000, solver="lbfgs")
    model.fit(x[:, columns], y)
    return {"weights": {name: round(float(w), 6) for name, w in zip(FITTED_FEATURES, model.coef_[0])},
            "bias": round(float(model.intercept_[0]), 6), "rows": int(len(y)), "positives": int(y.sum())}


def _constant(y: np.ndarray) -> Dict[str, Any]:
    """A type whose typed pairs were all right (or all wrong): its Laplace-smoothed rate."""
    rate = (float(y.sum()) + 1.0) / (len(y) + 2.0)
    return {"weights": {}, "bias": round(float(np.log(rate / (1.0 - rate))), 6), "rows": int(len(y)),
            "positives": int(y.sum())}


def fit(rows: LabelledRows, about: Dict[str, Any], c: float = 1.0) -> ConfidenceModel:
    """One logistic model per relationship type with enough labelled pairs, plus a pooled one."""
    if len(set(rows.y.tolist())) < 2:
        raise ValueError("calibration needs both related and unrelated candidate pairs")
    models = {"*": _logistic(rows.x, rows.y, c)}
    types = np.asarray(rows.types)
    for kind in sorted(set(rows.types)):
        mask = types == kind
        if mask.sum() < MIN_ROWS_PER_TYPE:
            continue  # too few labelled pairs: the pooled model answers
        if len(set(rows.y[mask].tolist())) == 2:
            models[kind] = _logistic(rows.x[mask], rows.y[mask], c)
        else:
            models[kind] = _constant(rows.y[mask])
    return ConfidenceModel(models=models, fitted_on={
        **about, "method": f"sklearn LogisticRegression(C={c:g}, lbfgs) per relationship type"})


def calibration_report(model: ConfidenceModel, rows: LabelledRows, bins: int = 5) -> Dict[str, Any]:
    """Mean predicted probability vs observed share of related pairs, per bin; and the Brier score."""
    x, y = rows.x, rows.y
    probs = np.array([model.probability(dict(zip(FEATURES, row)), kind) for row, kind in zip(x, rows.types)])
    edges = np.linspace(0.0, 1.0, bins + 1)
    table = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        mask = (probs >= lo) & ((probs < hi) if hi < 1.0 else (probs <= hi))
        if mask.any():
            table.append({"bin": f"{lo:.1f}-{hi:.1f}", "pairs": int(mask.sum()),
                          "mean_predicted": round(float(probs[mask].mean()), 3),
                          "observed_related": round(float(y[mask].mean()), 3)})
    brier = float(np.mean((probs - y) ** 2)) if len(y) else 0.0
    return {"brier": round(brier, 4), "bins": table}
