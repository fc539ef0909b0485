"""Blocking key strings, in one place: blocking emits them, strategies look up their frequency.

A key is "<kind>:<token>". Both sides must spell a token the same way, so every
kind whose frequency evidence reads has its builder here.
"""

from __future__ import annotations

from typing import Callable

from transforms.signatures import normalise_value


def stem_key(stem: str) -> str:
    return "stem:" + stem


def code_key(code: str) -> str:
    return "code:" + code.lower()


def code_value_key(code: str, value_hash: Callable[[str], int]) -> str:
    """A code quoted in text, keyed as the value a data column would hold (hashed by
    `signatures.value_hasher`, as column values are)."""
    return value_key(value_hash(normalise_value(code) or ""))


def value_key(value_hash: int) -> str:
    return f"val:{value_hash}"


def unique_value_key(value_hash: int) -> str:
    """A value held in a unique column: counted, never paired (how many tables key on it)."""
    return f"key:{value_hash}"


def column_key(words: str) -> str:
    return "col:" + words


def hash_key(content_hash: str) -> str:
    """Byte-identical files."""
    return "hash:" + content_hash


def term_key(term: str) -> str:
    return "term:" + term
