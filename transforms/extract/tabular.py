"""Tabular readers' shared plumbing, and the CSV/TSV and SQLite readers.

Each reader is `read_<fmt>(data: bytes, ctx) -> Extracted`. They all share the
same shape of work: find the tables, hand each one's header and row stream
to `profile.profile_table`, and render a bounded markdown preview. Safety
checks (size, zip bombs, encryption) have already run; what is left to fail
here is parsing, which raises `ExtractionError("parse_error", ...)`.
Workbooks are read in `workbook.py`, JSON and JSONL in `jsondata.py`.

Every tabular reader's `structure` holds at least "columns" (all column names,
in table order) and "row_count" (all tables' data rows), so downstream
strategies can treat tabular files alike.

CSV is streamed: rows are decoded and parsed as the profiler asks for them,
never as one string, and physical lines longer than `MAX_LINE_CHARS` are cut
(a file that is one enormous line cannot become one enormous row).
"""

from __future__ import annotations

import csv
import io
import sqlite3
import tempfile
from itertools import chain, islice
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from transforms.extract.context import ExtractContext
from transforms.extract.encoding import SNIFF_BYTES, decode, detect_encoding
from transforms.extract.cells import bounded_text, clean_header, is_blank_row, markdown_table
from transforms.extract.profile import HEADER_SCAN_ROWS, detect_header, profile_batches, profile_table
from transforms.model import Extracted, ExtractionError, TableProfile

PREVIEW_ROWS = 5  # rows shown under each table's header in `text`
LARGE_CSV_BYTES = 4 * 1024 * 1024  # above this, CSV goes through pyarrow
MAX_LINE_CHARS = 1 << 20  # a physical CSV line is cut here
MAX_BAD_ROWS = 1000  # malformed CSV rows skipped before the file is given up
SQLITE_MAGIC = b"SQLite format 3\x00"


# ==========================================================================
# Shared table plumbing


class Tables:
    """Collects the tables of one file with their text previews."""

    def __init__(self, ctx: ExtractContext):
        self.ctx = ctx
        self.profiles: List[TableProfile] = []
        self.sections: List[str] = []
        self.redactions: Dict[str, int] = {}

    def add(
        self,
        title: str,
        name: str,
        header: Sequence,
        rows: Iterable[Sequence],
        preview: Sequence[Sequence],
        total_rows: Optional[int] = None,
        header_row: int = 0,
    ) -> TableProfile:
        profile = profile_table(
            name, header, rows, self.ctx, total_rows, header_row=header_row, redactions=self.redactions
        )
        self.add_profile(title, profile, header, preview)
        return profile

    def add_profile(self, title: str, profile: TableProfile, header: Sequence, preview: Sequence[Sequence]) -> None:
        self.profiles.append(profile)
        self.sections.append(f"{title}\n\n{markdown_table(header, preview[:PREVIEW_ROWS])}")

    def text(self) -> str:
        return bounded_text(self.sections, self.ctx.limits.max_text_chars)

    def columns(self) -> List[str]:
        return [column.name for table in self.profiles for column in table.columns]

    def row_count(self) -> int:
        return sum(table.row_count for table in self.profiles)

    def extracted(self, structure: Dict[str, Any], properties: Optional[Dict[str, Any]] = None,
                  warnings: Optional[List[str]] = None, text: Optional[str] = None) -> Extracted:
        """The reader's result; `text` replaces the markdown tables when given."""
        return Extracted(
            text=self.text() if text is None else bounded_text([text], self.ctx.limits.max_text_chars),
            tables=self.profiles,
            structure=structure,
            properties=properties or {},
            warnings=warnings or [],
            redactions=self.redactions,
        )


def split_header(head: List[Sequence]) -> Tuple[int, Sequence, List[Sequence]]:
    """Header index, header row and the non-blank rows after it, from a table's first rows."""
    index = detect_header(head)
    header = head[index] if head else []
    return index, header, [row for row in head[index + 1 :] if not is_blank_row(row)]


def table_name(ctx: ExtractContext) -> str:
    return Path(ctx.file_name).stem or ctx.file_name


# ==========================================================================
# CSV / TSV


_DELIMITERS = ",;\t|"


