"""What a column holds, judged by its name: a PII kind, or a person's role.

A column whose name says it holds PII (name, first_name, lastName, "Full Name",
employee/customer/contact name, email, phone, ssn, address, date_of_birth,
iban, card number ...) has every value of that kind. Names qualified by a
non-person word (product_name, file_name, company_name) and counters/flags
(email_count, email_opt_in, phone_type) are not PII columns. A column named
for a person's role (Owner, Account Manager, Prepared By) holds people, so a
value shaped like a personal name is PERSON there, while IDs such as E-1001
stay joinable.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import List, Optional

from transforms.pii.names import PERSON_QUALIFIERS


# First, last and full names, also in the languages of common exports.
_NAME_WORDS = {
    "surname", "forename", "firstname", "lastname", "fullname",
    "vorname", "nachname", "familienname", "voornaam", "achternaam", "prenom", "apellido", "apellidos",
    "cognome", "sobrenome",
}
_HANDLE_WORDS = {"username", "handle", "screenname", "userhandle", "nickname"}
# A header with more words than this is a sentence (a form's instruction), not a column name.
MAX_COLUMN_NAME_WORDS = 8
_CAMEL_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_COMPOUND_SUFFIXES = ("name", "address", "email", "mail", "phone", "number", "no")
_COMPOUND_HEADS = {
    "email", "mail", "e", "phone", "telephone", "mobile", "cell", "fax", "home", "street",
    "postal", "mailing", "billing", "shipping", "work", "business", "contact", "card",
    "credit", "ssn", "passport", "tel",
}
_NOT_VALUES = {
    "count", "cnt", "num", "total", "sent", "opened", "open", "clicked", "click", "clicks",
    "bounce", "bounced", "opt", "optin", "optout", "in", "out", "subscribed", "unsubscribed",
    "verified", "valid", "validated", "is", "has", "flag", "status", "type", "kind", "domain",
    "template", "campaign", "date", "time", "at", "frequency", "format", "enabled", "consent",
    "preference", "pref", "length", "len", "provided", "missing", "hash", "hashed", "masked",
    "country", "city", "code", "ext", "extension", "on", "file", "column", "field",
}


def _column_tokens(column_name: str) -> List[str]:
    # "Prénom" -> "Prenom": accents off, so the ASCII patterns see whole words.
    plain = unicodedata.normalize("NFKD", column_name or "").encode("ascii", "ignore").decode("ascii")
    words = _CAMEL_RE.findall(plain)
    out: List[str] = []
    for w in words:
        w = w.lower()
        out.extend(_split_compound(w))
    # "e" + "mail" -> "email"
    merged: List[str] = []
    for t in out:
        if t == "mail" and merged and merged[-1] == "e":
            merged[-1] = "email"
        else:
            merged.append(t)
    return merged


def _split_compound(tok: str) -> List[str]:
    """"customername" -> ["customer", "name"]; only when every head word is known."""
    for suf in _COMPOUND_SUFFIXES:
        if tok.endswith(suf) and len(tok) > len(suf):
            head = tok[: -len(suf)]
            if suf == "mail" and head == "e":
                return ["email"]
            parts = _split_compound(head)
            if all(p in _COMPOUND_HEADS or p in PERSON_QUALIFIERS for p in parts):
                return parts + [suf]
    return [tok]


@lru_cache(maxsize=4096)
def column_pii_kind(column_name: str) -> Optional[str]:
    """The PII kind every value of this column holds, judged by its name, or None."""
    toks = _column_tokens(column_name)
    if len(toks) > MAX_COLUMN_NAME_WORDS:
        return None  # a form label or an instruction, not a column name
    ts = set(toks)
    if ("dob" in ts or "birthdate" in ts or "birthday" in ts
            or ("birth" in ts and ts & {"date", "day", "of", "dt"} and not ts & {"place", "country", "city"})):
        return "DATE_OF_BIRTH"
    if not toks or any(t in _NOT_VALUES for t in toks):
        return None
    if "ip" in ts or "mac" in ts or "url" in ts or "web" in ts or "wallet" in ts:
        return None  # left to the recognizers
    if "email" in ts or ("mail" in ts and "address" in ts):
        return "EMAIL"
    if ts & {"phone", "telephone", "tel", "mobile", "fax", "cellphone"} or \
            ("cell" in ts and ts & {"number", "no"}) or \
            ("contact" in ts and ts & {"number", "no"} and "name" not in ts):
        return "PHONE"
    if "ssn" in ts or ("social" in ts and "security" in ts):
        return "US_SSN"
    if "nino" in ts or ("national" in ts and "insurance" in ts):
        return "UK_NINO"
    if "passport" in ts or ("national" in ts and "id" in ts):
        return "NATIONAL_ID"
    if "iban" in ts:
        return "IBAN"
    if ts & {"password", "passwd", "pwd", "passphrase", "apikey"} or (ts & {"api", "secret", "access", "auth"}
                                                                     and ts & {"key", "token", "secret"}):
        return "SECRET"
    if ("credit" in ts and "card" in ts) or ("card" in ts and ts & {"number", "no"}) or "ccn" in ts:
        return "CREDIT_CARD"
    if ts & {"address", "addr", "street"} or "addressline" in ts:
        return "ADDRESS"
    if ts & _HANDLE_WORDS or (ts & {"user", "screen", "login"} and "name" in ts):
        return "USERNAME"
    if ts & _NAME_WORDS:
        return "PERSON"
    if "name" in toks:
        i = toks.index("name")
        if i == 0:
            return "PERSON" if len(toks) == 1 or toks[1] not in {"of"} else None
        if toks[i - 1] in PERSON_QUALIFIERS:
            return "PERSON"
    return None


# Columns whose name names a person's role ("Owner", "Account Manager", "Prepared By"):
# a value is PERSON when it is shaped like a personal name; IDs and codes stay.
ROLE_WORDS = {
    "owner", "manager", "mgr", "author", "assignee", "reviewer", "approver", "requester",
    "requestor", "reporter", "submitter", "contact", "employee", "customer", "client", "rep",
    "representative", "agent", "supervisor", "lead", "sponsor", "recipient", "sender", "by",
    "salesperson", "consultant", "contractor", "signatory", "attendee", "participant", "to",
}


@lru_cache(maxsize=4096)
def column_role(column_name: str) -> Optional[str]:
    """The role word of a column named for a person's role ("Owner", "Reviewers"), or None.

    Such a column holds people; IDs and numbers of them ("owner_id") are not.
    """
    toks = _column_tokens(column_name)
    if not 0 < len(toks) <= MAX_COLUMN_NAME_WORDS or any(t in _NOT_VALUES for t in toks):
        return None
    if {"id", "number", "no"} & set(toks):
        return None
    last = toks[-1]
    if last not in ROLE_WORDS and last.endswith("s") and last[:-1] in ROLE_WORDS:
        last = last[:-1]  # "reviewers"
    return last if last in ROLE_WORDS else None


def is_role_column(column_name: str) -> bool:
    return column_role(column_name) is not None
