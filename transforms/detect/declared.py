"""Edges that files declare: DOCUMENTS from metadata to its tables, REFERENCES along declared foreign keys.

A file with a declared schema (`FileRecord.declared`, read by
transforms/extract/declared.py) DOCUMENTS every table it lists that is in the
run, and each foreign key it declares is a REFERENCES edge from the child
table's file to the parent table's file. Tables are found without blocking:

- by path, when the declaration gives one (CSVW `url`, datapackage `path`),
  relative to the metadata file's folder; a listed file that is absent gives nothing;
- otherwise by table name (SQL DDL, dbt, JSON Schema, remote paths): a data
  file whose name or table/sheet is that name, under the declaration's folder,
  and only when exactly one file there matches.

Resolution is a keyed join: declarations emit (key, Lookup), every data file
emits (key, Candidate) for its path and names, and `resolve` meets them per key.
The Beam pipeline distributes exactly these functions (transforms/ptransforms/detect.py
DeclaredEdges, MergeDeclared); `declared_edges` and `merge_declared` run them in memory.

Declared edges are merged with scored ones by `merge_pair`: a declared edge wins
over a scored edge of the same pair (whose evidence is kept alongside), and the
declaration overrules guesses about what it describes (see `merge_pair`).
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Tuple
from urllib.parse import unquote

from transforms.detect.scoring import Edge
from transforms.model import FileRecord

EVIDENCE = "declared_schema"
# How sure a declared edge is. The declaration is exact; what can go wrong is
# finding its tables: a path names one file, a table name may name a look-alike.
RESOLVED_CONFIDENCE = {"path": 0.99, "name": 0.95}
# A declared key column the file does not have: the export and its schema differ.
MISSING_COLUMN_FACTOR = 0.9
FORMAT_LABELS = {"csvw": "CSVW metadata", "datapackage": "data package", "json_schema": "JSON Schema",
                 "sql_ddl": "SQL DDL", "dbt": "dbt schema"}
_DATA_EXTENSIONS = frozenset("csv tsv json jsonl xlsx xlsm xls sqlite db parquet txt".split())
_OVERRULED_TYPES = ("REFERENCES", "DOCUMENTS")


@dataclass(frozen=True)
class Lookup:
    """One table of one declaration, to be found among the run's files."""

    declaration_id: str
    table: str  # the declared table's name, as the declaration writes it
    by: str  # "path" | "name"
    scope: str  # the declaration's folder: name matches must lie under it


@dataclass(frozen=True)
class Candidate:
    """What a data file offers to lookups: its path, names and column fill."""

    file_id: str
    file_path: str
    file_name: str
    # table name -> {column name: non-empty values}
    tables: Tuple[Tuple[str, Tuple[Tuple[str, int], ...]], ...] = ()


@dataclass(frozen=True)
class Resolution:
    """A declared table found in one file (file_id "" when it was not found uniquely)."""

    table: str
    by: str
    file_id: str = ""
    file_path: str = ""
    file_name: str = ""
    table_in_file: str = ""
    columns: Tuple[Tuple[str, int], ...] = ()
    matches: int = 0  # files that matched a name lookup in scope


@dataclass(frozen=True)
class DeclaredScope:
    """What declarations rule over, for merging: see `merge_pair`."""

    declarations: FrozenSet[str] = frozenset()  # files that declare tables
    key_groups: Mapping[str, FrozenSet[str]] = field(default_factory=dict)  # file -> declarations with keys


# ---------------------------------------------------------------- keys


def _split_uri(uri: str) -> Tuple[str, str]:
    uri = uri.replace("\\", "/")
    scheme, sep, rest = uri.partition("://")
    return (scheme + sep, rest) if sep else ("", uri)


def path_key(uri: str) -> str:
    prefix, rest = _split_uri(uri)
    return "path\0" + prefix + posixpath.normpath(rest)


def name_key(name: str) -> str:
    """'hr.Departments', 'departments.csv', 'data/departments.csv' -> the key of 'departments'."""
    last = name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    stem, dot, extension = last.rpartition(".")
    if dot and extension.lower() in _DATA_EXTENSIONS:
        last = stem
    return "name\0" + last.strip().casefold()


def _folder(uri: str) -> str:
    prefix, rest = _split_uri(uri)
    return prefix + posixpath.dirname(posixpath.normpath(rest))


