"""A finished run read back from its shards: the input to every export.

Nodes are kept slim (metadata without text or structure) so that a graph of many
files fits the launcher's memory; one shard is read at a time. Works for local and
gs:// outputs through the writer's filesystem helpers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Sequence

from transforms.extract.matching import input_root, relative_path
from transforms.output import writer


@dataclass
class RunGraph:
    summary: Dict[str, Any]
    roots: List[str]
    nodes: List[Dict[str, Any]]  # slim rows, by relative path
    edges: List[Dict[str, Any]]  # edge records, by (source path, target path, type)
    errors: List[Dict[str, Any]] = field(default_factory=list)

    def node_by_id(self) -> Dict[str, Dict[str, Any]]:
        return {n["file_id"]: n for n in self.nodes}


def run_roots(summary: Mapping[str, Any]) -> List[str]:
    """The input roots of a run (older summaries only list their inputs)."""
    return list(summary.get("input_roots") or [input_root(spec) for spec in summary.get("inputs", [])])


def node_row(node: Mapping[str, Any], roots: Sequence[str]) -> Dict[str, Any]:
    signature = node.get("content_signature") or {}
    return {
        "file_id": node["file_id"],
        "file_path": node["file_path"],
        "relative_path": relative_path(node["file_path"], roots),
        "file_name": node["file_name"],
        "file_type": node["file_type"],
        "file_size": int(node.get("file_size") or 0),
        "created_at": node.get("created_at"),
        "modified_at": node.get("modified_at"),
        "author": node.get("author"),
        "title": node.get("title"),
        "content_hash": signature.get("hash", ""),
        "key_terms": list(signature.get("key_terms", [])),
        "entities": dict(signature.get("entities", {})),
    }


def load_run(output: str) -> RunGraph:
    """The run in `output` (local or gs://), as written by the pipeline."""
    summary = writer.read_json(writer.join_path(output, "run_summary.json"))
    roots = run_roots(summary)
    nodes = sorted((node_row(n, roots) for n in writer.iter_jsonl(writer.join_path(output, "nodes"), "nodes")),
                   key=lambda n: (n["relative_path"], n["file_id"]))
    edges = sorted(writer.iter_jsonl(writer.join_path(output, "edges"), "edges"),
                   key=lambda e: (e["source_path"], e["target_path"], e["relationship_type"]))
    errors = sorted(writer.iter_jsonl(writer.join_path(output, "errors"), "errors"),
                    key=lambda e: (e["file_path"], e["stage"]))
    return RunGraph(summary, roots, nodes, edges, errors)
