"""The offline reasoner: labelled links, reasoning, abstraction and workflow from the graph's evidence.

Deterministic and network-free: every sentence is a template of
templates/reasoning.yaml filled with evidence the pipeline measured. A link is
one pair of files as records teach it: `related` (confidence at or above the
level where measured precision reaches `training.precision_level`),
`uncertain` (an edge below it) or `not_related` (a candidate pair that the
index proposed and the graph does not connect).
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import networkx as nx

from transforms.output.training.evidence import evidence_items
from transforms.output.training.templates import phrase, phrases

RELATED, UNCERTAIN, NOT_RELATED = "related", "uncertain", "not_related"
# The end of an edge that comes first in a workflow: the data before the report that uses it.
_UPSTREAM_IS_SOURCE = {"SUPPORTS": True, "SUMMARIZES": False, "DOCUMENTS": False, "REFERENCES": False,
                       "VERSION_OF": False}


def _statements(items: Sequence[Mapping[str, Any]], limit: int = 4) -> str:
    return "; ".join(i["statement"] for i in items[:limit])


def link_from_edge(edge: Mapping[str, Any], paths: Mapping[str, str], threshold: float,
                   precision_level: float) -> Dict[str, Any]:
    """An edge (edge dict of the graph) as a labelled link between relative paths."""
    kind = edge["relationship_type"]
    source, target = paths[edge["source"]], paths[edge["target"]]
    items = evidence_items(edge, paths)
    review = (edge.get("evidence_details") or {}).get("synthetic_reasoning") or {}
    # A borderline edge that an LLM confirmed from both files' contents is taught as related.
    confirmed = review.get("verdict") == "confirmed"
    label = RELATED if edge["confidence"] >= threshold or confirmed else UNCERTAIN
    verb = phrase("types", kind, "verb")
    if confirmed:
        reasoning = phrase("reasoning", "llm_confirmed", reasoning=review["reasoning"], model=review["model"],
                           quotes="; ".join(f'"{q}"' for q in review.get("evidence_quotes", [])[:3]))
        reasoner = f"llm:{review['model']}"
    elif label == RELATED:
        reasoning = (phrase("reasoning", "related", source=source, verb=verb, target=target,
                            statements=_statements(items))
                     if items else phrase("reasoning", "related_without_statements", source=source, verb=verb,
                                          target=target))
        reasoner = "offline"
    else:
        reasoning = phrase("reasoning", "uncertain", source=source, verb=verb, target=target,
                           statements=_statements(items) or "no signal specific to this type",
                           confidence=f"{edge['confidence']:.2f}", threshold=f"{threshold:.2f}",
                           precision=f"{precision_level:.0%}")
        reasoner = "offline"
    return {
        "source_id": edge["source"], "target_id": edge["target"], "source": source, "target": target,
        "relationship_type": kind, "label": label, "confidence": edge["confidence"],
        "evidence": items, "description": f"{source} {verb} {target}.", "reasoning": reasoning, "reasoner": reasoner,
    }


def link_from_candidate(id_a: str, id_b: str, kinds: Sequence[str], paths: Mapping[str, str]) -> Dict[str, Any]:
    """A candidate pair that blocking proposed and the graph does not connect: a not-related example."""
    a, b = paths[id_a], paths[id_b]
    shared = [phrase("blocking_kinds", k) for k in sorted(set(kinds)) if k in _blocking_kinds()]
    reasoning = phrase("reasoning", "not_related", a=a, b=b, shared=_and(shared) or "index keys")
    return {
        "source_id": id_a, "target_id": id_b, "source": a, "target": b, "relationship_type": None,
        "label": NOT_RELATED, "confidence": None, "evidence": [],
        "description": f"{a} and {b} are not related.", "reasoning": reasoning, "reasoner": "offline",
    }


def _blocking_kinds() -> Mapping[str, str]:
    return phrases()["blocking_kinds"]


def _and(items: Sequence[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def relationship_view(link: Mapping[str, Any]) -> Dict[str, Any]:
    """A link as a record's `relationships` item."""
    return {k: link[k] for k in ("source", "target", "relationship_type", "label", "confidence", "evidence",
                                 "description", "reasoning", "reasoner")}