def _under(path: str, folder: str) -> bool:
    """Whether `path` lies in `folder` or below it."""
    folder = folder.rstrip("/")
    return not folder or path.replace("\\", "/").startswith(folder + "/")


def _is_remote(path: str) -> bool:
    return "://" in path or path.startswith("//")


def _declared_tables(declared: Mapping[str, Any]) -> Dict[str, Dict[str, Any]]:
    """Listed tables by casefolded name."""
    return {t["name"].casefold(): t for t in declared.get("tables", [])}


# ---------------------------------------------------------------- lookups and candidates


def table_lookups(record: FileRecord) -> List[Tuple[str, Lookup]]:
    """(key, Lookup) for every table a declaration lists or names in a foreign key."""
    declared = record.declared
    if not declared:
        return []
    listed = _declared_tables(declared)
    names = [t["name"] for t in declared.get("tables", [])]
    names += [n for fk in declared.get("foreign_keys", []) for n in (fk["table"], fk["ref_table"])]
    scope = _folder(record.file_path)
    out: Dict[str, Tuple[str, Lookup]] = {}
    for name in names:
        if name.casefold() in out:
            continue
        path = (listed.get(name.casefold()) or {}).get("path")
        if path and not _is_remote(path):
            key, by = path_key(posixpath.join(scope, unquote(path))), "path"
        else:
            key, by = name_key(name), "name"
        out[name.casefold()] = (key, Lookup(record.file_id, name, by, scope))
    return [out[name] for name in sorted(out)]


def candidate_entries(record: FileRecord) -> List[Tuple[str, Candidate]]:
    """(key, Candidate) for a data file's path, its name and each of its tables' names."""
    if not record.is_data or record.declared:
        return []
    tables = tuple(
        (t.name, tuple((c.name, c.count) for c in t.columns)) for t in record.tables)
    candidate = Candidate(record.file_id, record.file_path, record.file_name, tables)
    keys = {path_key(record.file_path), name_key(record.file_name)}
    keys.update(name_key(t.name) for t in record.tables if t.name)
    return [(key, candidate) for key in sorted(keys)]


def _table_in(candidate: Candidate, key: str) -> Tuple[str, Tuple[Tuple[str, int], ...]]:
    """The candidate's table a lookup means: the one of that name, or its only table."""
    for name, columns in candidate.tables:
        if name_key(name) == key:
            return name, columns
    return candidate.tables[0] if len(candidate.tables) == 1 else ("", ())


def resolve(key: str, lookups: Iterable[Lookup], candidates: Iterable[Candidate]) -> List[Tuple[str, Resolution]]:
    """(declaration id, Resolution) for each lookup of one key."""
    candidates = list({c.file_id: c for c in candidates}.values())
    out = []
    for lookup in lookups:
        found = candidates if lookup.by == "path" else [c for c in candidates if _under(c.file_path, lookup.scope)]
        if len(found) == 1:
            table, columns = _table_in(found[0], key)
            resolution = Resolution(lookup.table, lookup.by, found[0].file_id, found[0].file_path,
                                    found[0].file_name, table, columns, 1)
        else:
            resolution = Resolution(lookup.table, lookup.by, matches=len(found))
        out.append((lookup.declaration_id, resolution))
    return out


# ---------------------------------------------------------------- edges


def _column_fill(resolution: Resolution, names: Sequence[str]) -> Optional[int]:
    """Non-empty values of the first of `names` the file's table has, or None when it has none."""
    fill = {c.casefold(): n for c, n in resolution.columns}
    for name in names:
        if name.casefold() in fill:
            return fill[name.casefold()]
    return None


def _key_columns(table: Optional[Mapping[str, Any]], column: str) -> List[str]:
    """A declared column's name and its CSVW header titles."""
    titles = (table or {}).get("titles", {}).get(column, [])
    return [column] + [t for t in titles if t != column]


