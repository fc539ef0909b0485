"""Scores a run's edges against labelled pairs (truth.json).

Truth lists edges between paths relative to the corpus root:
{"edges": [{"a", "b", "type", "source"}]}. Pairs are compared undirected for
precision, recall and F1; among the pairs found, the type and then the
direction are checked (RELATED_TO has no direction).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, Dict, Iterable, Mapping, Optional, Tuple

Pair = Tuple[str, str]


def _pair(a: str, b: str) -> Pair:
    return (a, b) if a <= b else (b, a)


def relative_to_root(path: str, root: str) -> Optional[str]:
    root = root.rstrip("/") + "/"
    path = path.replace("\\", "/")
    return path[len(root):] if path.startswith(root) else None


def evaluate(truth: Mapping[str, Any], edges: Iterable[Mapping[str, Any]], root: str) -> Dict[str, Any]:
    """Precision/recall/F1 over undirected pairs, type and direction accuracy, recall per type."""
    expected: Dict[Pair, Mapping[str, Any]] = {}
    for edge in truth["edges"]:
        expected[_pair(edge["a"], edge["b"])] = edge

    found: Dict[Pair, Mapping[str, Any]] = {}
    outside_root = 0
    for edge in edges:
        src = relative_to_root(edge["source_path"], root)
        dst = relative_to_root(edge["target_path"], root)
        if src is None or dst is None:
            outside_root += 1
            continue
        found[_pair(src, dst)] = {"type": edge["relationship_type"], "source": src, "confidence": edge["confidence"]}

    hits = sorted(set(found) & set(expected))
    precision = len(hits) / len(found) if found else 0.0
    recall = len(hits) / len(expected) if expected else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    type_ok = [p for p in hits if found[p]["type"] == expected[p]["type"]]
    directed = [p for p in type_ok if expected[p]["type"] != "RELATED_TO"]
    direction_ok = [p for p in directed if found[p]["source"] == expected[p]["source"]]

    per_type: Dict[str, Dict[str, Any]] = {}
    truth_types = Counter(e["type"] for e in expected.values())
    found_types = Counter(e["type"] for e in found.values())
    for kind in sorted(set(truth_types) | set(found_types)):
        labelled = [p for p in expected if expected[p]["type"] == kind]
        recovered = [p for p in labelled if p in found and found[p]["type"] == kind]
        predicted = [p for p in found if found[p]["type"] == kind]
        correct = [p for p in predicted if p in expected and expected[p]["type"] == kind]
        per_type[kind] = {
            "truth": len(labelled),
            "found": len(predicted),
            "recall": round(len(recovered) / len(labelled), 4) if labelled else None,
            "precision": round(len(correct) / len(predicted), 4) if predicted else None,
        }

    confusion: Dict[str, Counter] = defaultdict(Counter)
    for p in hits:
        confusion[expected[p]["type"]][found[p]["type"]] += 1

    return {
        "truth_pairs": len(expected),
        "found_pairs": len(found),
        "true_positive_pairs": len(hits),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "type_accuracy": round(len(type_ok) / len(hits), 4) if hits else 0.0,
        "direction_accuracy": round(len(direction_ok) / len(directed), 4) if directed else None,
        "per_type": per_type,
        "confusion": {k: dict(v) for k, v in sorted(confusion.items())},
        "false_positives": [
            {"a": p[0], "b": p[1], "type": found[p]["type"]} for p in sorted(set(found) - set(expected))
        ][:50],
        "false_negatives": [
            {"a": p[0], "b": p[1], "type": expected[p]["type"]} for p in sorted(set(expected) - set(found))
        ][:50],
        "edges_outside_root": outside_root,
        "at_confidence": {str(t): _scores_at(found, expected, t) for t in CONFIDENCE_LEVELS},
        "reliability": _reliability(found, expected),
    }


# Confidence levels at which precision and recall are reported.
CONFIDENCE_LEVELS = (0.5, 0.7, 0.9)
RELIABILITY_BINS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def _scores_at(found: Mapping[Pair, Mapping[str, Any]], expected: Mapping[Pair, Any], level: float) -> Dict[str, Any]:
    kept = {p for p, e in found.items() if e["confidence"] >= level}
    right = kept & set(expected)
    precision = len(right) / len(kept) if kept else 0.0
    recall = len(right) / len(expected) if expected else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"edges": len(kept), "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def _reliability(found: Mapping[Pair, Mapping[str, Any]], expected: Mapping[Pair, Any]) -> Dict[str, Any]:
    """Per type: confidence bins with mean confidence against observed precision, and the
    expected calibration error (the pair-weighted gap between the two)."""
    out: Dict[str, Any] = {}
    by_type: Dict[str, list] = defaultdict(list)
    for pair, edge in found.items():
        by_type[edge["type"]].append((float(edge["confidence"]), pair in expected))
    for kind, scored in sorted(by_type.items()):
        bins, gap = [], 0.0
        for lo, hi in zip(RELIABILITY_BINS[:-1], RELIABILITY_BINS[1:]):
            inside = [(c, ok) for c, ok in scored if lo <= c < hi or (hi == 1.0 and c == 1.0)]
            if not inside:
                continue
            mean = sum(c for c, _ in inside) / len(inside)
            observed = sum(ok for _, ok in inside) / len(inside)
            gap += len(inside) * abs(mean - observed)
            bins.append({"bin": f"{lo:.1f}-{hi:.1f}", "edges": len(inside), "mean_confidence": round(mean, 3),
                         "precision": round(observed, 3)})
        out[kind] = {"ece": round(gap / len(scored), 4), "bins": bins}
    return out
