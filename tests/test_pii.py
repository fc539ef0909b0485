"""Tests for transforms.pii: detection, redaction policies, pseudonyms and column values."""

from __future__ import annotations

import re

import pytest

from transforms.pii import Finding, Redactor, column_pii_kind, iban_valid, luhn_valid

# (text, kind, the exact substring that must be found)
KIND_CASES = [
    ("Write to jane.doe@example.com today", "EMAIL", "jane.doe@example.com"),
    ("cc: ops+alerts@sub.example.co.uk.", "EMAIL", "ops+alerts@sub.example.co.uk"),
    ("Call (415) 555-0132 now", "PHONE", "(415) 555-0132"),
    ("Call 415-555-0132 now", "PHONE", "415-555-0132"),
    ("Toll free 1-800-555-0199.", "PHONE", "1-800-555-0199"),
    ("London office +44 20 7946 0958", "PHONE", "+44 20 7946 0958"),
    ("Office 020 7946 0958 (UK)", "PHONE", "020 7946 0958"),
    ("Phone: 4155550132", "PHONE", "4155550132"),
    ("SSN 536-22-8145 on file", "US_SSN", "536-22-8145"),
    ("social security number 536 22 8145", "US_SSN", "536 22 8145"),
    ("NI number AB 12 34 56 C", "UK_NINO", "AB 12 34 56 C"),
    ("card 4111 1111 1111 1111 expires", "CREDIT_CARD", "4111 1111 1111 1111"),
    ("card 4111-1111-1111-1111", "CREDIT_CARD", "4111-1111-1111-1111"),
    ("amex 378282246310005", "CREDIT_CARD", "378282246310005"),
    ("Qty 2 4111 1111 1111 1111", "CREDIT_CARD", "4111 1111 1111 1111"),
    ("IBAN GB82 WEST 1234 5698 7654 32.", "IBAN", "GB82 WEST 1234 5698 7654 32"),
    ("pay DE89370400440532013000 now", "IBAN", "DE89370400440532013000"),
    ("host 192.168.10.24 is up", "IP_ADDRESS", "192.168.10.24"),
    ("v6 2001:db8:85a3::8a2e:370:7334 is up", "IP_ADDRESS", "2001:db8:85a3::8a2e:370:7334"),
    ("link-local fe80::1 only", "IP_ADDRESS", "fe80::1"),
    ("Contact: Jane Doe for access", "PERSON", "Jane Doe"),
    ("Prepared by Maria Lopez on 2024-03-15", "PERSON", "Maria Lopez"),
    ("key sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t here", "SECRET", "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t"),
    ("aws AKIAIOSFODNN7EXAMPLE here", "SECRET", "AKIAIOSFODNN7EXAMPLE"),
    ("postgres://admin:hunter22@db.internal/app", "SECRET", "admin:hunter22"),
    ("DB_PASSWORD=hunter2!x", "SECRET", "hunter2!x"),
]

NON_PII = [
    "Revenue was 1,234,567.89 this year",
    "European format 1.234.567,89 EUR",
    "Closed on 2024-03-15 and reopened 15/03/2024",
    "Growth of 12.5% and margin 4%",
    "Project PRJ-4821 for customer C-10234",
    "Item SKU-88412 in stock",
    "Invoice INV-2024-000123 paid",
    "Release 2.4.1 and version 1.2.3.4",
    "Years 1999 2024 2025 and counts 7 12 42",
    "Meeting at 10:30, call ends 12:30:45",
    "Timestamp 2024-03-15T10:30:00Z",
    "Ratio 16:9 and 1:2:3",
    "Table | 2024 | 4,500,000 | 3,200,000.00 | 0.25",
    "Unit 12345 ordered 1234567890123 grains",
    "MAC 00:1A:2B:3C:4D:5E",
    "uuid 123e4567-e89b-12d3-a456-426614174000",
    "Coordinates 51.5074, -0.1278",
    "Phone numbers are listed in the appendix",
    "password policy: rotate every 90 days",
]

BUSINESS_PHRASES = [
    "Owner: North Region",
    "Author: Quarterly Revenue",
    "Prepared by Finance Team",
    "Prepared by Acme Consulting",
    "Contact: Customer Success",
    "To: All Staff",
    "Dear Team,",
    "Dear Valued Customer,",
    "Created by Microsoft Excel",
    "Product name: Widget Pro",
    "North Region Quarterly Revenue Summary for Western Europe",
]

