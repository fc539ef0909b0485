"""The detection engine: runs the recognizers a text can trigger and resolves overlaps.

Fast path: a text with none of digits, ``@``, ``:``, ``=``, secret prefixes
(``sk-``, ``AKIA``, ``-----BEGIN`` ...) and person-trigger words ("by",
"dear", "regards", ...) costs a few substring tests and one lower().
Otherwise each recognizer runs only when its trigger character is present.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Tuple

from transforms.pii.names import PERSON_TRIGGERS, find_person
from transforms.pii.recognizers import (
    SECRET_PREFIXES,
    Span,
    find_credit_card,
    find_email,
    find_iban,
    find_ip,
    find_nino,
    find_phone,
    find_secret,
    find_ssn,
)
from transforms.pii.validators import fits_kind

KINDS = (
    "EMAIL", "PHONE", "US_SSN", "UK_NINO", "CREDIT_CARD", "IBAN", "IP_ADDRESS",
    "PERSON", "SECRET", "ADDRESS", "DATE_OF_BIRTH", "NATIONAL_ID", "USERNAME",
)

# Overlapping findings: the higher priority wins, then the longer span.
_PRIORITY = {
    "SECRET": 100, "EMAIL": 90, "IBAN": 80, "CREDIT_CARD": 70, "US_SSN": 60,
    "UK_NINO": 60, "IP_ADDRESS": 50, "PHONE": 40, "PERSON": 30,
}


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int



def _resolve(spans: List[Span], length: int) -> List[Finding]:
    spans = [s for s in spans if s[2] > s[1]]
    if not spans:
        return []
    spans.sort(key=lambda s: (-_PRIORITY.get(s[0], 0), -(s[2] - s[1]), s[1]))
    taken = bytearray(length)
    kept: List[Finding] = []
    for kind, start, end in spans:
        if taken.find(1, start, end) != -1:
            continue
        taken[start:end] = b"\x01" * (end - start)
        kept.append(Finding(kind, start, end))
    kept.sort(key=lambda f: f.start)
    return kept


def _lower(text: str) -> str:
    """Lower-case copy with the same offsets (a few characters change length)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def detect(text: str) -> List[Finding]:
    """All PII findings in `text`, non-overlapping and sorted by position."""
    if not text:
        return []
    has_digit = any(d in text for d in "0123456789")
    has_at = "@" in text
    has_colon = ":" in text
    has_eq = "=" in text
    low = _lower(text)
    person = has_colon or has_at or any(w in low for w in PERSON_TRIGGERS)
    if not (has_digit or has_at or has_colon or has_eq or person
            or any(p in text for p in SECRET_PREFIXES)):
        return []
    spans: List[Span] = []
    emails: List[Tuple[int, int]] = []
    if has_at:
        for sp in find_email(text):
            spans.append(sp)
            emails.append((sp[1], sp[2]))
    if has_digit:
        spans.extend(find_credit_card(text))
        spans.extend(find_iban(text))
        spans.extend(find_ssn(text, low))
        spans.extend(find_nino(text))
        spans.extend(find_phone(text, low))
        spans.extend(find_ip(text, low))
    spans.extend(find_secret(text, low, has_colon, has_eq))
    if person:
        spans.extend(find_person(text, low, emails))
    spans = [s for s in spans if fits_kind(s[0], text[s[1]:s[2]])]
    return _resolve(spans, len(text))
