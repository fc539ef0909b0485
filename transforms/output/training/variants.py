"""Training records of every task variant, built from one connected component of the graph.

Each record has the proposal's shape (context with primary and related files,
relationships with reasoning, synthetic_reasoning {abstraction, actions,
workflow}, training_prompt, training_completion) and the same example as chat
`messages` (system / user / assistant, the OpenAI fine-tuning format). Tasks:

- find_related: one file -> the files related to it and how (the proposal's record);
- explain_link: two files' contents -> whether and how they are linked (related, uncertain or not related);
- workflow: a connected group -> its abstraction, actions and workflow order;
- trajectory: the same question as find_related answered by tool calls with their results.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

import networkx as nx

from transforms.config import TrainingConfig
from transforms.output.training import reasoner, tools
from transforms.output.training.evidence import describe_view, record_view
from transforms.output.training.reasoner import NOT_RELATED, RELATED, UNCERTAIN
from transforms.output.training.templates import phrase, prompt

_RECORD_NAMESPACE = uuid.UUID("6f1c2a52-3c1e-5b0e-9a57-6b4c8f0e9d11")
_MAX_UNCERTAIN = 2


@dataclass(frozen=True)
class RecordSettings:
    training: TrainingConfig = TrainingConfig()
    include_reasoning: bool = True  # synthetic_reasoning in relationships.strategies


def record_id(task: str, key: str) -> str:
    return str(uuid.uuid5(_RECORD_NAMESPACE, f"{task}|{key}"))


def _record(task: str, key: str, label: str, primary: Mapping[str, Any], related: List[Dict[str, Any]],
            links: Sequence[Mapping[str, Any]], reasoning: Dict[str, Any], user: str, completion: str,
            settings: RecordSettings, messages: Optional[List[Dict[str, Any]]] = None) -> Dict[str, Any]:
    system = prompt("system")
    record = {
        "id": record_id(task, key),
        "task": task,
        "label": label,
        "context": {"primary_file": primary, "related_files": related},
        "relationships": [reasoner.relationship_view(l) for l in links],
        "synthetic_reasoning": reasoning if settings.include_reasoning else None,
        "training_prompt": user,
        "training_completion": completion,
        "messages": messages or [{"role": "system", "content": system}, {"role": "user", "content": user},
                                 {"role": "assistant", "content": completion}],
    }
    return record


def _related_view(summary: Mapping[str, Any], link: Mapping[str, Any], path: str, budget: int) -> Dict[str, Any]:
    return {**record_view(summary, budget), "relationship_type": link["relationship_type"],
            "direction": reasoner.direction(link, path), "label": link["label"]}


def _plan(reasoning: Mapping[str, Any], settings: RecordSettings) -> str:
    if not settings.include_reasoning:
        return ""
    steps = "\n".join(f"{i + 1}. {s}" for i, s in enumerate(reasoning["workflow"]))
    return f"{reasoning['abstraction']}\n\nSteps:\n{steps}\n\n"


def _other_id(link: Mapping[str, Any], file_id: str) -> str:
    return link["target_id"] if link["source_id"] == file_id else link["source_id"]


def _by_confidence(links: Iterable[Mapping[str, Any]]) -> List[Mapping[str, Any]]:
    return sorted(links, key=lambda l: (-(l["confidence"] or 0.0), l["source"], l["target"]))


def _sure(links: Iterable[Mapping[str, Any]], cfg: TrainingConfig) -> List[Mapping[str, Any]]:
    """The related links a record teaches, most confident first, at most max_related_files."""
    return _by_confidence(l for l in links if l["label"] == RELATED)[: cfg.max_related_files]


# ---------------------------------------------------------------- find_related


def find_related(primary: Mapping[str, Any], links: Sequence[Mapping[str, Any]], files: Mapping[str, Mapping],
                 settings: RecordSettings) -> Optional[Dict[str, Any]]:
    """The proposal's record: a file and the files the graph is sure are related to it."""
    cfg = settings.training
    path = primary["file_path"]
    sure = _sure(links, cfg)
    if not sure:
        return None
    others = [files[_other_id(l, primary["file_id"])] for l in sure]
    searches = [(q, [others[i]["file_path"] for i in found]) for q, found in tools.plan_searches(primary, others)]
    reasoning = reasoner.primary_reasoning(primary, sure, searches)
    view = record_view(primary, cfg.primary_token_budget)
    user = prompt("find_related").format(path=path, file_type=primary["file_type"], file_view=describe_view(view))
    completion = _plan(reasoning, settings) + reasoner.answer_sections(sure, path)
    related = [_related_view(o, l, path, cfg.related_token_budget) for o, l in zip(others, sure)]
    return _record("find_related", path, RELATED, view, related, sure, reasoning, user, completion, settings)