def _documents(record: FileRecord, declared: Mapping[str, Any], resolved: Mapping[str, Resolution]) -> List[Edge]:
    label = FORMAT_LABELS.get(declared["format"], declared["format"])
    keys = len(declared.get("foreign_keys", []))
    by_file: Dict[str, List[Resolution]] = defaultdict(list)
    for table in declared.get("tables", []):
        found = resolved.get(table["name"].casefold())
        if found and found.file_id and found.file_id != record.file_id:
            by_file[found.file_id].append(found)
    edges = []
    for file_id, found in sorted(by_file.items()):
        tables = sorted({r.table for r in found})
        by = "path" if all(r.by == "path" for r in found) else "name"
        edges.append(Edge(
            source=record.file_id, target=file_id, relationship_type="DOCUMENTS",
            confidence=RESOLVED_CONFIDENCE[by], evidence=[EVIDENCE],
            evidence_details={"declared": {"by": record.file_path, "format": declared["format"],
                                           "tables": tables, "resolved_by": by, "foreign_keys_declared": keys}},
            description=f"{record.file_name} documents {found[0].file_name}: {label} lists table "
                        f"{', '.join(tables)}.",
            source_path=record.file_path, target_path=found[0].file_path))
    return edges


def _references(record: FileRecord, declared: Mapping[str, Any], resolved: Mapping[str, Resolution]) -> List[Edge]:
    listed = _declared_tables(declared)
    pairs: Dict[Tuple[str, str], Dict[str, Any]] = {}
    for fk in declared.get("foreign_keys", []):
        child, parent = resolved.get(fk["table"].casefold()), resolved.get(fk["ref_table"].casefold())
        if not (child and parent and child.file_id and parent.file_id) or child.file_id == parent.file_id:
            continue
        table = listed.get(fk["table"].casefold())
        fills = [_column_fill(child, _key_columns(table, c)) for c in fk["columns"]]
        if fills and all(f == 0 for f in fills):
            continue  # the key column is empty in every row: nothing is referenced
        confidence = min(RESOLVED_CONFIDENCE[child.by], RESOLVED_CONFIDENCE[parent.by])
        if any(f is None for f in fills) and child.columns:
            confidence *= MISSING_COLUMN_FACTOR
        entry = pairs.setdefault((child.file_id, parent.file_id), {
            "child": child, "parent": parent, "basis": [], "confidence": 0.0})
        entry["basis"].append(fk["basis"])
        entry["confidence"] = max(entry["confidence"], confidence)
    edges = []
    for (child_id, parent_id), entry in sorted(pairs.items()):
        child, parent = entry["child"], entry["parent"]
        basis = "; ".join(sorted(set(entry["basis"])))
        edges.append(Edge(
            source=child_id, target=parent_id, relationship_type="REFERENCES",
            confidence=round(entry["confidence"], 4), evidence=[EVIDENCE],
            evidence_details={"declared": {"by": record.file_path, "format": declared["format"], "basis": basis,
                                           "resolved_by": "path" if child.by == parent.by == "path" else "name"}},
            description=f"{child.file_name} references {parent.file_name}: declared in {record.file_name} ({basis}).",
            source_path=child.file_path, target_path=parent.file_path))
    return edges


def edges_for_declaration(record: FileRecord, resolutions: Iterable[Resolution]) -> List[Edge]:
    """The DOCUMENTS and REFERENCES edges one declaration gives, once its tables are found."""
    if not record.declared:
        return []
    resolved = {r.table.casefold(): r for r in resolutions}
    return _documents(record, record.declared, resolved) + _references(record, record.declared, resolved)


def declared_edges(records: Sequence[FileRecord]) -> List[Edge]:
    """Every declared edge of a run, in memory: the same join the pipeline runs with CoGroupByKey."""
    lookups: Dict[str, List[Lookup]] = defaultdict(list)
    candidates: Dict[str, List[Candidate]] = defaultdict(list)
    for record in records:
        for key, lookup in table_lookups(record):
            lookups[key].append(lookup)
        for key, candidate in candidate_entries(record):
            candidates[key].append(candidate)
    resolutions: Dict[str, List[Resolution]] = defaultdict(list)
    for key in sorted(lookups):
        for declaration_id, resolution in resolve(key, lookups[key], candidates.get(key, [])):
            resolutions[declaration_id].append(resolution)
    edges = [e for r in records if r.declared for e in edges_for_declaration(r, resolutions[r.file_id])]
    return sorted(edges, key=lambda e: (e.source, e.target, e.relationship_type))


# ---------------------------------------------------------------- merging with scored edges


