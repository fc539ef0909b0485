"""The graph for graph tools: GraphML (Gephi, yEd, Cytoscape) and node-link JSON (NetworkX, D3).

Both come from one NetworkX DiGraph whose nodes are file ids and whose attributes
are scalars (GraphML has no lists or maps: lists are joined with ';', maps are JSON).
Nodes and edges are added in sorted order, so the files are byte-identical run after run.
Both are written to a handle element by element: a graph of 100k files makes files of
about 400 MB each, which need not be held in memory. Both are NetworkX's own formats, byte
for byte, written as text by this module.
"""

from __future__ import annotations

import json
import re
from typing import Any, BinaryIO, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

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
    """GraphML, byte for byte as NetworkX's lxml writer makes it (`nx.write_graphml(graph, handle,
    encoding="utf-8", prettyprint=True)`), written as text in about 40% of its time: lxml builds an
    element per value. A value of another type than str, int, float or bool, or text that XML cannot
    hold, goes to NetworkX's writer, which writes or refuses it as before."""
    keys = _graphml_keys(graph)
    if keys is None:
        nx.write_graphml(graph, handle, encoding="utf-8", prettyprint=True)
        return
    writer = nx.readwrite.graphml.GraphMLWriter
    out = _Chunked(handle)
    out.put("<?xml version='1.0' encoding='utf-8'?>\n"
            f'<graphml xmlns="{writer.NS_GRAPHML}" xmlns:xsi="{writer.NS_XSI}" '
            f'xsi:schemaLocation="{writer.SCHEMALOCATION}">')
    for (name, xml_type, scope), key in reversed(keys.items()):  # NetworkX puts each new key first
        out.put(f'<key id="{key}" for="{scope}" attr.name="{_xml_attribute(name)}" attr.type="{xml_type}"/>\n')
    out.put('<graph edgedefault="directed">')
    for name, value in _graph_data(graph).items():
        out.put(f'<data key="{keys[(name, _XML_TYPES[type(value)], "graph")]}">{_xml_text(str(value))}</data>\n')

    def element(opening: str, tag: str, scope: str, data: Mapping[str, Any]) -> None:
        if not data:
            out.put(opening + "/>\n")
            return
        out.put(opening + ">\n")
        for name, value in data.items():
            key = keys[(str(name), _XML_TYPES[type(value)], scope)]
            out.put(f'  <data key="{key}">{_xml_text(str(value))}</data>\n')
        out.put(f"</{tag}>\n")

    for node, data in graph.nodes(data=True):
        element(f'<node id="{_xml_attribute(str(node))}"', "node", "node", data)
    for source, target, data in graph.edges(data=True):
        element(f'<edge source="{_xml_attribute(str(source))}" target="{_xml_attribute(str(target))}"',
                "edge", "edge", data)
    out.put("</graph></graphml>")
    out.flush()


# NetworkX's GraphML types of Python values (the last of its table for each type).
_XML_TYPES = {str: "string", int: "long", float: "double", bool: "boolean"}
# What XML 1.0 cannot hold, which lxml refuses.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _graph_data(graph: nx.DiGraph) -> Dict[str, Any]:
    return {str(k): v for k, v in graph.graph.items() if k not in ("node_default", "edge_default")}


def _graphml_keys(graph: nx.DiGraph) -> Optional[Dict[Tuple[str, str, str], str]]:
    """(name, GraphML type, scope) -> key id, in NetworkX's order (graph, then nodes, then edges, in first
    use); None where the direct writer cannot match NetworkX's (other types, text XML cannot hold, a
    graph id or defaults, which NetworkX writes otherwise)."""
    if "id" in graph.graph or "node_default" in graph.graph or "edge_default" in graph.graph:
        return None
    keys: Dict[Tuple[str, str, str], str] = {}
    scoped = [("graph", [(None, _graph_data(graph))]), ("node", graph.nodes(data=True)),
              ("edge", ((None, data) for _, _, data in graph.edges(data=True)))]
    for scope, items in scoped:
        for _, data in items:
            for name, value in data.items():
                xml_type = _XML_TYPES.get(type(value))
                if xml_type is None or (xml_type == "string" and _NOT_XML.search(value)):
                    return None
                keys.setdefault((str(name), xml_type, scope), f"d{len(keys)}")
    texts = [str(n) for n in graph.nodes] + [str(name) for name, _, _ in keys]
    if any(_NOT_XML.search(text) for text in texts):
        return None
    return keys


def _xml_text(text: str) -> str:
    """Element text escaped as libxml2 escapes it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _xml_attribute(text: str) -> str:
    """An attribute value escaped as libxml2 escapes it."""
    return _xml_text(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


WRITTEN_TOGETHER = 1 << 20  # characters of text per write to the handle


class _Chunked:
    """Text sent to a binary handle as UTF-8 about WRITTEN_TOGETHER characters at a time."""

    def __init__(self, handle: BinaryIO):
        self._handle = handle
        self._pending: List[str] = []
        self._size = 0

    def put(self, text: str) -> None:
        self._pending.append(text)
        self._size += len(text)
        if self._size >= WRITTEN_TOGETHER:
            self.flush()

    def flush(self) -> None:
        self._handle.write("".join(self._pending).encode("utf-8"))
        self._pending.clear()
        self._size = 0


def write_node_link(graph: nx.DiGraph, handle: BinaryIO) -> None:
    """The text of `json.dumps(nx.node_link_data(graph, edges="edges"), sort_keys=True,
    ensure_ascii=False, indent=1)` and a newline, made one node or edge at a time."""
    out = _Chunked(handle)
    put = out.put

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
    out.flush()
