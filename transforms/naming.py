"""File-name analysis: logical stems, version and date tokens, version order.

"Q3 forecast v2 (final).xlsx", "q3_forecast_v1.xlsx" and "Q3-Forecast (2).xlsx"
share the logical stem "q3 forecast"; their version tokens say which is newer.
"""

from __future__ import annotations

import functools
import posixpath
import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Optional, Tuple

from transforms.words import MONTHS

_SEPARATORS = re.compile(r"[\s_\-.,+]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_ISO_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})[-_.]?(0[1-9]|1[0-2])(?:[-_.]?(0[1-9]|[12]\d|3[01]))?(?!\d)")
_QUARTER = re.compile(r"\b(?:(q[1-4])|(h[12]))\b")
_FISCAL = re.compile(r"\bfy\s?(\d{2,4})\b")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_VERSION = re.compile(r"\b(?:v|ver|version|rev|r)\s?(\d+(?:\.\d+)*)\b")
_REV_LETTER = re.compile(r"\b(?:rev|revision|version|ver)\s?([a-h])\b")
_COPY_NUMBER = re.compile(r"\((\d+)\)|\bcopy(?:\s?(\d+))?\b")
_MONTH_WORD = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b")
# Words that mark a revision of the same logical file, in rough age order.
_STATUS_ORDER = {"draft": 0, "wip": 0, "old": 0, "preliminary": 0, "review": 1, "revised": 2,
                 "updated": 2, "new": 2, "latest": 3, "final": 4, "approved": 4, "signed": 5}
_STATUS = re.compile(r"\b(" + "|".join(_STATUS_ORDER) + r")\b")


@dataclass(frozen=True)
class NameInfo:
    stem: str  # logical stem: lower case, no extension, no version/date/status tokens
    tokens: Tuple[str, ...]
    version: Tuple[int, ...] = ()
    date: Tuple[int, ...] = ()  # (year, month, day) as far as known
    status: int = -1  # index in _STATUS_ORDER, -1 when absent
    copy_number: int = 0
    has_version_marker: bool = field(default=False)


def base_name(path: str) -> str:
    return posixpath.basename(path.replace("\\", "/"))


def split_extension(name: str) -> Tuple[str, str]:
    root, dot, ext = name.rpartition(".")
    return (root, ext.lower()) if dot and root else (name, "")


@functools.lru_cache(maxsize=1 << 17)
def analyse_name(path: str) -> NameInfo:
    """Splits a file name into its logical stem and its version markers (cached: names recur per pair)."""
    root, _ = split_extension(base_name(path))
    text = _CAMEL.sub(" ", root).lower()
    text = _SEPARATORS.sub(" ", text.replace("_", " "))

    date: Tuple[int, ...] = ()
    match = _ISO_DATE.search(root.lower().replace(" ", "-"))
    if match:
        date = tuple(int(g) for g in match.groups() if g)
    text = _ISO_DATE.sub(" ", re.sub(r"(\d{4}) (\d{2}) (\d{2})", r"\1-\2-\3", text))
    quarter = _QUARTER.search(text)
    year = _YEAR.search(text)
    month = _MONTH_WORD.search(text)
    if not date and year:
        parts = [int(year.group(1))]
        if month:
            parts.append(MONTHS[month.group(1)])
        elif quarter and quarter.group(1):
            parts.append(int(quarter.group(1)[1]) * 3)
        date = tuple(parts)
    version: Tuple[int, ...] = ()
    # Dots are separators elsewhere, but inside "v1.10" they are the version.
    vmatch = _VERSION.search(re.sub(r"[\s_\-]+", " ", _CAMEL.sub(" ", root).lower()))
    if vmatch:
        version = tuple(int(p) for p in vmatch.group(1).split("."))
    else:
        letter = _REV_LETTER.search(text)
        if letter:  # "Rev B" is the second revision
            version = (ord(letter.group(1)) - ord("a") + 1,)
    status_match = _STATUS.search(text)
    status = _STATUS_ORDER[status_match.group(1)] if status_match else -1
    copy_match = _COPY_NUMBER.search(root.lower())
    copy_number = 0
    if copy_match:
        copy_number = int(copy_match.group(1) or copy_match.group(2) or 1)

    for pattern in (_VERSION, _REV_LETTER, _STATUS, _COPY_NUMBER, _YEAR, _FISCAL, _MONTH_WORD):
        text = pattern.sub(" ", text)
    text = re.sub(r"[()\[\]]", " ", text)
    tokens = tuple(t for t in text.split() if not t.isdigit())
    return NameInfo(
        stem=" ".join(tokens),
        tokens=tokens,
        version=version,
        date=date,
        status=status,
        copy_number=copy_number,
        has_version_marker=bool(version or date or status >= 0 or copy_number or quarter
                                or _FISCAL.search(root.lower())),
    )


def stem_similarity(a: NameInfo, b: NameInfo) -> float:
    """Fuzzy similarity of two logical stems, 0..1."""
    if not a.stem or not b.stem:
        return 0.0
    if a.stem == b.stem:
        return 1.0
    return _stem_ratio(*sorted((a.stem, b.stem)))  # ratio() depends on the order


@functools.lru_cache(maxsize=1 << 17)  # by stem: files of one stem meet many partners (a third as many keys)
def _stem_ratio(first: str, second: str) -> float:
    return SequenceMatcher(None, first, second).ratio()


def version_order(a: NameInfo, b: NameInfo) -> Optional[int]:
    """+1 if a is the newer version, -1 if b is, None if the names do not say."""

    def cmp(x, y) -> Optional[int]:
        return None if x == y else (1 if x > y else -1)

    final = _STATUS_ORDER["final"]
    checks = (
        # Explicit markers on both sides decide first.
        (a.version and b.version, lambda: cmp(a.version, b.version)),
        (a.date and b.date, lambda: cmp(a.date, b.date)),
        (a.status >= 0 and b.status >= 0, lambda: cmp(a.status, b.status)),
        # "final" outranks any unfinished marker; "draft" is older than anything else.
        (a.status >= final or b.status >= final, lambda: cmp(a.status >= final, b.status >= final)),
        (a.status == 0 or b.status == 0, lambda: cmp(b.status == 0, a.status == 0)),
        (bool(a.version) != bool(b.version), lambda: cmp(bool(a.version), bool(b.version))),
        (a.copy_number != b.copy_number, lambda: cmp(a.copy_number, b.copy_number)),
        (a.status >= 0 or b.status >= 0, lambda: cmp(a.status, b.status)),
    )
    for applies, decide in checks:
        if applies:
            result = decide()
            if result is not None:
                return result
    return None

