"""Numbers with precision, entities, file mentions and key terms from text."""

import pytest

from transforms.text_signals import (
    extract_entities,
    extract_numbers,
    key_terms,
    mentioned_files,
    split_identifier,
)

# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    "text, expected",
    [
        ("sold 1,234,567 units", [[1234567.0, 0.5]]),
        ("revenue 1,234,567.89 total", [[1234567.89, 0.005]]),
        ("revenue of $1.23M", [[1230000.0, 5000.0]]),
        ("about 45.2k visits", [[45200.0, 50.0]]),
        ("reached 1.2 million users", [[1200000.0, 50000.0]]),
        ("margin 12.5%", [[12.5, 0.05]]),
        ("growth of 7 percent", [[7.0, 0.5]]),
        ("EUR 2,000 fee", [[2000.0, 0.5]]),
        ("costs 300 USD", [[300.0, 0.5]]),
        ("a 2.5bn deal", [[2500000000.0, 50000000.0]]),
        ("only .5 left", [[0.5, 0.05]]),
    ],
)
def test_numbers_carry_value_and_half_unit_of_the_last_shown_digit(text, expected):
    assert extract_numbers(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("loss of -45.5 points", [[-45.5, 0.05]]),
        ("loss of −3 points", [[-3.0, 0.5]]),  # Unicode minus
        ("net (1,234.50) for the year", [[-1234.5, 0.005]]),
        ("net ($1.2M) overall", [[-1200000.0, 50000.0]]),
    ],
)
def test_negative_and_parenthesised_negative_numbers(text, expected):
    assert extract_numbers(text) == expected


def test_list_markers_in_parentheses_stay_positive():
    assert extract_numbers("options (1) and (2)") == [[1.0, 0.5], [2.0, 0.5]]


def test_a_hyphen_between_numbers_is_a_range_not_a_minus():
    assert extract_numbers("between 10-20 units") == [[10.0, 0.5], [20.0, 0.5]]


@pytest.mark.parametrize(
    "text",
    [
        "in 2024 and 1999",  # years standing alone
        "due 2024-03-15",  # ISO date
        "due 03/15/2024",  # numeric date
        "due March 5, 2024 or 5 March 2024",  # written dates
        "at 10:30 am",  # clock time
        "PRJ-4821 and MKT-2024-07 and OPS/118",  # project codes
        "for C-10234 and SKU-88412",  # identifiers
        "id 123e4567-e89b-12d3-a456-426614174000",  # UUID
        "in Q3 on x86 with 3D and v1.2.3",  # digits inside words and versions
        "see Slide 3 and page 12",  # position labels
        "from sales_2024.xlsx",  # digits in file names
        "ran 5m",  # lower-case m without a currency could be metres
    ],
)
def test_numbers_skip_years_dates_codes_and_labels(text):
    assert extract_numbers(text) == []


def test_a_year_with_a_currency_or_separator_is_an_amount():
    assert extract_numbers("paid $2,024 and 2024.5 kg") == [[2024.0, 0.5], [2024.5, 0.05]]


def test_numbers_are_distinct_in_order_of_first_appearance():
    assert extract_numbers("7 then 3 then 7") == [[7.0, 0.5], [3.0, 0.5]]


# ---------------------------------------------------------------- entities


def test_project_codes_letters_and_digits_with_dash_or_slash():
    found = extract_entities("Work on PRJ-4821, MKT-2024-07 and OPS/118 continues.")
    assert found["project_code"] == ["MKT-2024-07", "OPS/118", "PRJ-4821"]


def test_identifiers_by_id_prefix_single_letter_or_uuid():
    text = "Order C-10234 ships SKU-88412 billed on INV-000123 ref 123E4567-E89B-12D3-A456-426614174000."
    found = extract_entities(text)
    assert found["identifier"] == ["123e4567-e89b-12d3-a456-426614174000", "C-10234", "INV-000123", "SKU-88412"]
    assert "project_code" not in found


def test_amounts_are_normalised_with_currency_code():
    found = extract_entities("Budget $1.23M, fee EUR 2,000, refund £40 and 300 dollars.")
    assert found["amount"] == ["EUR 2000", "GBP 40", "USD 1230000", "USD 300"]


@pytest.mark.parametrize(
    "text, iso",
    [
        ("on 2024-03-05", "2024-03-05"),
        ("on 2024-03-05T10:00:00Z", "2024-03-05"),
        ("on March 5, 2024", "2024-03-05"),
        ("on 5th of March 2024", "2024-03-05"),
        ("on Sept. 30 2023", "2023-09-30"),
        ("on 03/15/2024", "2024-03-15"),
        ("on 15/03/2024", "2024-03-15"),  # month first is impossible, so day first
        ("on 05.03.2024", "2024-03-05"),  # dots read day first
        ("in March 2024", "2024-03"),
    ],
)
def test_dates_are_normalised_to_iso(text, iso):
    assert extract_entities(text)["date"] == [iso]


