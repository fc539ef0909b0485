"""The graph for graph tools: GraphML (Gephi, yEd, Cytoscape) and node-link JSON (NetworkX, D3).

Both come from one NetworkX DiGraph whose nodes are file ids and whose attributes
are scalars (GraphML has no lists or maps: lists are joined with ';', maps are JSON).
Nodes and edges are added in sorted order, so the files are byte-identical run after run.
"""

from __future__ import annotations

import io
import json
from typing import Any, Dict, Mapping, Sequence

import networkx as nx

NODE_ATTRIBUTES = ("label", "file_path", "relative_path", "file_type", "file_size", "created_at", "modified_at",
                   "author", "title", "content_hash", "key_terms", "component_id", "degree", "in_degree",
                   "out_degree", "is_hub", "is_orphan")
EDGE_ATTRIBUTES = ("relationship_type", "confidence", "evidence", "description", "human_reviewed")


def _scalar(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return value


def to_networkx(nodes: Sequence[Mapping[str, Any]], edges: Sequence[Mapping[str, Any]]) -> nx.DiGraph:
    """DiGraph of annotated node rows and edge rows, scalar attributes only (None left out)."""
    graph = nx.DiGraph(name="filegraph")
    for node in nodes:
        attrs = {"label": node["file_name"], **{k: node.get(k) for k in NODE_ATTRIBUTES if k != "label"}}
        graph.add_node(node["file_id"], **{k: _scalar(v) for k, v in attrs.items() if v is not None})
    for edge in edges:
        attrs = {k: _scalar(edge.get(k)) for k in EDGE_ATTRIBUTES if edge.get(k) is not None}
        attrs["evidence_details"] = _scalar(edge.get("evidence_details") or {})
        graph.add_edge(edge["source"], edge["target"], **attrs)
    return graph


def graphml_bytes(graph: nx.DiGraph) -> bytes:
    out = io.BytesIO()
    nx.write_graphml(graph, out, encoding="utf-8", prettyprint=True)
    return out.getvalue()


def node_link_bytes(graph: nx.DiGraph) -> bytes:
    data: Dict[str, Any] = nx.node_link_data(graph, edges="edges")
    return (json.dumps(data, sort_keys=True, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
