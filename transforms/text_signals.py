"""Signals read from (already redacted) text: key terms, entities, numbers, file mentions.

Pure functions over strings, deterministic and bounded, so they run per file in
a Beam worker and are unit-tested without Beam. Callers redact first: nothing
here knows about PII.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Dict, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Tuple

from transforms.pii import REDACTION_MARK
from transforms.signatures import normalise_value
from transforms.words import MONTHS, split_identifier

MAX_NUMBERS = 2000  # numbers kept per file; beyond that the text is a data dump
MAX_ENTITIES_PER_KIND = 200

# Extensions recognised in file mentions, and currency codes read in amounts.
FILE_EXTENSIONS: Sequence[str] = (
    "xlsx", "xlsm", "xls", "csv", "tsv", "jsonl", "json", "pptx", "ppt", "docx", "doc",
    "pdf", "md", "markdown", "txt", "sqlite", "db",
)
_CURRENCY_CODES = ("USD", "EUR", "GBP", "JPY", "CAD", "AUD", "CHF", "CNY", "INR")

# ---------------------------------------------------------------- key terms

STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are aren as at be because been
    before being below between both but by can cannot could couldn did didn do does doesn doing
    don down during each either else etc even ever every few for from further get gets got had
    hadn has hasn have haven having he her here hers herself him himself his how however i if in
    into is isn it its itself just let like made make makes many may me might more most much must
    my myself neither no nor not now of off on once one only or other others our ours ourselves
    out over own per rather same shall she should shouldn since so some such than that the their
    theirs them themselves then there these they this those though through thus to too under
    until up upon us use used using very via was wasn we well were weren what when where whether
    which while who whom whose why will with within without would wouldn yet you your yours
    yourself yourselves new see based include includes including
    """.split()
)
# Words that recur in headers, footers and our own markup rather than in content.
BOILERPLATE = frozenset(
    """
    page pages slide slides notes note comment comments table tables chart figure fig confidential
    internal draft copyright rights reserved proprietary company document untitled click add
    text title subtitle heading section appendix contents placeholder www http https com html
    """.split()
)
# Units of markup rather than meaning.
_NOT_TERMS = frozenset(FILE_EXTENSIONS) | {code.lower() for code in _CURRENCY_CODES}
_PLACEHOLDER = REDACTION_MARK  # [EMAIL], [EMAIL:1a2b3c4d], EMAIL_1a2b3c4d: no terms
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_EXTRA_TERM_WEIGHT = 1.5  # a column name or heading says more than one mention in prose


def _is_term(word: str) -> bool:
    if word in STOPWORDS or word in BOILERPLATE or word in _NOT_TERMS or word.isdigit():
        return False
    # "q3" and "fy24" are terms; two plain letters ("ok", "vs") are not
    return len(word) >= 3 or (len(word) == 2 and any(c.isdigit() for c in word))


def key_terms(text: str, extra_terms: Iterable[str] = (), limit: int = 20) -> List[str]:
    """The `limit` most characteristic words of a text, best first.

    Each distinct line counts once, so running headers, footers and repeated
    disclaimers do not outweigh content; scores grow with log frequency so one
    word repeated in a long list cannot dominate. Extra terms (column, sheet
    and table names, titles, headings) are split into words and weighted up.
    """
    # Codes and IDs are entities, not vocabulary: their fragments ("e89b") would be noise.
    prose = _PLACEHOLDER.sub(" ", _masked(text, [span for _, span in _code_spans(text)]))
    counts: Counter = Counter()
    for line in dict.fromkeys(line.strip().lower() for line in prose.splitlines()):
        counts.update(w for w in (m.group() for m in _WORD.finditer(line)) if _is_term(w))
    scores = {word: 1.0 + math.log(n) for word, n in counts.items()}
    for term in extra_terms:
        for word in split_identifier(_PLACEHOLDER.sub(" ", term)):
            if _is_term(word):
                scores[word] = scores.get(word, 0.0) + _EXTRA_TERM_WEIGHT
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    return [word for word, _ in ranked[:limit]]