def other_end(link: Mapping[str, Any], path: str) -> str:
    return link["target"] if link["source"] == path else link["source"]


def direction(link: Mapping[str, Any], path: str) -> str:
    """How the link points from the file at `path`: outgoing, incoming, or none (not related / RELATED_TO)."""
    if link["label"] == NOT_RELATED or link["relationship_type"] == "RELATED_TO":
        return "none"
    return "outgoing" if link["source"] == path else "incoming"


def roles(links: Sequence[Mapping[str, Any]]) -> str:
    kinds = sorted({l["relationship_type"] for l in links if l["relationship_type"]})
    return "; ".join(phrase("types", k, "abstraction") for k in kinds)


def answer_line(link: Mapping[str, Any], path: str) -> str:
    other = other_end(link, path)
    way = direction(link, path)
    arrow = phrase("answers", f"direction_{way}", path=other) if way != "none" else "no direction"
    key = {RELATED: "related_line", UNCERTAIN: "uncertain_line", NOT_RELATED: "not_related_line"}[link["label"]]
    return phrase("answers", key, path=other, relationship=link["relationship_type"] or "", direction=arrow,
                  reasoning=link["reasoning"])


def answer_sections(links: Sequence[Mapping[str, Any]], path: str) -> str:
    """The answer's lists of related, uncertain and not related files, in that order."""
    blocks = []
    for label, heading in ((RELATED, "related_heading"), (UNCERTAIN, "uncertain_heading"),
                           (NOT_RELATED, "not_related_heading")):
        lines = [answer_line(l, path) for l in links if l["label"] == label]
        if lines:
            blocks.append(phrase("answers", heading) + "\n" + "\n".join(lines))
    return "\n\n".join(blocks) or phrase("answers", "none_found")


def verdict(link: Mapping[str, Any]) -> str:
    if link["label"] == NOT_RELATED:
        return phrase("answers", "verdict_not_related", a=link["source"], b=link["target"])
    key = "verdict_related" if link["label"] == RELATED else "verdict_uncertain"
    return phrase("answers", key, source=link["source"], target=link["target"],
                  relationship=link["relationship_type"])


# ---------------------------------------------------------------- groups


def workflow_order(paths: Sequence[str], links: Sequence[Mapping[str, Any]]) -> List[List[str]]:
    """Files in the order work flows through them (upstream first), as generations of equals."""
    graph = nx.DiGraph()
    graph.add_nodes_from(paths)
    for link in links:
        kind = link["relationship_type"]
        if kind in _UPSTREAM_IS_SOURCE:
            up, down = ((link["source"], link["target"]) if _UPSTREAM_IS_SOURCE[kind]
                        else (link["target"], link["source"]))
            graph.add_edge(up, down)
    if not nx.is_directed_acyclic_graph(graph):
        return [sorted(paths)]
    return [sorted(generation) for generation in nx.topological_generations(graph)]


def observe(summary: Mapping[str, Any]) -> str:
    """What opening a file shows at a glance: its columns, else its sections, else its type."""
    if summary.get("columns"):
        return "columns " + ", ".join(summary["columns"][:8])
    if summary.get("headings"):
        return "sections " + "; ".join(h for h in summary["headings"][:5] if h)
    return f"a {summary['file_type']} file" + (f" titled '{summary['title']}'" if summary.get("title") else "")


