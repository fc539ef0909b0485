"""Readers for the formats a company drive holds beyond the OOXML/CSV/PDF core.

Legacy .doc and .ppt are read from Apache POI's real samples (../shared/data/office-samples);
each expected phrase is first found in the file's raw stream, so the test checks the reader, not
a guess. The other formats are written by tests/office_fixtures.py with their usual producers.
"""

import io
from pathlib import Path

import olefile
import pytest

from tests import office_fixtures
from tests.test_office_samples import samples_dir
from transforms.config import Config, ExtractionConfig
from transforms.extract import extract_file, jsondata, odf, ole
from transforms.extract.context import ExtractContext
from transforms.model import ExtractionError

needs_samples = pytest.mark.skipif(samples_dir() is None, reason="../shared/data/office-samples not present")


def _ctx(extension: str, **limits) -> ExtractContext:
    return ExtractContext(uri=f"mem://x.{extension}", file_name=f"x.{extension}", extension=extension,
                          limits=ExtractionConfig(**limits))


def _sample(name: str) -> bytes:
    return (samples_dir() / name).read_bytes()


def _in_stream(name: str, stream: str, phrase: str, codec: str = "cp1252") -> bool:
    with olefile.OleFileIO(io.BytesIO(_sample(name))) as container:
        raw = container.openstream(stream).read()
    return phrase.encode("utf-16-le") in raw or phrase.encode(codec) in raw


def _record(name: str, data: bytes):
    return extract_file(f"/drive/{name}", data, Config())


# ---------------------------------------------------------------- legacy Word


@needs_samples
@pytest.mark.parametrize("name, phrase", [
    ("ThreeColFoot.doc", "This is page two. It also has no heading, but a three column footer."),
    ("53446.doc", "Enron North America Corp."),
    ("HeaderWithMacros.doc", "Some text goes here."),
    ("documentProperties.doc", "This is document text"),
])
def test_doc_main_text_comes_from_the_piece_table(name, phrase):
    assert _in_stream(name, "WordDocument", phrase)
    assert phrase in ole.read_doc(_sample(name), _ctx("doc")).text


@needs_samples
def test_doc_headers_and_footers_follow_the_body():
    assert _in_stream("ThreeColFoot.doc", "WordDocument", "Footer Middle")
    text = ole.read_doc(_sample("ThreeColFoot.doc"), _ctx("doc")).text
    body, headers = text.split("Headers:")
    assert "HEADING TEXT" in body and "Footer Left" in headers and "Footer Middle" in headers


@needs_samples
def test_doc_summary_properties():
    extracted = ole.read_doc(_sample("documentProperties.doc"), _ctx("doc"))
    assert extracted.properties["title"] == "This is document title"
    assert extracted.properties["author"] == "Sergey Vladimirov"
    assert extracted.properties["created_at"] == "2011-07-06T08:02:37+00:00"


@needs_samples
def test_doc_table_rows_become_cell_lines():
    extracted = ole.read_doc(_sample("Bug47958.doc"), _ctx("doc"))
    assert extracted.structure["table_rows"] >= 5
    assert any(" | " in line for line in extracted.text.splitlines())


@needs_samples
def test_word_95_text_uses_the_documents_code_page():
    text = ole.read_doc(_sample("word95err.doc"), _ctx("doc")).text
    assert _in_stream("word95err.doc", "WordDocument", "Компания", codec="cp1251")
    assert "Компания" in text


@needs_samples
def test_utf8_code_page_of_summary_properties_is_honoured():
    assert ole.read_doc(_sample("Bug34898.doc"), _ctx("doc")).properties["title"] == "ディレクトリ"


def test_encrypted_word_document_is_reported_as_encrypted():
    from tests.cfb import compound_file
    from tests.hostile_corpus import _fib

    word = bytearray(_fib())
    word[0x0A] |= 0x01  # fEncrypted (bit 8 of the flags word)
    word[0x0B] |= 0x01
    data = compound_file({"WordDocument": bytes(word), "1Table": b"\0" * 64})
    with pytest.raises(ExtractionError) as caught:
        ole.read_doc(data, _ctx("doc"))
    assert caught.value.error_type == "encrypted"


# ---------------------------------------------------------------- legacy PowerPoint


@needs_samples
def test_ppt_slides_titles_and_text_in_order():
    extracted = ole.read_ppt(_sample("missing-moveto.ppt"), _ctx("ppt"))
    assert _in_stream("missing-moveto.ppt", "PowerPoint Document", "MONITORING & EVALUATING")
    assert extracted.structure["slide_count"] == 5
    assert extracted.structure["slide_titles"][0] == "MONITORING & EVALUATING"
    assert extracted.text.index("## Slide 1:") < extracted.text.index("How do you know your training programme")
    assert extracted.text.index("How do you know") < extracted.text.index("## Slide 2:")


