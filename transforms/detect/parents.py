"""One parent per foreign-key column: the global step of REFERENCES.

Pairwise, a key column looks like it references every table whose ids
contain its values: a 1..23 store id sits inside products 1..46, customers
1..392 and orders 1..1950. A real schema gives each key column one parent.
Across all candidate pairs of a child file, each child column keeps the
parent that the evidence supports best: name evidence first, then the
strength of the value evidence, then nearness in the folder tree (a schema's
tables are usually kept together). When the best two are indistinguishable,
the column is ambiguous and references nothing. An edge survives when at
least one column, in either direction, chose its other end; it points the way
its strongest surviving column does.

Runs in two steps so the pipeline can distribute it: `choose_parents` over the
candidates of one child file, then `apply_winners` over one pair's edge.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from transforms.detect.scoring import Edge

# A candidate this much weaker than the best is clearly beaten.
CLEAR_MARGIN = 0.1
# Candidates at least this strong take part.
MIN_STRENGTH = 0.5
# Name evidence this sure (the key's own name, the parent table's name) keeps tied parents.
SURE_NAME = 0.9

Pair = Tuple[str, str]
# (pair, candidate, child path, parent path)
Entry = Tuple[Pair, Mapping[str, Any], str, str]


def pair_of(edge: Edge) -> Pair:
    return (edge.source, edge.target) if edge.source < edge.target else (edge.target, edge.source)


def is_inclusion_edge(edge: Edge) -> bool:
    return edge.relationship_type == "REFERENCES" and "inclusion" in edge.evidence_details


def candidate_entries(edge: Edge) -> List[Tuple[str, Entry]]:
    """(child file id, entry) for every inclusion candidate an edge carries, both directions."""
    if not is_inclusion_edge(edge):
        return []
    paths = {edge.source: edge.source_path, edge.target: edge.target_path}
    pair = pair_of(edge)
    out = []
    candidates = edge.evidence_details.get("inclusion_candidates") or [edge.evidence_details["inclusion"]]
    for cand in candidates:
        child = cand.get("source", edge.source)
        parent = pair[1] if child == pair[0] else pair[0]
        if float(cand["strength"]) >= MIN_STRENGTH and child in paths:
            out.append((child, (pair, dict(cand, source=child, target=parent), paths[child], paths[parent])))
    return out


def _shared_depth(a: str, b: str) -> int:
    pa, pb = a.replace("\\", "/").split("/")[:-1], b.replace("\\", "/").split("/")[:-1]
    depth = 0
    for x, y in zip(pa, pb):
        if x != y:
            break
        depth += 1
    return depth


def _rank(entry: Entry) -> Tuple[float, float, int]:
    _, cand, child_path, parent_path = entry
    return float(cand.get("name_match", 0.0)), float(cand["strength"]), _shared_depth(child_path, parent_path)


def _distinguishable(best: Tuple[float, float, int], second: Tuple[float, float, int]) -> bool:
    if best[0] != second[0]:
        return True  # names decide
    if best[1] - second[1] >= CLEAR_MARGIN * max(best[1], 1e-9):
        return True  # clearly stronger values
    return best[2] != second[2]  # nearer in the folder tree


def choose_parents(entries: Iterable[Entry]) -> List[Tuple[Pair, Mapping[str, Any]]]:
    """For one child file's candidates: (pair, candidate) for each key column's chosen parent."""
    by_column: Dict[Tuple[str, str, bool], List[Entry]] = {}
    for entry in entries:
        cand = entry[1]
        by_column.setdefault((cand["source_table"], cand["source_column"], bool(cand.get("list_items"))),
                             []).append(entry)
    chosen = []
    for column in sorted(by_column):
        ranked = sorted(by_column[column], key=lambda e: (_rank(e), e[0]), reverse=True)
        tied = [e for e in ranked if not _distinguishable(_rank(ranked[0]), _rank(e))]
        if len(tied) > 1 and _rank(ranked[0])[0] < SURE_NAME:
            continue  # ambiguous: the values fit several parents equally well
        # Parents the names point at equally surely are copies of one key table: each is referenced.
        chosen.extend((e[0], e[1]) for e in tied)
    return chosen


def apply_winners(edge: Edge, winners: Sequence[Mapping[str, Any]]) -> Optional[Edge]:
    """The pair's edge if any key column chose it, pointing from child to parent, with evidence
    naming the columns that chose it; None when every column chose another parent."""
    if not is_inclusion_edge(edge):
        return edge
    if not winners:
        return None
    winners = sorted(winners, key=lambda c: (-float(c["strength"]), c["source"], c["source_column"]))
    best = winners[0]
    details = dict(edge.evidence_details)
    details["inclusion"] = dict(best)
    details["inclusion_candidates"] = [dict(c) for c in winners]
    if best["source"] == edge.source:
        source, target, s_path, t_path = edge.source, edge.target, edge.source_path, edge.target_path
    else:
        source, target, s_path, t_path = edge.target, edge.source, edge.target_path, edge.source_path
    description = edge.description if source == edge.source else (
        f"{t_path.rsplit('/', 1)[-1]} is referenced by {s_path.rsplit('/', 1)[-1]}: "
        f"{best['containment']:.0%} of {best['source_column']} values appear in key column {best['target_column']}.")
    return Edge(source, target, edge.relationship_type, edge.confidence, edge.evidence, details,
                description, s_path, t_path)


def resolve(edges: Iterable[Edge]) -> List[Edge]:
    """In-memory resolution over a whole graph (API, calibration)."""
    edges = list(edges)
    by_child: Dict[str, List[Entry]] = {}
    for edge in edges:
        for child, entry in candidate_entries(edge):
            by_child.setdefault(child, []).append(entry)
    winners: Dict[Pair, List[Mapping[str, Any]]] = {}
    for child in sorted(by_child):
        for pair, cand in choose_parents(by_child[child]):
            winners.setdefault(pair, []).append(cand)
    kept = (apply_winners(e, winners.get(pair_of(e), [])) for e in edges)
    return sorted((e for e in kept if e is not None), key=lambda e: (e.source, e.target))
