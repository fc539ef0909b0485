"""Version families: a report links to one version of a dataset, not to all of them.

A deck built from `sales_v3.xlsx` quotes values that `sales_v1.xlsx` and
`sales_v2.xlsx` mostly share, so pairwise scoring finds it SUPPORTS all three.
A person links it to the version it was built from: the one whose evidence is
strongest. Families are the connected components of VERSION_OF candidates;
for each narrative file, family and type, only the best link is kept.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Mapping, Sequence, Tuple

import networkx as nx

from transforms.detect.scoring import Edge

# Links from a report or memo to a data file, and what makes one link better.
FAMILY_SCOPED = {
    "SUMMARIZES": ("aggregate_coherence", "aggregate_matches", "aggregate_ratio"),
    "SUPPORTS": ("key_value_hits", "label_value_hits", "columns_named"),
    "DOCUMENTS": ("mentions", "column_coverage", "columns_named"),
}


def family_of(version_pairs: Iterable[Tuple[str, str]]) -> Dict[str, str]:
    """file_id -> family id (its smallest member) for files in a version family."""
    graph = nx.Graph()
    graph.add_edges_from(version_pairs)
    return {item: min(component) for component in nx.connected_components(graph) for item in component}


def _data_end(edge: Edge) -> str:
    return edge.target if edge.relationship_type in ("SUMMARIZES", "DOCUMENTS") else edge.source


def _narrative_end(edge: Edge) -> str:
    return edge.source if edge.relationship_type in ("SUMMARIZES", "DOCUMENTS") else edge.target


def _strength(edge: Edge) -> Tuple:
    features = edge.evidence_details.get("features", {})
    primary = tuple(float(features.get(name, 0.0)) for name in FAMILY_SCOPED[edge.relationship_type])
    return primary + (edge.confidence, _data_end(edge))


def keep_best_per_family(edges: Sequence[Edge], families: Mapping[str, str]) -> List[Edge]:
    """Edges of one narrative file with only the strongest link into each version family kept."""
    best: Dict[Tuple[str, str, str], Edge] = {}
    kept: List[Edge] = []
    for edge in edges:
        if edge.relationship_type not in FAMILY_SCOPED or _data_end(edge) not in families:
            kept.append(edge)
            continue
        key = (_narrative_end(edge), families[_data_end(edge)], edge.relationship_type)
        if key not in best or _strength(edge) > _strength(best[key]):
            best[key] = edge
    return sorted(kept + list(best.values()), key=lambda e: (e.source, e.target))


def _shared_depth(a: str, b: str) -> int:
    pa, pb = a.replace("\\", "/").split("/")[:-1], b.replace("\\", "/").split("/")[:-1]
    depth = 0
    for x, y in zip(pa, pb):
        if x != y:
            break
        depth += 1
    return depth


def _by_vocabulary_only(edge: Edge) -> bool:
    details = edge.evidence_details
    return edge.relationship_type == "DOCUMENTS" and not details.get("mentioned_by") and not details.get("declared")


# A table described this much less completely than the best-described one is not described.
COVERAGE_MARGIN = 0.2


def _coverage(edge: Edge) -> float:
    return float(edge.evidence_details.get("features", {}).get("column_coverage", 0.0))


def keep_nearest_described(edges: Sequence[Edge]) -> List[Edge]:
    """A narrative that describes tables only by their column vocabulary documents the nearest of them.

    A README explaining a standard's columns matches every table of every dataset
    that uses the standard; the ones it documents sit in its own folder tree. Tables
    that share its vocabulary further away, several at one distance, are ambiguous.
    """
    vocabulary = [e for e in edges if _by_vocabulary_only(e)]
    if not vocabulary or (len(vocabulary) == 1 and len([e for e in edges if e.relationship_type == "DOCUMENTS"]) == 1):
        return list(edges)
    def depth(edge: Edge) -> int:
        narrative, data = (edge.source_path, edge.target_path)
        return _shared_depth(narrative, data)
    best = max(depth(e) for e in vocabulary)
    own_depth = len(vocabulary[0].source_path.replace("\\", "/").split("/")) - 1
    nearest = [e for e in vocabulary if depth(e) == best]
    keep = nearest if best >= own_depth or len(nearest) == 1 else []
    # The columns a dictionary names are explained by the table it covers best; a table that
    # merely shares some of them (an id, an e-mail, a phone) is not documented too.
    if keep:
        top = max(_coverage(e) for e in edges if e.relationship_type == "DOCUMENTS")
        keep = [e for e in keep if _coverage(e) >= top - COVERAGE_MARGIN]
    dropped = {id(e) for e in vocabulary if e not in keep}
    return [e for e in edges if id(e) not in dropped]


def resolve_narrative_links(edges: Sequence[Edge], families: Mapping[str, str]) -> List[Edge]:
    """One narrative file's links: the best per version family, the nearest among look-alike tables."""
    return sorted(keep_nearest_described(keep_best_per_family(edges, families)), key=lambda e: (e.source, e.target))


def resolve(edges: Sequence[Edge]) -> List[Edge]:
    """In-memory resolution over a whole graph (API, calibration)."""
    families = family_of((e.source, e.target) for e in edges if e.relationship_type == "VERSION_OF")
    by_narrative: Dict[str, List[Edge]] = {}
    rest: List[Edge] = []
    for edge in edges:
        if edge.relationship_type in FAMILY_SCOPED:
            by_narrative.setdefault(_narrative_end(edge), []).append(edge)
        else:
            rest.append(edge)
    for group in by_narrative.values():
        rest.extend(resolve_narrative_links(group, families))
    return sorted(rest, key=lambda e: (e.source, e.target))


def narrative_key(edge: Edge) -> str:
    """The file whose links are resolved together, or '' for edges that are not family-scoped."""
    return _narrative_end(edge) if edge.relationship_type in FAMILY_SCOPED else ""
