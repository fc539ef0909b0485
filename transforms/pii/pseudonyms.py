"""Keyed pseudonyms: the same PII value gets the same pseudonym in every file and run.

A pseudonym is HMAC-SHA256 of the normalised value (lower-case e-mail, digits of
a phone number, "Doe, Jane" as "jane doe", ...) under the PII key, so joins on
pseudonymised values still work while the value cannot be read back without the
key. The key is ``FILEGRAPH_PII_KEY`` from the environment (``FILEGRAPH_PII_SALT``,
its earlier name, still works); without either a built-in default is used and a
warning is logged once per process. Set the key in production: low-entropy values
(phones, SSNs, names) can be brute-forced against the public default. The key is
never logged or written.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import os
import re

from transforms.pii.names import TITLES
from transforms.pii.validators import digits_of

KEY_ENV = "FILEGRAPH_PII_KEY"
SALT_ENV = "FILEGRAPH_PII_SALT"  # the earlier name of KEY_ENV, still read
# Unchanged since the first release, so that pseudonyms made with the default stay the same.
# Public: it keeps nothing secret, it only makes pseudonyms stable.
DEFAULT_KEY = b"filegraph-pii-default-salt-v1"
DIGEST_CHARS = 8  # hex characters of a pseudonym shown in outputs

_log = logging.getLogger(__name__)
_warned_default = False


def pii_key(warn: bool = True) -> bytes:
    """The key pseudonyms and value signatures are made with, read from the environment now."""
    global _warned_default
    value = os.environ.get(KEY_ENV) or os.environ.get(SALT_ENV)
    if value:
        return value.encode("utf-8")
    if warn and not _warned_default:
        _warned_default = True
        _log.warning("%s is not set: PII pseudonyms and value signatures use the built-in public key; "
                     "set it to a secret of your own so they cannot be reversed by guessing values", KEY_ENV)
    return DEFAULT_KEY


def digest(key: bytes, kind: str, value: str) -> str:
    """The hex HMAC-SHA256 of a normalised value of one kind."""
    return hmac.new(key, f"{kind}\x00{normalise(kind, value)}".encode("utf-8"), hashlib.sha256).hexdigest()


def normalise(kind: str, value: str) -> str:
    """The canonical form of a PII value that its pseudonym is taken of."""
    v = value.strip()
    if kind in ("PHONE", "CREDIT_CARD", "US_SSN"):
        d = digits_of(v)
        return d or v.casefold()
    if kind in ("IBAN", "UK_NINO"):
        return re.sub(r"[^0-9A-Za-z]", "", v).upper()
    if kind == "IP_ADDRESS":
        try:
            return str(ipaddress.ip_interface(v)) if "/" in v else str(ipaddress.ip_address(v))
        except ValueError:
            return v.lower()
    if kind == "PERSON":
        if v.count(",") == 1:  # "Doe, Jane" -> "Jane Doe", so both forms share a pseudonym
            last, first = (x.strip() for x in v.split(","))
            if first and last:
                v = f"{first} {last}"
        words = v.split()
        while words and words[0].lower().rstrip(".") in TITLES:
            words.pop(0)
        return " ".join(words).casefold()
    if kind == "SECRET":
        return v
    return " ".join(v.split()).casefold()