# ---------------------------------------------------------------- dates

# Any word in the month slot; `_iso` keeps only real month names (an alternation of names is
# several times slower to scan).
_MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d{2})"


class _Span(NamedTuple):
    start: int
    end: int
    value: str


def _iso(year: str, month: str, day: Optional[str] = None) -> Optional[str]:
    """ISO date (or year-month without a day); None unless it is a real date and month name."""
    number = int(month) if month.isdigit() else MONTHS.get(month.lower())
    if not number:
        return None
    try:
        found = date(int(year), number, int(day) if day else 1)
    except ValueError:
        return None
    return found.isoformat() if day else found.isoformat()[:7]


def _numeric_date(match: re.Match) -> Optional[str]:
    first, second, year = match.group("a"), match.group("b"), match.group("year")
    # Slashes read month first (US) unless impossible; dots read day first.
    order = ((first, second), (second, first)) if match.group("sep") == "/" else ((second, first),)
    for month, day in order:
        found = _iso(year, month, day)
        if found:
            return found
    return None


# Tried in order; a later pattern never claims text an earlier one matched.
_DATE_PATTERNS = (
    (
        re.compile(r"(?<![\w/.-])" + _YEAR + r"[-/](?P<month>\d{1,2})[-/](?P<day>\d{1,2})"
                   r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?(?![\w/-])"),
        lambda m: _iso(m.group("year"), m.group("month"), m.group("day")),
    ),
    (
        re.compile(r"(?<![\w/.-])(?P<a>\d{1,2})(?P<sep>[/.])(?P<b>\d{1,2})(?P=sep)" + _YEAR + r"(?![\w/-]|\.\d)"),
        _numeric_date,
    ),
    (
        re.compile(r"\b" + _MONTH + r"\s+" + _DAY + r",?\s+" + _YEAR + r"\b"),
        lambda m: _iso(m.group("year"), m.group("month"), m.group("day")),
    ),
    (
        re.compile(r"\b" + _DAY + r"\s+(?:of\s+)?" + _MONTH + r",?\s+" + _YEAR + r"\b"),
        lambda m: _iso(m.group("year"), m.group("month"), m.group("day")),
    ),
    (
        re.compile(r"\b" + _MONTH + r",?\s+" + _YEAR + r"\b"),
        lambda m: _iso(m.group("year"), m.group("month")),
    ),
)
# Clock times are not amounts; masked like dates.
_TIME = re.compile(r"(?<![\d:])\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp]\.?[Mm]\.?)?(?![\d:])")


class _Claims:
    """Character ranges already taken by a match, so later patterns skip them."""

    def __init__(self, length: int):
        self._taken = bytearray(length)

    def take(self, start: int, end: int) -> bool:
        if self._taken.find(1, start, end) != -1:
            return False
        self._taken[start:end] = b"\x01" * (end - start)
        return True


def _date_spans(text: str) -> List[_Span]:
    claims, spans = _Claims(len(text)), []
    for pattern, to_iso in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            iso = to_iso(m)
            if iso and claims.take(m.start(), m.end()):
                spans.append(_Span(m.start(), m.end(), iso))
    return spans


# ---------------------------------------------------------------- codes and identifiers

_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
# Upper-case letters, a "-", "/" or "#", then a digit-led body with optional further segments:
# PRJ-4821, MKT-2024-07, OPS/118, SKU-88412, C-10234.
_CODE = re.compile(r"(?<![\w/#-])(?P<prefix>[A-Z]{1,6})[-/#](?P<body>\d[A-Z0-9]*(?:[-/][A-Z0-9]+)*)(?![\w/-])")
# Prefixes that name records rather than projects; single letters (C-10234) too.
_ID_PREFIXES = frozenset(
    """
    ID SKU INV INVOICE PO SO ORD ORDER CUST CUS CID TXN TX TRX REF ACCT ACC EMP TKT TICKET CASE
    REQ INC BUG SN SER ITEM PRD PROD LOT BATCH RMA CHG ASSET DOC VND VEN SUP UID PID
    """.split()
)


def _code_spans(text: str) -> Iterator[Tuple[str, _Span]]:
    for m in _UUID.finditer(text):
        yield "identifier", _Span(m.start(), m.end(), m.group().lower())
    for m in _CODE.finditer(text):
        prefix = m.group("prefix")
        kind = "identifier" if len(prefix) == 1 or prefix in _ID_PREFIXES else "project_code"
        yield kind, _Span(m.start(), m.end(), m.group())


# ---------------------------------------------------------------- numbers and amounts

_CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
_CURRENCY_WORDS = {"dollars": "USD", "euros": "EUR", "pounds": "GBP"}
_SCALES = {
    "k": 10**3, "thousand": 10**3,
    "m": 10**6, "mm": 10**6, "mn": 10**6, "million": 10**6,
    "b": 10**9, "bn": 10**9, "billion": 10**9,
    "trillion": 10**12,
}
_NUMBER = re.compile(
    # The lookahead skips positions that cannot start a number (twice as fast on prose).
    r"""
    (?=[(\-−$€£¥.\dUEGJCAI])
    (?P<open>\(\s?)?
    (?P<sign>[-−])?
    (?:(?P<symbol>[$€£¥])|(?P<code>\b(?:""" + "|".join(_CURRENCY_CODES) + r"""))\s?)?
    (?P<sign2>[-−])?
    (?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)
    (?:(?P<letter>[kKMB]|bn|mn|MM|m|b)(?![A-Za-z])|\s?(?P<word>thousand|million|billion|trillion)\b)?
    (?P<pct>\s?%|\s(?:percent|per\scent)\b)?
    (?P<close>\s?\))?
    (?:\s?(?P<after>""" + "|".join(_CURRENCY_CODES + tuple(_CURRENCY_WORDS)) + r""")\b)?
    """,
    re.VERBOSE,
)
# A number right after these words labels a position, not a quantity ("Slide 3", "page 12").
_LABEL_BEFORE = re.compile(
    r"(?:\b(?:slide|page|pages|p|pp|figure|fig|table|section|chapter|step|no|item|version|line)\.?|#)\s*$",
    re.IGNORECASE,
)


class NumberToken(NamedTuple):
    start: int
    end: int
    value: float
    half_unit: float
    currency: Optional[str]
    percent: bool


def _currency(m: re.Match) -> Optional[str]:
    if m.group("symbol"):
        return _CURRENCY_SYMBOLS[m.group("symbol")]
    after = m.group("after")
    return m.group("code") or (after and _CURRENCY_WORDS.get(after, after))


def _scale(m: re.Match, currency: Optional[str]) -> Optional[int]:
    """The multiplier of a suffix; None when a suffix makes the token no number ("5m" of length)."""
    word, letter = m.group("word"), m.group("letter")
    if word:
        return _SCALES[word]
    if not letter:
        return 1
    if letter in ("m", "b") and not currency:  # lower-case m/b alone could be metres or bytes
        return None
    return _SCALES[letter.lower()]


def _glued(text: str, start: int, end: int) -> bool:
    """Is the number part of a word, code or version ("Q3", "x86", "3D", "v1.2.3", "a-7")?"""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    if before.isalnum() or before == "_" or after.isalnum() or after == "_":
        return True
    if before in "-/." and start > 1 and (text[start - 2].isalpha() or before == "."):
        return True
    return after == "." and end + 1 < len(text) and text[end + 1].isdigit()


def _to_token(text: str, m: re.Match) -> Optional[NumberToken]:
    num = m.group("num")
    currency = _currency(m)
    scale = _scale(m, currency)
    if scale is None:
        return None
    start, sign = m.start(), m.group("sign") or m.group("sign2")
    if m.group("sign") and m.start("sign") > 0 and text[m.start("sign") - 1].isalnum():
        start, sign = m.start("sign") + 1, m.group("sign2")  # "10-20" is a range, not minus twenty
    if _glued(text, start, m.end()) or _LABEL_BEFORE.search(text, max(0, start - 12), start):
        return None
    percent = bool(m.group("pct"))
    plain = not (currency or percent or scale != 1 or "," in num or "." in num)
    if plain and 1900 <= int(num) <= 2100:
        return None  # a year standing alone
    # Parentheses mean negative only where numbers look financial, not "(1)" list markers.
    negative = bool(sign) or bool(m.group("open") and m.group("close") and not plain)
    decimals = len(num.split(".")[1]) if "." in num else 0
    # Decimal keeps scaled values exact: in floats "2.01k" would be 2009.9999999999998.
    value = float(Decimal(num.replace(",", "")) * scale) * (-1 if negative else 1)
    half_unit = float(Decimal(5) * scale / Decimal(10) ** (decimals + 1))
    return NumberToken(start, m.end(), value, half_unit, currency, percent)


def _masked(text: str, spans: Iterable[_Span]) -> str:
    """Text with the spans blanked out (same length), so their digits are not read."""
    pieces, pos = [], 0
    for span in sorted(spans):
        if span.start >= pos:
            pieces += [text[pos : span.start], " " * (span.end - span.start)]
            pos = span.end
        elif span.end > pos:  # overlapping spans: blank the part not yet blanked
            pieces.append(" " * (span.end - pos))
            pos = span.end
    pieces.append(text[pos:])
    return "".join(pieces)


class _Scan(NamedTuple):
    dates: List[_Span]
    codes: List[Tuple[str, _Span]]
    numbers: List[NumberToken]


@lru_cache(maxsize=4)  # extract_entities and extract_numbers read the same text back to back
def _scan(text: str) -> _Scan:
    dates, codes = _date_spans(text), list(_code_spans(text))
    times = [_Span(m.start(), m.end(), "") for m in _TIME.finditer(text)]
    clean = _masked(text, dates + [span for _, span in codes] + times)
    numbers = [t for t in (_to_token(clean, m) for m in _NUMBER.finditer(clean)) if t]
    return _Scan(dates, codes, numbers)


def extract_numbers(text: str) -> List[List[float]]:
    """Every number shown in the text as [value, half_unit], in order of first appearance.

    half_unit is half the last shown digit's place times the scale: "1,234" ->
    0.5, "1.23M" -> 5000.0, "12.5%" -> 0.05 (percent values stay in percent).
    Years standing alone, dates, clock times and digits inside codes, IDs and
    words are skipped.
    """
    seen: Dict[Tuple[float, float], None] = {}
    for token in _scan(text).numbers:
        seen.setdefault((token.value, token.half_unit), None)
        if len(seen) >= MAX_NUMBERS:
            break
    return [[value, half] for value, half in seen]


# ---------------------------------------------------------------- entities

_ORG_SUFFIX = (
    r"Inc|Incorporated|Ltd|Limited|LLC|LLP|GmbH|Group|Corp|Corporation|Co|Company|plc|PLC|AG|SA|"
    r"SE|NV|BV|Holdings|Partners"
)
_ORG = re.compile(
    r"\b(?P<name>(?:[A-Z][\w&'.-]*|&)(?:[ \t]+(?:[A-Z][\w&'.-]*|&|of|and|de|for)){0,5}?),?[ \t]+"
    r"(?P<suffix>" + _ORG_SUFFIX + r")\b\.?"
)
_ORG_LEADING = re.compile(r"^(?:(?:The|A|An|At|By|For|From|In|On|To|With|And|Of)\s+)+")


def _organizations(text: str) -> Iterator[str]:
    for m in _ORG.finditer(text):
        name = _ORG_LEADING.sub("", m.group("name")).strip()
        if name and name[0].isupper():
            yield f"{name} {m.group('suffix')}"


def _amount_text(token: NumberToken) -> str:
    return f"{token.currency} {normalise_value(token.value)}"


def _percent_text(token: NumberToken) -> str:
    return f"{normalise_value(token.value)}%"


def extract_entities(text: str) -> Dict[str, List[str]]:
    """Entities by kind, each a sorted list of distinct normalised values.

    Kinds: project_code, identifier, amount ("USD 1230000"), date (ISO),
    organization, percent ("12.5%"). Kinds with no values are left out.
    """
    found: Dict[str, set] = {}

    def add(kind: str, values: Iterable[str]) -> None:
        bucket = found.setdefault(kind, set())
        for value in values:
            if len(bucket) < MAX_ENTITIES_PER_KIND:
                bucket.add(value)

    scan = _scan(text)
    for kind, span in scan.codes:
        add(kind, [span.value])
    add("date", (span.value for span in scan.dates))
    add("amount", (_amount_text(t) for t in scan.numbers if t.currency))
    add("percent", (_percent_text(t) for t in scan.numbers if t.percent))
    add("organization", _organizations(text))
    return {kind: sorted(values) for kind, values in sorted(found.items()) if values}


# ---------------------------------------------------------------- file mentions

_EXT = r"\.(?i:" + "|".join(sorted(FILE_EXTENSIONS, key=len, reverse=True)) + r")(?![\w]|\.\w)"
_QUOTED_FILE = re.compile(r"[\"'“‘`](?P<name>[^\"'“”‘’`\n/\\]{1,120}?" + _EXT + r")[\"'”’`]")
# A title-cased name may have up to four capitalised or numeric words ("Q3 Forecast.pptx");
# otherwise the name is one word ("sales_2024.xlsx").
_BARE_FILE = re.compile(
    r"(?<![\w.])(?P<name>(?:(?:[A-Z0-9][\w()&+-]*[ ]){1,3}[A-Z0-9][\w()&+-]*|(?:[\w.-]+/)*[\w()&+-]+)"
    r"(?:\.[\w()&+-]+)*?" + _EXT + r")"
)
# Sentence words that the capitalised-words rule can pull in ("See Q3 Forecast.pptx").
_MENTION_LEADING = STOPWORDS | {"see", "attached", "attach", "refer", "open", "check", "update", "updated", "read", "file"}


def _trim_leading_words(name: str) -> str:
    words = name.split(" ")
    while len(words) > 1 and words[0].lower() in _MENTION_LEADING:
        words.pop(0)
    return " ".join(words)


# Words a bare name may have: "Support tickets 2024-03.xlsx", "Helpdesk api dump 20240925.json".
MAX_NAME_WORDS = 6
_NAME_WORD = re.compile(r"[\w()&+-]+")


def _longer_readings(text: str, start: int, name: str) -> List[str]:
    """The name read with the words before it on its line, one more word at a time, up to
    MAX_NAME_WORDS ("from Support tickets 2024-03.xlsx" -> "tickets 2024-03.xlsx",
    "Support tickets 2024-03.xlsx"): where a name with spaces starts, only the drive's files
    tell, so each reading is a mention and resolution keeps the ones a file is named."""
    room = MAX_NAME_WORDS - name.count(" ") - 1  # words the name may still take
    line = text[max(text.rfind("\n", 0, start) + 1, start - 40 * MAX_NAME_WORDS):start]
    if room <= 0 or not line.endswith(" "):
        return []
    readings = []
    for word in reversed(line[:-1].split(" ")[-room:]):
        if not _NAME_WORD.fullmatch(word) or word.lower() in _MENTION_LEADING:
            break
        name = f"{word} {name}"
        readings.append(name)
    return readings


def mentioned_files(text: str) -> List[str]:
    """File names mentioned in the text, in order of first mention, with the relative
    path they are written with ("cldf/languages.csv"), if any. A bare name also comes
    with its longer readings (_longer_readings)."""
    found: Dict[str, None] = {}
    claims = _Claims(len(text))
    for m in _QUOTED_FILE.finditer(text):  # quotes delimit names with spaces exactly
        claims.take(m.start("name"), m.end("name"))
        found.setdefault(m.group("name").strip(), None)
    for m in _BARE_FILE.finditer(text):
        if claims.take(m.start("name"), m.end("name")):
            name = _trim_leading_words(m.group("name"))
            found.setdefault(name, None)
            if "/" not in name:
                for reading in _longer_readings(text, m.end("name") - len(name), name):
                    found.setdefault(reading, None)
    return list(found)
