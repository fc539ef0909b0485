"""Agentic training records: one file, the files related to it, and why.

Each record teaches an agent to start from one file and find and connect the
files related to it: the context (primary file and related files), the typed
relationships with evidence, a synthetic reasoning trace (abstraction, actions,
workflow) produced by the offline reasoner, and a prompt/completion pair
rendered from the prompt templates in templates/prompts.
"""

from __future__ import annotations

import uuid
from importlib import resources
from typing import Any, Dict, Iterable, List, Mapping

from transforms.model import FileRecord

_RECORD_NAMESPACE = uuid.UUID("6f1c2a52-3c1e-5b0e-9a57-6b4c8f0e9d11")
_SUMMARY_TERMS = 8

# What an agent does to confirm each relationship type, as tool calls.
_ACTIONS = {
    "SUMMARIZES": ("read_numbers", "aggregate_columns", "compare_values"),
    "SUPPORTS": ("read_values", "lookup_values", "compare_values"),
    "DOCUMENTS": ("read_headings", "list_columns", "match_terms"),
    "REFERENCES": ("profile_keys", "check_inclusion", "resolve_reference"),
    "VERSION_OF": ("compare_names", "diff_content", "order_versions"),
    "RELATED_TO": ("extract_entities", "match_entities", "compare_topics"),
}
_ABSTRACTIONS = {
    "SUMMARIZES": "a report that presents aggregates of a dataset",
    "SUPPORTS": "a dataset whose values a narrative file uses",
    "DOCUMENTS": "documentation that describes a file's structure or method",
    "REFERENCES": "a file whose keys point into another file",
    "VERSION_OF": "successive versions of one logical file",
    "RELATED_TO": "files that share a project or topic",
}


def _template(name: str) -> str:
    return resources.files("templates").joinpath("prompts", name).read_text(encoding="utf-8")


def file_summary(record: FileRecord) -> Dict[str, Any]:
    """The light view of a file that training records and joins carry."""
    structure = record.structure
    return {
        "file_id": record.file_id,
        "file_path": record.file_path,
        "file_name": record.file_name,
        "file_type": record.file_type,
        "title": record.title,
        "key_terms": record.key_terms[:_SUMMARY_TERMS],
        "columns": (structure.get("columns") or [])[:12],
        "headings": [
            h.get("text") if isinstance(h, dict) else h
            for h in (structure.get("slide_titles") or structure.get("headings") or [])[:8]
        ],
    }


def _describe_file(summary: Mapping[str, Any]) -> str:
    parts = [f"{summary['file_path']} ({summary['file_type']})"]
    if summary.get("title"):
        parts.append(f"titled '{summary['title']}'")
    if summary.get("columns"):
        parts.append("with columns " + ", ".join(map(str, summary["columns"][:8])))
    if summary.get("headings"):
        parts.append("with sections " + "; ".join(str(h) for h in summary["headings"][:5] if h))
    if summary.get("key_terms"):
        parts.append("about " + ", ".join(summary["key_terms"][:6]))
    return ", ".join(parts)


def offline_reasoning(primary: Mapping[str, Any], edges: List[Mapping[str, Any]],
                      neighbours: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
    """A deterministic reasoning trace built from the edges' own evidence."""
    kinds = sorted({e["relationship_type"] for e in edges})
    abstraction = (
        f"{primary['file_name']} sits in a group of {len(edges) + 1} files: "
        + "; ".join(_ABSTRACTIONS[k] for k in kinds) + "."
    )
    actions: List[Dict[str, Any]] = [{"tool": "open_file", "args": {"path": primary["file_path"]}}]
    workflow: List[str] = [f"Open {primary['file_name']} and note its structure and key terms."]
    for edge in edges:
        other_id = edge["target"] if edge["source"] == primary["file_id"] else edge["source"]
        other = neighbours[other_id]
        kind = edge["relationship_type"]
        actions.append({"tool": "search_files", "args": {"strategies": edge["evidence"]}})
        for tool in _ACTIONS[kind]:
            actions.append({"tool": tool, "args": {"path": other["file_path"]}})
        workflow.append(f"Confirm that {edge['description']} (confidence {edge['confidence']:.2f}).")
    workflow.append("Record each relationship with its direction and evidence.")
    return {"abstraction": abstraction, "actions": actions, "workflow": workflow}


def training_record(primary: Mapping[str, Any], edges: Iterable[Mapping[str, Any]],
                    neighbours: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
    """The training record centred on one file; edges must touch that file."""
    ordered = sorted(edges, key=lambda e: (-e["confidence"], e["source"], e["target"]))
    reasoning = offline_reasoning(primary, ordered, neighbours)
    related, relationships = [], []
    for edge in ordered:
        other_id = edge["target"] if edge["source"] == primary["file_id"] else edge["source"]
        other = neighbours[other_id]
        direction = "outgoing" if edge["source"] == primary["file_id"] else "incoming"
        related.append({**other, "relationship_type": edge["relationship_type"], "direction": direction})
        relationships.append({
            "source": edge["source"],
            "target": edge["target"],
            "relationship_type": edge["relationship_type"],
            "confidence": edge["confidence"],
            "evidence": edge["evidence"],
            "description": edge["description"],
        })
    prompt = _template("relationship_task.txt").format(primary_summary=_describe_file(primary))
    answer_lines = [
        f"- {r['file_path']}: {rel['relationship_type']} ({'this file -> it' if r['direction'] == 'outgoing' else 'it -> this file'}); {rel['description']}"
        for r, rel in zip(related, relationships)
    ]
    completion = _template("relationship_answer.txt").format(
        abstraction=reasoning["abstraction"],
        steps="\n".join(f"{i + 1}. {step}" for i, step in enumerate(reasoning["workflow"])),
        related="\n".join(answer_lines),
    )
    return {
        "id": str(uuid.uuid5(_RECORD_NAMESPACE, primary["file_id"])),
        "context": {"primary_file": dict(primary), "related_files": related},
        "relationships": relationships,
        "synthetic_reasoning": reasoning,
        "training_prompt": prompt.strip(),
        "training_completion": completion.strip(),
    }