PERSON_CASES = [
    ("Contact: Jane Doe", "Jane Doe"),
    ("Prepared by Maria Lopez", "Maria Lopez"),
    ("Author: Jean-Luc Picard", "Jean-Luc Picard"),
    ("Owner: Sarah McDonald (Finance)", "Sarah McDonald"),
    ("Reviewed by Dr. Ahmed Khan", "Dr. Ahmed Khan"),
    ("Dear Mr. Smith,", "Mr. Smith"),
    ("Dear Priya,\nThanks.", "Priya"),
    ("Kind regards,\n\nTom van der Berg", "Tom van der Berg"),
    ("Best regards,\nJohn Carter\nFinance Director", "John Carter"),
    ("From: Li Wei <li.wei@corp.cn>", "Li Wei"),
    ("write to bob@example.org (Bob Stone)", "Bob Stone"),
    ("Prepared by: J. R. Smith", "J. R. Smith"),
    ("Contact: María López-García", "María López-García"),
    ("Approved by Peter Parker", "Peter Parker"),
]


def _mask(text: str) -> str:
    return Redactor(policy="mask").redact(text)[0]


# --------------------------------------------------------------------------- #
# Detection
# --------------------------------------------------------------------------- #

@pytest.mark.parametrize("text,kind,value", KIND_CASES, ids=[f"{c[1]}-{i}" for i, c in enumerate(KIND_CASES)])
def test_find_reports_kind_and_exact_span(text, kind, value):
    start = text.index(value)
    assert Finding(kind, start, start + len(value)) in Redactor().find(text)


@pytest.mark.parametrize("policy", ["mask", "hash", "drop"])
@pytest.mark.parametrize("text,kind,value", KIND_CASES, ids=[f"{c[1]}-{i}" for i, c in enumerate(KIND_CASES)])
def test_each_kind_is_replaced_under_each_policy(text, kind, value, policy):
    out, counts = Redactor(policy=policy).redact(text)
    before, after = text.split(value, 1)
    assert value not in out
    assert counts.get(kind, 0) >= 1
    if policy == "mask":
        assert out == f"{before}[{kind}]{after}"
    elif policy == "hash":
        assert re.fullmatch(re.escape(before) + rf"\[{kind}:[0-9a-f]{{8}}\]" + re.escape(after), out)
    else:
        assert out == before + after


@pytest.mark.parametrize("number", [
    "4111 1111 1111 1112",
    "4111111111111112",
    "5555-5555-5555-4445",
    "4000 1234 5678 9011",
])
def test_luhn_invalid_card_numbers_are_left_alone(number):
    text = f"card {number} on file"
    assert Redactor().redact(text) == (text, {})


@pytest.mark.parametrize("iban", [
    "GB83 WEST 1234 5698 7654 32",   # wrong check digits
    "DE89370400440532013001",        # one digit changed
    "GB82 WEST 1234 5698 7654 3",    # too short for GB
    "XX82WEST12345698765432",        # unknown country
])
def test_mod97_invalid_ibans_are_left_alone(iban):
    text = f"IBAN {iban} here"
    assert Redactor().redact(text) == (text, {})


@pytest.mark.parametrize("text", NON_PII)
def test_ordinary_numbers_codes_and_dates_are_not_redacted(text):
    assert Redactor().redact(text) == (text, {})


@pytest.mark.parametrize("text", BUSINESS_PHRASES)
def test_capitalised_business_phrases_are_not_persons(text):
    assert Redactor().find(text) == []


@pytest.mark.parametrize("text,name", PERSON_CASES)
def test_person_names_found_from_context(text, name):
    start = text.index(name)
    assert Finding("PERSON", start, start + len(name)) in Redactor().find(text)


def test_name_matching_an_email_local_part_is_found_elsewhere_in_text():
    text = "Reply to jane.doe@example.com. Later Jane Doe confirmed; Doe, Jane signed."
    out, counts = Redactor().redact(text)
    assert out == "Reply to [EMAIL]. Later [PERSON] confirmed; [PERSON] signed."
    assert counts == {"EMAIL": 1, "PERSON": 2}


def test_attendee_list_flags_every_name():
    out, counts = Redactor().redact("Attendees: Jane Doe; John Smith & Alan Turing")
    assert out == "Attendees: [PERSON]; [PERSON] & [PERSON]"
    assert counts == {"PERSON": 3}


def test_ipv4_after_version_word_is_not_an_address():
    assert Redactor().find("firmware version 10.0.0.1 installed") == []


def test_private_key_block_is_one_secret():
    text = "key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\nend"
    out, counts = Redactor().redact(text)
    assert out == "key:\n[SECRET]\nend"
    assert counts == {"SECRET": 1}


def test_url_credentials_keep_host():
    out, _ = Redactor().redact("https://alice:s3cret@host.example.org/x")
    assert out == "https://[SECRET]@host.example.org/x"


