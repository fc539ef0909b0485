"""`filegraph inspect FILE_OR_ID --output DIR`: one file's metadata and its relationships
with their evidence, read from a finished run."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence

import networkx as nx

from transforms.extract.matching import relative_path
from transforms.output import writer
from transforms.output.graph_data import run_roots

MAX_DETAIL_CHARS = 600


class NotFound(LookupError):
    """No file of the run, or more than one, answers to the name given."""


def find_node(query: str, nodes: Sequence[Mapping[str, Any]], roots: Sequence[str]) -> Mapping[str, Any]:
    """The node named by file id, path (absolute, or relative to an input root) or unique file name."""
    absolute = query if "://" in query else os.path.abspath(query)
    for test in (lambda n: n["file_id"] == query, lambda n: n["file_path"] in (query, absolute),
                 lambda n: relative_path(n["file_path"], roots) == query.strip("/"),
                 lambda n: n["file_name"] == os.path.basename(query.rstrip("/"))):
        found = [n for n in nodes if test(n)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(relative_path(n["file_path"], roots) for n in found[:5])
            raise NotFound(f"'{query}' names {len(found)} files ({names}{', ...' if len(found) > 5 else ''}); "
                           "give a longer path or the file id")
    raise NotFound(f"no file of the run answers to '{query}' (try a path relative to the input, or a file id)")


def _value(value: Any) -> str:
    if isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
        return text if len(text) <= MAX_DETAIL_CHARS else text[:MAX_DETAIL_CHARS] + " ..."
    return str(value)


def describe_node(node: Mapping[str, Any], roots: Sequence[str], stats: Optional[Mapping[str, Any]]) -> List[str]:
    signature = node.get("content_signature") or {}
    rows = [("file", relative_path(node["file_path"], roots)), ("path", node["file_path"]), ("id", node["file_id"]),
            ("type", node["file_type"]), ("size (bytes)", node.get("file_size")), ("title", node.get("title")),
            ("author", node.get("author")), ("created", node.get("created_at")), ("modified", node.get("modified_at")),
            ("content hash", signature.get("hash")), ("key terms", ", ".join(signature.get("key_terms", [])[:20])),
            ("entities", signature.get("entities") or None), ("structure", node.get("structure") or None),
            ("redactions", node.get("redactions") or None), ("warnings", node.get("warnings") or None)]
    rows += list((stats or {}).items())
    return [f"{name:<14}{_value(value)}" for name, value in rows if value not in (None, "", [], {})]


def describe_edges(file_id: str, edges: Sequence[Mapping[str, Any]], roots: Sequence[str]) -> List[str]:
    touching = sorted((e for e in edges if file_id in (e["source"], e["target"])),
                      key=lambda e: (-e["confidence"], e["relationship_type"]))
    lines = [f"relationships ({len(touching)})"]
    for e in touching:
        outgoing = e["source"] == file_id
        other = relative_path(e["target_path"] if outgoing else e["source_path"], roots)
        arrow = "->" if outgoing else "<-"
        lines.append(f"  {arrow} {e['relationship_type']:<11} {other}  confidence {e['confidence']:.3f}")
        lines.append(f"     {e['description']}")
        lines.append(f"     evidence: {', '.join(e['evidence'])}")
        details = {k: v for k, v in (e.get("evidence_details") or {}).items()}
        if details:
            lines.append(f"     details: {_value(details)}")
    return lines


def inspect_lines(query: str, output: str) -> List[str]:
    summary = writer.read_json(writer.join_path(output, "run_summary.json"))
    roots = run_roots(summary)
    nodes = list(writer.iter_jsonl(writer.join_path(output, "nodes"), "nodes"))
    try:
        node = find_node(query, nodes, roots)
    except NotFound:
        errors = list(writer.iter_jsonl(writer.join_path(output, "errors"), "errors"))
        failed = [e for e in errors if e["file_path"] in (query, os.path.abspath(query))
                  or relative_path(e["file_path"], roots) == query or e.get("file_id") == query]
        if failed:
            e = failed[0]
            raise NotFound(f"{e['file_path']} failed at stage {e['stage']}: {e['error_type']}: {e['message']}")
        raise
    edges = list(writer.iter_jsonl(writer.join_path(output, "edges"), "edges"))
    stats = _workflow(node["file_id"], edges)
    return describe_node(node, roots, stats) + [""] + describe_edges(node["file_id"], edges, roots)


def _workflow(file_id: str, edges: Sequence[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    """The size of the file's workflow (its connected component)."""
    graph = nx.Graph()
    graph.add_edges_from((e["source"], e["target"]) for e in edges)
    if file_id not in graph:
        return None
    members = nx.node_connected_component(graph, file_id)
    inside = sum(1 for e in edges if e["source"] in members)
    return {"workflow": f"{len(members)} files, {inside} relationships"}