def read_csv(data: bytes, ctx: ExtractContext) -> Extracted:
    """CSV/TSV: encoding and delimiter sniffed, header detected under title rows."""
    encoding = detect_encoding(data[:SNIFF_BYTES])
    sample = decode(_cut_at_newline(data[:SNIFF_BYTES], len(data)), encoding, final=False).replace("\x00", "")
    dialect = sniff_dialect(sample, prefer_tab=ctx.extension == "tsv")
    warnings: List[str] = []
    head = list(islice(_csv_rows(_bounded_lines(io.StringIO(sample), []), dialect, []), HEADER_SCAN_ROWS))
    index, header, preview = split_header(head)
    tables = Tables(ctx)
    profile = None
    if len(data) > LARGE_CSV_BYTES:
        redactions: Dict[str, int] = {}
        profile = _profile_csv_arrow(data, encoding, dialect, index, header, ctx, redactions, warnings)
    if profile is not None:
        tables.add_profile(f"## Table: {table_name(ctx)}", profile, header, preview)
        tables.redactions.update(redactions)
    elif header:
        rows = _csv_rows(_bounded_lines(_text_lines(data, encoding, ctx.complete), warnings), dialect, warnings)
        body = (row for row in islice(rows, index + 1, None) if row)  # csv yields [] for blank lines
        profile = tables.add(f"## Table: {table_name(ctx)}", table_name(ctx), header, body, preview,
                             header_row=index)
    if profile is not None and (profile.sampled or not ctx.complete):
        # Estimate the rows not read from line breaks (quoted newlines count too).
        lines = data.count(b"\n") if ctx.line_count is None else ctx.line_count
        profile.sampled = True
        profile.row_count = max(profile.row_count, lines - index - 1)
    if not ctx.complete:
        warnings.append(f"rows read from the first {len(data)} of {ctx.size} bytes; the rest counted")
    structure = {
        "columns": tables.columns(),
        "row_count": tables.row_count(),
        "delimiter": dialect.delimiter,
        "encoding": encoding,
        "header_row": index,
    }
    return tables.extracted(structure, {}, warnings)


read_tsv = read_csv


def _text_lines(data: bytes, encoding: str, complete: bool) -> Iterator[str]:
    """The lines of `data` decoded lazily; NUL characters (which csv refuses) dropped."""
    text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors="replace", newline="")
    for line in text:
        yield line.replace("\x00", "") if "\x00" in line else line


def _bounded_lines(lines: Iterable[str], warnings: List[str]) -> Iterator[str]:
    cut = 0
    for line in lines:
        if len(line) > MAX_LINE_CHARS:
            cut += 1
            line = line[:MAX_LINE_CHARS] + "\n"
        yield line
    if cut:
        warnings.append(f"{cut} lines longer than {MAX_LINE_CHARS} characters cut")


def _cut_at_newline(sample: bytes, full_size: int) -> bytes:
    """Drops the partial last line of a sample taken from a longer file."""
    if len(sample) >= full_size:
        return sample
    end = sample.rfind(b"\n")
    return sample[: end + 1] if end > 0 else sample


def sniff_dialect(sample: str, prefer_tab: bool = False) -> type:
    """The CSV dialect of a text sample.

    csv.Sniffer first, kept only when it splits the sample into rows of a
    consistent width; otherwise the delimiter that does so best.
    """
    lines = sample.splitlines()[:50]
    if prefer_tab and lines and "\t" in lines[0]:
        return _dialect("\t")
    try:
        sniffed = csv.Sniffer().sniff("\n".join(lines), delimiters=_DELIMITERS)
        if _consistency(lines, sniffed.delimiter)[0] >= 0.8:
            return _dialect(sniffed.delimiter, sniffed.quotechar or '"')
    except csv.Error:
        pass
    best = max(_DELIMITERS, key=lambda d: _consistency(lines, d))
    return _dialect(best if _consistency(lines, best)[1] > 1 else ("\t" if prefer_tab else ","))


def _consistency(lines: List[str], delimiter: str) -> Tuple[float, int]:
    """Share of rows with the most common field count (>1), and that count."""
    widths = [len(row) for row in csv.reader(lines, delimiter=delimiter) if row]
    if not widths:
        return 0.0, 0
    mode = max(set(widths), key=widths.count)
    if mode < 2:
        return 0.0, mode
    return widths.count(mode) / len(widths), mode


def _dialect(delimiter: str, quotechar: str = '"') -> type:
    class Sniffed(csv.excel):
        pass

    Sniffed.delimiter = delimiter
    Sniffed.quotechar = quotechar
    return Sniffed


def _csv_rows(lines: Iterable[str], dialect, warnings: List[str]) -> Iterator[List[str]]:
    """Rows of CSV lines; a malformed row is skipped and counted, too many give up the file."""
    reader = csv.reader(lines, dialect)
    bad = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            bad += 1
            if bad > MAX_BAD_ROWS:
                raise ExtractionError("parse_error", f"malformed CSV: {exc} ({bad} bad rows)") from exc
            continue
        yield row
    if bad:
        warnings.append(f"{bad} malformed CSV rows skipped")