def test_findings_are_sorted_and_do_not_overlap():
    text = "Jane Doe <jane.doe@example.com>, IBAN GB82 WEST 1234 5698 7654 32, +1 (415) 555-0132"
    found = Redactor().find(text)
    assert [f.kind for f in found] == ["PERSON", "EMAIL", "IBAN", "PHONE"]
    assert all(a.end <= b.start for a, b in zip(found, found[1:]))


# --------------------------------------------------------------------------- #
# Counts, policies, pseudonyms
# --------------------------------------------------------------------------- #

def test_counts_per_kind():
    text = ("a@example.com, b@example.com, 415-555-0132, 536-22-8145, "
            "4111 1111 1111 1111, 10.0.0.1, Contact: Jane Doe")
    _, counts = Redactor().redact(text)
    assert counts == {"EMAIL": 2, "PHONE": 1, "US_SSN": 1, "CREDIT_CARD": 1, "IP_ADDRESS": 1, "PERSON": 1}


def test_text_without_pii_is_returned_unchanged_with_empty_counts():
    text = "the north region reviewed the plan"
    out, counts = Redactor().redact(text)
    assert out is text and counts == {}


def test_redaction_is_idempotent():
    text = "Contact: Jane Doe <jane.doe@example.com>, SSN 536-22-8145, 10.0.0.1"
    for policy in ("mask", "hash"):
        r = Redactor(policy=policy)
        once, _ = r.redact(text)
        assert r.redact(once) == (once, {})


def test_hash_pseudonym_is_stable_across_instances():
    text = "mail jane.doe@example.com"
    assert Redactor(policy="hash").redact(text) == Redactor(policy="hash").redact(text)


def test_hash_pseudonyms_differ_between_values():
    out, _ = Redactor(policy="hash").redact("a: jane@example.com b: john@example.com")
    tags = re.findall(r"\[EMAIL:[0-9a-f]{8}\]", out)
    assert len(tags) == 2 and tags[0] != tags[1]


@pytest.mark.parametrize("kind,a,b", [
    ("EMAIL", "Jane.Doe@Example.com", "jane.doe@example.com"),
    ("PHONE", "(415) 555-0132", "415.555.0132"),
    ("CREDIT_CARD", "4111 1111 1111 1111", "4111-1111-1111-1111"),
    ("PERSON", "Doe, Jane", "Jane Doe"),
])
def test_hash_pseudonym_ignores_formatting(kind, a, b):
    r = Redactor(policy="hash")
    assert r.pseudonym(kind, a) == r.pseudonym(kind, b)


def test_hash_key_comes_from_environment(monkeypatch):
    monkeypatch.delenv("FILEGRAPH_PII_SALT", raising=False)
    default = Redactor(policy="hash").pseudonym("EMAIL", "jane@example.com")
    monkeypatch.setenv("FILEGRAPH_PII_SALT", "another-key")
    salted = Redactor(policy="hash").pseudonym("EMAIL", "jane@example.com")
    assert default != salted
    assert re.fullmatch(r"\[EMAIL:[0-9a-f]{8}\]", salted)


def test_disabled_redactor_returns_input():
    text = "jane@example.com"
    r = Redactor(enabled=False)
    assert r.redact(text) == (text, {})
    assert r.redact_values("email", [text]) == ([text], {})


def test_disabled_redactor_still_finds():
    assert Redactor(enabled=False).find("jane@example.com") == [Finding("EMAIL", 0, 16)]


def test_unknown_policy_is_rejected():
    with pytest.raises(ValueError, match="policy"):
        Redactor(policy="scramble")


# --------------------------------------------------------------------------- #
# Column values
# --------------------------------------------------------------------------- #

@pytest.mark.parametrize("column,kind", [
    ("name", "PERSON"), ("Name", "PERSON"), ("first_name", "PERSON"), ("firstName", "PERSON"),
    ("last name", "PERSON"), ("LastName", "PERSON"), ("full_name", "PERSON"), ("surname", "PERSON"),
    ("employee_name", "PERSON"), ("EmployeeName", "PERSON"), ("Customer Name", "PERSON"),
    ("contactName", "PERSON"), ("email", "EMAIL"), ("E-Mail", "EMAIL"), ("emailAddress", "EMAIL"),
    ("phone", "PHONE"), ("Phone Number", "PHONE"), ("mobile", "PHONE"), ("ssn", "US_SSN"),
    ("SocialSecurityNumber", "US_SSN"), ("address", "ADDRESS"), ("home_address", "ADDRESS"),
    ("addressLine1", "ADDRESS"), ("Street Address", "ADDRESS"), ("date_of_birth", "DATE_OF_BIRTH"),
    ("DOB", "DATE_OF_BIRTH"), ("iban", "IBAN"), ("credit_card_number", "CREDIT_CARD"),
    ("national_insurance_number", "UK_NINO"),
])
def test_column_name_gives_pii_kind(column, kind):
    assert column_pii_kind(column) == kind