# ---------------------------------------------------------------- explain_link


def explain_link(link: Mapping[str, Any], files: Mapping[str, Mapping], settings: RecordSettings) -> Dict[str, Any]:
    budget = settings.training.primary_token_budget
    a, b = files[link["source_id"]], files[link["target_id"]]
    view_a, view_b = record_view(a, budget), record_view(b, budget)
    user = prompt("explain_link").format(path_a=a["file_path"], type_a=a["file_type"], view_a=describe_view(view_a),
                                         path_b=b["file_path"], type_b=b["file_type"], view_b=describe_view(view_b))
    lines = [reasoner.verdict(link), link["reasoning"]]
    if link["evidence"]:
        lines.append("Evidence:\n" + "\n".join(f"- {e['statement']}" for e in link["evidence"]))
    reasoning = reasoner.pair_reasoning(link, a, b)
    completion = "\n\n".join(lines)
    related = [{**view_b, "relationship_type": link["relationship_type"],
                "direction": reasoner.direction(link, a["file_path"]), "label": link["label"]}]
    return _record("explain_link", f"{link['source']}|{link['target']}", link["label"], view_a, related, [link],
                   reasoning, user, completion, settings)


# ---------------------------------------------------------------- workflow


def workflow_groups(links: Sequence[Mapping[str, Any]], max_files: int) -> List[List[str]]:
    """Connected groups of files over related links, each at most `max_files`; large components are covered
    by stars around their best-connected files."""
    graph = nx.Graph()
    graph.add_edges_from((l["source"], l["target"]) for l in links if l["label"] == RELATED)
    groups = []
    for component in sorted((sorted(c) for c in nx.connected_components(graph)), key=lambda c: c[0]):
        if len(component) <= max_files:
            groups.append(component)
            continue
        covered: set = set()
        for hub in sorted(component, key=lambda p: (-graph.degree(p), p)):
            fresh = sorted(n for n in graph.neighbors(hub) if n not in covered)
            if not fresh:
                continue
            members = [hub] + sorted(fresh, key=lambda n: (-graph.degree(n), n))[: max_files - 1]
            groups.append(sorted(members))
            covered.update(members)
    return groups


def workflow(group: Sequence[str], links: Sequence[Mapping[str, Any]], files_by_path: Mapping[str, Mapping],
             settings: RecordSettings) -> Dict[str, Any]:
    members = set(group)
    inner = sorted((l for l in links if l["label"] == RELATED and l["source"] in members and l["target"] in members),
                   key=lambda l: (l["source"], l["target"]))
    reasoning = reasoner.group_reasoning(group, inner, files_by_path)
    order = [p for generation in reasoner.workflow_order(group, inner) for p in generation]
    budget = settings.training.related_token_budget
    views = {p: record_view(files_by_path[p], budget) for p in order}
    listing = "\n\n".join(f"{p} ({views[p]['file_type']})\n{describe_view(views[p])}" for p in sorted(group))
    user = prompt("workflow").format(count=len(group), file_list=listing)
    actions = "\n".join(f"- {a['tool']}({', '.join(str(v) for v in a['args'].values())}): {a['observation']}"
                        for a in reasoning["actions"])
    steps = "\n".join(f"{i + 1}. {s}" for i, s in enumerate(reasoning["workflow"]))
    completion = "\n\n".join([phrase("answers", "workflow_abstraction", abstraction=reasoning["abstraction"]),
                              phrase("answers", "workflow_actions") + "\n" + actions,
                              phrase("answers", "workflow_order") + "\n" + steps])
    primary = views[order[0]]
    related = [{**views[p], "relationship_type": None, "direction": "none", "label": RELATED} for p in order[1:]]
    return _record("workflow", "|".join(sorted(group)), RELATED, primary, related, inner, reasoning, user,
                   completion, settings)


# ---------------------------------------------------------------- trajectory


