"""JSON and JSON Lines readers.

Arrays of objects become tables (the top-level list, or lists under object
keys a few levels deep, e.g. {"data": [...]}); any document yields its field
paths. Memory is bounded whatever the file:

- a document up to `DOCUMENT_BYTES` is parsed whole;
- a larger one, or the head of a file cut at `max_read_bytes`, is parsed
  as a skeleton: objects down to the table depth key by key, and each array
  item by item, keeping the first `max_rows_per_table` items and counting the
  rest without keeping them;
- JSON Lines are decoded and parsed one line at a time.

Walks over a document (field paths, flattening, the preview) stop at a fixed
depth, so deeply nested input cannot exhaust the stack.
"""

from __future__ import annotations

import io
import json
from itertools import islice
from json.decoder import WHITESPACE, scanstring
from typing import Any, Dict, List, Optional, Tuple

from transforms.extract.context import ExtractContext
from transforms.extract.encoding import SNIFF_BYTES, decode, detect_encoding
from transforms.extract.properties import iso
from transforms.extract.tabular import PREVIEW_ROWS, Tables, table_name
from transforms.model import Extracted, ExtractionError, TableProfile

DOCUMENT_BYTES = 16 * 1024 * 1024  # parsed whole up to this size
PREVIEW_RECORDS = 3
TABLE_DEPTH = 3  # how deep under the top object record arrays are looked for
MAX_TABLES = 8
FIELD_PATH_ITEMS = 200  # list items walked per list when collecting field paths
MAX_DEPTH = 32  # walks over a document stop here
_PROPERTY_KEYS = {
    "title": "title", "name": "title", "author": "author", "created_by": "author", "owner": "author",
    "created": "created_at", "created_at": "created_at", "createdat": "created_at",
    "generated_at": "created_at", "generatedat": "created_at", "exported_at": "created_at",
    "modified": "modified_at", "modified_at": "modified_at", "updated_at": "modified_at",
    "updatedat": "modified_at", "last_updated": "modified_at",
}
_DECODER = json.JSONDecoder()


def read_json(data: bytes, ctx: ExtractContext) -> Extracted:
    """JSON: record arrays become tables; any document yields field paths."""
    text = decode(data, detect_encoding(data[:SNIFF_BYTES]), final=ctx.complete)
    warnings: List[str] = []
    totals: Dict[int, int] = {}  # id(list) -> items in the file, for lists kept in part
    try:
        if ctx.complete and len(text) <= DOCUMENT_BYTES:
            document = json.loads(text)
        else:
            document, cut = _Skeleton(text, ctx.limits.max_rows_per_table, totals).parse()
            if cut and ctx.complete:
                raise ExtractionError("parse_error", "invalid JSON: the document ends early")
            if cut:
                warnings.append(f"JSON read from the first {len(data)} of {ctx.size} bytes")
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # one JSON value per line, saved as .json
            extracted = read_jsonl(data, ctx)
            extracted.warnings.insert(0, "JSON with one value per line; read as JSONL")
            return extracted
        raise ExtractionError("parse_error", f"invalid JSON: {exc}") from exc
    except RecursionError as exc:
        raise ExtractionError("parse_error", "JSON nested deeper than the parser allows") from exc
    arrays = _record_arrays(document, table_name(ctx))
    tables = Tables(ctx)
    for name, records in arrays:
        _add_record_table(tables, name, records, totals.get(id(records)))
    structure = {
        "field_paths": field_paths(document),
        "record_count": sum(totals.get(id(records), len(records)) for _, records in arrays),
        "tables": [_table_summary(t) for t in tables.profiles],
        "columns": tables.columns(),
        "row_count": tables.row_count(),
    }
    return tables.extracted(structure, _json_properties(document), warnings, _pretty(document))


def read_jsonl(data: bytes, ctx: ExtractContext) -> Extracted:
    """JSON Lines: one record per line; bad lines are counted, not fatal."""
    limit = ctx.limits.max_rows_per_table
    records: List[Any] = []
    bad: List[int] = []
    total = 0
    lines = io.TextIOWrapper(io.BytesIO(data), encoding=detect_encoding(data[:SNIFF_BYTES]), errors="replace")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        total += 1
        if len(records) >= limit:
            continue  # beyond the profiling cap lines are only counted
        try:
            value = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            bad.append(number)
            continue
        records.append(value if isinstance(value, dict) else {"value": value})
    if not ctx.complete:
        total = max(total, ctx.line_count or 0)  # lines past the bytes read
    if bad and not records:
        raise ExtractionError("parse_error", f"no valid JSON line among {total}")
    warnings = [f"{len(bad)} of {total} lines are not valid JSON (first: line {bad[0]})"] if bad else []
    tables = Tables(ctx)
    if records:
        _add_record_table(tables, table_name(ctx), records, total - len(bad))
    structure = {
        "field_paths": field_paths(records),
        "record_count": total - len(bad),
        "tables": [_table_summary(t) for t in tables.profiles],
        "columns": tables.columns(),
        "row_count": tables.row_count(),
    }
    return tables.extracted(structure, {}, warnings, _pretty(records))


