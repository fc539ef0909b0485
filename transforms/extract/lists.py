"""List-valued columns ("ann;bob", "12|40|7"): a cell holding several references, profiled by item."""

from __future__ import annotations

import re
from itertools import islice
from typing import Callable, List, Optional, Sequence


LIST_SCAN = 200  # distinct values of the first chunk that decide a column's separator
LIST_SHARE = 0.2  # ... of which at least this share must hold the separator
_LIST_ITEM = re.compile(r"[^\"'{}\[\]<>=]{1,64}")


def list_separator(values: Sequence, is_text: Callable[[str], bool]) -> str:
    """The separator of a column of lists (";" or "|"), or "" for one value per cell.

    A list column holds references: its items recur from row to row, and
    some cells hold several. Commas and spaces are left alone: they join the
    parts of one value too ("Doe, Jane", "Titin, Nurgram, Nuristan", "North
    Region"), and code lists split on spaces ("AF PK") fit every code table
    of the corpus, which only a choice of one parent per column can sort out.
    `is_text` tells a text value from a number or date written as text.
    """
    texts = [v.strip() for v in islice(dict.fromkeys(values), LIST_SCAN * 2) if type(v) is str and v.strip()]
    texts = [t for t in texts[:LIST_SCAN] if is_text(t)]  # "2024-02-01 00:00:00" is one date
    if len(texts) < 4:
        return ""
    for separator in (";", "|"):
        holding = [t for t in texts if separator in t]
        if len(holding) < LIST_SHARE * len(texts):
            continue
        items = [item for text in texts for item in _split(text, separator)]
        if not all(_LIST_ITEM.fullmatch(item) and len(item.split()) <= 4 for item in items):
            continue
        if len(set(items)) < len(items):
            return separator
    return ""


def _split(text: str, separator: str) -> List[str]:
    return [item.strip() for item in text.split(separator)]


def list_items(values: Sequence, separator: str) -> List:
    """The items of a chunk of list cells; cells that are not text stay whole."""
    items: List = []
    for value in values:
        if type(value) is str:
            items.extend(_split(value, separator))
        else:
            items.append(value)
    return items


# Space-separated lists of identifiers ("DE FR", "JD MB"): a space also joins the words of one
# value ("North Region"), so such a column keeps its whole values and gains a second, item view
# (ColumnProfile.item_hashes) that only a key column and one parent per column can confirm.
_SPACED_LIST = re.compile(r"[\w.:@/+-]+(?:\s+[\w.:@/+-]+)+")
_IDENTIFIER = re.compile(r"[\w.:@/+-]+")
MAX_ITEM_CHARS = 64


def spaced_items(text: str) -> Optional[List[str]]:
    """[text] for one identifier-like token, its items for a spaced list of them, else None."""
    if len(text) <= MAX_ITEM_CHARS and _IDENTIFIER.fullmatch(text):
        return [text]
    if len(text) <= 20 * MAX_ITEM_CHARS and _SPACED_LIST.fullmatch(text):
        items = text.split()
        if all(len(item) <= MAX_ITEM_CHARS for item in items):
            return items
    return None
