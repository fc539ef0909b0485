"""Graph analysis of a finished run: workflows (connected components), hubs and orphans.

A workflow is a connected component of the relationship graph, read without
direction. Its stages follow the flow of data: a file is upstream of the files that
are built from it (a summarized, referenced, documented or supported file, an older
version), so stage 1 holds the sources and later stages the reports and decks made
from them. Component ids are 1, 2, ... by size, largest first, ties by first path:
the same graph gives the same ids, run after run.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import networkx as nx

# Relationship types whose target is the upstream end; SUPPORTS points downstream;
# RELATED_TO has no direction and orders nothing.
_TARGET_UPSTREAM = frozenset({"SUMMARIZES", "REFERENCES", "DOCUMENTS", "VERSION_OF"})
_SOURCE_UPSTREAM = frozenset({"SUPPORTS"})
FILES_PER_STAGE_LISTED = 20


@dataclass
class NodeStats:
    degree: int = 0
    in_degree: int = 0
    out_degree: int = 0
    component_id: Optional[int] = None
    is_hub: bool = False

    @property
    def is_orphan(self) -> bool:
        return self.degree == 0


@dataclass
class Analysis:
    components: List[Dict[str, Any]] = field(default_factory=list)
    hubs: List[Dict[str, Any]] = field(default_factory=list)
    orphans: List[str] = field(default_factory=list)  # relative paths
    stats: Dict[str, NodeStats] = field(default_factory=dict)  # by file id

    def to_dict(self) -> Dict[str, Any]:
        return {"components": self.components, "hubs": self.hubs, "orphans": self.orphans,
                "counts": {"components": len(self.components), "hubs": len(self.hubs),
                           "orphans": len(self.orphans)}}


def upstream_edge(edge: Mapping[str, Any]) -> Optional[Tuple[str, str]]:
    """(upstream file id, downstream file id), or None for an undirected relationship."""
    kind = edge["relationship_type"]
    if kind in _TARGET_UPSTREAM:
        return edge["target"], edge["source"]
    if kind in _SOURCE_UPSTREAM:
        return edge["source"], edge["target"]
    return None


def _stages(members: Sequence[str], edges: Sequence[Mapping[str, Any]]) -> List[List[str]]:
    """File ids per stage: sources first; files in a cycle share a stage."""
    flow = nx.DiGraph()
    flow.add_nodes_from(members)
    flow.add_edges_from(e for e in map(upstream_edge, edges) if e is not None)
    condensed = nx.condensation(flow)
    return [sorted(m for scc in generation for m in condensed.nodes[scc]["members"])
            for generation in nx.topological_generations(condensed)]


def _common_folder(paths: Sequence[str]) -> str:
    folders = [posixpath.dirname(p) for p in paths]
    common = posixpath.commonpath(folders) if all(f for f in folders) else ""
    return common


def analyse(nodes: Sequence[Mapping[str, Any]], edges: Sequence[Mapping[str, Any]],
            hub_min_degree: int = 3, max_hubs: int = 25) -> Analysis:
    """Components with summaries, hubs and orphans of a run's graph."""
    by_id = {n["file_id"]: n for n in nodes}
    edges = [e for e in edges if e["source"] in by_id and e["target"] in by_id]
    stats = {file_id: NodeStats() for file_id in by_id}
    undirected = nx.Graph()
    for edge in edges:
        stats[edge["source"]].out_degree += 1
        stats[edge["target"]].in_degree += 1
        undirected.add_edge(edge["source"], edge["target"])
    for s in stats.values():
        s.degree = s.in_degree + s.out_degree

    path = {file_id: n["relative_path"] for file_id, n in by_id.items()}
    components = sorted((sorted(c, key=lambda f: path[f]) for c in nx.connected_components(undirected)),
                        key=lambda c: (-len(c), path[c[0]]))
    edges_of: Dict[int, List[Mapping[str, Any]]] = {}
    for number, members in enumerate(components, start=1):
        for file_id in members:
            stats[file_id].component_id = number
    for edge in edges:
        edges_of.setdefault(stats[edge["source"]].component_id, []).append(edge)

    summaries = []
    for number, members in enumerate(components, start=1):
        own = edges_of.get(number, [])
        central = min(members, key=lambda f: (-stats[f].degree, path[f]))
        stages = _stages(members, own)
        summaries.append({
            "component_id": number,
            "files": len(members),
            "edges": len(own),
            "label": _common_folder([path[m] for m in members]) or by_id[central]["file_name"],
            "central_file": path[central],
            "file_types": dict(sorted(Counter(by_id[m]["file_type"] for m in members).items())),
            "edges_by_type": dict(sorted(Counter(e["relationship_type"] for e in own).items())),
            "mean_confidence": round(sum(e["confidence"] for e in own) / len(own), 4) if own else None,
            "stages": [{"files": len(stage),
                        "file_types": dict(sorted(Counter(by_id[f]["file_type"] for f in stage).items())),
                        "paths": sorted(path[f] for f in stage)[:FILES_PER_STAGE_LISTED]}
                       for stage in stages],
        })

    ranked = sorted((f for f, s in stats.items() if s.degree >= hub_min_degree),
                    key=lambda f: (-stats[f].degree, path[f]))[:max_hubs]
    hubs = []
    for file_id in ranked:
        stats[file_id].is_hub = True
        touching = [e for e in edges_of.get(stats[file_id].component_id, [])
                    if file_id in (e["source"], e["target"])]
        hubs.append({"file_id": file_id, "path": path[file_id], "file_type": by_id[file_id]["file_type"],
                     "degree": stats[file_id].degree, "component_id": stats[file_id].component_id,
                     "edges_by_type": dict(sorted(Counter(e["relationship_type"] for e in touching).items()))})
    orphans = sorted(path[f] for f, s in stats.items() if s.is_orphan)
    return Analysis(summaries, hubs, orphans, stats)
