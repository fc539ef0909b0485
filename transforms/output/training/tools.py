"""The agent's tools in trajectory records, and their results computed from the pipeline's own data.

Three tools, in the OpenAI function-calling shape: `search_files` (the file
index, matched on names, titles, columns, tables and key terms), `open_file`
(the redacted text and structure the pipeline extracted, cut to a budget) and
`compare_files` (the terms two files share and the signals the graph measured
between them). Search runs over the candidates that blocking proposed for the
file, so every result is a real file with a real verdict to teach.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Sequence, Tuple

from transforms.output.training.evidence import identifier_words, record_view, shared_words

MAX_SEARCHES = 3
# Words too common to make a search: they match nearly every file.
_STOP_WORDS = frozenset({"the", "and", "for", "with", "from", "this", "that", "are", "was", "not", "all", "csv",
                         "xlsx", "data", "file", "table", "sheet"})

TOOLS: List[Dict[str, Any]] = [
    {"type": "function", "function": {
        "name": "search_files",
        "description": "Search the file index. Matches words of file names, titles, column and table names and "
                       "key terms; returns the matching files with what matched.",
        "parameters": {"type": "object", "properties": {
            "query": {"type": "string", "description": "one or more words"}}, "required": ["query"]}}},
    {"type": "function", "function": {
        "name": "open_file",
        "description": "Open a file: its type, title, columns, section headings, key terms and its text "
                       "(redacted, possibly truncated).",
        "parameters": {"type": "object", "properties": {
            "path": {"type": "string", "description": "path relative to the drive root"}}, "required": ["path"]}}},
    {"type": "function", "function": {
        "name": "compare_files",
        "description": "Compare two files: the terms they share and the signals measured between them "
                       "(value inclusion, matching aggregates, named columns, shared codes, name similarity...).",
        "parameters": {"type": "object", "properties": {
            "path_a": {"type": "string", "description": "first file"},
            "path_b": {"type": "string", "description": "second file"}}, "required": ["path_a", "path_b"]}}},
]


def _useful(words: Sequence[str]) -> List[str]:
    return [w for w in words if w not in _STOP_WORDS]


def plan_searches(primary: Mapping[str, Any], candidates: Sequence[Mapping[str, Any]]
                  ) -> List[Tuple[str, List[int]]]:
    """Queries that find the candidates: greedily the word shared with most unfound candidates.

    Returns (query, indexes of the candidates it finds); a candidate sharing
    no word with the primary is not found.
    """
    shared = [set(_useful(shared_words(primary, c))) for c in candidates]
    unfound = set(range(len(candidates)))
    searches = []
    while unfound and len(searches) < MAX_SEARCHES:
        counts: Dict[str, int] = {}
        for i in unfound:
            for word in shared[i]:
                counts[word] = counts.get(word, 0) + 1
        if not counts:
            break
        query = min(counts, key=lambda w: (-counts[w], w))
        found = [i for i in range(len(candidates)) if query in identifier_words(candidates[i])]
        searches.append((query, found))
        unfound -= set(found)
    return searches


def search_result(query: str, candidates: Sequence[Mapping[str, Any]], found: Sequence[int]) -> Dict[str, Any]:
    return {"query": query, "results": [
        {"path": candidates[i]["file_path"], "file_type": candidates[i]["file_type"], "title": candidates[i]["title"],
         "matched": query} for i in found]}


def open_result(summary: Mapping[str, Any], token_budget: int) -> Dict[str, Any]:
    view = record_view(summary, token_budget)
    return {"path": view.pop("file_path"), **{k: v for k, v in view.items() if k != "file_name"}}


def compare_result(a: Mapping[str, Any], b: Mapping[str, Any], link: Mapping[str, Any]) -> Dict[str, Any]:
    """What comparing two files shows: shared terms and the measured signals (none for an unrelated pair)."""
    return {
        "path_a": a["file_path"], "path_b": b["file_path"],
        "shared_terms": _useful(shared_words(a, b))[:12],
        "signals": [{"signal": e["signal"], "finding": e["statement"]} for e in link["evidence"]],
    }


def call(call_id: str, name: str, arguments: Mapping[str, Any]) -> Dict[str, Any]:
    """One tool call of an assistant message (arguments as a JSON string, as the API sends them)."""
    return {"id": call_id, "type": "function",
            "function": {"name": name, "arguments": json.dumps(dict(arguments), sort_keys=True)}}


def result_message(call_id: str, result: Mapping[str, Any]) -> Dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": json.dumps(dict(result), ensure_ascii=False)}
