"""Single seeded values: people, contact details, identifiers, amounts, cell text."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from beam_pipeline.sample_corpus.domains import Col
from beam_pipeline.sample_corpus.vocabulary import (AREA_CODES, COMPANY_SUFFIXES, COMPANY_WORDS, FIRST_NAMES,
                                                    LAST_NAMES)


def cell_text(value: Any, kind: str = "") -> str:
    """The text a value has in CSV exports; docs quoting records use the same."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if kind == "money":
        return f"{value:.2f}"
    if isinstance(value, float):
        return f"{value:.1f}" if kind == "float" else repr(value)
    return str(value)


def round_to_kind(kind: str, value: float) -> Any:
    if kind == "money":
        return round(value, 2)
    if kind == "float":
        return round(value, 1)
    return int(round(value))


def measure_value(rng: random.Random, col: Col) -> Any:
    lo, hi = col.arg
    if col.kind == "int":
        return rng.randint(int(lo), int(hi))
    # Squared uniform: many small values, a few large ones, like real amounts.
    return round_to_kind(col.kind, lo + (hi - lo) * rng.random() ** 2)


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def email_for(name: str, domain_name: str) -> str:
    local = ".".join(w.lower() for w in name.replace("&", "and").split() if w.isalnum())
    return f"{local or 'info'}@{domain_name}"


def phone_number(rng: random.Random) -> str:
    # 555-01xx numbers are reserved for fiction.
    return f"+1 {rng.choice(AREA_CODES)} 555 01{rng.randint(0, 99):02d}"


def ssn_number(rng: random.Random) -> str:
    return f"{rng.randint(100, 665):03d}-{rng.randint(10, 99):02d}-{rng.randint(1000, 9999):04d}"


def iban_number(rng: random.Random) -> str:
    bban = f"{rng.randint(10000000, 99999999)}{rng.randint(0, 10 ** 10 - 1):010d}"
    check = 98 - int(bban + "131400") % 97  # DE = 13 14, valid mod-97 check digits
    raw = f"DE{check:02d}{bban}"
    return " ".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def card_number(rng: random.Random) -> str:
    digits = [4] + [rng.randint(0, 9) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(digits)):  # Luhn check digit
        d2 = d * 2 if i % 2 == 0 else d
        total += d2 - 9 if d2 > 9 else d2
    digits.append((10 - total % 10) % 10)
    s = "".join(map(str, digits))
    return " ".join(s[i:i + 4] for i in range(0, 16, 4))


def ip_address(rng: random.Random) -> str:
    return f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def company_name(rng: random.Random) -> str:
    return f"{rng.choice(COMPANY_WORDS)} {rng.choice(('Logistics', 'Foods', 'Systems', 'Retail', 'Labs', 'Works', 'Trading'))} {rng.choice(COMPANY_SUFFIXES)}"


def pretty(column: str) -> str:
    text = column.replace("_", " ")
    return text[:1].upper() + text[1:]
