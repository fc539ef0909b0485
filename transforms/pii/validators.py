"""Checksums and character helpers shared by the recognizers."""

from __future__ import annotations

import re


_LUHN_DOUBLE = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def luhn_valid(digits: str) -> bool:
    """Luhn checksum of a string of decimal digits."""
    r = digits[::-1]
    total = sum(map(int, r[0::2])) + sum(_LUHN_DOUBLE[int(c)] for c in r[1::2])
    return total % 10 == 0


# IBAN lengths per country (SWIFT IBAN registry).
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
    "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
    "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
    "YE": 30,
}


def iban_valid(iban: str) -> bool:
    """Country length and ISO 7064 mod-97 check of an IBAN (spaces allowed)."""
    s = re.sub(r"\s", "", iban).upper()
    if IBAN_LENGTHS.get(s[:2]) != len(s) or not s.isalnum() or not s[2:4].isdigit():
        return False
    moved = s[4:] + s[:4]
    number = "".join(str(int(ch, 36)) for ch in moved)
    return int(number) % 97 == 1


# Characters a recognizer treats as part of a word or a hex number.
WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
HEX_CHARS = frozenset("0123456789abcdefABCDEF")


def word_before(text: str, i: int) -> bool:
    """True when the character before index i is a letter, digit or underscore."""
    return i > 0 and (text[i - 1] in WORD_CHARS or text[i - 1].isalnum())


def digits_of(s: str) -> str:
    """The decimal digits of a string, in order."""
    return "".join(ch for ch in s if ch.isdigit())


# What a value must hold to be of a kind: a finding or a cell that lacks it is a
# blank form field ("__/__/____", "( )  -", U+2002 runs) or a label, never PII.
# (minimum digits, minimum share of digits among letters and digits, maximum length)
_ID_SHAPE = (2, 0.4, 40)
_KIND_SHAPES = {
    "PHONE": (5, 0.5, 40),
    "US_SSN": _ID_SHAPE, "UK_NINO": _ID_SHAPE, "NATIONAL_ID": _ID_SHAPE, "IBAN": _ID_SHAPE,
    "CREDIT_CARD": (12, 0.8, 40),
    "DATE_OF_BIRTH": (1, 0.0, 40),
    "IP_ADDRESS": (1, 0.0, 64),
}
MAX_NAME_WORDS = 8


def fits_kind(kind: str, value: str) -> bool:
    """Whether `value` holds the characters a value of `kind` needs.

    Every kind needs a letter or digit; numbers and IDs need digits, mostly;
    a personal name needs a letter, few words and no identifier punctuation.
    """
    alnum = [c for c in value if c.isalnum()]
    if not alnum:
        return False
    shape = _KIND_SHAPES.get(kind)
    if shape is not None:
        least, share, longest = shape
        count = sum(1 for c in alnum if c.isdigit())
        return count >= least and count >= share * len(alnum) and len(value.strip()) <= longest
    if kind == "PERSON":  # identifiers ("ID", "Language_ID", "a/b") are no names
        words = value.split()
        return (any(c.isalpha() for c in alnum) and len(words) <= MAX_NAME_WORDS and not _NOT_IN_NAMES & set(value)
                and (len(words) > 1 or any(c.islower() for c in alnum)))
    return True


_NOT_IN_NAMES = frozenset("_@/\\=<>{}[]#")
