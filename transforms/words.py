"""Words shared by every stage: how identifiers split into words, and the names of months.

One identifier splitter and one month table serve extraction (key terms, dates),
naming (file-name dates) and detection (column names, periods in titles).
"""

from __future__ import annotations

import functools
import re
from typing import Dict, List

# "totalRevenue_2024" -> total | Revenue | 2024; "HTTPServer" -> HTTP | Server.
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[\W_]+")

# Month names and their common abbreviations -> month number.
MONTHS: Dict[str, int] = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}


def split_identifier(name: str) -> List[str]:
    """Lower-case words of a column, sheet or file name: "totalRevenue_2024" -> ["total", "revenue", "2024"]."""
    # Camel boundaries lie between two ASCII letters or digits, never beside a separator: splitting the
    # whole name at both in one pass gives the words of each part, without a regex call per part.
    return [w.lower() for w in _NON_WORD.split(_CAMEL_BOUNDARY.sub(" ", name)) if w]


def identifier_text(name: str) -> str:
    """`" ".join(split_identifier(name))`, made in three passes over the text, not a call per word:
    a space is neither cased nor case-ignorable, so lowering the whole joins what lowering each word gave."""
    return _NON_WORD.sub(" ", _CAMEL_BOUNDARY.sub(" ", name)).strip(" ").lower()


@functools.lru_cache(maxsize=1 << 16)  # scoring asks again for the same column names, pair after pair
def column_words(name: str) -> str:
    """'CustomerId', 'customer_id' and 'Customer ID' all become 'customer id'."""
    return identifier_text(name)
