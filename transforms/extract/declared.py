"""Machine-readable metadata: the tables and foreign keys a file declares.

A CSVW metadata file (`*-metadata.json`, as in CLDF datasets), a Frictionless
`datapackage.json`, a JSON Schema, SQL DDL (`.sql`) and a dbt `schema.yml`
each state which tables exist, their columns and keys, and which columns
reference which tables. That is the cheapest exact truth a drive offers, so it
is read into one shape, stored on the FileRecord as `declared`:

    {"format": "csvw" | "datapackage" | "json_schema" | "sql_ddl" | "dbt",
     "tables": [{"name", "path" (as written, relative to the metadata file, or None),
                 "columns", "primary_key", "titles" (CSVW: {column: [header titles]})}],
     "foreign_keys": [{"table", "columns", "ref_table", "ref_columns", "basis"}]}

`table` and `ref_table` name a table of `tables` when it is listed there.
Files are recognised by content, not by name. Reading is best effort: a file
that is not metadata gives {}, and metadata that cannot be read gives {} and a
warning, never a failure of the file. transforms/detect/declared.py turns it
into DOCUMENTS and REFERENCES edges.
"""

from __future__ import annotations

import dataclasses
import json
import posixpath
import re
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from transforms.extract.context import ExtractContext
from transforms.extract.sql_ddl import read_ddl
from transforms.model import Extracted

# Metadata is small; a larger file is a data dump, whose declarations are not read.
MAX_JSON_BYTES = 16 * 1024 * 1024
MAX_SQL_BYTES = 64 * 1024 * 1024
MAX_YAML_BYTES = 4 * 1024 * 1024
MAX_TABLES = 5_000
MAX_COLUMNS = 2_000  # per table
MAX_ITEMS = 200_000  # list items visited in one document, aliases included (YAML anchors)
# Cheap byte checks before a second JSON parse: every format we read has one of these keys.
_JSON_MARKERS = (b'"tables"', b'"tableSchema"', b'"resources"', b'"$schema"', b'"properties"')
_REF = re.compile(r"""^\s*(?:ref|source)\s*\((.*)\)\s*$""", re.S)
_QUOTED = re.compile(r"""['"]([^'"]+)['"]""")
_SCHEMA_SUFFIX = re.compile(r"(?:^|[._-])schema$", re.I)
Reader = Callable[[bytes, ExtractContext], Extracted]


class _Budget:
    """Counts list items visited, so a hostile document (YAML aliases) cannot make the walk unbounded."""

    def __init__(self, limit: int = MAX_ITEMS):
        self.left = limit

    def items(self, value: Any) -> List[Any]:
        if not isinstance(value, list):
            return []
        taken = value[: max(0, self.left)]
        self.left -= len(taken)
        return taken


def with_declared_schema(reader: Reader) -> Reader:
    """`reader`, then the declared schema of the same bytes on `Extracted.declared`.

    A JSON document that declares tables is schema, not records: its arrays are
    not profiled as data tables (their "values" are column names and notes).
    """
    def read(data: bytes, ctx: ExtractContext) -> Extracted:
        extracted = reader(data, ctx)
        declared, warning = declared_schema(ctx.file_name, ctx.extension, data)
        if warning:
            extracted.warnings.append(warning)
        if not declared:
            return extracted
        structure = {**extracted.structure, "declared": summary(declared)}
        if ctx.extension == "json":
            structure.update(tables=[], columns=[], row_count=0)
            return dataclasses.replace(extracted, tables=[], structure=structure, declared=declared)
        return dataclasses.replace(extracted, structure=structure, declared=declared)

    return read


def summary(declared: Dict[str, Any]) -> Dict[str, Any]:
    """What the node shows of a declaration: its format, table names and key count."""
    return {
        "format": declared["format"],
        "tables": [t["path"] or t["name"] for t in declared["tables"]][:100],
        "foreign_keys": len(declared["foreign_keys"]),
    }


