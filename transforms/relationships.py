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


def active_strategies(config: Config) -> Tuple[str, ...]:
    """Configured strategies that can run here, in a fixed order."""
    return tuple(s for s in config.relationships.strategies if s in strategies.STRATEGY_FUNCTIONS)


def unavailable_strategies(config: Config) -> Tuple[str, ...]:
    return tuple(s for s in config.relationships.strategies if s not in strategies.STRATEGY_FUNCTIONS)


def candidate_pairs(records: Sequence[FileRecord], config: Config) -> Tuple[Dict[Tuple[str, str], set], dict]:
    cfg = config.relationships.blocking
    keyed = ((key, r.file_id) for r in records for key in blocking.blocking_keys(r, cfg))
    return blocking.candidate_pairs(keyed, cfg.max_bucket_size)


def scored_pairs(
    records: Sequence[FileRecord], config: Config
) -> Iterable[Tuple[FileRecord, FileRecord, Dict[str, StrategyResult]]]:
    """Every candidate pair with its strategy results (for calibration)."""
    by_id = {r.file_id: r for r in records}
    pairs, _ = candidate_pairs(records, config)
    names = active_strategies(config)
    for a_id, b_id in sorted(pairs):
        a, b = by_id[a_id], by_id[b_id]
        yield a, b, strategies.run_strategies(a, b, names)


def detect(records: Sequence[FileRecord], config: Config, model: Optional[ConfidenceModel] = None) -> List[Edge]:
    model = model or ConfidenceModel.load()
    threshold = config.relationships.thresholds.min_confidence
    edges = []
    for a, b, results in scored_pairs(records, config):
        edge = score_pair(a, b, results, model, threshold)
        if edge is not None:
            edges.append(edge)
    return sorted(edges, key=lambda e: (e.source, e.target))
