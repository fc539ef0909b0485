"""Neo4j import files: node and relationship CSVs for `neo4j-admin database import full`,
and a Cypher script that loads the same CSVs into a running database with LOAD CSV.

Headers follow the admin import format: `:ID`, `:LABEL`, `:START_ID`, `:END_ID`,
`:TYPE`, and typed properties (`size:long`, `confidence:float`, `keyTerms:string[]`,
arrays split on ';'). Text cells are neutralised against formula injection
(transforms/output/csv_cells.py), so a value that began with =, +, - or @ is stored with
a leading apostrophe.
"""

from __future__ import annotations

from typing import Any, BinaryIO, Iterable, List, Mapping, Sequence, Tuple

from transforms.detect.scoring import RELATIONSHIP_TYPES
from transforms.model import DATA_TYPES, NARRATIVE_TYPES
from transforms.output.csv_cells import write_csv

ARRAY_DELIMITER = ";"

# (header, row field, is text) per column; the header carries the Neo4j type.
NODE_COLUMNS: Tuple[Tuple[str, str, bool], ...] = (
    ("fileId:ID", "file_id", True), (":LABEL", "labels", True), ("path", "file_path", True),
    ("relativePath", "relative_path", True), ("name", "file_name", True), ("fileType", "file_type", True),
    ("size:long", "file_size", False), ("createdAt", "created_at", True), ("modifiedAt", "modified_at", True),
    ("author", "author", True), ("title", "title", True), ("contentHash", "content_hash", True),
    ("keyTerms:string[]", "key_terms", True), ("componentId:int", "component_id", False),
    ("degree:int", "degree", False), ("isHub:boolean", "is_hub", False), ("isOrphan:boolean", "is_orphan", False),
)
RELATIONSHIP_COLUMNS: Tuple[Tuple[str, str, bool], ...] = (
    (":START_ID", "source", True), (":END_ID", "target", True), (":TYPE", "relationship_type", True),
    ("confidence:float", "confidence", False), ("evidence:string[]", "evidence", True),
    ("description", "description", True), ("humanReviewed:boolean", "human_reviewed", False),
)


def labels(file_type: str) -> str:
    kind = "Data" if file_type in DATA_TYPES else "Document" if file_type in NARRATIVE_TYPES else None
    return ARRAY_DELIMITER.join(["File"] + ([kind] if kind else []))


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ARRAY_DELIMITER.join(str(v).replace(ARRAY_DELIMITER, ",") for v in value)
    return value


def _write_csv(handle: BinaryIO, columns: Sequence[Tuple[str, str, bool]], rows: Iterable[Mapping[str, Any]]) -> None:
    write_csv(handle, [c[0] for c in columns], ([_cell(row.get(c[1])) for c in columns] for row in rows),
              [c[2] for c in columns])


def write_nodes_csv(handle: BinaryIO, nodes: Iterable[Mapping[str, Any]]) -> None:
    _write_csv(handle, NODE_COLUMNS, ({**n, "labels": labels(n["file_type"])} for n in nodes))


def write_relationships_csv(handle: BinaryIO, edges: Iterable[Mapping[str, Any]]) -> None:
    _write_csv(handle, RELATIONSHIP_COLUMNS, edges)


def _property(header: str, field_expr: str) -> str:
    name, _, kind = header.partition(":")
    if kind == "long" or kind == "int":
        return f"toInteger({field_expr})"
    if kind == "float":
        return f"toFloat({field_expr})"
    if kind == "boolean":
        return f"{field_expr} = 'true'"
    if kind == "string[]":
        return f"split({field_expr}, '{ARRAY_DELIMITER}')"
    return field_expr


def _sets(var: str, columns: Sequence[Tuple[str, str, bool]]) -> str:
    props = [c[0] for c in columns if not c[0].startswith(":") and ":ID" not in c[0]]
    return ",\n    ".join(f"{var}.{h.partition(':')[0]} = {_property(h, f'row.`{h}`')}" for h in props)


def cypher_script(nodes_file: str = "nodes.csv", relationships_file: str = "relationships.csv") -> str:
    """LOAD CSV statements for the two CSVs placed in the database's import folder."""
    lines: List[str] = [
        "// filegraph: load nodes.csv and relationships.csv into a running Neo4j (4.4 or 5).",
        "// Copy both files into the database's import folder, then run this script with cypher-shell:",
        "//   cypher-shell -u neo4j -p PASSWORD -f import.cypher",
        "// For an empty database, the offline bulk import is faster:",
        f"//   neo4j-admin database import full --nodes={nodes_file} --relationships={relationships_file} "
        f"--array-delimiter='{ARRAY_DELIMITER}' neo4j",
        "CREATE CONSTRAINT filegraph_file_id IF NOT EXISTS FOR (f:File) REQUIRE f.fileId IS UNIQUE;",
        "",
        f"LOAD CSV WITH HEADERS FROM 'file:///{nodes_file}' AS row",
        "MERGE (f:File {fileId: row.`fileId:ID`})",
        "SET " + _sets("f", NODE_COLUMNS) + ";",
        "",
        f"LOAD CSV WITH HEADERS FROM 'file:///{nodes_file}' AS row",
        "WITH row WHERE row.`:LABEL` CONTAINS 'Data'",
        "MATCH (f:File {fileId: row.`fileId:ID`}) SET f:Data;",
        "",
        f"LOAD CSV WITH HEADERS FROM 'file:///{nodes_file}' AS row",
        "WITH row WHERE row.`:LABEL` CONTAINS 'Document'",
        "MATCH (f:File {fileId: row.`fileId:ID`}) SET f:Document;",
    ]
    # Relationship types cannot be parameters in Cypher without APOC: one statement per type.
    for kind in RELATIONSHIP_TYPES:
        lines += [
            "",
            f"LOAD CSV WITH HEADERS FROM 'file:///{relationships_file}' AS row",
            f"WITH row WHERE row.`:TYPE` = '{kind}'",
            "MATCH (a:File {fileId: row.`:START_ID`}), (b:File {fileId: row.`:END_ID`})",
            f"MERGE (a)-[r:{kind}]->(b)",
            "SET " + _sets("r", RELATIONSHIP_COLUMNS) + ";",
        ]
    return "\n".join(lines) + "\n"
