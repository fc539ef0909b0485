"""Parquet tables of a run for DuckDB, Spark, BigQuery or pandas: nodes, edges, components, errors.

Each table has a fixed pyarrow schema (so an empty run still has typed columns);
nested values (entities, evidence details, per-type counts) are JSON text columns
that DuckDB reads with `->>` / `json_extract`. Rows are sorted and the writer's
options fixed, so the files are byte-identical run after run.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from transforms.output.graph_data import as_json

NODES = pa.schema([
    ("file_id", pa.string()), ("file_path", pa.string()), ("relative_path", pa.string()),
    ("file_name", pa.string()), ("file_type", pa.string()), ("file_size", pa.int64()),
    ("created_at", pa.string()), ("modified_at", pa.string()), ("author", pa.string()), ("title", pa.string()),
    ("content_hash", pa.string()), ("key_terms", pa.list_(pa.string())), ("entities", pa.string()),
    ("component_id", pa.int32()), ("degree", pa.int32()), ("in_degree", pa.int32()), ("out_degree", pa.int32()),
    ("is_hub", pa.bool_()), ("is_orphan", pa.bool_()),
])
EDGES = pa.schema([
    ("source", pa.string()), ("target", pa.string()), ("source_path", pa.string()), ("target_path", pa.string()),
    ("relationship_type", pa.string()), ("confidence", pa.float64()), ("evidence", pa.list_(pa.string())),
    ("description", pa.string()), ("human_reviewed", pa.bool_()), ("component_id", pa.int32()),
    ("evidence_details", pa.string()),
])
COMPONENTS = pa.schema([
    ("component_id", pa.int32()), ("files", pa.int32()), ("edges", pa.int32()), ("label", pa.string()),
    ("central_file", pa.string()), ("stages", pa.int32()), ("mean_confidence", pa.float64()),
    ("file_types", pa.string()), ("edges_by_type", pa.string()),
])
ERRORS = pa.schema([
    ("file_id", pa.string()), ("file_path", pa.string()), ("stage", pa.string()), ("error_type", pa.string()),
    ("message", pa.string()),
])


ROWS_PER_GROUP = 50_000  # rows converted and written together: memory stays bounded on large runs


def _table(schema: pa.Schema, rows: Sequence[Mapping[str, Any]], json_columns: Sequence[str] = (),
           fields: Optional[Mapping[str, str]] = None) -> pa.Table:
    """Rows as a table of `schema`; a column is read from the row field `fields` names, else its own."""
    columns: Dict[str, list] = {name: [] for name in schema.names}
    sources = [(name, (fields or {}).get(name, name)) for name in schema.names]
    for row in rows:
        for name, source in sources:
            value = row.get(source)
            columns[name].append(as_json(value) if name in json_columns and value is not None else value)
    return pa.table(columns, schema=schema)


def _parquet(schema: pa.Schema, rows: Sequence[Mapping[str, Any]], json_columns: Sequence[str] = (),
             fields: Optional[Mapping[str, str]] = None) -> bytes:
    sink = pa.BufferOutputStream()
    with pq.ParquetWriter(sink, schema, compression="zstd", write_statistics=True) as out:
        for start in range(0, max(len(rows), 1), ROWS_PER_GROUP):
            out.write_table(_table(schema, rows[start:start + ROWS_PER_GROUP], json_columns, fields))
    return sink.getvalue().to_pybytes()


def nodes_parquet(nodes: Sequence[Mapping[str, Any]]) -> bytes:
    """Node rows of graph_data.node_row: entities are JSON text already."""
    return _parquet(NODES, nodes, fields={"entities": "entities_json"})


def edges_parquet(edges: Sequence[Mapping[str, Any]]) -> bytes:
    """Edge rows of graph_data.edge_row: evidence details are JSON text already."""
    return _parquet(EDGES, edges, fields={"evidence_details": "evidence_details_json"})


def components_parquet(components: Sequence[Mapping[str, Any]]) -> bytes:
    rows = [{**c, "stages": len(c["stages"])} for c in components]
    return _parquet(COMPONENTS, rows, ("file_types", "edges_by_type"))


def errors_parquet(errors: Sequence[Mapping[str, Any]]) -> bytes:
    return _parquet(ERRORS, errors)
