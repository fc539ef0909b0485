"""Redaction keeps evidence: keys that are PII still join, and still leave no raw value behind.

Two relationships rest on PII values used as keys:
  * orders.customer_email references customers.email (an e-mail as the customer key);
  * commits.reviewers, a ';'-separated list of handles, references contributors.handle.
The pipeline runs on these four CSVs with redaction on (the default policy, and the
constant-mask policy) and must find both REFERENCES edges, while no e-mail, handle,
full name or surname appears in any output byte (the scanning approach of
test_pii_leaks.py). A run without redaction is the control: the values are there.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import random
import re
from pathlib import Path
from typing import Dict, List, Set, Tuple

import pytest

from beam_pipeline.pipeline import run_pipeline
from transforms.config import Config, PrivacyConfig
from transforms.pii import DEFAULT_POLICY, Redactor
from transforms.signatures import hash64, value_hasher
from tests.outputs import output_text

FIRST = ("Tobias", "Aisha", "Kenji", "Sofia", "Amara", "Lucas", "Ingrid", "Rahul", "Chloe", "Mateo", "Yara",
         "Oskar", "Leila", "Nikolai", "Hana", "Diego", "Freya", "Omar", "Elena", "Tariq")
LAST = ("Lindqvist", "Rahman", "Watanabe", "Marchetti", "Okafor", "Moreau", "Halvorsen", "Iyer", "Dubois",
        "Fernandez", "Haddad", "Nyberg", "Farouk", "Petrov", "Kobayashi", "Alvarez", "Sorensen", "Khalil",
        "Popescu", "Aziz")
NAMES = [f"{first} {last}" for first, last in zip(FIRST, LAST)]
EMAILS = [f"{first}.{last}@Northwind-Traders.com" for first, last in zip(FIRST, LAST)]
HANDLES = [f"{first[0]}{last}".lower() for first, last in zip(FIRST, LAST)][:14]


def _write(path: Path, header: List[str], rows: List[List]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def build_corpus(root: Path) -> Path:
    rng = random.Random(7)
    root.mkdir(parents=True, exist_ok=True)
    _write(root / "customers.csv", ["email", "full_name", "country", "signup_date"],
           [[email, name, ("NO", "SE", "DK", "FI")[i % 4], f"2023-{1 + i % 12:02d}-{1 + i % 27:02d}"]
            for i, (email, name) in enumerate(zip(EMAILS, NAMES))])
    # Orders write the addresses lower-cased: the join is on the normalised value.
    _write(root / "orders.csv", ["order_id", "customer_email", "amount", "order_date"],
           [[f"SO-{7000 + i}", EMAILS[rng.randrange(16)].lower(), f"{rng.randrange(1000, 90000) / 100:.2f}",
             f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}"] for i in range(60)])
    _write(root / "contributors.csv", ["handle", "name", "joined"],
           [[handle, name, f"202{i % 4}-0{1 + i % 9}-1{i % 9}"] for i, (handle, name) in enumerate(zip(HANDLES, NAMES))])
    _write(root / "commits.csv", ["commit", "summary", "reviewers", "lines_changed"],
           [[f"{rng.getrandbits(40):010x}", f"Change {i}", ";".join(rng.sample(HANDLES, 1 + rng.randrange(3))),
             rng.randrange(1, 400)] for i in range(50)])
    return root


def spellings() -> Set[str]:
    """Every spelling of a planted value searched in the outputs, lower-cased."""
    found = {e.lower() for e in EMAILS} | {e.split("@")[0].lower() for e in EMAILS}
    found |= {n.lower() for n in NAMES} | {last.lower() for last in LAST} | set(HANDLES)
    return found


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return build_corpus(tmp_path_factory.mktemp("pii_joins"))


@pytest.fixture(scope="module")
def runs(corpus, tmp_path_factory):
    cache: Dict[str, Tuple[Dict[str, str], List[dict]]] = {}

    def get(policy: str):
        if policy not in cache:
            out = tmp_path_factory.mktemp(f"pii_joins_{policy}")
            privacy = PrivacyConfig(redact=False) if policy == "unredacted" else PrivacyConfig(policy=policy)
            run_pipeline([str(corpus)], str(out), dataclasses.replace(Config(), privacy=privacy))
            files = {p.relative_to(out).as_posix(): output_text(p) for p in out.rglob("*") if p.is_file()}
            edges = [json.loads(line) for rel, text in files.items() if rel.startswith("edges/")
                     for line in text.splitlines() if line]
            cache[policy] = files, edges
        return cache[policy]

    return get


def _references(edges: List[dict]) -> Set[Tuple[str, str]]:
    return {(Path(e["source_path"]).name, Path(e["target_path"]).name)
            for e in edges if e["relationship_type"] == "REFERENCES"}


EXPECTED = {("orders.csv", "customers.csv"), ("commits.csv", "contributors.csv")}


@pytest.mark.parametrize("policy", [DEFAULT_POLICY, "mask", "unredacted"])
def test_keys_made_of_pii_still_give_references(policy, runs):
    _, edges = runs(policy)
    assert EXPECTED <= _references(edges), [(e["source_path"], e["target_path"]) for e in edges]
    inclusions = {e["evidence_details"]["inclusion"]["source_column"]: e["evidence_details"]["inclusion"]
                  for e in edges if "inclusion" in e["evidence_details"]}
    assert inclusions["customer_email"]["target_column"] == "email"
    assert inclusions["reviewers"]["target_column"] == "handle"
    assert inclusions["customer_email"]["containment"] == inclusions["reviewers"]["containment"] == 1.0


@pytest.mark.parametrize("policy", [DEFAULT_POLICY, "mask"])
def test_no_raw_email_handle_or_name_in_any_output_byte(policy, runs):
    files, _ = runs(policy)
    leaks = {rel: sorted(s for s in spellings() if s in text.lower()) for rel, text in files.items()}
    assert not {rel: found for rel, found in leaks.items() if found}


def test_control_unredacted_outputs_hold_the_values(runs):
    files, _ = runs("unredacted")
    text = "".join(files.values()).lower()
    assert sum(1 for s in spellings() if s in text) >= 20


def test_default_policy_shows_one_pseudonym_per_value_in_both_tables(runs):
    files, _ = runs(DEFAULT_POLICY)
    nodes = {json.loads(line)["file_name"]: line for rel, text in files.items() if rel.startswith("nodes/")
             for line in text.splitlines() if line}
    redactor = Redactor(policy=DEFAULT_POLICY)
    pseudonym = redactor.cell_pseudonym("EMAIL", EMAILS[0])
    assert re.fullmatch(r"EMAIL_[0-9a-f]{8}", pseudonym)
    assert pseudonym == redactor.cell_pseudonym("EMAIL", EMAILS[0].lower())
    assert pseudonym in nodes["customers.csv"]  # the table preview shows its first rows
    assert any(redactor.cell_pseudonym("EMAIL", email) in nodes["orders.csv"] for email in EMAILS[:16])
    handle = redactor.cell_pseudonym("USERNAME", HANDLES[0])
    assert handle in nodes["contributors.csv"] and "[USERNAME]" not in nodes["contributors.csv"]


def test_mask_policy_shows_no_pseudonym(runs):
    files, _ = runs("mask")
    text = "".join(files.values())
    assert "[EMAIL]" in text and not re.search(r"(?:EMAIL|USERNAME|PERSON)_[0-9a-f]{8}", text)


def test_value_signatures_depend_on_the_key(monkeypatch):
    monkeypatch.delenv("FILEGRAPH_PII_SALT", raising=False)
    monkeypatch.delenv("FILEGRAPH_PII_KEY", raising=False)
    default = value_hasher()("jane@example.com")
    assert default == hash64("jane@example.com")  # the public default key protects nothing: plain hash
    monkeypatch.setenv("FILEGRAPH_PII_KEY", "a-secret-of-our-own")
    keyed = value_hasher()("jane@example.com")
    assert keyed != default and value_hasher()("jane@example.com") == keyed
    monkeypatch.delenv("FILEGRAPH_PII_KEY")
    monkeypatch.setenv("FILEGRAPH_PII_SALT", "a-secret-of-our-own")  # the earlier name still works
    assert value_hasher()("jane@example.com") == keyed
    assert Redactor(policy="hash").pseudonym("EMAIL", "jane@example.com") != \
        Redactor(policy="hash").pseudonym("EMAIL", "jane@example.org")


def test_default_key_warning_is_logged_once_and_never_the_key(monkeypatch, caplog):
    import transforms.pii.pseudonyms as pseudonyms

    monkeypatch.delenv("FILEGRAPH_PII_SALT", raising=False)
    monkeypatch.delenv("FILEGRAPH_PII_KEY", raising=False)
    monkeypatch.setattr(pseudonyms, "_warned_default", False)
    with caplog.at_level(logging.WARNING, logger=pseudonyms.__name__):
        Redactor(policy=DEFAULT_POLICY)
        Redactor(policy="hash")
    warnings = [r for r in caplog.records if r.name == pseudonyms.__name__]
    assert len(warnings) == 1 and "FILEGRAPH_PII_KEY" in warnings[0].getMessage()
    assert pseudonyms.DEFAULT_KEY.decode() not in caplog.text
    caplog.clear()
    monkeypatch.setenv("FILEGRAPH_PII_KEY", "s3cret-value")
    monkeypatch.setattr(pseudonyms, "_warned_default", False)
    with caplog.at_level(logging.WARNING, logger=pseudonyms.__name__):
        Redactor(policy=DEFAULT_POLICY)
    assert not caplog.records and "s3cret-value" not in caplog.text


# ---------------------------------------------------------------- table values under the default policy


def _pseudonymise(column, values):
    return Redactor(policy=DEFAULT_POLICY).redact_values(column, values)


def test_role_column_lists_of_handles_become_pseudonyms_item_by_item():
    out, counts = _pseudonymise("Reviewers", ["jdoe;asmith", "Jane Doe", "E-1001", "Finance Team", "none"])
    r = Redactor(policy=DEFAULT_POLICY)
    assert out == [f"{r.cell_pseudonym('USERNAME', 'jdoe')};{r.cell_pseudonym('USERNAME', 'asmith')}",
                   r.cell_pseudonym("PERSON", "Jane Doe"), "E-1001", "Finance Team", "none"]
    assert counts == {"USERNAME": 2, "PERSON": 1}


def test_a_prepositional_role_column_keeps_codes():
    assert _pseudonymise("Assigned to", ["lhr", "jfk"]) == (["lhr", "jfk"], {})


def test_email_column_lists_and_whole_cell_findings_are_table_values():
    r = Redactor(policy=DEFAULT_POLICY)
    out, counts = _pseudonymise("email", ["a@example.org; B@example.org"])
    assert out == [f"{r.cell_pseudonym('EMAIL', 'a@example.org')}; {r.cell_pseudonym('EMAIL', 'b@example.org')}"]
    assert counts == {"EMAIL": 2}
    out, _ = _pseudonymise("notes", ["a@example.org", "write to a@example.org today"])
    assert out == [r.cell_pseudonym("EMAIL", "a@example.org"), "write to [EMAIL] today"]


def test_free_text_stays_masked_under_the_default_policy():
    out, counts = Redactor(policy=DEFAULT_POLICY).redact("Contact: Jane Doe, jane@example.org")
    assert out == "Contact: [PERSON], [EMAIL]" and counts == {"PERSON": 1, "EMAIL": 1}