class _Skeleton:
    """A large or cut JSON document parsed with bounded memory.

    Objects down to TABLE_DEPTH are parsed key by key; every array keeps its
    first `keep` items (each parsed whole) and counts the others. Text that
    ends mid-document (a cut file) ends the parse: what was read is kept.
    """

    def __init__(self, text: str, keep: int, totals: Dict[int, int]):
        self.text = text
        self.keep = keep
        self.totals = totals
        self.cut = False

    def parse(self) -> Tuple[Any, bool]:
        value, end = self._value(self._skip(0), 1)
        if not self.cut and self._skip(end) != len(self.text):
            raise json.JSONDecodeError("Extra data", self.text, end)
        return value, self.cut

    def _skip(self, pos: int) -> int:
        return WHITESPACE.match(self.text, pos).end()

    def _value(self, pos: int, depth: int) -> Tuple[Any, int]:
        char = self.text[pos : pos + 1]
        if char == "[":
            return self._array(pos + 1, depth)
        if char == "{" and depth <= TABLE_DEPTH:
            return self._object(pos + 1, depth)
        return self._decode(pos)

    def _decode(self, pos: int) -> Tuple[Any, int]:
        try:
            return _DECODER.raw_decode(self.text, pos)
        except json.JSONDecodeError as exc:
            if not self._at_end(exc.pos):
                raise
            raise _Cut() from exc

    def _at_end(self, pos: int) -> bool:
        return self._skip(pos) >= len(self.text)

    def _array(self, pos: int, depth: int) -> Tuple[List[Any], int]:
        items: List[Any] = []
        count = 0
        pos = self._skip(pos)
        if self.text.startswith("]", pos):
            return items, pos + 1
        try:
            while True:
                # Items are parsed whole (records are small); nested arrays item by item.
                nested = self.text.startswith("[", pos) and depth < TABLE_DEPTH
                value, pos = self._array(pos + 1, depth + 1) if nested else self._decode(pos)
                count += 1
                if len(items) < self.keep:
                    items.append(value)
                pos, closed = self._after_item(pos, "]")
                if closed:
                    return items, pos
        except _Cut:
            self.cut = True
            return items, len(self.text)
        finally:
            if count > len(items):
                self.totals[id(items)] = count

    def _object(self, pos: int, depth: int) -> Tuple[Dict[str, Any], int]:
        result: Dict[str, Any] = {}
        pos = self._skip(pos)
        if self.text.startswith("}", pos):
            return result, pos + 1
        try:
            while True:
                if not self.text.startswith('"', pos):
                    if self._at_end(pos):
                        raise _Cut()
                    raise json.JSONDecodeError("Expecting property name", self.text, pos)
                try:
                    key, pos = scanstring(self.text, pos + 1)
                except json.JSONDecodeError as exc:
                    raise _Cut() if self._at_end(exc.pos) else exc
                pos = self._skip(pos)
                if not self.text.startswith(":", pos):
                    if self._at_end(pos):
                        raise _Cut()
                    raise json.JSONDecodeError("Expecting ':' delimiter", self.text, pos)
                value, pos = self._value(self._skip(pos + 1), depth + 1)
                result[key] = value
                pos, closed = self._after_item(pos, "}")
                if closed:
                    return result, pos
        except _Cut:
            self.cut = True
            return result, len(self.text)

    def _after_item(self, pos: int, closer: str) -> Tuple[int, bool]:
        """After an item: (where the next one starts, False), or (past the closing bracket, True)."""
        pos = self._skip(pos)
        char = self.text[pos : pos + 1]
        if char == ",":
            return self._skip(pos + 1), False
        if char == closer:
            return pos + 1, True
        if not char:
            raise _Cut()
        raise json.JSONDecodeError("Expecting ',' delimiter", self.text, pos)


class _Cut(Exception):
    """The text ended inside a value."""


