"""Whether two look-alike files are the same logical file: VERSION_OF needs one identity.

Template siblings share a shape and differ in who or what they are about:
meeting notes of one template for two project codes, one memo series for two
quarters or two departments. Versions share their identity and differ in
edits. A file's identity is read from what names it inside: its title or
first heading and the project codes it carries. A substitution there (PRJ-101
for PRJ-202, Q1 for Q2, "Finance" for "Sales") vetoes VERSION_OF; a marker of
revision (v2, final, (2)) does not. Periods in file names alone do not veto:
"budget 2024-03.xlsx" and "budget 2024-05.xlsx" may be snapshots of one table.

Trivial files (one cell "1", an empty template) are not versions of each
other either: identical nothing is not one logical file.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from typing import Dict, List, Optional, Set, Tuple

from transforms.detect.facts import per_file, per_file_lazily
from transforms.model import FileRecord
from transforms.words import MONTHS

# Fewer distinct content tokens than this and a file has no identity to share.
MIN_CONTENT_TOKENS = 8
# Differences that are mostly fill-ins (codes, periods, years) on both sides mark siblings.
FILL_SHARE = 0.5
SIMILAR_TEXT = 0.3  # shingle Jaccard from which two texts' fill-ins are compared
SHINGLE_WORDS = 3  # words per content shingle (signatures.shingles)
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-/][A-Za-z0-9]+)*")
_PERIOD = re.compile(r"^(?:q[1-4]|h[12]|fy\d{2,4}|(?:19|20)\d{2}(?:[-/]\d{1,2}){0,2}|\d{1,2}[-/]\d{1,2}[-/]\d{2,4})$")
_MONTH_WORDS = frozenset(MONTHS)
# Revision markers: a title that differs only in these is the same file.
_REVISION_WORDS = frozenset("v draft final wip copy rev revision revised updated update latest new old version "
                            "approved signed review preliminary".split())
_VERSION_TOKEN = re.compile(r"^(?:v|ver|rev|r)?\d+(?:\.\d+)*$|^\(\d+\)$")


def _heading(record: FileRecord) -> str:
    """The line that names the file: its first slide title or heading, else its first text line."""
    structure = record.structure or {}
    titles = structure.get("slide_titles") or []
    if titles:
        return str(titles[0])
    for heading in structure.get("headings") or []:
        if isinstance(heading, dict) and heading.get("text"):
            return str(heading["text"])
    for line in record.text.splitlines():
        line = line.strip("#*-= \t")
        if line:
            return line[:200]
    return ""


def _identity_words(text: str) -> Set[str]:
    words = set()
    for token in _TOKEN.findall(text):
        low = token.lower()
        if low in _REVISION_WORDS or _VERSION_TOKEN.match(low):
            continue
        words.add(low)
    return words


def _is_identity_token(token: str) -> bool:
    """Codes, periods, dates and numbers name an instance; ordinary words describe a template."""
    return bool(_PERIOD.match(token) or token in _MONTH_WORDS or any(c.isdigit() for c in token))


def _substitution(a: Set[str], b: Set[str]) -> Optional[List[str]]:
    """The identity tokens one side has in place of the other's, when both sides have some."""
    only_a, only_b = a - b, b - a
    ids_a = sorted(t for t in only_a if _is_identity_token(t))
    ids_b = sorted(t for t in only_b if _is_identity_token(t))
    if ids_a and ids_b:
        return [" ".join(ids_a[:3]), " ".join(ids_b[:3])]
    # A title that swaps a naming word ("Finance" for "Sales") in an otherwise equal line.
    if only_a and only_b and len(only_a) <= 2 and len(only_b) <= 2 and len(a & b) >= 2:
        return [" ".join(sorted(only_a)), " ".join(sorted(only_b))]
    return None


_FILL = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-/.]*[A-Za-z0-9]|[A-Za-z0-9]")
_CODE_LIKE = re.compile(r"^(?=.*[A-Za-z])(?=.*\d)[A-Za-z0-9\-/.]+$")
_YEAR = re.compile(r"^(?:19|20)\d{2}$")