def declared_scope(declaration_ids: Iterable[str], edges: Iterable[Edge]) -> DeclaredScope:
    """Declarations and, per file, the declarations with foreign keys that document it."""
    groups: Dict[str, set] = defaultdict(set)
    for edge in edges:
        details = edge.evidence_details.get("declared", {})
        if edge.relationship_type == "DOCUMENTS" and details.get("foreign_keys_declared"):
            groups[edge.target].add(edge.source)
    return DeclaredScope(frozenset(declaration_ids), {k: frozenset(v) for k, v in groups.items()})


def pair_key(edge: Edge) -> Tuple[str, str]:
    return (edge.source, edge.target) if edge.source <= edge.target else (edge.target, edge.source)


def overruled(edge: Edge, scope: DeclaredScope) -> bool:
    """Whether a declaration contradicts a scored edge that no declaration made.

    - What a declaration points at is what it declares: a scored REFERENCES or
      DOCUMENTS from a declaration file (a name it mentions, a value it shares)
      is a guess the declaration already answered.
    - A declaration with foreign keys lists the keys between its tables: a scored
      REFERENCES between two tables it documents, which it does not declare, is chance.
    """
    if edge.relationship_type in _OVERRULED_TYPES and edge.source in scope.declarations:
        return True
    if edge.relationship_type == "REFERENCES":
        return bool(scope.key_groups.get(edge.source, frozenset()) & scope.key_groups.get(edge.target, frozenset()))
    return False


def _with_scored(edge: Edge, scored: Optional[Edge]) -> Edge:
    if scored is None:
        return edge
    details = dict(edge.evidence_details)
    details["scored"] = {"relationship_type": scored.relationship_type, "confidence": scored.confidence,
                         "evidence": list(scored.evidence), "description": scored.description,
                         "source": scored.source}
    return Edge(edge.source, edge.target, edge.relationship_type, edge.confidence,
                sorted(set(edge.evidence) | set(scored.evidence)), details, edge.description,
                edge.source_path, edge.target_path)


def _combine(same_direction: Sequence[Edge]) -> Edge:
    """Declared edges of one direction from several declarations: one edge naming all of them."""
    first = max(same_direction, key=lambda e: (e.confidence, e.evidence_details["declared"]["by"]))
    if len(same_direction) == 1:
        return first
    details = dict(first.evidence_details)
    declarations = [e.evidence_details["declared"] for e in same_direction]
    details["declared"] = dict(details["declared"])
    bases = sorted({b for d in declarations for b in d.get("basis", "").split("; ") if b})
    if bases:
        details["declared"]["basis"] = "; ".join(bases)
    details["declared_also_by"] = sorted({d["by"] for d in declarations} - {details["declared"]["by"]})
    return Edge(first.source, first.target, first.relationship_type, first.confidence, first.evidence,
                details, first.description, first.source_path, first.target_path)


def merge_pair(scored: Sequence[Edge], declared: Sequence[Edge], scope: DeclaredScope,
               min_confidence: float = 0.0) -> List[Edge]:
    """The edges of one unordered file pair: declared edges win, scored evidence kept alongside.

    A pair may carry two declared edges (a cycle: employees -> departments ->
    employees), one per direction. Without a declared edge, scored edges stand
    unless `overruled`.
    """
    declared = [e for e in declared if e.confidence >= min_confidence]
    if not declared:
        return [e for e in scored if not overruled(e, scope)]
    best_scored = max(scored, key=lambda e: (e.confidence, e.source), default=None)
    by_direction: Dict[Tuple[str, str, str], List[Edge]] = defaultdict(list)
    for edge in declared:
        by_direction[(edge.source, edge.target, edge.relationship_type)].append(edge)
    merged = [_combine(by_direction[k]) for k in sorted(by_direction)]
    return [_with_scored(merged[0], best_scored)] + merged[1:]


def merge_declared(scored: Sequence[Edge], declared: Sequence[Edge], scope: DeclaredScope,
                   min_confidence: float = 0.0) -> List[Edge]:
    """`merge_pair` over every pair, in memory."""
    by_pair: Dict[Tuple[str, str], Tuple[List[Edge], List[Edge]]] = defaultdict(lambda: ([], []))
    for edge in scored:
        by_pair[pair_key(edge)][0].append(edge)
    for edge in declared:
        by_pair[pair_key(edge)][1].append(edge)
    out = [e for key in sorted(by_pair) for e in merge_pair(*by_pair[key], scope, min_confidence)]
    return sorted(out, key=lambda e: (e.source, e.target))
