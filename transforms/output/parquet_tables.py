"""Parquet tables of a run for DuckDB, Spark, BigQuery or pandas: nodes, edges, components, errors.

Each table has a fixed pyarrow schema (so an empty run still has typed columns);
nested values (entities, evidence details, per-type counts) are JSON text columns
that DuckDB reads with `->>` / `json_extract`. Rows are sorted and the writer's
options fixed, so the files are byte-identical run after run.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Mapping, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

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


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _table(schema: pa.Schema, rows: Sequence[Mapping[str, Any]], json_columns: Sequence[str] = ()) -> pa.Table:
    columns: Dict[str, list] = {name: [] for name in schema.names}
    for row in rows:
        for name in schema.names:
            value = row.get(name)
            columns[name].append(_json(value) if name in json_columns and value is not None else value)
    return pa.table(columns, schema=schema)


def nodes_table(nodes: Sequence[Mapping[str, Any]]) -> pa.Table:
    return _table(NODES, nodes, ("entities",))


def edges_table(edges: Sequence[Mapping[str, Any]]) -> pa.Table:
    return _table(EDGES, edges, ("evidence_details",))


def components_table(components: Sequence[Mapping[str, Any]]) -> pa.Table:
    rows = [{**c, "stages": len(c["stages"])} for c in components]
    return _table(COMPONENTS, rows, ("file_types", "edges_by_type"))


def errors_table(errors: Sequence[Mapping[str, Any]]) -> pa.Table:
    return _table(ERRORS, errors)


def parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", write_statistics=True)
    return sink.getvalue().to_pybytes()