def test_invalid_dates_are_not_dates():
    assert "date" not in extract_entities("on 2024-02-30 and Foo 12, 2024")


def test_organizations_end_in_a_company_suffix():
    found = extract_entities("Signed with Acme Corp, The Globex Group and Initech, Inc. last week.")
    assert found["organization"] == ["Acme Corp", "Globex Group", "Initech Inc"]


def test_percentages():
    assert extract_entities("margin 12.5% and 7 percent")["percent"] == ["12.5%", "7%"]


def test_kinds_without_values_are_left_out():
    assert extract_entities("nothing to see here") == {}


# ---------------------------------------------------------------- mentions


def test_mentions_single_word_file_names():
    assert mentioned_files("Built from sales_2024.xlsx and orders.csv.") == ["sales_2024.xlsx", "orders.csv"]


def test_mentions_title_cased_names_with_spaces():
    assert mentioned_files("See Q3 Forecast.pptx for details") == ["Q3 Forecast.pptx"]


def test_a_bare_name_comes_with_its_longer_readings_up_to_a_sentence_word_or_punctuation():
    # Where "Support tickets 2024-03.xlsx" starts only the drive's files tell: each reading is a mention.
    assert mentioned_files("Figures computed from Support tickets 2024-03.xlsx.") == [
        "2024-03.xlsx", "tickets 2024-03.xlsx", "Support tickets 2024-03.xlsx"]
    assert mentioned_files("# Dataset: Ticket Export (2).xlsx") == ["(2).xlsx", "Export (2).xlsx", "Ticket Export (2).xlsx"]
    assert mentioned_files("Records from\nVendor register.xlsx") == ["register.xlsx", "Vendor register.xlsx"]
    # At most MAX_NAME_WORDS words; paths and quoted names are read as written.
    long = mentioned_files("a1 b2 c3 d4 e5 f6 g7 h8.csv")
    assert long[-1] == "c3 d4 e5 f6 g7 h8.csv" and len(long) == 6
    assert mentioned_files("Tables in cldf/languages.csv") == ["cldf/languages.csv"]
    assert mentioned_files("Built from sales_2024.xlsx and orders.csv.") == ["sales_2024.xlsx", "orders.csv"]


def test_mentions_quoted_names_exactly():
    assert mentioned_files("open 'my budget v2.xlsx' now") == ["my budget v2.xlsx"]


def test_mentions_keep_the_relative_path_written_and_the_extension_case():
    # The path tells which of several files of one name is meant (transforms/detect/mentions.py).
    assert mentioned_files("stored at gs://bucket/reports/Summary.PDF") == ["bucket/reports/Summary.PDF"]
    assert mentioned_files("see cldf/languages.csv") == ["cldf/languages.csv"]


def test_mentions_ignore_unknown_extensions_and_longer_suffixes():
    assert mentioned_files("backup.zip and file.xlsx.bak and www.example.com") == []


# ---------------------------------------------------------------- key terms


def test_key_terms_rank_frequent_content_words_without_stopwords():
    text = "Revenue grew in the north. Revenue fell in the south. The revenue outlook is stable."
    terms = key_terms(text)
    assert terms[0] == "revenue"
    assert "the" not in terms and "in" not in terms


def test_key_terms_ignore_repeated_boilerplate_lines():
    text = "ACME Confidential footer\n" * 50 + "pipeline forecast\npipeline review\n"
    terms = key_terms(text)
    assert terms[0] == "pipeline"
    assert "confidential" not in terms


def test_key_terms_split_column_names_on_underscores_and_camel_case():
    terms = key_terms("", ["total_revenue", "customerRegion", "OrderID"])
    assert set(terms) == {"total", "revenue", "customer", "region", "order"}


def test_key_terms_skip_redaction_marks_and_code_fragments():
    terms = key_terms("Mail [EMAIL] or [PERSON:1a2b3c4d] about id 123e4567-e89b-12d3-a456-426614174000")
    assert terms == ["mail"]


def test_key_terms_respect_the_limit():
    assert len(key_terms("alpha bravo charlie delta echo foxtrot", limit=3)) == 3


def test_split_identifier():
    assert split_identifier("totalRevenue_2024") == ["total", "revenue", "2024"]
    assert split_identifier("HTTPStatusCode") == ["http", "status", "code"]
