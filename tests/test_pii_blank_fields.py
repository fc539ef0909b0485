"""Redaction invents nothing: blank form fields, separators and labels are never PII.

A form leaves its fields blank with runs of EN/EM/no-break/ideographic spaces,
tabs, underscores, dots or dashes, or with a mask such as "__/__/____". Under a
PII label ("Passport number:", a "Phone" table header) such a blank used to be
replaced as that kind; a real Word form (Apache POI's form_footnotes.docx)
came out with 146 NATIONAL_ID redactions and no PII at all. The same forms
filled in are the control: every kind is then redacted, so the checks are not
vacuous.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from typing import Dict, Optional

import pytest

from transforms.config import Config, ExtractionConfig
from transforms.extract import extract_file
from transforms.model import ExtractionError
from transforms.pii import Redactor

BLANKS = {
    "en_spaces": "\u2002" * 12,
    "em_spaces": "\u2003" * 8,
    "no_break_spaces": "\u00a0" * 10,
    "ideographic_spaces": "\u3000" * 6,
    "tabs": "\t\t\t",
    "zero_width_spaces": "\u200b" * 3,
    "underscores": "_" * 16,
    "dots": "." * 10,
    "ellipses": "\u2026" * 5,
    "dashes": "-" * 10,
    "figure_dashes": "\u2012" * 7,
    "bullets": "\u2022" * 8,
    "date_mask": "__/__/____",
    "spaced_date_mask": "\u2002\u2002/\u2002\u2002/\u2002\u2002\u2002\u2002",
    "phone_mask": "(   )    -    ",
    "ssn_mask": "___-__-____",
    "email_mask": "____@____",
}

# label -> a filled-in value of the kind the label asks for
FIELDS = {
    "Full name": "Maria Lopez",
    "Passport number": "X1234567",
    "National ID": "AB 123456 C",
    "Date of birth": "1984-03-15",
    "Phone": "+44 20 7946 0958",
    "Email": "maria.lopez@example.com",
    "SSN": "536-22-1847",
    "IBAN": "GB82 WEST 1234 5698 7654 32",
    "Card number": "4539 1488 0343 6467",
    "Home address": "12 Harbour Road, Leith",
    "Password": "hunter2!x",
    "Username": "mlopez",
}


@pytest.mark.parametrize("blank", list(BLANKS.values()), ids=list(BLANKS))
@pytest.mark.parametrize("label", list(FIELDS))
def test_blank_field_after_a_label_is_not_redacted(label, blank):
    for line in (f"{label}: {blank}", f"{label} = {blank}", f'"{label}": "{blank}"'):
        assert Redactor().redact_structured(line) == (line, {}), line


@pytest.mark.parametrize("blank", list(BLANKS.values()), ids=list(BLANKS))
@pytest.mark.parametrize("label", list(FIELDS))
def test_blank_cell_in_a_pii_column_is_not_redacted(label, blank):
    assert Redactor().redact_values(label, [blank]) == ([blank], {})
    table = f"| {label} | Notes |\n|---|---|\n| {blank} | none |"
    assert Redactor().redact_structured(table) == (table, {})


@pytest.mark.parametrize("label,value", list(FIELDS.items()))
def test_filled_field_is_redacted(label, value):
    """The control: the same labels with real values are found."""
    out, counts = Redactor().redact_structured(f"{label}: {value}")
    assert value not in out and sum(counts.values()) == 1, (out, counts)


@pytest.mark.parametrize("label,value", [
    ("Passport number", "02 - Place of birth (city/state/country)"),
    ("Phone", "Work or home, with the area code"),
    ("Date of birth", "Day Month Year"),
    ("Card number", "Last four digits only, e.g. 4"),
])
def test_a_label_in_a_pii_column_is_not_that_kind(label, value):
    """Forms put the next field's label under a field's header; it holds no ID or number."""
    assert Redactor().redact_values(label, [value]) == ([value], {})


def test_a_header_that_is_a_sentence_is_no_pii_column():
    header = "01 - Full name (as per passport; do not abbreviate or omit any name) First Middle Last"
    table = f"| {header} | Photo |\n|---|---|\n| 02 - Place of birth (city/state/country) | attach |"
    assert Redactor().redact_structured(table) == (table, {})


def test_listed_ids_in_steps_are_not_a_card_number():
    """Space-separated IDs can pass Luhn by chance (found in real CLDF exports)."""
    for text in ("examples 2637 2638 2639 2640", "rows 376 377 378 379 380"):
        assert Redactor().find(text) == []
    assert Redactor().find("card 4111 1111 1111 1111")  # equal groups are still a card


def test_placeholder_secret_is_not_a_secret():
    for text in ("password = \u2022\u2022\u2022\u2022\u2022\u2022", "api_key: \u2012\u2012\u2012\u2012\u2012\u2012\u2012"):
        assert Redactor().find(text) == [], text


def test_column_names_in_other_languages_hold_names():
    out, counts = Redactor().redact_values("Nachname", ["Achzet", "Abudu"])
    assert out == ["[PERSON]", "[PERSON]"] and counts == {"PERSON": 2}
    assert Redactor().redact_values("Prénom", ["Maria"])[1] == {"PERSON": 1}


# ---------------------------------------------------------------- a Word form


def _form_docx(values: Dict[str, str]) -> bytes:
    """A form as Word writes one: label paragraphs, then a table of labelled fields."""
    import docx

    document = docx.Document()
    document.add_heading("Application form", level=1)
    for label, value in values.items():
        document.add_paragraph(f"{label}: {value}")
    table = document.add_table(rows=2, cols=len(values))
    for column, (label, value) in enumerate(values.items()):
        table.cell(0, column).text = label
        table.cell(1, column).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("blank", list(BLANKS.values()), ids=list(BLANKS))
def test_blank_word_form_has_no_redactions(blank):
    record = extract_file("form.docx", _form_docx({label: blank for label in FIELDS}), Config())
    assert record.redactions == {}


def test_filled_word_form_redacts_every_field():
    record = extract_file("form.docx", _form_docx(FIELDS), Config())
    assert set(record.redactions) == {
        "PERSON", "NATIONAL_ID", "DATE_OF_BIRTH", "PHONE", "EMAIL", "US_SSN", "IBAN", "CREDIT_CARD",
        "ADDRESS", "SECRET", "USERNAME",
    }, record.redactions
    for value in FIELDS.values():
        assert value not in record.text


# ---------------------------------------------------------------- real Office files


def _office_samples() -> Optional[Path]:
    path = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "office-samples"
    return path if path.is_dir() else None


# Samples that hold PII, and why; every other readable sample must have no redaction.
SAMPLES_WITH_PII = {
    "52716.xlsx": "a staff list: Vorname, Nachname and E-Mail columns of real people",
    "bug59058.docx": "an author's postal address and e-mail in a paper's front matter",
    "at.gv.land-oberoesterreich.www_cps_rde_xbcr_SID-4A1B954F-5C07F98E_ooe_stat_download_bp10.xls": (
        "election results with candidates' names as headers and a bare 'Name' column, whose values "
        "(districts) are redacted as PERSON: a bare Name column is taken to hold people"),
}
OFFICE_EXTENSIONS = (".docx", ".xlsx", ".pptx", ".xls")


@pytest.mark.skipif(_office_samples() is None, reason="../shared/data/office-samples is not beside the repository")
def test_office_samples_without_pii_have_no_redactions():
    config = dataclasses.replace(Config(), extraction=ExtractionConfig(timeout_seconds=20.0))
    redacted = {}
    for path in sorted(_office_samples().iterdir()):
        if path.suffix.lower() not in OFFICE_EXTENSIONS:
            continue
        try:
            record = extract_file(str(path), path.read_bytes(), config)
        except ExtractionError:
            continue  # broken and encrypted samples: test_office_samples covers them
        if record.redactions:
            redacted[path.name] = record.redactions
    assert "form_footnotes.docx" not in redacted  # blank form cells of U+2002 runs
    assert set(redacted) == set(SAMPLES_WITH_PII), redacted
