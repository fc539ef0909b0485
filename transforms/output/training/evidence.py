"""What a training record may say about files and edges, and nothing else.

Files are named by their path relative to the input root (never the host's
absolute path); their text is cut to a token budget; an edge's evidence lists
only the signals that support its type, each with a statement rendered from
templates/reasoning.yaml. Raw evidence details (which can carry absolute
folders or file IDs) never reach a record.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import islice
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from transforms.extract.matching import relative_path
from transforms.model import FileRecord
from transforms.output.spill import SpillableRecord
from transforms.output.training.templates import phrase

_SUMMARY_TERMS = 8
_SUMMARY_COLUMNS = 16
_SUMMARY_HEADINGS = 8
_TOKEN_RE = re.compile(r"\w+|[^\w\s]")

# Signals that prove each relationship type. Context signals (same author,
# same folder, time closeness) fire for unrelated files as well and are never listed.
SUPPORTING_SIGNALS: Dict[str, Tuple[str, ...]] = {
    "SUMMARIZES": ("aggregate_matches", "aggregate_coherence", "aggregate_ratio", "columns_named", "tables_named",
                   "mentions"),
    "SUPPORTS": ("key_value_hits", "label_value_hits", "columns_named", "tables_named", "mentions"),
    "DOCUMENTS": ("declared_schema", "columns_named", "column_coverage", "tables_named", "mentions",
                  "heading_overlap"),
    "REFERENCES": ("declared_schema", "inclusion", "inclusion_name_match", "value_jaccard", "shared_identifiers",
                   "mentions"),
    "VERSION_OF": ("same_stem", "stem_similarity", "version_markers", "content_jaccard", "schema_overlap",
                   "heading_overlap", "value_jaccard"),
    "RELATED_TO": ("shared_codes", "shared_identifiers", "content_jaccard", "semantic_similarity", "mentions"),
}


# ---------------------------------------------------------------- paths


def common_root(paths: Sequence[str]) -> Tuple[str, ...]:
    """The deepest folder holding every path (for in-memory use, where no input spec is known)."""
    folders = [p.replace("\\", "/").rsplit("/", 1)[0].split("/") for p in paths]
    if not folders:
        return ()
    common: List[str] = []
    for parts in zip(*folders):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return ("/".join(common) + "/",)


def record_path(path: str, roots: Sequence[str]) -> str:
    """How a record names a file: relative to its input root (matching.relative_path), led by the root's
    folder name when there are several roots, and never a host path (a file outside every root: its name)."""
    relative = relative_path(path, roots)
    if relative == path:
        return path.replace("\\", "/").rsplit("/", 1)[-1]
    if len(set(roots)) > 1:
        root = max((r for r in roots if path.startswith(r)), key=len).rstrip("/")
        relative = f"{root.rsplit('/', 1)[-1]}/{relative}"
    return relative


# ---------------------------------------------------------------- file views


def approx_tokens(text: str) -> int:
    """Approximate token count: words and punctuation marks (no tokenizer download needed)."""
    return len(_TOKEN_RE.findall(text))


def cut_to_tokens(text: str, budget: int) -> Tuple[str, bool]:
    """The longest prefix of `text` within `budget` approximate tokens, ending at a token; and whether it was cut."""
    beyond = next(islice(_TOKEN_RE.finditer(text), max(budget, 0), None), None)
    if beyond is None:
        return text, False
    return text[: beyond.start()].rstrip(), True


class FileSummary(SpillableRecord):
    """A file summary between stages: its JSON compressed, and the two fields that joins and ordering
    read. Training's groupings hold every summary at once, several times over: in a run they wait
    spilled (spill.py) and are read back a batch of components at a time; decoded on first use."""

    FIELDS = ("file_id", "file_path")


class PackedLink(SpillableRecord):
    """A link (reasoner.link_from_edge, link_from_candidate) between stages: its JSON compressed (a
    third to a half of the dict's encoded size; a grouping holds values decoded, where a link dict is
    several times that), and the fields that keying on its ends and its label read. In a run it
    waits spilled (spill.py) until its component batch reads it back."""

    FIELDS = ("source_id", "target_id", "label")


def file_summary(record: FileRecord, roots: Sequence[str], token_budget: int) -> Dict[str, Any]:
    """The view of one file that records carry: relative path, structure, key terms, text cut to a budget."""
    structure = record.structure
    text, truncated = cut_to_tokens(record.text or "", token_budget)
    headings = structure.get("slide_titles") or structure.get("headings") or []
    summary = {
        "file_id": record.file_id,
        "file_path": record_path(record.file_path, roots),
        "file_name": record.file_name,
        "file_type": record.file_type,
        "content_hash": record.content_hash,
        "title": record.title,
        "key_terms": list(record.key_terms[:_SUMMARY_TERMS]),
        "columns": [str(c) for c in (structure.get("columns") or [])[:_SUMMARY_COLUMNS]],
        "tables": [t.name for t in record.tables][:_SUMMARY_HEADINGS],
        "headings": [str(h.get("text") if isinstance(h, dict) else h) for h in headings[:_SUMMARY_HEADINGS]],
        "text": text,
        "text_truncated": truncated,
    }
    summary["index_words"] = identifier_words(summary)
    return summary


# A summary's text is cut to the same budget for every record that shows its file. Cached here,
# not in cut_to_tokens: file_summary cuts each full text once, and caching those would pin them.
_cut_summary_text = lru_cache(maxsize=8192)(cut_to_tokens)


def record_view(summary: Mapping[str, Any], token_budget: Optional[int] = None) -> Dict[str, Any]:
    """A file as a record shows it: no internal IDs or hashes; text cut further when a budget is given."""
    text, truncated = summary["text"], summary["text_truncated"]
    if token_budget is not None:
        text, cut = _cut_summary_text(text, token_budget)
        truncated = truncated or cut
    return {
        "file_path": summary["file_path"],
        "file_name": summary["file_name"],
        "file_type": summary["file_type"],
        "title": summary["title"],
        "key_terms": list(summary["key_terms"]),
        "columns": list(summary["columns"]),
        "headings": list(summary["headings"]),
        "text": text,
        "text_truncated": truncated,
    }


def describe_view(view: Mapping[str, Any]) -> str:
    """A file view as prompt text: structure lines, then its text."""
    lines = []
    if view.get("title"):
        lines.append(f"Title: {view['title']}")
    if view.get("columns"):
        lines.append("Columns: " + ", ".join(view["columns"]))
    if view.get("headings"):
        lines.append("Sections: " + "; ".join(h for h in view["headings"] if h))
    if view.get("key_terms"):
        lines.append("Key terms: " + ", ".join(view["key_terms"]))
    if view.get("text"):
        lines.append("Content:\n" + view["text"] + (" [...]" if view.get("text_truncated") else ""))
    return "\n".join(lines) or "(no readable content)"


def identifier_words(summary: Mapping[str, Any]) -> List[str]:
    """Lower-case words of a file's name, title, columns, tables and key terms (what the index matches)."""
    if "index_words" in summary:
        return summary["index_words"]
    fields = [summary["file_name"].rsplit(".", 1)[0], summary.get("title") or ""]
    fields += list(summary.get("columns", [])) + list(summary.get("tables", [])) + list(summary.get("key_terms", []))
    words = []
    for field in fields:
        spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(field))
        words.extend(w for w in re.findall(r"[a-z][a-z0-9]+", spaced.lower()) if len(w) > 2)
    return sorted(set(words))


