"""Agentic training records: variants, offline reasoner, dataset layout, LLM review.

Modules: evidence (relative paths, file views, evidence statements), reasoner
(the offline reasoner and labelled links), tools and variants (the records of
each task), dataset (components, splits, deduplication, dataset card), llm
(borderline review through an LLM, cached). The Beam graph wraps the same
functions (transforms/ptransforms/output.py); `build_records` runs them in memory.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Sequence, Tuple

from transforms.config import Config
from transforms.detect.scoring import RELATIONSHIP_TYPES, ConfidenceModel, confidence_for_precision
from transforms.output.training.dataset import deduplicate, groups, negative_allowed, same_split, sampled
from transforms.output.training.evidence import FileSummary, PackedLink, file_summary, record_path  # noqa: F401
from transforms.output.training.reasoner import RELATED, link_from_candidate, link_from_edge
from transforms.output.training.variants import RecordSettings, component_records

Pair = Tuple[str, str]


def sure_thresholds(config: Config, model: ConfidenceModel) -> Dict[str, float]:
    """Per type, the confidence from which an edge is taught as related."""
    level = config.training.precision_level
    return {t: confidence_for_precision(model, t, level) for t in RELATIONSHIP_TYPES}


def record_settings(config: Config) -> RecordSettings:
    return RecordSettings(config.training, "synthetic_reasoning" in config.relationships.strategies)


def summary_budget(config: Config) -> int:
    return max(config.training.primary_token_budget, config.training.related_token_budget)


def edge_links(edges: Iterable[Mapping[str, Any]], paths: Mapping[str, str], thresholds: Mapping[str, float],
               level: float) -> List[Dict[str, Any]]:
    return [link_from_edge(e, paths, thresholds[e["relationship_type"]], level) for e in edges
            if e["source"] in paths and e["target"] in paths]


def select_negatives(candidates: Iterable[Tuple[Pair, Sequence[str]]], grouping: Mapping[str, Tuple[str, ...]],
                     per_file: int) -> List[Tuple[Pair, List[str]]]:
    """Candidate pairs without an edge that may be taught as not related, at most `per_file` picked per file
    (negative_allowed refuses every pair that a chain of edges joins, those with an edge among them)."""
    picks: Dict[str, List[Tuple[int, Pair]]] = defaultdict(list)
    kinds_of: Dict[Pair, List[str]] = {}
    for pair, kinds in candidates:
        pair = tuple(sorted(pair))
        if not negative_allowed(pair[0], pair[1], grouping):
            continue
        kinds_of[pair] = sorted(kinds)
        for end in pair:
            picks[end].append((sampled(pair, end), pair))
    chosen = {pair for ranked in picks.values() for _, pair in sorted(ranked)[:per_file]}
    return [(pair, kinds_of[pair]) for pair in sorted(chosen)]


def ends(link: Mapping[str, Any]) -> Pair:
    return link["source_id"], link["target_id"]


def place(records: Iterable[Dict[str, Any]], component: str, split: str) -> Iterator[Dict[str, Any]]:
    for record in records:
        record["component"], record["split"] = component, split
        yield record


def build_records(summaries: Mapping[str, Mapping[str, Any]], edges: Sequence[Mapping[str, Any]],
                  candidates: Iterable[Tuple[Pair, Sequence[str]]], config: Config,
                  thresholds: Mapping[str, float]) -> Tuple[List[Dict[str, Any]], int]:
    """Every training record of a graph in memory (what the pipeline's TrainingRecords step writes),
    deduplicated; and the number of duplicates dropped."""
    return deduplicate(all_records(summaries, edges, candidates, config, thresholds),
                       config.training.dedup_threshold)


def all_records(summaries: Mapping[str, Mapping[str, Any]], edges: Sequence[Mapping[str, Any]],
                candidates: Iterable[Tuple[Pair, Sequence[str]]], config: Config,
                thresholds: Mapping[str, float]) -> List[Dict[str, Any]]:
    """`build_records` before near-duplicates are dropped."""
    paths = {i: s["file_path"] for i, s in summaries.items()}
    links = edge_links(edges, paths, thresholds, config.training.precision_level)
    grouping = groups(paths, [ends(l) for l in links if l["label"] == RELATED], [ends(l) for l in links],
                      config.training.splits)
    negatives = [link_from_candidate(a, b, kinds, paths) for (a, b), kinds in select_negatives(
        candidates, grouping, config.training.negatives_per_file)]
    members: Dict[str, List[str]] = defaultdict(list)
    for file_id, (component, *_) in grouping.items():
        members[component].append(file_id)
    by_component: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
    for link in links + negatives:
        if same_split(*ends(link), grouping):
            for component in {grouping[end][0] for end in ends(link)}:
                by_component[component].append(link)
    settings = record_settings(config)
    records: List[Dict[str, Any]] = []
    for component in sorted(members):
        component_links = by_component.get(component, [])
        needed = set(members[component]) | {e for l in component_links for e in (l["source_id"], l["target_id"])}
        files = {i: summaries[i] for i in needed}
        split = grouping[members[component][0]][1]
        records += place(component_records(files, members[component], component_links, settings), component, split)
    return records