@needs_samples
def test_ppt_text_in_utf16_atoms_keeps_every_script():
    text = ole.read_ppt(_sample("bug55902-mixedFontChineseCharacters.ppt"), _ctx("ppt")).text
    assert _in_stream("bug55902-mixedFontChineseCharacters.ppt", "PowerPoint Document", "複数の文字")
    assert "複数の文字" in text and "カタカナ" in text


@needs_samples
def test_ppt_notes_are_attached_to_their_slide():
    extracted = ole.read_ppt(_sample("bug58144-headers-footers-2007.ppt"), _ctx("ppt"))
    assert extracted.structure["has_notes"] is True
    assert "Notes:" in extracted.text


@needs_samples
def test_ppt_properties_and_record_type():
    record = _record("deck.ppt", _sample("45537_Header.ppt"))
    assert (record.file_type, record.author, record.title) == ("ppt", "grizob", "Power Point")
    assert record.is_narrative


# ---------------------------------------------------------------- macro-enabled and template OOXML


@pytest.mark.parametrize("kind", sorted(office_fixtures.WORD_TYPES))
def test_macro_and_template_word_documents_are_read_as_word(kind):
    record = _record(f"procedure.{kind}", office_fixtures.word_document(kind))
    assert record.file_type == kind and record.title == "Vendor onboarding procedure"
    assert "supplier register" in record.text and record.structure["tables"] == 1


@pytest.mark.parametrize("kind", sorted(office_fixtures.DECK_TYPES))
def test_macro_template_and_show_decks_are_read_as_decks(kind):
    record = _record(f"review.{kind}", office_fixtures.deck(kind))
    assert record.structure["slide_titles"] == ["Quarterly business review", "Next steps"]
    assert "Notes: Mention the new region" in record.text


@pytest.mark.parametrize("kind", sorted(office_fixtures.SHEET_TYPES))
def test_macro_and_template_workbooks_are_profiled(kind):
    record = _record(f"budget.{kind}", office_fixtures.workbook(kind))
    assert record.structure["columns"] == ["cost_centre", "amount"]
    assert record.tables[0].column("amount").numeric["sum"] == 2450


def test_an_ooxml_file_named_as_its_legacy_twin_is_read_by_content():
    record = _record("procedure.doc", office_fixtures.word_document("docm"))
    assert record.file_type == "doc" and "supplier register" in record.text
    assert record.warnings[0].startswith("a .doc file holding a .docx document")


# ---------------------------------------------------------------- OpenDocument


def test_odt_headings_paragraphs_notes_tables_and_meta():
    record = _record("audit.odt", office_fixtures.odt())
    assert record.structure["headings"] == [{"level": 1, "text": "Findings"}, {"level": 2, "text": "Bins out of balance"}]
    assert "Stock counts matched the ledger in 47 of 50 bins." in record.text
    assert "Note: Counted on 2024-02-28." in record.text
    assert "| A-12 | -3 |" in record.text
    assert (record.title, record.author, record.created_at) == ("Warehouse audit 2024", "Priya Raman",
                                                                 "2024-03-01T10:00:00")
    assert record.properties["classification"] == "Internal"


def test_ods_tables_are_profiled_with_typed_cells():
    record = _record("shipments.ods", office_fixtures.ods())
    table = record.tables[0]
    assert [c.name for c in table.columns] == ["shipment_id", "region", "weight_kg", "shipped_on"]
    assert table.row_count == 6 and table.column("weight_kg").numeric["sum"] == pytest.approx(220.5)
    assert record.is_data


def test_ods_repeated_blank_rows_are_not_expanded():
    assert odf.read_ods(office_fixtures.ods(repeated_rows=1_048_000), _ctx("ods")).tables[0].row_count == 6


def test_ods_repeated_value_rows_expand_only_within_the_cell_budget():
    data = office_fixtures.ods(repeated_rows=1_000_000, repeat_values=True)
    table = odf.read_ods(data, _ctx("ods", max_table_cells=1000)).tables[0]
    assert 6 < table.row_count <= 1000 // 4 and table.sampled


def test_odp_slides_titles_and_notes():
    record = _record("roadmap.odp", office_fixtures.odp())
    assert record.structure["slide_titles"] == ["Roadmap 2025", "Risks"]
    assert "- Ship the supplier portal" in record.text and "Notes: Budget is approved" in record.text


# ---------------------------------------------------------------- RTF, HTML, e-mail


def test_rtf_body_and_info_group():
    record = _record("minutes.rtf", office_fixtures.RTF)
    assert "Revenue rose 12% in Q3; the café budget was cut." in record.text
    assert "Writer" not in record.text  # the \\*\\generator destination is not text
    assert (record.title, record.author) == ("Board minutes March", "Grace Hopper")
    assert record.created_at == "2023-03-14T09:30:00" and record.modified_at == "2023-03-15T08:00:00"


def test_html_title_headings_tables_and_no_script():
    record = _record("scorecard.html", office_fixtures.HTML)
    assert (record.title, record.author) == ("Supplier scorecard Q3", "Lena Fischer")
    assert [h["text"] for h in record.structure["headings"]] == ["Supplier scorecard", "Top suppliers"]
    assert "| Acme Metals | 98 |" in record.text and "- Borealis Plastics: 95%" in record.text
    assert "never shown" not in record.text and "color" not in record.text
    assert record.mentions == ["supplier_scores_q3.xlsx"]