@functools.lru_cache(maxsize=1 << 16)  # a corpus's texts repeat their words file after file
def _is_fill(token: str) -> bool:
    """A template's fill-ins: codes (PRJ-101), periods (Q1, FY24), years and month names.
    Plain amounts are edits as often as fills, so they do not count."""
    low = token.lower()
    return bool(_CODE_LIKE.match(token) or _PERIOD.match(low) or _YEAR.match(low) or low in _MONTH_WORDS)


@per_file
def heading_words(record: FileRecord) -> Set[str]:
    """The identity words of the line that names a file (a per-file fact)."""
    return _identity_words(_heading(record))


@per_file_lazily
def code_sets(record: FileRecord) -> Dict[str, frozenset]:
    """The file's project codes and identifiers as sets, intersected pair after pair."""
    return {kind: frozenset(record.entities.get(kind, ())) for kind in ("project_code", "identifier")}


@per_file_lazily
def title_words(record: FileRecord) -> Optional[Set[str]]:
    """The identity words of the file's title; None without a title."""
    title = (record.title or "").strip()
    return _identity_words(title) if title else None


@per_file
def fill_counts(record: FileRecord) -> Tuple[Dict[str, int], int]:
    """A text's fill-ins with their counts, and its number of tokens (a per-file fact)."""
    tokens = _FILL.findall(record.text)
    return {t: n for t, n in Counter(tokens).items() if _is_fill(t)}, len(tokens)  # each distinct token tried once


def _filled_differently(a: FileRecord, b: FileRecord, jaccard: float) -> Optional[List[str]]:
    """Near-identical texts whose differences are other fill-ins on both sides: template siblings.
    A version adds, removes or rewrites words; a sibling swaps PRJ-101 for PRJ-202 throughout.
    The texts' whole difference is told from their shingle Jaccard (a changed word changes
    SHINGLE_WORDS shingles), so only the fill-ins are kept per file."""
    (fa, size_a), (fb, size_b) = fill_counts(a), fill_counts(b)
    only_a = {t: n - fb.get(t, 0) for t, n in fa.items() if n > fb.get(t, 0)}
    only_b = {t: n - fa.get(t, 0) for t, n in fb.items() if n > fa.get(t, 0)}
    if not (only_a and only_b):
        return None
    differing = (1.0 - jaccard) / (1.0 + jaccard) * (size_a + size_b) / SHINGLE_WORDS
    if sum(only_a.values()) + sum(only_b.values()) < FILL_SHARE * differing:
        return None
    return [" ".join(sorted(only_a)[:3]), " ".join(sorted(only_b)[:3])]


def identity_conflict(a: FileRecord, b: FileRecord, jaccard: float = 0.0) -> Optional[str]:
    """Why a and b are different logical files despite their likeness, or None. Texts at least
    SIMILAR_TEXT alike (shingle `jaccard`) are compared on their fill-ins as well."""
    codes_a, codes_b = code_sets(a)["project_code"], code_sets(b)["project_code"]
    if codes_a and codes_b and codes_a.isdisjoint(codes_b):
        return f"project codes differ: {min(codes_a)} vs {min(codes_b)}"
    # A data file's first text line is a table preview, not a name.
    heading = None if a.is_data or b.is_data else _substitution(heading_words(a), heading_words(b))
    if heading:
        return f"titles differ: {heading[0]} vs {heading[1]}"
    title_a, title_b = title_words(a), title_words(b)
    if title_a is not None and title_b is not None:
        titles = _substitution(title_a, title_b)
        if titles:
            return f"titles differ: {titles[0]} vs {titles[1]}"
    if jaccard >= SIMILAR_TEXT and a.is_narrative and b.is_narrative:
        fills = _filled_differently(a, b, jaccard)
        if fills:
            return f"filled in differently: {fills[0]} vs {fills[1]}"
    return None


@per_file
def content_tokens(record: FileRecord) -> int:
    """Distinct content tokens: words of the text and distinct values of the tables."""
    words = len(set(_TOKEN.findall(record.text.lower()))) if record.text else 0
    values = sum(min(c.distinct, 1000) for t in record.tables for c in t.columns)
    return words + values


def is_trivial(record: FileRecord) -> bool:
    return content_tokens(record) < MIN_CONTENT_TOKENS
