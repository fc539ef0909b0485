"""Which file a mentioned file name means.

A memo that names "languages.csv" means one file, not every file of that name
on the drive. A name is resolved the way a reader of the memo would resolve it:

- a relative path ("cldf/languages.csv") is resolved from the mentioning
  file's folder, then matched as a path suffix, nearest first;
- a bare name means the file of that name in the mentioning file's own folder
  tree, when exactly one is there (or exactly one in its own folder);
- failing that, the only file of that name in the whole run;
- failing that, the file of that name in a mirrored tree: of those in a folder
  named as the mentioning file's own, the one sharing the most folder names
  with it, when exactly one does (reports/Sales/Q3/memo.docx names "sales.csv":
  data/Sales/Q3/sales.csv, not data/HR/Q3/sales.csv);
- otherwise the mention is ambiguous and resolves to nothing.

Names match exactly, case included: "Languages.csv" is not "languages.csv".
"""

from __future__ import annotations

import posixpath
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from transforms.model import FileRecord

Holder = Tuple[str, str]  # (file_id, path)
Mention = Tuple[str, str, str]  # (file_id, path, name as written)


def _norm(path: str) -> str:
    return path.replace("\\", "/")


def _folder(path: str) -> str:
    return posixpath.dirname(_norm(path))


def mention_name(mention: str) -> str:
    """The file name a mention is grouped by: its last path segment, as written."""
    return posixpath.basename(_norm(mention))


def _in_tree(path: str, folder: str) -> bool:
    return _norm(path).startswith(folder.rstrip("/") + "/")


def _only(candidates: List[Holder]) -> Optional[Holder]:
    return candidates[0] if len(candidates) == 1 else None


def resolve(mentioner_path: str, mention: str, holders: Sequence[Holder]) -> Optional[str]:
    """The file_id the mention means, or None when nothing or several files fit."""
    mention = _norm(mention)
    mention = mention[2:] if mention.startswith("./") else mention
    own = _norm(mentioner_path)
    holders = [h for h in holders if _norm(h[1]) != own]
    if not holders:
        return None
    folder = _folder(own)
    if "/" in mention:
        target = posixpath.normpath(posixpath.join(folder, mention))
        exact = [h for h in holders if _norm(h[1]) == target]
        if exact:
            return exact[0][0]
        suffix = [h for h in holders if _norm(h[1]).endswith("/" + mention.lstrip("/"))]
        return _nearest(own, suffix)
    in_tree = [h for h in holders if _in_tree(h[1], folder)]
    if in_tree:
        beside = [h for h in in_tree if _folder(h[1]) == folder]
        found = _only(in_tree) or _only(beside)
        return found[0] if found else None
    found = _only(holders) or _mirrored(folder, holders)
    return found[0] if found else None


def _mirrored(folder: str, holders: List[Holder]) -> Optional[Holder]:
    """The holder in a folder named as `folder` that shares the most folder names with it,
    when exactly one does: a project kept in parallel trees (data/X/P, reports/X/P)."""
    names = folder.split("/")
    if not names[-1]:
        return None
    mine = set(names)
    ranked = []
    for holder in holders:
        theirs = set(_folder(holder[1]).split("/"))
        if names[-1] in theirs:
            ranked.append((len(mine & theirs), holder))
    ranked.sort(reverse=True)
    if not ranked or (len(ranked) > 1 and ranked[0][0] == ranked[1][0]):
        return None
    return ranked[0][1]


def _common_depth(a: str, b: str) -> int:
    depth = 0
    for x, y in zip(_folder(a).split("/"), _folder(b).split("/")):
        if x != y:
            break
        depth += 1
    return depth


def _nearest(own: str, candidates: List[Holder]) -> Optional[str]:
    if not candidates:
        return None
    depths = sorted(((_common_depth(own, h[1]), h[0]) for h in candidates), reverse=True)
    if len(depths) > 1 and depths[0][0] == depths[1][0]:
        return None
    return depths[0][1]


def resolve_group(holders: Sequence[Holder], mentioners: Sequence[Mention]) -> List[Tuple[str, str]]:
    """(mentioning file_id, mentioned file_id) for every resolved mention of one file name."""
    found = set()
    for file_id, path, mention in mentioners:
        target = resolve(path, mention, holders)
        if target and target != file_id:
            found.add((file_id, target))
    return sorted(found)


def name_entries(record: FileRecord) -> List[Tuple[str, Tuple[str, ...]]]:
    """What one record contributes to resolution, keyed by file name: it holds its own
    name ("H", id, path) and mentions others ("M", id, path, mention)."""
    entries: List[Tuple[str, Tuple[str, ...]]] = [(record.file_name, ("H", record.file_id, record.file_path))]
    for mention in record.mentions:
        entries.append((mention_name(mention), ("M", record.file_id, record.file_path, mention)))
    return entries


# Name entries share blocking's grouping with its keys (CandidatePairs), under this prefix:
# no key kind (blocking.py) is named so.
NAME_GROUP = "named:"


def grouped_name_entries(record: FileRecord) -> List[Tuple[str, Tuple[str, ...]]]:
    """name_entries keyed for blocking's grouping."""
    return [(NAME_GROUP + name, entry) for name, entry in name_entries(record)]


def is_name_group(key: str) -> bool:
    return key.startswith(NAME_GROUP)


def resolve_entries(entries: Iterable[Tuple[str, ...]]) -> List[Tuple[str, str]]:
    """resolve_group over the entries `name_entries` gave for one file name."""
    holders: List[Holder] = []
    mentioners: List[Mention] = []
    for entry in entries:
        if entry[0] == "H":
            holders.append((entry[1], entry[2]))
        else:
            mentioners.append((entry[1], entry[2], entry[3]))
    if not mentioners:
        return []
    return resolve_group(sorted(holders), sorted(mentioners))


def resolve_all(records: Iterable[FileRecord]) -> List[Tuple[str, str]]:
    """Every resolved mention of a run held in memory (API, calibration, tests)."""
    groups: Dict[str, List[Tuple[str, ...]]] = {}
    for record in records:
        for name, entry in name_entries(record):
            groups.setdefault(name, []).append(entry)
    return sorted(pair for name in sorted(groups) for pair in resolve_entries(groups[name]))