def test_eml_headers_body_and_attachments():
    record = _record("forecast.eml", office_fixtures.eml())
    assert record.title == "Q3 résumé and forecast"
    assert record.created_at == "2024-10-01T10:00:00+02:00"
    assert "The Q3 forecast is attached" in record.text
    names = [a["name"] for a in record.structure["attachments"]]
    assert names == ["forecast_q3.xlsx", "terms.pdf"]
    assert "forecast_q3.xlsx" in record.mentions
    assert "ada@example.com" not in record.text and "ada@example.com" not in str(record.properties)  # redacted


def test_msg_properties_body_and_attachment():
    record = _record("renewal.msg", office_fixtures.msg())
    assert record.title == "Contract renewal 2025"
    assert record.created_at == "2024-11-05T14:30:00+00:00"
    assert "Please review the attached contract before Friday." in record.text
    attachment = record.structure["attachments"][0]
    assert attachment["name"] == "contract_2025.docx" and attachment["size"] > 1000
    assert "dana@example.com" not in record.text  # the sender's address is redacted


def test_msg_without_message_properties_is_a_parse_error():
    from tests.cfb import compound_file

    with pytest.raises(ExtractionError) as caught:
        _record("empty.msg", compound_file({"unrelated": b"x" * 10}))
    assert caught.value.error_type == "parse_error"


# ---------------------------------------------------------------- JSON beyond the whole-document size


def test_a_large_json_array_is_read_item_by_item(monkeypatch):
    monkeypatch.setattr(jsondata, "DOCUMENT_BYTES", 100)
    data = ("[" + ",".join(f'{{"id": {i}, "region": "r{i % 3}"}}' for i in range(500)) + "]").encode()
    extracted = jsondata.read_json(data, _ctx("json", max_rows_per_table=50))
    assert extracted.structure["record_count"] == 500
    assert extracted.tables[0].row_count == 500 and extracted.tables[0].sampled


def test_json_cut_at_the_read_budget_keeps_the_records_before_the_cut(monkeypatch):
    monkeypatch.setattr(jsondata, "DOCUMENT_BYTES", 100)
    data = ('{"meta": {"title": "Shipments"}, "data": ['
            + ",".join(f'{{"id": {i}}}' for i in range(200)) + "]}").encode()
    head = data[:700]
    ctx = ExtractContext(uri="mem://s.json", file_name="s.json", extension="json", limits=ExtractionConfig(),
                         size=len(data), complete=False)
    extracted = jsondata.read_json(head, ctx)
    assert 50 < extracted.structure["record_count"] < 200
    assert extracted.warnings == [f"JSON read from the first 700 of {len(data)} bytes"]


def test_default_patterns_cover_every_new_extension():
    patterns = Config().batch.patterns
    for extension in ("doc", "ppt", "docm", "pptm", "dotx", "potx", "xltx", "odt", "ods", "odp", "rtf", "html",
                      "eml", "msg"):
        assert f"*.{extension}" in patterns, extension


def test_readme_lists_the_formats():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for word in (".doc", ".ppt", ".odt", ".rtf", ".html", ".eml", ".msg"):
        assert word in readme, word


# ---------------------------------------------------------------- workbooks past the cell budget


@needs_samples
def test_an_xls_declaring_millions_of_cells_is_streamed_and_profiled_as_calamine_would():
    from transforms.extract import workbook

    data = _sample("SharedFormulaTest.xls")  # a 32,770 x 130 used range holding about a thousand cells
    streamed = workbook.read_xls(data, _ctx("xls"))
    loaded = workbook.read_xls(data, _ctx("xls", max_table_cells=10_000_000))
    assert streamed.warnings == ["sheets' used ranges span 4260100 cells; read by xlrd"] and loaded.warnings == []
    assert [(t.name, [c.name for c in t.columns], t.row_count) for t in streamed.tables] == [
        (t.name, [c.name for c in t.columns], t.row_count) for t in loaded.tables]


def test_an_xlsx_declaring_a_huge_range_is_streamed_and_profiled_as_calamine_would():
    from tests.hostile_corpus import _far_cell_workbook
    from transforms.extract import workbook

    data = _far_cell_workbook("A1:J9000", "J5000")  # 90,000 declared cells, a handful present
    streamed = workbook.read_xlsx(data, _ctx("xlsx", max_table_cells=50_000))
    loaded = workbook.read_xlsx(data, _ctx("xlsx"))
    assert streamed.warnings[-1] == "a sheet's used range spans 90000 cells; read row by row"
    assert [c.name for c in streamed.tables[0].columns] == [c.name for c in loaded.tables[0].columns]
    assert streamed.tables[0].column("id").numeric == loaded.tables[0].column("id").numeric
    assert streamed.tables[0].sampled  # 5,030 of 9,000 rows read: a sample, and said so