def _add_record_table(tables: Tables, name: str, records: List[Any], total: Optional[int] = None) -> None:
    """Flattens records (dotted paths) into a header and rows and profiles them."""
    limit = tables.ctx.limits.max_rows_per_table
    flat = [_flatten(record) for record in islice(records, limit) if isinstance(record, dict)]
    header: Dict[str, None] = {}
    for record in flat:
        header.update(dict.fromkeys(record))
    keys = list(header)
    rows = [[record.get(key) for key in keys] for record in flat]
    total = len(records) if total is None else total
    tables.add(f"## Records: {name}", name, keys, rows, rows[:PREVIEW_ROWS], total_rows=total)


def _flatten(record: Dict[str, Any], prefix: str = "", out: Optional[Dict[str, Any]] = None,
             depth: int = 0) -> Dict[str, Any]:
    """Nested objects become dotted keys; lists (and objects past MAX_DEPTH) become compact JSON text."""
    out = {} if out is None else out
    for key, value in record.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and depth < MAX_DEPTH:
            _flatten(value, path + ".", out, depth + 1)
        elif isinstance(value, (dict, list)):
            out[path] = _compact(value) if value else None
        else:
            out[path] = value
    return out


def _compact(value: Any) -> str:
    return json.dumps(_shrink(value), ensure_ascii=False, separators=(",", ":"), default=str)


def _record_arrays(document: Any, top_name: str) -> List[Tuple[str, List[Any]]]:
    """Arrays of objects in a document, largest first: the top-level list or
    lists under object keys (a few levels deep, e.g. {"data": [...]})."""
    if isinstance(document, list):
        return [(top_name, document)] if _is_records(document) else []
    found: List[Tuple[str, List[Any]]] = []

    def walk(node: Dict[str, Any], prefix: str, depth: int) -> None:
        for key, value in node.items():
            path = f"{prefix}{key}"
            if isinstance(value, list) and _is_records(value):
                found.append((path, value))
            elif isinstance(value, dict) and depth < TABLE_DEPTH:
                walk(value, path + ".", depth + 1)

    if isinstance(document, dict):
        walk(document, "", 1)
    found.sort(key=lambda item: -len(item[1]))
    return found[:MAX_TABLES]


def _is_records(items: List[Any]) -> bool:
    head = items[:100]
    return bool(head) and sum(isinstance(item, dict) for item in head) >= 0.8 * len(head)


def field_paths(document: Any) -> List[str]:
    """Sorted dotted paths of every leaf; lists are transparent (a[].b is a.b)."""
    paths: set = set()
    stack: List[Tuple[Any, str, int]] = [(document, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth >= MAX_DEPTH:
            if path:
                paths.add(path)
        elif isinstance(node, dict):
            if not node and path:
                paths.add(path)
            stack.extend((value, f"{path}.{key}" if path else str(key), depth + 1) for key, value in node.items())
        elif isinstance(node, list):
            containers = [item for item in node[:FIELD_PATH_ITEMS] if isinstance(item, (dict, list))]
            stack.extend((item, path, depth + 1) for item in containers)
            if len(containers) < min(len(node), FIELD_PATH_ITEMS) and path:
                paths.add(path)  # a list of scalars is itself a leaf
        elif path:
            paths.add(path)
    return sorted(paths)


def _shrink(node: Any, depth: int = 0) -> Any:
    """A small copy of a document for the text preview (first items, short strings)."""
    if depth > 6:
        return "…"
    if isinstance(node, dict):
        return {k: _shrink(v, depth + 1) for k, v in islice(node.items(), 50)}
    if isinstance(node, list):
        return [_shrink(v, depth + 1) for v in node[:PREVIEW_RECORDS]]
    if isinstance(node, str) and len(node) > 300:
        return node[:300] + "…"
    return node


def _pretty(value: Any) -> str:
    return json.dumps(_shrink(value), indent=2, ensure_ascii=False, default=str)


def _table_summary(table: TableProfile) -> Dict[str, Any]:
    return {"name": table.name, "columns": [c.name for c in table.columns], "row_count": table.row_count}


def _json_properties(document: Any) -> Dict[str, Any]:
    """Document-level metadata a JSON export carries at its top, e.g. {"title", "generated_at", "data"}."""
    if not isinstance(document, dict):
        return {}
    properties: Dict[str, Any] = {}
    for key, value in document.items():
        target = _PROPERTY_KEYS.get(str(key).lower())
        if target is None or not isinstance(value, str) or not value.strip() or target in properties:
            continue
        if target.endswith("_at"):
            stamp = iso(value)
            if stamp:
                properties[target] = stamp
        else:
            properties[target] = value.strip()
    return properties