def trajectory(primary: Mapping[str, Any], links: Sequence[Mapping[str, Any]], files: Mapping[str, Mapping],
               settings: RecordSettings) -> Optional[Dict[str, Any]]:
    """find_related answered by tool calls: open the file, search the index, open and compare candidates."""
    cfg = settings.training
    path = primary["file_path"]
    sure = _sure(links, cfg)
    if not sure:
        return None
    unsure = _by_confidence(l for l in links if l["label"] == UNCERTAIN)[:_MAX_UNCERTAIN]
    negative = sorted((l for l in links if l["label"] == NOT_RELATED), key=lambda l: (l["source"], l["target"]))
    candidates = list(sure) + list(unsure) + negative[: cfg.negatives_per_file]
    others = [files[_other_id(l, primary["file_id"])] for l in candidates]
    searches = tools.plan_searches(primary, others)
    found = sorted({i for _, hits in searches for i in hits})
    if not any(candidates[i]["label"] == RELATED for i in found):
        return None
    counter = iter(range(1, 1000))

    def turn(calls: List[tuple]) -> List[Dict[str, Any]]:
        ids = [f"call_{next(counter)}" for _ in calls]
        assistant = {"role": "assistant", "content": None,
                     "tool_calls": [tools.call(i, name, args) for i, (name, args, _) in zip(ids, calls)]}
        return [assistant] + [tools.result_message(i, result) for i, (_, _, result) in zip(ids, calls)]

    user = prompt("trajectory").format(path=path)
    messages = [{"role": "system", "content": prompt("system")}, {"role": "user", "content": user}]
    messages += turn([("open_file", {"path": path}, tools.open_result(primary, cfg.primary_token_budget))])
    messages += turn([("search_files", {"query": q}, tools.search_result(q, others, hits)) for q, hits in searches])
    best = next(i for i in found if candidates[i]["label"] == RELATED)
    messages += turn([("open_file", {"path": others[best]["file_path"]},
                       tools.open_result(others[best], cfg.related_token_budget))])
    messages += turn([("compare_files", {"path_a": path, "path_b": others[i]["file_path"]},
                       tools.compare_result(primary, others[i], candidates[i])) for i in found])
    chosen = [candidates[i] for i in found]
    answer = reasoner.answer_sections(chosen, path)
    messages.append({"role": "assistant", "content": answer})
    reasoning = reasoner.primary_reasoning(
        primary, chosen, [(q, [others[i]["file_path"] for i in hits]) for q, hits in searches])
    related = [_related_view(others[i], candidates[i], path, cfg.related_token_budget) for i in found]
    record = _record("trajectory", path, RELATED, record_view(primary, cfg.primary_token_budget), related, chosen,
                     reasoning, user, answer, settings, messages)
    record["tools"] = tools.TOOLS
    return record


# ---------------------------------------------------------------- one component


def component_records(files: Mapping[str, Mapping[str, Any]], own: Iterable[str], links: Sequence[Mapping[str, Any]],
                      settings: RecordSettings, share: Tuple[int, int] = (0, 1)) -> Iterator[Dict[str, Any]]:
    """Every record of one connected component, each as it is made.

    `files` maps file IDs to summaries (the component's own files and the
    other ends of links that leave it); `own` lists the component's file IDs;
    `links` are the links touching it: related ones inside it, uncertain and
    not-related ones possibly to another component of the same split.

    With `share` = (part, parts), only the records of every parts-th unit from
    `part` on, a unit being one file's records, one link's explanation or one
    group's workflow: the parts of a large component are built apart, and
    together give its records.
    """
    part, parts = share
    units = itertools.count()
    tasks = set(settings.training.tasks)
    own = set(own)
    links = [l for l in links if l["label"] != UNCERTAIN or settings.training.uncertain_examples]
    links = sorted(links, key=lambda l: (l["source"], l["target"]))
    touching: Dict[str, List[Mapping[str, Any]]] = {}
    for link in links:
        for end in (link["source_id"], link["target_id"]):
            touching.setdefault(end, []).append(link)
    for file_id in sorted(own, key=lambda i: files[i]["file_path"]):
        if next(units) % parts != part:
            continue
        mine = touching.get(file_id, [])
        if "find_related" in tasks:
            yield from _made(find_related(files[file_id], mine, files, settings))
        if "trajectory" in tasks:
            yield from _made(trajectory(files[file_id], mine, files, settings))
    if "explain_link" in tasks:  # a link between two components is explained in its source's
        for link in links:
            if link["source_id"] in own and next(units) % parts == part:
                yield explain_link(link, files, settings)
    if "workflow" in tasks:
        by_path = {files[i]["file_path"]: files[i] for i in own}
        inner = [l for l in links if l["label"] == RELATED]
        from_file: Dict[str, List[int]] = {}  # a group's links are among those from its files
        for n, link in enumerate(inner):
            from_file.setdefault(link["source"], []).append(n)
        for group in workflow_groups(inner, settings.training.max_group_files):
            if next(units) % parts == part:
                near = [inner[n] for n in sorted({n for path in group for n in from_file.get(path, ())})]
                yield workflow(group, near, by_path, settings)


def _made(record: Optional[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [] if record is None else [record]