@pytest.mark.parametrize("column", [
    "product_name", "file_name", "filename", "company_name", "project_name", "hostname",
    "region", "amount", "customer_id", "EmployeeID", "email_count", "email_opt_in", "phone_type",
    "address_type", "ip_address", "notes",
])
def test_column_name_without_pii_kind(column):
    assert column_pii_kind(column) is None


@pytest.mark.parametrize("column", ["customer_name", "firstName", "Full Name", "contact name"])
def test_name_column_values_are_all_persons(column):
    values = ["Jane Doe", "li wei", "X Æ A-12", "O'Neil"]
    out, counts = Redactor().redact_values(column, values)
    assert out == ["[PERSON]"] * 4
    assert counts == {"PERSON": 4}


def test_email_column_values_are_masked_even_when_malformed():
    out, counts = Redactor().redact_values("email", ["jane@example.com", "jane at example dot com"])
    assert out == ["[EMAIL]", "[EMAIL]"]
    assert counts == {"EMAIL": 2}


def test_name_column_hash_matches_text_pseudonym():
    r = Redactor(policy="hash")
    (value,), _ = r.redact_values("customer_name", ["Jane Doe"])
    text, _ = r.redact("Contact: Jane Doe")
    assert text == f"Contact: {value}"


def test_name_column_keeps_empty_and_missing_values():
    out, counts = Redactor().redact_values("full_name", ["", None, "  ", "Jane Doe"])
    assert out == ["", None, "  ", "[PERSON]"]
    assert counts == {"PERSON": 1}


def test_other_columns_go_through_text_recognizers():
    out, counts = Redactor().redact_values("notes", ["call 415-555-0132", "PRJ-4821", 1234.5, "North Region"])
    assert out == ["call [PHONE]", "PRJ-4821", "1234.5", "North Region"]
    assert counts == {"PHONE": 1}


def test_product_name_column_is_not_redacted():
    values = ["Widget Pro", "Jane Doe Edition"]
    assert Redactor().redact_values("product_name", values) == (values, {})


def test_role_column_masks_names_but_keeps_ids():
    out, counts = Redactor().redact_values("Owner", ["Jane Doe", "E-1001", "Finance Team", "Doe, Jane"])
    assert out == ["[PERSON]", "E-1001", "Finance Team", "[PERSON]"]
    assert counts == {"PERSON": 2}


def test_drop_policy_empties_column_values():
    out, counts = Redactor(policy="drop").redact_values("phone", ["415-555-0132", "020 7946 0958"])
    assert out == ["", ""]
    assert counts == {"PHONE": 2}


# --------------------------------------------------------------------------- #
# Validators and size
# --------------------------------------------------------------------------- #

@pytest.mark.parametrize("digits,valid", [
    ("4111111111111111", True), ("378282246310005", True), ("6011111111111117", True),
    ("4111111111111112", False), ("1234567812345678", False),
])
def test_luhn(digits, valid):
    assert luhn_valid(digits) is valid


@pytest.mark.parametrize("iban,valid", [
    ("GB82 WEST 1234 5698 7654 32", True), ("DE89370400440532013000", True),
    ("FR1420041010050500013M02606", True), ("NL91ABNA0417164300", True),
    ("GB82 WEST 1234 5698 7654 33", False), ("NL91ABNA041716430", False),
])
def test_iban_mod97(iban, valid):
    assert iban_valid(iban) is valid


def test_20kb_text_is_fully_redacted():
    block = ("Quarterly Revenue for the North Region was 1,234,567.89 on 2024-03-15 (PRJ-4821, v2.4.1). "
             "Contact: Jane Doe, jane.doe@example.com, +1 (415) 555-0132, card 4111 1111 1111 1111, "
             "IBAN GB82 WEST 1234 5698 7654 32, SSN 536-22-8145, host 10.0.0.1.\n")
    n = 20_000 // len(block) + 1
    text = (block * n)[: n * len(block)]
    assert len(text) >= 20_000
    out, counts = Redactor().redact(text)
    assert counts == {k: n for k in ("PERSON", "EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "US_SSN", "IP_ADDRESS")}
    for secret in ("Jane Doe", "jane.doe@", "555-0132", "4111", "GB82", "536-22", "10.0.0.1"):
        assert secret not in out
    for kept in ("1,234,567.89", "2024-03-15", "PRJ-4821", "v2.4.1", "North Region"):
        assert out.count(kept) == n