def declared_schema(file_name: str, extension: str, data: bytes) -> Tuple[Dict[str, Any], Optional[str]]:
    """(declared schema or {}, warning or None) for one file's bytes."""
    try:
        if extension == "json":
            return _json_declared(data, file_name), None
        if extension == "sql":
            return _sized(data, MAX_SQL_BYTES, "SQL", lambda text: read_ddl(text) or {})
        if extension in ("yml", "yaml"):
            return _sized(data, MAX_YAML_BYTES, "YAML", _dbt_declared)
    except Exception as exc:  # invalid JSON/YAML, odd shapes, deep nesting: a warning, never the file's failure
        return {}, f"declared schema not read: {type(exc).__name__}: {str(exc)[:200]}"
    return {}, None


def _sized(data: bytes, limit: int, what: str, parse: Callable[[str], Dict[str, Any]]):
    if len(data) > limit:
        return {}, f"{what} declarations not read: {len(data)} bytes exceeds {limit}"
    return parse(data.decode("utf-8", errors="replace")), None


def _json_declared(data: bytes, file_name: str) -> Dict[str, Any]:
    if len(data) > MAX_JSON_BYTES or not any(marker in data for marker in _JSON_MARKERS):
        return {}
    document = json.loads(data.decode("utf-8-sig", errors="replace"))
    if not isinstance(document, dict):
        return {}
    budget = _Budget()
    if _is_csvw(document):
        return _bounded(_csvw(document, budget))
    if isinstance(document.get("resources"), list) and any(
        isinstance(r, dict) and ("path" in r or "schema" in r) for r in document["resources"][:100]
    ):
        return _bounded(_datapackage(document, budget))
    if _is_json_schema(document):
        return _bounded(_json_schema(document, file_name))
    return {}


def _bounded(declared: Dict[str, Any]) -> Dict[str, Any]:
    """At most MAX_TABLES tables and MAX_COLUMNS columns each; {} when nothing is declared."""
    tables = declared["tables"][:MAX_TABLES]
    for table in tables:
        table["columns"] = table["columns"][:MAX_COLUMNS]
    if not tables and not declared["foreign_keys"]:
        return {}
    return {**declared, "tables": tables, "foreign_keys": declared["foreign_keys"][: MAX_TABLES * 10]}