def shared_words(a: Mapping[str, Any], b: Mapping[str, Any]) -> List[str]:
    return sorted(set(identifier_words(a)) & set(identifier_words(b)))


# ---------------------------------------------------------------- evidence


def _percent(value: float) -> str:
    return f"{value:.0%}"


def _join(items: Iterable[Any], limit: int = 5) -> str:
    items = [str(i) for i in items]
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _signal_values(signal: str, value: float, details: Mapping[str, Any], names: Mapping[str, str],
                   edge: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """Placeholders of one signal's statement, or None when its details are missing."""
    source, target = names[edge["source"]], names[edge["target"]]
    data_first = edge["relationship_type"] == "SUPPORTS"
    data, narrative = (source, target) if data_first else (target, source)
    inclusion = details.get("inclusion") or {}
    if signal in ("inclusion", "inclusion_name_match"):
        if not inclusion:
            return None
        src_is_source = inclusion.get("source") == edge["source"]
        return {
            "containment": _percent(float(inclusion.get("containment", 0.0))),
            "source_distinct": inclusion.get("source_distinct", "?"),
            "source_column": inclusion.get("source_column"), "target_column": inclusion.get("target_column"),
            "source_table": inclusion.get("source_table"), "target_table": inclusion.get("target_table"),
            "source": source if src_is_source else target, "target": target if src_is_source else source,
        }
    if signal == "declared_schema":
        declared = details.get("declared") or {}
        what = declared.get("basis") or "it lists table(s) " + _join(declared.get("tables") or [])
        # The declaring file by name only: its recorded path is the host's.
        return {"declarer": str(declared.get("by", "")).replace("\\", "/").rsplit("/", 1)[-1],
                "format": declared.get("format", "schema"), "what": what}
    if signal == "mentions":
        mentioning = details.get("mentioned_by")
        if mentioning not in names:
            return None
        other = edge["target"] if mentioning == edge["source"] else edge["source"]
        return {"mentioning": names[mentioning], "mentioned": names[other]}
    if signal == "aggregate_matches":
        aggregates = details.get("aggregates") or []
        if not aggregates:
            return None
        shown = [f"{a['value']:g} = {a['matches']}" for a in aggregates[:3]]
        return {"narrative": narrative, "data": data, "aggregates": _join(shown, 3)}
    if signal == "columns_named":
        if not details.get("columns_named"):
            return None
        return {"narrative": narrative, "data": data, "columns": _join(details["columns_named"])}
    if signal == "tables_named":
        if not details.get("tables_named"):
            return None
        return {"narrative": narrative, "tables": _join(details["tables_named"])}
    if signal == "key_value_hits":
        shared = details.get("shared_values") or []
        if not shared:
            return None
        values = [f"{s['column']} ({s['hits']} values)" for s in shared[:4]]
        return {"narrative": narrative, "data": data, "values": _join(values, 4)}
    if signal == "same_stem":
        stems = details.get("name_stems") or []
        return {"stem": stems[0]} if stems else None
    if signal == "version_markers":
        newer = details.get("newer")
        return {"newer": names.get(newer, source)}
    if signal == "shared_codes":
        codes = (details.get("shared_entities") or {}).get("project_code") or []
        return {"codes": _join(codes)} if codes else None
    if signal == "semantic_similarity":
        return {"value": f"{float(details.get('semantic_similarity', value)):.2f}"}
    return {"percent": _percent(min(1.0, value)), "narrative": narrative, "data": data}


def evidence_items(edge: Mapping[str, Any], names: Mapping[str, str]) -> List[Dict[str, Any]]:
    """The signals that support the edge's type, strongest first: [{signal, value, statement}].

    `names` maps the edge's file IDs to the names records use for them.
    """
    details = edge.get("evidence_details") or {}
    features = details.get("features") or {}
    items = []
    for signal in SUPPORTING_SIGNALS.get(edge["relationship_type"], ()):
        value = 1.0 if signal == "declared_schema" and "declared" in details else float(features.get(signal, 0.0))
        if value <= 0:
            continue
        values = _signal_values(signal, value, details, names, edge)
        if values is None:
            continue
        items.append({"signal": signal, "value": round(value, 4), "statement": phrase("signals", signal, **values)})
    if details.get("human_review"):  # transforms/output/review.py: a person accepted the pair
        items.append({"signal": "human_review", "value": 1.0, "statement": phrase("signals", "human_review")})
    review = details.get("synthetic_reasoning")
    if review and review.get("verdict") == "confirmed":
        items.append({"signal": "synthetic_reasoning", "value": 1.0,
                      "statement": phrase("signals", "synthetic_reasoning", model=review["model"])})
    return items

