"""Tabular readers (xlsx/xls, csv/tsv, json/jsonl, sqlite) and the table profiler."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import random
import sqlite3
from pathlib import Path

import openpyxl
import pytest
from openpyxl.packaging.custom import BoolProperty, IntProperty, StringProperty

from transforms.config import ExtractionConfig
from transforms.extract import profile as profile_module
from transforms.extract import jsondata, tabular, workbook
from transforms.extract.context import ExtractContext
from transforms.extract.profile import _text_info, detect_header, profile_table
from transforms.model import ExtractionError
from transforms.signatures import bottom_k, normalise_value, value_hasher

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CHINOOK = SHARED / "chinook"
OFFICE = SHARED / "office-samples"
needs_chinook = pytest.mark.skipif(not CHINOOK.exists(), reason="shared Chinook data not present")
needs_office = pytest.mark.skipif(not OFFICE.exists(), reason="shared office samples not present")


class EmailRedactor:
    """Stands in for transforms.pii.Redactor: masks values containing '@'."""

    def redact_values(self, column_name, values):
        out, hits = [], 0
        for value in values:
            if "@" in value:
                out.append("[EMAIL]")
                hits += 1
            else:
                out.append(value)
        return out, ({"email": hits} if hits else {})


def make_ctx(file_name: str, redactor=None, **limits) -> ExtractContext:
    return ExtractContext(
        uri=f"file:///data/{file_name}",
        file_name=file_name,
        extension=file_name.rsplit(".", 1)[-1].lower(),
        limits=ExtractionConfig(**limits),
        redactor=redactor,
    )


def hashes_of(values) -> list:
    value_hash = value_hasher()
    return sorted({value_hash(normalise_value(v)) for v in values if normalise_value(v) is not None})


def xlsx_bytes(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ==========================================================================
# Profiler


def test_profile_infers_each_dtype_from_python_values():
    rows = [
        [i, i + 0.5, f"name{i}", dt.date(2024, 1, i), i % 2 == 0, None]
        for i in range(1, 11)
    ]
    table = profile_table("t", ["i", "f", "s", "d", "b", "e"], rows, make_ctx("t.csv"))
    assert [c.dtype for c in table.columns] == ["integer", "float", "string", "date", "boolean", "empty"]


def test_profile_infers_dtypes_from_text_cells():
    rows = [[str(i), f"{i}.25", f"2024-02-{i:02d} 00:00:00", "true" if i % 2 else "false", f"${i},000.00"]
            for i in range(1, 11)]
    table = profile_table("t", ["i", "f", "d", "b", "money"], rows, make_ctx("t.csv"))
    assert [c.dtype for c in table.columns] == ["integer", "float", "date", "boolean", "integer"]
    assert table.column("money").numeric["sum"] == sum(i * 1000 for i in range(1, 11))


def test_profile_tolerates_a_few_bad_cells():
    rows = [[str(i)] for i in range(1, 40)] + [["n/a"]]
    column = profile_table("t", ["qty"], rows, make_ctx("t.csv")).columns[0]
    assert column.dtype == "integer"
    assert column.count == 40
    assert column.numeric["count"] == 39


def test_profile_numeric_summary():
    rows = [[v] for v in (2.5, 7.5, 10, "5")]
    numeric = profile_table("t", ["x"], rows, make_ctx("t.csv")).columns[0].numeric
    assert numeric == {"sum": 25.0, "mean": 6.25, "min": 2.5, "max": 10.0, "count": 4.0}


def test_small_int_range_marks_row_ids_only():
    ids = [[i, i * 7919 % 100_003, i + 5000] for i in range(1, 301)]
    table = profile_table("t", ["id", "sparse", "big"], ids, make_ctx("t.csv"))
    assert table.column("id").small_int_range
    assert not table.column("sparse").small_int_range  # spread over a wide range
    assert not table.column("big").small_int_range  # does not start at 0/1


def test_unique_needs_all_values_distinct_and_two_of_them():
    rows = [[i, i % 3, "x" if i == 1 else None] for i in range(1, 10)]
    table = profile_table("t", ["key", "mod", "single"], rows, make_ctx("t.csv"))
    assert table.column("key").unique
    assert not table.column("mod").unique
    assert not table.column("single").unique


def test_unique_sees_equal_values_written_differently():
    table = profile_table("t", ["k"], [[7], ["7"], [7.0]], make_ctx("t.csv"))
    column = table.columns[0]
    assert column.distinct == 1 and not column.unique


def test_value_hashes_are_exact_hashes_of_normalised_values():
    values = ["North", "south ", 7, 7.0, "7", 1.5, dt.date(2024, 5, 1), None, ""]
    column = profile_table("t", ["v"], [[v] for v in values], make_ctx("t.csv")).columns[0]
    assert column.value_hashes == hashes_of(values)
    assert column.distinct == 5 and column.exact


def test_value_hashes_are_a_bottom_k_sketch_beyond_k():
    values = [f"v{i}" for i in range(500)]
    column = profile_table("t", ["v"], [[v] for v in values], make_ctx("t.csv", value_sketch_size=64)).columns[0]
    assert column.value_hashes == bottom_k(hashes_of(values), 64)
    assert column.distinct == 500 and not column.exact


def test_distinct_is_estimated_beyond_the_exact_cap(monkeypatch):
    monkeypatch.setattr(profile_module, "EXACT_DISTINCT_CAP", 1000)
    values = [f"v{i % 20_000}" for i in range(40_000)]  # 20k distinct, each twice
    column = profile_table("t", ["v"], [[v] for v in values], make_ctx("t.csv", value_sketch_size=512)).columns[0]
    assert column.value_hashes == bottom_k(hashes_of(values), 512)  # the sketch stays exact
    assert 18_000 <= column.distinct <= 22_000
    assert not column.unique


def test_sampling_stops_at_the_row_cap_and_keeps_the_total():
    rows = ([i, i % 4] for i in range(1, 251))
    table = profile_table("t", ["id", "g"], rows, make_ctx("t.csv", max_rows_per_table=100), total_rows=250)
    assert table.sampled
    assert table.row_count == 250
    assert table.column("id").count == 100
    assert table.column("id").numeric["max"] == 100


def test_sampling_is_detected_without_a_known_total():
    table = profile_table("t", ["id"], ([i] for i in range(150)), make_ctx("t.csv", max_rows_per_table=100))
    assert table.sampled and table.row_count == 100


def test_table_within_the_cap_is_not_sampled():
    table = profile_table("t", ["id"], ([i] for i in range(100)), make_ctx("t.csv", max_rows_per_table=100))
    assert not table.sampled and table.row_count == 100


def test_grouped_sums_by_low_cardinality_dimension():
    rows = [[i, ("North", "South", "East")[i % 3], i * 10.5, i % 2 == 0] for i in range(1, 31)]
    table = profile_table("t", ["id", "region", "revenue", "paid"], rows, make_ctx("t.csv"))
    by_region = table.grouped_sums["region"]
    assert set(by_region) == {"revenue"}  # the unique id is not a measure
    assert by_region["revenue"] == {
        "North": sum(i * 10.5 for i in range(1, 31) if i % 3 == 0),
        "South": sum(i * 10.5 for i in range(1, 31) if i % 3 == 1),
        "East": sum(i * 10.5 for i in range(1, 31) if i % 3 == 2),
    }
    assert table.grouped_sums["paid"]["revenue"] == {
        "false": sum(i * 10.5 for i in range(1, 31, 2)),
        "true": sum(i * 10.5 for i in range(2, 31, 2)),
    }


def test_grouped_sums_span_chunks(monkeypatch):
    monkeypatch.setattr(profile_module, "CHUNK_ROWS", 7)
    rows = [["a" if i % 2 else "b", 1.5] for i in range(100)]
    table = profile_table("t", ["g", "x"], rows, make_ctx("t.csv"))
    assert table.grouped_sums == {"g": {"x": {"b": 75.0, "a": 75.0}}}


def test_grouped_sums_skip_high_cardinality_and_id_columns():
    rows = [[f"cust{i}", i, i % 7 + 0.5] for i in range(1, 61)]
    table = profile_table("t", ["customer", "row", "amount"], rows, make_ctx("t.csv"))
    assert table.grouped_sums == {}  # 60 distinct customers is no dimension


def test_grouped_sums_do_not_sum_foreign_keys():
    rows = [[("N", "S")[i % 2], 100 + i % 4, 3 + i % 4, 2.5] for i in range(20)]
    table = profile_table("t", ["region", "SupportRepId", "units", "amount"], rows, make_ctx("t.csv"))
    assert set(table.grouped_sums["region"]) == {"units", "amount"}


def test_grouped_sums_skip_a_dimension_the_redactor_treats_as_pii():
    rows = [[("a@x.com", "b@x.com")[i % 2], ("N", "S")[i % 2], 2.0] for i in range(10)]
    table = profile_table("t", ["owner", "region", "amount"], rows, make_ctx("t.csv", redactor=EmailRedactor()))
    assert set(table.grouped_sums) == {"region"}


def test_samples_are_redacted_and_counted():
    redactions = {}
    rows = [[f"user{i}@corp.com", f"team{i}"] for i in range(8)]
    table = profile_table("t", ["email", "team"], rows, make_ctx("t.csv", redactor=EmailRedactor()),
                          redactions=redactions)
    assert table.column("email").samples == ["[EMAIL]"] * 5
    assert table.column("team").samples == ["team0", "team1", "team2", "team3", "team4"]
    assert redactions == {"email": 5}


def test_ragged_rows_are_padded_and_cut():
    rows = [["1", "a"], ["2"], ["3", "c", "extra"]]
    table = profile_table("t", ["n", "s"], rows, make_ctx("t.csv"))
    assert table.column("n").count == 3
    assert table.column("s").count == 2


def test_blank_and_duplicate_header_names_are_made_usable():
    table = profile_table("t", ["a", "", "a", None], [[1, 2, 3, None]], make_ctx("t.csv"))
    assert [c.name for c in table.columns] == ["a", "column_2", "a_2"]  # the empty unnamed column is dropped


def test_text_keys_match_normalise_value():
    random.seed(3)
    alphabet = "0123456789+-.,eE $€TtrueFalsNn/: x"
    for _ in range(20_000):
        text = "".join(random.choice(alphabet) for _ in range(random.randint(0, 8)))
        assert _text_info(text)[2] == normalise_value(text), text


def test_detect_header_under_title_and_note_rows():
    rows = [
        ["Quarterly sales", "", "", ""],
        ["Source: finance", "", "", ""],
        ["", "", "", ""],
        ["Region", "Product", "Units", "Revenue"],
        ["North", "A", 3, 30.0],
        ["South", "B", 4, 40.0],
    ]
    assert detect_header(rows) == 3


def test_detect_header_accepts_year_headers():
    rows = [["Revenue by year", None, None], ["Region", 2023, 2024], ["North", 10, 12], ["South", 8, 9]]
    assert detect_header(rows) == 1


def test_detect_header_defaults_to_the_first_row():
    assert detect_header([["id", "name"], ["1", "a"]]) == 0
    assert detect_header([]) == 0


# ==========================================================================
# xlsx / xls


def _sales_workbook() -> openpyxl.Workbook:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Sales"
    sheet.append(["Quarterly sales report"])
    sheet.append(["Figures in USD"])
    sheet.append([])
    sheet.append(["Id", "Region", "Amount", "Date", "Paid"])
    for i in range(1, 7):
        sheet.append([i, ("North", "South")[i % 2], i * 100.25, dt.datetime(2024, 1, i), i % 2 == 0])
    sheet.append(["Total", None, "=SUM(C5:C10)"])
    sheet.merge_cells("A1:E1")
    sheet.merge_cells("A2:E2")
    lookup = workbook.create_sheet("Lookup")
    lookup.sheet_state = "hidden"
    lookup.append(["Code", "Label"])
    lookup.append(["N", "North"])
    workbook.create_sheet("Empty")
    workbook.properties.creator = "Alice Example"
    workbook.properties.title = "Q1 Sales"
    workbook.properties.subject = "Sales"
    workbook.properties.keywords = "sales, q1"
    workbook.properties.category = "Finance"
    workbook.properties.lastModifiedBy = "Bob"
    workbook.properties.created = dt.datetime(2024, 1, 2, 3, 4, 5)
    workbook.custom_doc_props.append(StringProperty(name="Project", value="PRJ-1042"))
    workbook.custom_doc_props.append(IntProperty(name="Revision", value=3))
    workbook.custom_doc_props.append(BoolProperty(name="Final", value=True))
    workbook.custom_doc_props.append(StringProperty(name="Classification", value="Internal"))
    return workbook


@pytest.fixture(scope="module")
def sales_xlsx():
    data = xlsx_bytes(_sales_workbook())
    return workbook.read_xlsx(data, make_ctx("sales.xlsx"))


def test_xlsx_header_is_found_under_title_rows(sales_xlsx):
    sheet = sales_xlsx.structure["sheets"][0]
    assert sheet["header_row"] == 3
    assert sheet["columns"] == ["Id", "Region", "Amount", "Date", "Paid"]
    assert sales_xlsx.tables[0].header_row == 3


def test_xlsx_cells_keep_their_types(sales_xlsx):
    table = sales_xlsx.tables[0]
    assert [c.dtype for c in table.columns] == ["integer", "string", "float", "date", "boolean"]
    assert table.column("Id").unique and table.column("Id").small_int_range
    assert table.column("Amount").numeric["sum"] == 2105.25


def test_xlsx_trailing_total_row_is_not_data(sales_xlsx):
    assert sales_xlsx.tables[0].row_count == 6
    assert sales_xlsx.structure["sheets"][0]["rows"] == 6


def test_xlsx_grouped_sums(sales_xlsx):
    assert sales_xlsx.tables[0].grouped_sums["Region"]["Amount"] == {"South": 902.25, "North": 1203.0}


def test_xlsx_hidden_sheet_and_merged_cells(sales_xlsx):
    sheets = {s["name"]: s for s in sales_xlsx.structure["sheets"]}
    assert sheets["Lookup"]["hidden"] and not sheets["Sales"]["hidden"]
    assert sheets["Sales"]["merged_cells"] == 2
    assert sheets["Empty"] == {"name": "Empty", "hidden": False, "rows": 0, "columns": [],
                               "header_row": None, "merged_cells": 0}
    assert [t.name for t in sales_xlsx.tables] == ["Sales", "Lookup"]


def test_xlsx_structure_lists_all_columns_and_rows(sales_xlsx):
    assert sales_xlsx.structure["columns"] == ["Id", "Region", "Amount", "Date", "Paid", "Code", "Label"]
    assert sales_xlsx.structure["row_count"] == 7


def test_xlsx_core_properties(sales_xlsx):
    props = sales_xlsx.properties
    assert props["author"] == "Alice Example"
    assert props["title"] == "Q1 Sales"
    assert props["subject"] == "Sales"
    assert props["keywords"] == "sales, q1"
    assert props["category"] == "Finance"
    assert props["last_modified_by"] == "Bob"
    assert dt.datetime.fromisoformat(props["created_at"]) == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    assert "modified_at" in props


def test_xlsx_custom_properties_and_classification(sales_xlsx):
    custom = sales_xlsx.properties["custom"]
    assert custom == {"Project": "PRJ-1042", "Revision": 3, "Final": True, "Classification": "Internal"}
    assert sales_xlsx.properties["classification"] == "Internal"


def test_xlsx_text_is_a_markdown_table_per_sheet(sales_xlsx):
    text = sales_xlsx.text
    assert "## Sheet: Sales\n\n| Id | Region | Amount | Date | Paid |\n|---|---|---|---|---|" in text
    assert "| 1 | South | 100.25 | 2024-01-01 | false |" in text
    assert "## Sheet: Lookup (hidden)" in text
    assert "Quarterly sales report" not in text  # title rows are above the table


def test_xlsx_never_returns_formula_text(sales_xlsx):
    everything = json.dumps([dataclasses.asdict(t) for t in sales_xlsx.tables]) + sales_xlsx.text
    assert "SUM(" not in everything


def test_xlsx_formula_without_cached_value_is_empty_not_formula_text():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["a", "double"])
    for i in range(1, 4):
        sheet.append([i, f"=A{i + 1}*2"])  # openpyxl stores no cached result
    table = workbook.read_xlsx(xlsx_bytes(book), make_ctx("f.xlsx")).tables[0]
    assert table.column("double").count == 0
    assert table.column("a").numeric["sum"] == 6


@needs_office
def test_xlsx_reads_cached_formula_values_from_a_real_file():
    data = (OFFICE / "SampleSS.xlsx").read_bytes()
    extracted = workbook.read_xlsx(data, make_ctx("SampleSS.xlsx"))
    sheet2 = next(t for t in extracted.tables if t.name == "Sheet Number 2")
    assert [c.name for c in sheet2.columns] == ["cb=1", "cb=10", "cb=2", "cb=sum"]
    assert sheet2.column("cb=sum").samples == ["13"]  # =SUM(A7:C7), cached
    assert extracted.properties["author"] == "Nick Burch"
    assert extracted.properties["created_at"] == "2008-01-04T11:51:36+00:00"


@needs_office
def test_xlsx_real_file_with_one_column():
    extracted = workbook.read_xlsx((OFFICE / "51222.xlsx").read_bytes(), make_ctx("51222.xlsx"))
    assert extracted.structure["sheets"][0]["columns"] == ["A1"]
    assert extracted.tables[0].column("A1").samples == ["A2", "A3", "A4", "A5", "A6"]
    assert extracted.properties["author"] == "jzhu"


def test_xlsx_damaged_file_is_a_parse_error():
    with pytest.raises(ExtractionError) as caught:
        workbook.read_xlsx(b"PK\x03\x04 not really a zip", make_ctx("broken.xlsx"))
    assert caught.value.error_type == "parse_error"


def test_xlsx_zip_without_a_workbook_is_a_parse_error():
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(ExtractionError) as caught:
        workbook.read_xlsx(buffer.getvalue(), make_ctx("empty.xlsx"))
    assert caught.value.error_type == "parse_error"


@needs_office
def test_xls_hidden_sheet_and_summary_properties():
    data = (OFFICE / "TwoSheetsOneHidden.xls").read_bytes()
    extracted = workbook.read_xls(data, make_ctx("TwoSheetsOneHidden.xls"))
    hidden = {s["name"]: s["hidden"] for s in extracted.structure["sheets"]}
    assert hidden == {"Sheet1": True, "Sheet2": False}
    assert extracted.properties["author"] == "Noel Markham"
    assert extracted.properties["created_at"] == "2007-12-04T17:15:32+00:00"


@needs_office
def test_xls_merged_cells_are_counted():
    data = (OFFICE / "44891.xls").read_bytes()
    sheets = workbook.read_xls(data, make_ctx("44891.xls")).structure["sheets"]
    assert {s["name"]: s["merged_cells"] for s in sheets}["ASISTENCIA"] == 20


@needs_office
def test_xls_password_protected_is_a_parse_error():
    with pytest.raises(ExtractionError) as caught:
        workbook.read_xls((OFFICE / "password.xls").read_bytes(), make_ctx("password.xls"))
    assert caught.value.error_type == "parse_error"


# ==========================================================================
# CSV / TSV


def test_csv_semicolon_latin1():
    text = "Name;Stadt;Betrag\nJürgen Müller;Zürich;12\nFrançois;Besançon;7\nÅsa;Malmö;3\n"
    extracted = tabular.read_csv(text.encode("latin-1"), make_ctx("kunden.csv"))
    assert extracted.structure["delimiter"] == ";"
    assert extracted.structure["encoding"] not in ("utf-8", "utf-8-sig")
    assert extracted.structure["columns"] == ["Name", "Stadt", "Betrag"]
    table = extracted.tables[0]
    assert table.column("Stadt").samples == ["Zürich", "Besançon", "Malmö"]
    assert table.column("Betrag").numeric["sum"] == 22
    assert table.name == "kunden"


def test_csv_utf8_bom_is_stripped():
    data = "\ufeffid,name\n1,a\n2,b\n".encode("utf-8")
    extracted = tabular.read_csv(data, make_ctx("bom.csv"))
    assert extracted.structure["columns"] == ["id", "name"]
    assert extracted.structure["encoding"] == "utf-8-sig"


def test_tsv_tab_delimiter_and_quoted_fields():
    data = b'id\tcomment\tamount\n1\t"says ""hi"", then leaves"\t2.5\n2\tplain\t3.5\n'
    extracted = tabular.read_tsv(data, make_ctx("notes.tsv"))
    assert extracted.structure["delimiter"] == "\t"
    table = extracted.tables[0]
    assert table.column("comment").samples == ['says "hi", then leaves', "plain"]
    assert table.column("amount").dtype == "float"
    assert extracted.structure["row_count"] == 2


def test_csv_pipe_delimiter_is_sniffed():
    data = b"a|b|c\n1|2|3\n4|5|6\n"
    assert tabular.read_csv(data, make_ctx("p.csv")).structure["delimiter"] == "|"


def test_csv_header_under_title_rows():
    data = b"Sales export\nGenerated 2024-03-01\n\nregion,units,revenue\nNorth,3,30.5\nSouth,4,40.5\nNorth,3,1\n"
    extracted = tabular.read_csv(data, make_ctx("export.csv"))
    assert extracted.structure["header_row"] == 3
    assert extracted.structure["columns"] == ["region", "units", "revenue"]
    assert extracted.structure["row_count"] == 3
    assert extracted.tables[0].grouped_sums == {"region": {"units": {"North": 6.0, "South": 4.0},
                                                           "revenue": {"North": 31.5, "South": 40.5}}}


def test_csv_ragged_rows_are_tolerated():
    data = b"id,name,city\n1,a,x\n2,b\n3,c,z,extra\n"
    extracted = tabular.read_csv(data, make_ctx("ragged.csv"))
    table = extracted.tables[0]
    assert table.row_count == 3
    assert table.column("city").count == 2


def test_csv_text_is_a_bounded_markdown_table():
    rows = "\n".join(f"{i},{'x' * 50}" for i in range(2000))
    extracted = tabular.read_csv(f"id,blob\n{rows}\n".encode(), make_ctx("wide.csv", max_text_chars=300))
    assert extracted.text.startswith("## Table: wide\n\n| id | blob |")
    assert len(extracted.text) <= 300


def _big_csv(rows: int) -> bytes:
    random.seed(7)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(["Export"])
    writer.writerow(["id", "region", "amount", "note"])
    for i in range(1, rows + 1):
        writer.writerow([i, random.choice(["N", "S", "E"]), round(random.random() * 100, 2), f"line\n{i}"])
    return buffer.getvalue().encode()


def test_large_csv_through_arrow_matches_the_csv_module(monkeypatch):
    data = _big_csv(3000)
    ctx = make_ctx("big.csv", max_rows_per_table=2500)
    monkeypatch.setattr(tabular, "LARGE_CSV_BYTES", 10)
    via_arrow = tabular.read_csv(data, ctx)
    monkeypatch.setattr(tabular, "LARGE_CSV_BYTES", 10**12)
    via_csv = tabular.read_csv(data, ctx)
    assert not via_arrow.warnings
    assert dataclasses.asdict(via_arrow.tables[0]) == dataclasses.asdict(via_csv.tables[0])
    table = via_arrow.tables[0]
    assert table.sampled and table.row_count >= 3000 and table.column("id").count == 2500
    assert table.header_row == 1


def test_not_utf8_large_csv_goes_through_arrow(monkeypatch):
    data = "name,city\n" + "".join(f"Jürgen{i},Zürich\n" for i in range(200))
    monkeypatch.setattr(tabular, "LARGE_CSV_BYTES", 10)
    table = tabular.read_csv(data.encode("latin-1"), make_ctx("l.csv")).tables[0]
    assert table.column("city").samples == ["Zürich"]
    assert table.row_count == 200


@needs_chinook
def test_chinook_track_csv():
    extracted = tabular.read_csv((CHINOOK / "csv" / "Track.csv").read_bytes(), make_ctx("Track.csv"))
    table = extracted.tables[0]
    assert table.name == "Track" and table.row_count == 3503
    track_id = table.column("TrackId")
    assert track_id.dtype == "integer" and track_id.unique and track_id.distinct == 3503
    assert table.column("UnitPrice").dtype == "float"
    assert table.column("Composer").dtype == "string"
    assert not table.column("AlbumId").unique and table.column("AlbumId").small_int_range


@needs_chinook
def test_chinook_invoice_csv_dates_and_totals():
    table = tabular.read_csv((CHINOOK / "csv" / "Invoice.csv").read_bytes(), make_ctx("Invoice.csv")).tables[0]
    assert table.column("InvoiceDate").dtype == "date"
    assert table.column("Total").numeric["sum"] == pytest.approx(2328.6)
    assert table.column("BillingPostalCode").samples[:2] == ["70174", "0171"]


@needs_chinook
def test_chinook_csv_row_counts_match_the_database():
    connection = sqlite3.connect(f"file:{CHINOOK / 'Chinook_Sqlite.sqlite'}?mode=ro&immutable=1", uri=True)
    try:
        for path in sorted((CHINOOK / "csv").glob("*.csv")):
            (expected,) = connection.execute(f'SELECT COUNT(*) FROM "{path.stem}"').fetchone()
            extracted = tabular.read_csv(path.read_bytes(), make_ctx(path.name))
            assert extracted.structure["row_count"] == expected, path.name
    finally:
        connection.close()


@needs_chinook
def test_chinook_csv_foreign_key_values_are_contained_in_the_key():
    read = lambda name: tabular.read_csv((CHINOOK / "csv" / name).read_bytes(), make_ctx(name)).tables[0]
    line, invoice = read("InvoiceLine.csv"), read("Invoice.csv")
    assert set(line.column("InvoiceId").value_hashes) <= set(invoice.column("InvoiceId").value_hashes)
    assert invoice.column("InvoiceId").unique and invoice.column("InvoiceId").exact


# ==========================================================================
# JSON / JSONL


def test_json_records_nested_under_data():
    document = {
        "title": "Orders export",
        "generated_at": "2024-03-01T10:00:00Z",
        "data": [
            {"id": i, "customer": {"name": f"c{i % 3}", "country": "DE"}, "amount": i * 1.5, "tags": ["a", "b"]}
            for i in range(1, 11)
        ],
    }
    extracted = jsondata.read_json(json.dumps(document).encode(), make_ctx("orders.json"))
    assert extracted.structure["record_count"] == 10
    assert extracted.structure["field_paths"] == [
        "data.amount", "data.customer.country", "data.customer.name", "data.id", "data.tags",
        "generated_at", "title",
    ]
    table = extracted.tables[0]
    assert table.name == "data"
    assert [c.name for c in table.columns] == ["id", "customer.name", "customer.country", "amount", "tags"]
    assert table.column("amount").numeric["sum"] == pytest.approx(82.5)
    assert table.column("tags").samples == ['["a","b"]']
    assert extracted.structure["tables"] == [{"name": "data", "columns": [c.name for c in table.columns],
                                              "row_count": 10}]
    assert extracted.properties == {"title": "Orders export", "created_at": "2024-03-01T10:00:00+00:00"}


def test_json_text_is_pretty_json_of_the_first_records():
    document = [{"id": i, "name": f"n{i}"} for i in range(100)]
    extracted = jsondata.read_json(json.dumps(document).encode(), make_ctx("people.json"))
    assert extracted.text.startswith('[\n  {\n    "id": 0,')
    assert '"n2"' in extracted.text and '"n3"' not in extracted.text
    assert extracted.tables[0].name == "people"


def test_json_largest_record_array_comes_first():
    document = {"meta": {"owners": [{"name": "a"}]}, "results": [{"x": i} for i in range(5)]}
    extracted = jsondata.read_json(json.dumps(document).encode(), make_ctx("r.json"))
    assert [t["name"] for t in extracted.structure["tables"]] == ["results", "meta.owners"]
    assert extracted.structure["record_count"] == 6


def test_json_document_without_records_still_has_paths_and_text():
    document = {"settings": {"theme": "dark", "retries": 3}, "hosts": ["a", "b"]}
    extracted = jsondata.read_json(json.dumps(document).encode(), make_ctx("config.json"))
    assert extracted.tables == []
    assert extracted.structure["field_paths"] == ["hosts", "settings.retries", "settings.theme"]
    assert extracted.structure["record_count"] == 0
    assert '"theme": "dark"' in extracted.text


def test_json_invalid_is_a_parse_error():
    with pytest.raises(ExtractionError) as caught:
        jsondata.read_json(b'{"a": ', make_ctx("bad.json"))
    assert caught.value.error_type == "parse_error"


def test_json_with_one_object_per_line_is_read_as_jsonl():
    extracted = jsondata.read_json(b'{"a": 1}\n{"a": 2}\n', make_ctx("lines.json"))
    assert extracted.structure["record_count"] == 2
    assert "JSONL" in extracted.warnings[0]


def test_jsonl_bad_line_is_counted_not_fatal():
    lines = [json.dumps({"id": i, "user": {"team": "t"}}) for i in range(4)]
    lines.insert(2, "{not json")
    extracted = jsondata.read_jsonl(("\n".join(lines) + "\n\n").encode(), make_ctx("events.jsonl"))
    assert extracted.structure["record_count"] == 4
    assert extracted.warnings == ["1 of 5 lines are not valid JSON (first: line 3)"]
    assert extracted.structure["field_paths"] == ["id", "user.team"]
    assert extracted.tables[0].column("id").unique


def test_jsonl_all_bad_is_a_parse_error():
    with pytest.raises(ExtractionError) as caught:
        jsondata.read_jsonl(b"nope\n{bad\n", make_ctx("bad.jsonl"))
    assert caught.value.error_type == "parse_error"


# ==========================================================================
# SQLite


@pytest.fixture(scope="module")
def shop_db(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("db") / "shop.sqlite"
    connection = sqlite3.connect(path)
    connection.executescript(
        """
        CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, region TEXT);
        CREATE TABLE orders (
            id INTEGER PRIMARY KEY,
            customer_id INTEGER REFERENCES customers(id),
            total REAL
        );
        CREATE TABLE order_lines (
            order_id INTEGER, line INTEGER, qty INTEGER,
            PRIMARY KEY (order_id, line),
            FOREIGN KEY (order_id) REFERENCES orders
        );
        """
    )
    connection.executemany("INSERT INTO customers VALUES (?, ?, ?)",
                           [(i, f"u{i}@corp.com", ("N", "S")[i % 2]) for i in range(1, 6)])
    connection.executemany("INSERT INTO orders VALUES (?, ?, ?)", [(i, i % 5 + 1, i * 2.5) for i in range(1, 21)])
    connection.executemany("INSERT INTO order_lines VALUES (?, ?, ?)", [(i % 20 + 1, i, 1) for i in range(40)])
    connection.commit()
    connection.close()
    return path.read_bytes()


def test_sqlite_tables_columns_and_row_counts(shop_db):
    extracted = tabular.read_sqlite(shop_db, make_ctx("shop.sqlite"))
    tables = {t["name"]: t for t in extracted.structure["tables"]}
    assert set(tables) == {"customers", "orders", "order_lines"}
    assert tables["orders"]["columns"] == [
        {"name": "id", "type": "INTEGER"},
        {"name": "customer_id", "type": "INTEGER"},
        {"name": "total", "type": "REAL"},
    ]
    assert {n: t["row_count"] for n, t in tables.items()} == {"customers": 5, "orders": 20, "order_lines": 40}
    assert extracted.structure["row_count"] == 65


def test_sqlite_primary_and_foreign_keys(shop_db):
    extracted = tabular.read_sqlite(shop_db, make_ctx("shop.sqlite"))
    tables = {t["name"]: t for t in extracted.structure["tables"]}
    assert tables["order_lines"]["primary_key"] == ["order_id", "line"]
    assert tables["orders"]["foreign_keys"] == [
        {"columns": ["customer_id"], "ref_table": "customers", "ref_columns": ["id"]}
    ]
    # A reference without columns points at the target's primary key.
    assert tables["order_lines"]["foreign_keys"] == [
        {"columns": ["order_id"], "ref_table": "orders", "ref_columns": ["id"]}
    ]
    profile = next(t for t in extracted.tables if t.name == "orders")
    assert profile.primary_key == ["id"] and profile.foreign_keys == tables["orders"]["foreign_keys"]


def test_sqlite_profiles_and_redacts_samples(shop_db):
    extracted = tabular.read_sqlite(shop_db, make_ctx("shop.sqlite", redactor=EmailRedactor()))
    customers = next(t for t in extracted.tables if t.name == "customers")
    assert customers.column("email").samples == ["[EMAIL]"] * 5
    assert extracted.redactions == {"email": 5}
    assert customers.column("id").unique and customers.column("id").dtype == "integer"
    assert "## Table: orders" in extracted.text


def test_sqlite_row_cap_samples_large_tables(shop_db):
    extracted = tabular.read_sqlite(shop_db, make_ctx("shop.sqlite", max_rows_per_table=10))
    lines = next(t for t in extracted.tables if t.name == "order_lines")
    assert lines.sampled and lines.row_count == 40 and lines.column("line").count == 10


def test_not_sqlite_bytes_are_a_parse_error():
    with pytest.raises(ExtractionError) as caught:
        tabular.read_sqlite(b"hello world, not a database", make_ctx("x.db"))
    assert caught.value.error_type == "parse_error"
    assert caught.value.message == "not a SQLite database"


def test_truncated_sqlite_is_a_parse_error(shop_db):
    with pytest.raises(ExtractionError) as caught:
        tabular.read_sqlite(shop_db[:200], make_ctx("cut.sqlite"))
    assert caught.value.error_type == "parse_error"


@needs_chinook
def test_chinook_sqlite_keys_and_counts():
    data = (CHINOOK / "Chinook_Sqlite.sqlite").read_bytes()
    extracted = tabular.read_sqlite(data, make_ctx("Chinook_Sqlite.sqlite"))
    tables = {t["name"]: t for t in extracted.structure["tables"]}
    assert len(tables) == 11
    line = tables["InvoiceLine"]
    assert line["row_count"] == 2240 and line["primary_key"] == ["InvoiceLineId"]
    refs = {fk["ref_table"]: (fk["columns"], fk["ref_columns"]) for fk in line["foreign_keys"]}
    assert refs == {"Invoice": (["InvoiceId"], ["InvoiceId"]), "Track": (["TrackId"], ["TrackId"])}
    assert tables["PlaylistTrack"]["primary_key"] == ["PlaylistId", "TrackId"]
    assert extracted.structure["row_count"] == 15607
    track = next(t for t in extracted.tables if t.name == "Track")
    assert track.column("TrackId").unique and track.column("UnitPrice").dtype == "float"
