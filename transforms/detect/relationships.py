"""Relationship detection over in-memory records: block, pair, score, resolve.

The same functions the Beam pipeline wraps, for the Python API, calibration
and tests. The pipeline distributes exactly these steps with GroupByKey.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from transforms.config import Config
from transforms.detect import blocking, declared, families, mentions, parents, strategies
from transforms.detect.corpus import CorpusStats, PairContext
from transforms.detect.pair_view import pair_view
from transforms.detect.scoring import ConfidenceModel, Edge, typed_edge
from transforms.detect.strategies import StrategyResult
from transforms.model import FileRecord


def _runnable(name: str) -> bool:
    if name == "synthetic_reasoning":  # the offline reasoner always runs; an LLM reviews when configured
        return True
    if name == "semantic_similarity":
        from transforms.detect import semantic

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
        from transforms.detect.semantic import embed_records

        embed_records(missing)


def candidate_pairs(records: Sequence[FileRecord], config: Config
                    ) -> Tuple[Dict[Tuple[str, str], Dict[str, int]], dict, CorpusStats]:
    """{pair: shared keys with their frequencies}, blocking stats, and the run's corpus stats."""
    records = list(records)
    cfg = config.relationships.blocking
    keyed = ((key, r.file_id) for r in records for key in blocking.blocking_keys(r, cfg))
    pairs, stats, frequent = blocking.candidate_pairs(keyed, cfg, mentions.resolve_all(records))
    return pairs, stats, CorpusStats(n_files=len(records), frequent=frequent)


def scored_pairs(
    records: Sequence[FileRecord], config: Config
) -> Iterable[Tuple[FileRecord, FileRecord, Dict[str, StrategyResult]]]:
    """Every candidate pair with its strategy results (for calibration)."""
    ensure_embeddings(records, config)
    by_id = {r.file_id: pair_view(r) for r in records}  # per-file facts once per file
    pairs, _, corpus_stats = candidate_pairs(records, config)
    names = active_strategies(config)
    for a_id, b_id in sorted(pairs):
        a, b = by_id[a_id], by_id[b_id]
        context = PairContext(shared=pairs[(a_id, b_id)], stats=corpus_stats)
        yield a, b, strategies.run_strategies(a, b, names, context)


def resolve(edges: Sequence[Edge]) -> List[Edge]:
    """The global steps: one parent per key column, one link per report into a version family."""
    return families.resolve(parents.resolve(edges))


def typed_edges(records: Sequence[FileRecord], config: Config, model: ConfidenceModel) -> List[Edge]:
    """Every typed candidate with its confidence, global steps applied, no threshold."""
    thresholds = config.relationships.thresholds
    edges = [typed_edge(a, b, results, model, thresholds) for a, b, results in scored_pairs(records, config)]
    return resolve([e for e in edges if e is not None])


def detect(records: Sequence[FileRecord], config: Config, model: Optional[ConfidenceModel] = None) -> List[Edge]:
    """Scored edges over min_confidence merged with declared ones, as the pipeline's MergeDeclared step."""
    model = model or ConfidenceModel.load()
    threshold = config.relationships.thresholds.min_confidence
    scored = [e for e in typed_edges(records, config, model) if e.confidence >= threshold]
    found = declared.declared_edges(records)
    scope = declared.declared_scope((r.file_id for r in records if r.declared), found)
    return declared.merge_declared(scored, found, scope, threshold)
