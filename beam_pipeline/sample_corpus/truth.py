"""The truth collector and the drive: files written, typed edges, hard negatives.

Foreign keys are resolved per project by real containment of the values. Hard
negatives are pairs that look related and are not: within a project they are
found from the tables themselves (an integer column inside another file's
integer keys, with no edge between the files); across projects they come from
marks that builders leave (this file was filled in from the minutes template,
this table uses the country list...), paired by `negatives_from_marks`.
"""

from __future__ import annotations

import calendar
import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Dict, List, Sequence, Tuple

from beam_pipeline.sample_corpus.projects import Project
from beam_pipeline.sample_corpus.tables import ForeignKey, Table

DECOY_KINDS = frozenset({"smallint", "constant", "pct"})
SMALL_INT = 10_000  # keys up to this are surrogate-like: they fit inside other tables' 1..n ranges
# Which roles of one class make a hard negative when they meet across projects.
PAIR_ROLES = {
    "template_sibling_minutes": {("minutes", "minutes")},
    "template_sibling_memo_series": {("memo", "memo")},
    "template_sibling_readme": {("readme", "readme"), ("readme", "documented")},
    "shared_code_list": {("table", "table")},
    "standard_readme": {("standard", "table")},
    "coincident_numbers": {("shows", "holds"), ("shows", "shows")},
    "shared_public_code": {("memo", "memo")},
    "trivial_content": {("file", "file")},
    "small_integer_domain": {("decoy", "keys")},
}
PARTNERS_PER_MARK = 6  # cross-project pairs listed per mark: enough to test, linear in the corpus
SCAN_BUDGET = 300  # candidates looked at per mark, so pairing stays linear too


@dataclass(frozen=True)
class Mark:
    """One side of a possible cross-project hard negative."""

    cls: str
    group: str  # marks pair only within a group (one template, one code list...)
    role: str
    rel: str
    owner: str  # project code; "" for corpus-level files
    payload: Tuple[Any, ...] = ()  # small_integer_domain: decoy values, or (lo, hi) of a dense key


def _int_cells(cells: Sequence[Any]) -> bool:
    return bool(cells) and all(isinstance(v, int) and not isinstance(v, bool) for v in cells)


