import pytest

from transforms.naming import analyse_name, stem_similarity, version_order


@pytest.mark.parametrize(
    "name, stem",
    [
        ("Q3 forecast v2 (final).xlsx", "q3 forecast"),
        ("q3_forecast_v1.xlsx", "q3 forecast"),
        ("Q3-Forecast (2).xlsx", "q3 forecast"),
        ("budget_2024-03.xlsx", "budget"),
        ("MeetingNotes_2024-03-04_draft.docx", "meeting notes"),
        ("gs://bucket/dir/SalesSummaryFY24.pptx", "sales summary"),
        ("InvoiceLine.csv", "invoice line"),
        ("Q1 Forecast Rev B.xlsx", "q1 forecast"),
    ],
)
def test_stem_drops_version_date_and_copy_markers(name, stem):
    assert analyse_name(name).stem == stem


@pytest.mark.parametrize(
    "newer, older",
    [
        ("plan_v2.docx", "plan_v1.docx"),
        ("plan_final.docx", "plan_v2.docx"),
        ("plan_v1.docx", "plan_draft.docx"),
        ("budget_2024-03.xlsx", "budget_2024-01.xlsx"),
        ("notes_2024-03-04.docx", "notes_2024-03-04_draft.docx"),
        ("Q3 forecast (2).xlsx", "Q3 forecast.xlsx"),
        ("plan v1.10.docx", "plan v1.9.docx"),
        ("q2-forecast-rev-c.xlsx", "q2-forecast-rev-b.xlsx"),
    ],
)
def test_version_order_names_the_newer_file(newer, older):
    assert version_order(analyse_name(newer), analyse_name(older)) == 1
    assert version_order(analyse_name(older), analyse_name(newer)) == -1


def test_version_order_is_unknown_without_markers():
    assert version_order(analyse_name("alpha.docx"), analyse_name("beta.docx")) is None


def test_stem_similarity_is_fuzzy_and_bounded():
    a, b, c = analyse_name("sales_report.xlsx"), analyse_name("Sales Reports v2.xlsx"), analyse_name("hr.xlsx")
    assert stem_similarity(a, a) == 1.0
    assert 0.85 <= stem_similarity(a, b) < 1.0
    assert stem_similarity(a, c) < 0.5