def group_reasoning(paths: Sequence[str], links: Sequence[Mapping[str, Any]],
                    files_by_path: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
    """Abstraction, actions and workflow of a connected group of files."""
    order = workflow_order(paths, links)
    first = order[0][0]
    starts = {l["target"] if not _UPSTREAM_IS_SOURCE.get(l["relationship_type"], False) else l["source"]: l
              for l in links}
    start_role = (phrase("types", starts[first]["relationship_type"],
                         "role_target" if starts[first]["target"] == first else "role_source")
                  if first in starts else "the first file")
    workflow = [phrase("workflow", "group_start", path=first, role=start_role)]
    rank = {p: i for i, generation in enumerate(order) for p in generation}
    for link in sorted(links, key=lambda l: (max(rank[l["source"]], rank[l["target"]]), l["source"], l["target"])):
        workflow.append(phrase("workflow", "group_step", source=link["source"], target=link["target"],
                               verb=phrase("types", link["relationship_type"], "verb")))
    parallel = [g for g in order if len(g) > 1]
    for generation in parallel[:2]:
        workflow.append(phrase("workflow", "group_parallel", paths=_and(generation)))
    actions = [{"tool": "open_file", "args": {"path": p}, "observation": observe(files_by_path[p])}
               for p in order[0][:3]]
    for link in links:
        actions.append(compare_action(link))
    return {
        "abstraction": phrase("abstraction", "group", count=len(paths), roles=roles(links)),
        "actions": actions,
        "workflow": workflow,
    }


def compare_action(link: Mapping[str, Any]) -> Dict[str, Any]:
    return {"tool": "compare_files", "args": {"path_a": link["source"], "path_b": link["target"]},
            "observation": _statements(link["evidence"], 2) or link["description"]}


def primary_reasoning(primary: Mapping[str, Any], links: Sequence[Mapping[str, Any]],
                      searches: Sequence[Tuple[str, Sequence[str]]]) -> Dict[str, Any]:
    """Abstraction, actions (with what each observed) and workflow of finding a file's related files.

    `searches` are the (query, paths found) of the index searches that found the links' other ends.
    """
    path = primary["file_path"]
    actions = [{"tool": "open_file", "args": {"path": path}, "observation": observe(primary)}]
    workflow = [phrase("workflow", "open_primary", path=path)]
    for query, found in searches:
        actions.append({"tool": "search_files", "args": {"query": query}, "observation": _and(list(found))})
        workflow.append(phrase("workflow", "search", query=query))
    for link in links:
        other = other_end(link, path)
        action = compare_action(link)
        action["args"] = {"path_a": path, "path_b": other}
        actions.append(action)
        workflow.append(phrase("workflow", "compare", path=path, other=other, finding=link["description"]))
    workflow.append(phrase("workflow", "record"))
    return {
        "abstraction": phrase("abstraction", "primary", name=path, count=len(links) + 1, roles=roles(links)),
        "actions": actions,
        "workflow": workflow,
    }


def pair_reasoning(link: Mapping[str, Any], a: Mapping[str, Any], b: Mapping[str, Any]) -> Dict[str, Any]:
    """Abstraction, actions and workflow of explaining one link between the files `a` (source) and `b`."""
    if link["label"] == NOT_RELATED:
        abstraction = phrase("abstraction", "pair_not_related")
    else:
        key = "pair_related" if link["label"] == RELATED else "pair_uncertain"
        abstraction = phrase("abstraction", key, abstraction=phrase("types", link["relationship_type"], "abstraction"))
    actions = [{"tool": "open_file", "args": {"path": s["file_path"]}, "observation": observe(s)}
               for s in (a, b)] + [compare_action(link)]
    workflow = [phrase("workflow", "open_primary", path=link["source"]),
                phrase("workflow", "open_primary", path=link["target"]),
                phrase("workflow", "compare", path=link["source"], other=link["target"], finding=link["description"])]
    return {"abstraction": abstraction, "actions": actions, "workflow": workflow}


def optional(reasoning: Dict[str, Any], include: bool) -> Optional[Dict[str, Any]]:
    return reasoning if include else None
