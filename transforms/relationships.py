"""Relationship detection over in-memory records: block, pair, score.

The same functions the Beam pipeline wraps, for the Python API, calibration
and tests. The pipeline distributes exactly these steps with GroupByKey.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from transforms import blocking, strategies
from transforms.config import Config
from transforms.model import FileRecord
from transforms.scoring import ConfidenceModel, Edge, score_pair
from transforms.strategies import StrategyResult


def _runnable(name: str) -> bool:
    if name == "semantic_similarity":
        from transforms import semantic

        return semantic.available()
    return name in strategies.STRATEGY_FUNCTIONS


def active_strategies(config: Config) -> Tuple[str, ...]:
    """Configured strategies that can run here, in configured order."""
    return tuple(s for s in config.relationships.strategies if _runnable(s))


def unavailable_strategies(config: Config) -> Tuple[str, ...]:
    return tuple(s for s in config.relationships.strategies if not _runnable(s))


def needs_embeddings(config: Config) -> bool:
    return "semantic_similarity" in active_strategies(config)


def ensure_embeddings(records: Sequence[FileRecord], config: Config) -> None:
    """Embeds the records that lack an embedding, when semantic similarity runs."""
    missing = [r for r in records if not r.embedding]
    if missing and needs_embeddings(config):
        from transforms.semantic import embed_records

        embed_records(missing)


def candidate_pairs(records: Sequence[FileRecord], config: Config) -> Tuple[Dict[Tuple[str, str], set], dict]:
    cfg = config.relationships.blocking
    keyed = ((key, r.file_id) for r in records for key in blocking.blocking_keys(r, cfg))
    return blocking.candidate_pairs(keyed, cfg)


def scored_pairs(
    records: Sequence[FileRecord], config: Config
) -> Iterable[Tuple[FileRecord, FileRecord, Dict[str, StrategyResult]]]:
    """Every candidate pair with its strategy results (for calibration)."""
    ensure_embeddings(records, config)
    by_id = {r.file_id: r for r in records}
    pairs, _ = candidate_pairs(records, config)
    names = active_strategies(config)
    for a_id, b_id in sorted(pairs):
        a, b = by_id[a_id], by_id[b_id]
        yield a, b, strategies.run_strategies(a, b, names)


def detect(records: Sequence[FileRecord], config: Config, model: Optional[ConfidenceModel] = None) -> List[Edge]:
    model = model or ConfidenceModel.load()
    edges = []
    for a, b, results in scored_pairs(records, config):
        edge = score_pair(a, b, results, model, config.relationships.thresholds)
        if edge is not None:
            edges.append(edge)
    return sorted(edges, key=lambda e: (e.source, e.target))