def _profile_csv_arrow(data, encoding, dialect, index, header, ctx, redactions, warnings) -> Optional[TableProfile]:
    """Profiles a large CSV through pyarrow's streaming reader, all columns as text.

    Reading every column as a string keeps the profile identical to the
    csv-module path (types are inferred by the profiler, not by Arrow).
    Returns None when Arrow cannot parse the file, so the caller falls back.
    """
    import pyarrow as pa
    from pyarrow import csv as pacsv

    names = clean_header(header)
    if not names:
        return None
    skipped = [0]

    def skip_row(_row) -> str:
        skipped[0] += 1
        return "skip"

    try:
        reader = pacsv.open_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(
                encoding="utf8" if encoding in ("utf-8", "utf-8-sig") else encoding,
                skip_rows=index + 1,
                column_names=names,
                block_size=1 << 20,
                use_threads=False,  # parallelism comes from parser processes, not threads
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=dialect.delimiter,
                quote_char=dialect.quotechar,
                newlines_in_values=True,
                invalid_row_handler=skip_row,
            ),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names}),
        )
        batches = ([column.to_pylist() for column in batch.columns] for batch in reader)
        profile = profile_batches(table_name(ctx), names, batches, ctx, header_row=index, redactions=redactions)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError, LookupError) as exc:
        warnings.append(f"arrow CSV reader failed ({exc}); read with the csv module")
        return None
    if skipped[0]:
        warnings.append(f"{skipped[0]} rows with a wrong number of fields skipped")
    return profile


# ==========================================================================
# SQLite


def read_sqlite(data: bytes, ctx: ExtractContext) -> Extracted:
    """SQLite: tables with declared types, keys and row counts, opened read-only."""
    if not data.startswith(SQLITE_MAGIC):
        raise ExtractionError("parse_error", "not a SQLite database")
    # sqlite3 reads files only; `immutable=1` stops it writing locks or journals.
    with tempfile.NamedTemporaryFile(suffix=".sqlite") as handle:
        handle.write(data)
        handle.flush()
        uri = Path(handle.name).as_uri() + "?mode=ro&immutable=1"
        try:
            connection = sqlite3.connect(uri, uri=True)
        except sqlite3.Error as exc:
            raise ExtractionError("parse_error", f"cannot open SQLite database: {exc}") from exc
        connection.text_factory = _lenient_text  # one badly encoded value must not lose the database
        try:
            return _read_database(connection, ctx)
        except sqlite3.DatabaseError as exc:
            raise ExtractionError("parse_error", f"cannot read SQLite database: {exc}") from exc
        finally:
            connection.close()


read_db = read_sqlite


def _lenient_text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def _read_database(connection: sqlite3.Connection, ctx: ExtractContext) -> Extracted:
    tables = Tables(ctx)
    summaries: List[Dict[str, Any]] = []
    warnings: List[str] = []
    names = [
        name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    for name in names:
        try:
            summaries.append(_read_sqlite_table(connection, name, tables))
        except sqlite3.OperationalError as exc:  # e.g. a virtual table whose module is missing
            warnings.append(f"table '{name}' unreadable: {exc}")
    structure = {"tables": summaries, "columns": tables.columns(), "row_count": tables.row_count()}
    return tables.extracted(structure, {}, warnings)


def _read_sqlite_table(connection: sqlite3.Connection, name: str, tables: Tables) -> Dict[str, Any]:
    quoted = _quote(name)
    info = connection.execute(f"PRAGMA table_info({quoted})").fetchall()  # cid, name, type, notnull, default, pk
    columns = [{"name": row[1], "type": row[2] or ""} for row in info]
    primary_key = [row[1] for row in sorted((r for r in info if r[5]), key=lambda r: r[5])]
    foreign_keys = _foreign_keys(connection, name)
    (row_count,) = connection.execute(f"SELECT COUNT(*) FROM {quoted}").fetchone()
    cursor = connection.execute(f"SELECT * FROM {quoted} LIMIT ?", (tables.ctx.limits.max_rows_per_table,))
    header = [d[0] for d in cursor.description]
    preview = cursor.fetchmany(PREVIEW_ROWS)
    profile = tables.add(f"## Table: {name}", name, header, chain(preview, cursor), preview, total_rows=row_count)
    profile.primary_key = primary_key
    profile.foreign_keys = foreign_keys
    return {"name": name, "columns": columns, "row_count": row_count,
            "primary_key": primary_key, "foreign_keys": foreign_keys}


def _foreign_keys(connection: sqlite3.Connection, name: str) -> List[Dict[str, Any]]:
    """Declared foreign keys; a reference without columns means the target's primary key."""
    groups: Dict[int, Dict[str, Any]] = {}
    # id, seq, table, from, to, on_update, on_delete, match
    for fk_id, _seq, ref_table, column, ref_column, *_ in connection.execute(
        f"PRAGMA foreign_key_list({_quote(name)})"
    ):
        group = groups.setdefault(fk_id, {"columns": [], "ref_table": ref_table, "ref_columns": []})
        group["columns"].append(column)
        group["ref_columns"].append(ref_column)
    for group in groups.values():
        if any(c is None for c in group["ref_columns"]):
            info = connection.execute(f"PRAGMA table_info({_quote(group['ref_table'])})").fetchall()
            group["ref_columns"] = [r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]
    return [groups[key] for key in sorted(groups)]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'

