"""The graph for graph tools: GraphML (Gephi, yEd, Cytoscape) and node-link JSON (NetworkX, D3).

Both come from one NetworkX DiGraph whose nodes are file ids and whose attributes
are scalars (GraphML has no lists or maps: lists are joined with ';', maps are JSON).
Nodes and edges are added in sorted order, so the files are byte-identical run after run.
Both are written to a handle element by element: a graph of 100k files makes files of
about 400 MB each, which need not be held in memory.
"""

from __future__ import annotations

import json
from typing import Any, BinaryIO, Iterable, Mapping, Sequence

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
        attrs["evidence_details"] = edge["evidence_details_json"]
        graph.add_edge(edge["source"], edge["target"], **attrs)
    return graph


def write_graphml(graph: nx.DiGraph, handle: BinaryIO) -> None:
    """GraphML; NetworkX's lxml writer sends each element to the handle as it is made."""
    nx.write_graphml(graph, handle, encoding="utf-8", prettyprint=True)


WRITTEN_TOGETHER = 1 << 20  # characters of JSON per write to the handle


def write_node_link(graph: nx.DiGraph, handle: BinaryIO) -> None:
    """The text of `json.dumps(nx.node_link_data(graph, edges="edges"), sort_keys=True,
    ensure_ascii=False, indent=1)` and a newline, made one node or edge at a time."""
    pending: list = []
    size = 0

    def put(text: str) -> None:
        nonlocal size
        pending.append(text)
        size += len(text)
        if size >= WRITTEN_TOGETHER:
            flush()

    def flush() -> None:
        nonlocal size
        handle.write("".join(pending).encode("utf-8"))
        pending.clear()
        size = 0

    def dumps(value: Any, depth: int) -> str:  # JSON text never holds a raw newline: re-indenting is safe
        return json.dumps(value, sort_keys=True, ensure_ascii=False, indent=1).replace("\n", "\n" + " " * depth)

    def put_list(items: Iterable[Mapping[str, Any]]) -> None:
        opened = False
        for item in items:
            put(",\n  " if opened else "[\n  ")
            put(dumps(item, 2))
            opened = True
        put("\n ]" if opened else "[]")

    put("{\n \"directed\": " + dumps(graph.is_directed(), 1) + ",\n \"edges\": ")
    put_list({**data, "source": u, "target": v} for u, v, data in graph.edges(data=True))
    put(",\n \"graph\": " + dumps(graph.graph, 1) + ",\n \"multigraph\": false,\n \"nodes\": ")
    put_list({**data, "id": n} for n, data in graph.nodes(data=True))
    put("\n}\n")
    flush()
