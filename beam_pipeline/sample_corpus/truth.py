"""The truth collector and the drive: files written, typed edges, foreign keys resolved."""

from __future__ import annotations

import calendar
import os
from collections import defaultdict
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Dict, List, Sequence, Tuple

from beam_pipeline.sample_corpus.projects import Project
from beam_pipeline.sample_corpus.tables import ForeignKey, Table

EDGE_TYPES = ("SUMMARIZES", "SUPPORTS", "DOCUMENTS", "REFERENCES", "VERSION_OF", "RELATED_TO")
NARRATIVE_EXTENSIONS = frozenset({"pptx", "docx", "md", "txt"})
DATA_EXTENSIONS = frozenset({"xlsx", "csv", "json", "jsonl", "sqlite", "db"})


class Truth:
    """Files written and edges between them; key containment resolved per project."""

    def __init__(self) -> None:
        self.files: List[str] = []
        self.edges: Dict[frozenset, dict] = {}
        self._holders: Dict[str, List[Tuple[str, str, set]]] = defaultdict(list)
        self._refs: List[Tuple[str, ForeignKey, set]] = []

    def add_file(self, rel: str) -> None:
        self.files.append(rel)

    def edge(self, source: str, target: str, kind: str, note: str, **extra: Any) -> None:
        pair = frozenset((source, target))
        if source == target or pair in self.edges:
            raise ValueError(f"duplicate or self edge {kind}: {source} / {target}")
        a, b = sorted((source, target))
        self.edges[pair] = {"a": a, "b": b, "type": kind, "source": source, "note": note, **extra}

    def hold(self, rel: str, table: Table) -> None:
        if table.key:
            self._holders[table.uid].append((rel, table.key, set(table.col(table.key))))

    def refer(self, rel: str, table: Table) -> None:
        for fk in table.fks:
            self._refs.append((rel, fk, set(table.col(fk.column))))

    def versions(self, rels_old_to_new: Sequence[str], what: str) -> None:
        for j, newer in enumerate(rels_old_to_new):
            for older in rels_old_to_new[:j]:
                self.edge(newer, older, "VERSION_OF",
                          f"{what}: {PurePosixPath(newer).name} is a later version of {PurePosixPath(older).name}")

    def finish_project(self, p: Project) -> None:
        """Resolve this project's foreign keys, then relate its narratives."""
        for src, fk, values in self._refs:
            holders = self._holders.get(fk.target_uid, [])
            found = False
            for tgt, key, keys in holders:
                share = len(values & keys) / len(values) if values else 0.0
                if tgt == src:
                    found = True
                    continue
                if share >= 0.5:
                    found = True
                    self.edge(src, tgt, "REFERENCES",
                              f"{fk.column} -> {key} ({fk.target_table}): {share:.0%} of {len(values)} distinct values found",
                              columns=[fk.column, key])
            if not found:
                raise AssertionError(f"foreign key {fk.column} of {src} resolved to no file")
        self._holders.clear()
        self._refs.clear()
        narr = sorted(p.narratives)
        for i, a in enumerate(narr):
            for b in narr[i + 1:]:
                if frozenset((a, b)) not in self.edges:
                    self.edge(a, b, "RELATED_TO", f"narrative files of project {p.code} ({p.name})")

    def merge(self, files: List[str], edges: List[dict]) -> None:
        """Take over another collector's files and edges (a built project)."""
        self.files.extend(files)
        for e in edges:
            pair = frozenset((e["a"], e["b"]))
            if pair in self.edges:
                raise ValueError(f"duplicate edge {e['a']} / {e['b']}")
            self.edges[pair] = e

    def to_dict(self, seed: int, projects: int, about: str) -> dict:
        edges = sorted(self.edges.values(), key=lambda e: (e["a"], e["b"], e["type"]))
        return {"about": about, "seed": seed, "projects": projects, "files": sorted(self.files), "edges": edges}


class Drive:
    """The output root: creates folders, stamps mtimes, registers files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.truth = Truth()
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


def name_of(rel: str) -> str:
    return PurePosixPath(rel).name
