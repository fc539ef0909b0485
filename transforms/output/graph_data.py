"""A finished run read back from its shards: the input to every export.

Nodes are kept slim (metadata without text or structure), nested values are JSON text,
and each id, path and term is held once, so that a graph of many files fits the
launcher's memory; one shard is read at a time. Works for local and gs:// outputs
through the writer's filesystem helpers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Sequence

from transforms.extract.matching import input_root, relative_path
from transforms.output import writer


@dataclass
class RunGraph:
    summary: Dict[str, Any]
    roots: List[str]
    nodes: List[Dict[str, Any]]  # slim rows, by relative path
    edges: List[Dict[str, Any]]  # edge rows (edge_row), by (source path, target path, type)
    errors: List[Dict[str, Any]] = field(default_factory=list)

    def node_by_id(self) -> Dict[str, Dict[str, Any]]:
        return {n["file_id"]: n for n in self.nodes}


def run_roots(summary: Mapping[str, Any]) -> List[str]:
    """The input roots of a run (older summaries only list their inputs)."""
    return list(summary.get("input_roots") or [input_root(spec) for spec in summary.get("inputs", [])])


def as_json(value: Any) -> str:
    """A nested value as the exports write it: JSON text, keys sorted."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _same(text: str) -> str:  # without a table, every string stays its own
    return text


def one_copy() -> Callable[[str], str]:
    """A function that returns one object per distinct string it is given."""
    seen: Dict[str, str] = {}
    return lambda text: seen.setdefault(text, text)


def node_row(node: Mapping[str, Any], roots: Sequence[str], share: Callable[[str], str] = _same) -> Dict[str, Any]:
    """A node's metadata; entities as JSON text (`entities_json`), which only the Parquet table writes.
    `share` returns one object per distinct string, so that rows repeat no text."""
    signature = node.get("content_signature") or {}
    return {
        "file_id": share(node["file_id"]),
        "file_path": share(node["file_path"]),
        "relative_path": relative_path(node["file_path"], roots),
        "file_name": node["file_name"],
        "file_type": share(node["file_type"]),
        "file_size": int(node.get("file_size") or 0),
        "created_at": node.get("created_at"),
        "modified_at": node.get("modified_at"),
        "author": node.get("author"),
        "title": node.get("title"),
        "content_hash": signature.get("hash", ""),
        "key_terms": [share(term) for term in signature.get("key_terms", [])],
        "entities_json": as_json(signature.get("entities") or {}),
    }


SHARED_EDGE_FIELDS = frozenset({"source", "target", "source_path", "target_path", "relationship_type"})


def edge_row(edge: Mapping[str, Any], share: Callable[[str], str] = _same) -> Dict[str, Any]:
    """An edge record whose evidence details are JSON text (`evidence_details_json`): exports only
    copy them out, and the text takes about a third of the memory of the nested maps."""
    row = {k: share(v) if k in SHARED_EDGE_FIELDS else v for k, v in edge.items() if k != "evidence_details"}
    row["evidence"] = [share(kind) for kind in edge.get("evidence", [])]
    row["evidence_details_json"] = as_json(edge.get("evidence_details") or {})
    return row


def load_run(output: str) -> RunGraph:
    """The run in `output` (local or gs://), as written by the pipeline."""
    summary = writer.read_json(writer.join_path(output, "run_summary.json"))
    roots = run_roots(summary)
    # Ids, paths and vocabulary repeat across rows: one object each (figures: benchmarks.exports --run).
    share = one_copy()
    nodes = sorted((node_row(n, roots, share)
                    for n in writer.iter_jsonl(writer.join_path(output, "nodes"), "nodes")),
                   key=lambda n: (n["relative_path"], n["file_id"]))
    edges = sorted((edge_row(e, share)
                    for e in writer.iter_jsonl(writer.join_path(output, "edges"), "edges")),
                   key=lambda e: (e["source_path"], e["target_path"], e["relationship_type"]))
    errors = sorted(writer.iter_jsonl(writer.join_path(output, "errors"), "errors"),
                    key=lambda e: (e["file_path"], e["stage"]))
    return RunGraph(summary, roots, nodes, edges, errors)