class Truth:
    """Files written, edges and hard negatives; key containment resolved per project."""

    def __init__(self, owner: str = "") -> None:
        self.owner = owner
        self.files: List[str] = []
        self._file_set: set = set()
        self.file_projects: Dict[str, str] = {}
        self.edges: Dict[frozenset, dict] = {}
        self.negatives: Dict[frozenset, dict] = {}
        self.marks: List[Mark] = []
        self.tables_by_file: Dict[str, List[Table]] = {}
        self._holders: Dict[str, List[Tuple[str, str, set]]] = defaultdict(list)
        self._refs: List[Tuple[str, ForeignKey, set]] = []

    def add_file(self, rel: str) -> None:
        self.files.append(rel)
        self._file_set.add(rel)
        if self.owner:
            self.file_projects[rel] = self.owner

    def edge(self, source: str, target: str, kind: str, note: str, **extra: Any) -> None:
        pair = frozenset((source, target))
        if source == target or pair in self.edges:
            raise ValueError(f"duplicate or self edge {kind}: {source} / {target}")
        a, b = sorted((source, target))
        self.edges[pair] = {"a": a, "b": b, "type": kind, "source": source, "note": note, **extra}

    def negative(self, x: str, y: str, cls: str, note: str) -> None:
        """A pair that looks related and is not; the first class named for a pair is kept."""
        pair = frozenset((x, y))
        if x != y and pair not in self.edges and pair not in self.negatives:
            a, b = sorted((x, y))
            self.negatives[pair] = {"a": a, "b": b, "class": cls, "note": note}

    def mark(self, cls: str, group: str, role: str, rel: str, payload: Tuple[Any, ...] = ()) -> None:
        self.marks.append(Mark(cls, group, role, rel, self.owner, payload))

    def register_tables(self, rel: str, tables: Sequence[Table]) -> None:
        """A data file's tables: keys it holds, foreign keys it declares."""
        self.tables_by_file[rel] = list(tables)
        for table in tables:
            if table.key:
                self._holders[table.uid].append((rel, table.key, set(table.col(table.key))))
            for fk in table.fks:
                self._refs.append((rel, fk, fk.values(table.col(fk.column))))

    def versions(self, rels_old_to_new: Sequence[str], what: str) -> None:
        for j, newer in enumerate(rels_old_to_new):
            for older in rels_old_to_new[:j]:
                self.edge(newer, older, "VERSION_OF",
                          f"{what}: {PurePosixPath(newer).name} is a later version of {PurePosixPath(older).name}")

    def finish_project(self, p: Project) -> None:
        """Resolve this project's foreign keys, list its integer look-alikes, relate its narratives."""
        for src, fk, values in self._refs:
            found = False
            for tgt, key, keys in self._holders.get(fk.target_uid, []):
                held = {str(k) for k in keys} if fk.separator else keys
                share = len(values & held) / len(values) if values else 0.0
                if tgt == src:
                    found = True
                    continue
                if share >= 0.5:
                    found = True
                    extra = {"class": fk.hard_class} if fk.hard_class else {}
                    self.edge(src, tgt, "REFERENCES",
                              f"{fk.column} -> {key} ({fk.target_table}): {share:.0%} of {len(values)} distinct values found",
                              columns=[fk.column, key], **extra)
            if not found:
                raise AssertionError(f"foreign key {fk.column} of {src} resolved to no file")
        self._integer_lookalikes()
        self._holders.clear()
        self._refs.clear()
        narr = sorted(p.narratives)
        for i, a in enumerate(narr):
            for b in narr[i + 1:]:
                if frozenset((a, b)) not in self.edges:
                    self.edge(a, b, "RELATED_TO", f"narrative files of project {p.code} ({p.name})")

    def _integer_lookalikes(self) -> None:
        """Integer columns inside another file's integer keys, with no edge between the files."""
        keys = [(rel, t.key, set(t.col(t.key))) for rel, tables in sorted(self.tables_by_file.items())
                for t in tables if t.key and _int_cells(t.col(t.key))]
        for rel, tables in sorted(self.tables_by_file.items()):
            for t in tables:
                for column in t.columns:
                    cells = t.col(column)
                    if not _int_cells(cells):
                        continue
                    values = set(cells)
                    if t.kinds.get(column) in DECOY_KINDS or (t.kinds.get(column) in ("key", "fk")
                                                              and 0 < min(values) and max(values) <= SMALL_INT):
                        self.mark("small_integer_domain", "int", "decoy", rel, tuple(sorted(values)))
                    for other, key, held in keys:
                        if other != rel and values <= held:
                            self.negative(rel, other, "small_integer_domain",
                                          f"{column} ({min(values)}..{max(values)}, {len(values)} values) lies inside "
                                          f"{key} of {PurePosixPath(other).name} ({min(held)}..{max(held)})")
        for rel, key, held in keys:
            if max(held) - min(held) + 1 == len(held):  # dense: every integer of the range is a key
                self.mark("small_integer_domain", "int", "keys", rel, (min(held), max(held)))

    def merge(self, other: "Truth") -> None:
        """Take over another collector's files, edges, negatives and marks (a built project)."""
        clash = next((f for f in other.files if f in self._file_set), None)
        if clash:
            raise ValueError(f"path written by two projects: {clash}")
        self.files.extend(other.files)
        self._file_set.update(other.files)
        self.file_projects.update(other.file_projects)
        for pair, e in other.edges.items():
            if pair in self.edges:
                raise ValueError(f"duplicate edge {e['a']} / {e['b']}")
            self.edges[pair] = e
        for pair, n in other.negatives.items():
            self.negatives.setdefault(pair, n)
        self.marks.extend(other.marks)

    def pair_marks(self) -> None:
        for a, b, cls, note in negatives_from_marks(self.marks):
            self.negative(a, b, cls, note)

    def to_dict(self, seed: int, projects: int, about: str) -> dict:
        edges = sorted(self.edges.values(), key=lambda e: (e["a"], e["b"], e["type"]))
        negatives = sorted((n for pair, n in self.negatives.items() if pair not in self.edges),
                           key=lambda n: (n["a"], n["b"]))
        return {"about": about, "seed": seed, "projects": projects, "files": sorted(self.files), "edges": edges,
                "hard_negatives": negatives, "file_projects": dict(sorted(self.file_projects.items()))}

    def project_state(self) -> "Truth":
        """What a worker process sends back: everything but the per-project working sets."""
        self.tables_by_file = {}
        return self