def _names(value: Any) -> List[str]:
    """A column reference: one name or a list of names."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _dedupe_keys(keys: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    seen, out = set(), []
    for key in keys:
        marker = (key["table"], key["basis"])
        if marker not in seen:
            seen.add(marker)
            out.append(key)
    return out


# ---------------------------------------------------------------- CSVW


def _is_csvw(document: Dict[str, Any]) -> bool:
    context = document.get("@context")
    contexts = context if isinstance(context, list) else [context]
    if not any(isinstance(c, str) and "csvw" in c.lower() for c in contexts):
        return False
    return isinstance(document.get("tables"), list) or isinstance(document.get("url"), str)


def _csvw_base(document: Dict[str, Any]) -> str:
    context = document.get("@context")
    for item in context if isinstance(context, list) else []:
        if isinstance(item, dict) and isinstance(item.get("@base"), str):
            return item["@base"]
    return ""


def _csvw(document: Dict[str, Any], budget: _Budget) -> Dict[str, Any]:
    base = _csvw_base(document)
    tables_in = budget.items(document["tables"]) if isinstance(document.get("tables"), list) else [document]
    tables, keys = [], []
    for entry in tables_in:
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            continue
        url = posixpath.join(base, entry["url"]) if base and "://" not in entry["url"] else entry["url"]
        schema = entry.get("tableSchema") if isinstance(entry.get("tableSchema"), dict) else {}
        columns, titles = [], {}
        for column in budget.items(schema.get("columns")):
            if not isinstance(column, dict) or column.get("virtual") is True:
                continue
            header = _names(column.get("titles"))
            if isinstance(column.get("titles"), dict):  # {"en": ["Title"]}
                header = [t for v in column["titles"].values() for t in _names(v)]
            name = column.get("name") if isinstance(column.get("name"), str) else (header[0] if header else None)
            if name is None:
                continue
            columns.append(name)
            if [t for t in header if t != name]:
                titles[name] = header
        table = {"name": url, "path": url, "columns": columns, "primary_key": _names(schema.get("primaryKey"))}
        if titles:
            table["titles"] = titles
        tables.append(table)
        for fk in budget.items(schema.get("foreignKeys")):
            reference = fk.get("reference") if isinstance(fk, dict) else None
            if not isinstance(reference, dict) or not isinstance(reference.get("resource"), str):
                continue  # a schemaReference to another schema is not a table
            child, parent = _names(fk.get("columnReference")), _names(reference.get("columnReference"))
            if not child:
                continue
            ref = reference["resource"]
            ref = posixpath.join(base, ref) if base and "://" not in ref else ref
            keys.append({"table": url, "columns": child, "ref_table": ref, "ref_columns": parent,
                         "basis": f"CSVW foreignKey {','.join(child)} -> {ref} {','.join(parent)}".rstrip()})
    return {"format": "csvw", "tables": tables, "foreign_keys": _dedupe_keys(keys)}


# ---------------------------------------------------------------- Frictionless data package


def _datapackage(document: Dict[str, Any], budget: _Budget) -> Dict[str, Any]:
    tables, keys = [], []
    for index, resource in enumerate(budget.items(document["resources"])):
        if not isinstance(resource, dict):
            continue
        paths = _names(resource.get("path"))  # a list is one table split over several files
        name = resource.get("name") if isinstance(resource.get("name"), str) else (paths[0] if paths else None)
        if name is None:
            continue
        schema = resource.get("schema") if isinstance(resource.get("schema"), dict) else {}
        fields = [f["name"] for f in budget.items(schema.get("fields"))
                  if isinstance(f, dict) and isinstance(f.get("name"), str)]
        for path in paths or [None]:
            tables.append({"name": name if len(paths) < 2 else f"{name}#{path}", "path": path,
                           "columns": fields, "primary_key": _names(schema.get("primaryKey"))})
        for fk in budget.items(schema.get("foreignKeys")):
            reference = fk.get("reference") if isinstance(fk, dict) else None
            if not isinstance(reference, dict) or reference.get("package"):
                continue  # a key into another package is not a table of this drive
            child, parent = _names(fk.get("fields")), _names(reference.get("fields"))
            ref = reference.get("resource", "")
            if not child or not isinstance(ref, str):
                continue
            ref = ref or name  # "" is the resource itself
            keys.append({"table": name, "columns": child, "ref_table": ref, "ref_columns": parent,
                         "basis": f"datapackage foreignKey {','.join(child)} -> {ref} {','.join(parent)}".rstrip()})
    return {"format": "datapackage", "tables": tables, "foreign_keys": _dedupe_keys(keys)}


# ---------------------------------------------------------------- JSON Schema


def _is_json_schema(document: Dict[str, Any]) -> bool:
    marker = document.get("$schema")
    if isinstance(marker, str) and "json-schema" in marker:
        return True
    return document.get("type") == "object" and isinstance(document.get("properties"), dict) and all(
        isinstance(v, dict) for v in document["properties"].values())


def _json_schema(document: Dict[str, Any], file_name: str) -> Dict[str, Any]:
    """One table: the object the schema describes (or the items of an array of objects).

    Its name is the file's ('orders.schema.json' describes orders), or the
    schema's title when the file is only called 'schema'.
    """
    body = document
    if document.get("type") == "array" and isinstance(document.get("items"), dict):
        body = document["items"]
    properties = body.get("properties")
    if not isinstance(properties, dict):
        return {"format": "json_schema", "tables": [], "foreign_keys": []}
    title = document.get("title") if isinstance(document.get("title"), str) else ""
    name = schema_file_stem(file_name) or title.strip()
    table = {"name": name, "path": None, "columns": [str(k) for k in properties], "primary_key": []}
    return {"format": "json_schema", "tables": [table] if table["columns"] else [], "foreign_keys": []}


def schema_file_stem(file_name: str) -> str:
    """'orders.schema.json' -> 'orders', 'schema.json' -> '': the table a JSON Schema file is named after."""
    stem = file_name.rsplit(".", 1)[0] if "." in file_name else file_name
    return _SCHEMA_SUFFIX.sub("", stem)


# ---------------------------------------------------------------- dbt


def _dbt_declared(text: str) -> Dict[str, Any]:
    import yaml  # PyYAML: safe loading only

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document = yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader
    if not isinstance(document, dict) or "version" not in document:
        return {}
    budget = _Budget()
    groups = [budget.items(document.get(k)) for k in ("models", "seeds", "snapshots")]
    entries = [e for group in groups for e in group]
    for source in budget.items(document.get("sources")):
        if isinstance(source, dict):
            entries.extend(budget.items(source.get("tables")))
    if not entries:
        return {}
    tables, keys = [], []
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            table, found = _dbt_model(entry, budget)
            tables.append(table)
            keys.extend(found)
    return _bounded({"format": "dbt", "tables": tables, "foreign_keys": _dedupe_keys(keys)})


def _ref_name(value: Any) -> Optional[str]:
    """"ref('customers')" / "source('shop', 'customers')" / "customers" -> "customers"."""
    if not isinstance(value, str):
        return None
    match = _REF.match(value)
    if match:
        quoted = _QUOTED.findall(match.group(1))
        return quoted[-1] if quoted else None
    return value.strip() or None


def _dbt_model(model: Dict[str, Any], budget: _Budget) -> Tuple[Dict[str, Any], List[Dict[str, Any]]]:
    name = model["name"]
    columns, primary_key, keys = [], [], []

    def add_key(child: List[str], to: Any, parent: List[str], what: str) -> None:
        ref = _ref_name(to)
        if ref and child:
            basis = f"dbt {what} {name}.{','.join(child)} -> {to}" + (f" {','.join(parent)}" if parent else "")
            keys.append({"table": name, "columns": child, "ref_table": ref, "ref_columns": parent, "basis": basis})

    def constraints(items: Any, default_columns: List[str]) -> None:
        for constraint in budget.items(items):
            if not isinstance(constraint, dict):
                continue
            cols = _names(constraint.get("columns")) or default_columns
            if constraint.get("type") == "primary_key":
                primary_key[:] = cols
            elif constraint.get("type") == "foreign_key":
                to, parent = constraint.get("to"), _names(constraint.get("to_columns"))
                expression = constraint.get("expression")
                if to is None and isinstance(expression, str) and "(" in expression:  # "customers (id)"
                    to, _, rest = expression.partition("(")
                    parent = [c.strip() for c in rest.rstrip(") ").split(",") if c.strip()]
                add_key(cols, to.strip() if isinstance(to, str) else to, parent, "foreign_key constraint")

    for column in budget.items(model.get("columns")):
        if not isinstance(column, dict) or not isinstance(column.get("name"), str):
            continue
        col = column["name"]
        columns.append(col)
        tests = budget.items(column.get("tests")) + budget.items(column.get("data_tests"))
        names = {t for t in tests if isinstance(t, str)}
        if {"unique", "not_null"} <= names:
            primary_key[:] = primary_key or [col]
        for test in tests:
            if not isinstance(test, dict):
                continue
            for kind, spec in test.items():
                if str(kind).split(".")[-1] in ("relationships", "relationships_where") and isinstance(spec, dict):
                    args = spec.get("arguments") if isinstance(spec.get("arguments"), dict) else spec
                    add_key([col], args.get("to"), _names(args.get("field")), "relationships test")
        constraints(column.get("constraints"), [col])
    constraints(model.get("constraints"), [])
    return {"name": name, "path": None, "columns": columns, "primary_key": primary_key}, keys