def _compatible(cls: str, a: Mark, b: Mark) -> bool:
    if cls != "small_integer_domain":
        return True
    decoy, keys = (a, b) if a.role == "decoy" else (b, a)
    lo, hi = keys.payload
    return lo <= decoy.payload[0] and decoy.payload[-1] <= hi


def negatives_from_marks(marks: Sequence[Mark]) -> List[Tuple[str, str, str, str]]:
    """Cross-project hard negatives: marks of one class and group, of pairing roles, of different owners.

    Each mark looks at the marks after it (wrapping round) and takes at most
    PARTNERS_PER_MARK partners, so the list grows linearly with the corpus.
    """
    groups: Dict[Tuple[str, str], List[Mark]] = defaultdict(list)
    for m in marks:
        groups[(m.cls, m.group)].append(m)
    out = []
    for (cls, _group), members in groups.items():
        allowed = PAIR_ROLES[cls]
        for i, a in enumerate(members):
            starts = [r2 for r1, r2 in allowed if r1 == a.role]
            if not starts:
                continue
            taken = 0
            for step in range(1, min(len(members), SCAN_BUDGET + 1)):
                b = members[(i + step) % len(members)]
                if b.role not in starts or (a.owner and a.owner == b.owner) or a.rel == b.rel:
                    continue
                if not _compatible(cls, a, b):
                    continue
                out.append((a.rel, b.rel, cls, _note(cls, a, b)))
                taken += 1
                if taken >= PARTNERS_PER_MARK:
                    break
    return out


def _note(cls: str, a: Mark, b: Mark) -> str:
    who = f"{a.owner or 'no project'} / {b.owner or 'no project'}"
    if cls == "small_integer_domain":
        decoy, keys = (a, b) if a.role == "decoy" else (b, a)
        return (f"{len(decoy.payload)} integer value(s) ({decoy.payload[0]}..{decoy.payload[-1]}) of "
                f"{PurePosixPath(decoy.rel).name} lie inside the key range {keys.payload[0]}..{keys.payload[1]} of "
                f"{PurePosixPath(keys.rel).name}; {who}")
    return f"{a.role} / {b.role} of {a.group}; {who}"


class Drive:
    """The output root: creates folders, stamps mtimes, registers files."""

    def __init__(self, root: Path, owner: str = "") -> None:
        self.root = root
        self.truth = Truth(owner)
        self._paths: set = set()

    def put(self, rel: str, write: Callable[[Path], None], when: datetime) -> str:
        if rel in self._paths:
            raise ValueError(f"path written twice: {rel}")
        self._paths.add(rel)
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        write(path)
        stamp = calendar.timegm(when.timetuple())
        os.utime(path, (stamp, stamp))
        self.truth.add_file(rel)
        return rel

    def modified(self, rel: str) -> datetime:
        return datetime.fromtimestamp(os.stat(self.root / rel).st_mtime, timezone.utc).replace(tzinfo=None)


def name_of(rel: str) -> str:
    return PurePosixPath(rel).name
