"""Foreign-key-like inclusion between table columns: the core of REFERENCES.

A column A references a key column B when A's values are (mostly) contained
in B's, B is unique, and either the names say so (customer_id -> customers,
SupportRepId -> the table of people) or the containment is unlikely by
chance. Integer keys that fill a range (row ids 1..n) contain any small
integers by chance, so without a name the evidence is the binomial tail of
the observed containment under that chance.

Used between two files (strategies.content_similarity) and between the tables
of one file (`table_links`, e.g. a SQLite mart).
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from transforms.model import ColumnProfile, FileRecord, TableProfile
from transforms.naming import analyse_name
from transforms.pii import ROLE_WORDS, column_pii_kind
from transforms.signatures import containment

# Column names too generic to say anything on their own.
GENERIC_COLUMNS = frozenset(
    "id key name date time value amount total count status type code description notes "
    "comment created updated modified index row no number year month day".split()
)
_WORD = re.compile(r"[a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_KEY_NAME = re.compile(r"(?:^| )(?:id|key|code|no|num|number|ref)$")
# Tables of people, by name: a role column ("support rep", "owner") points at one.
_PEOPLE_TABLES = frozenset("employee employees staff user users person people member members agent agents "
                           "worker workers rep reps personnel contact contacts".split())
MIN_LINK_STRENGTH = 0.6
SYNONYM_SIMILARITY = 0.7
Similarity = Callable[[str, str], float]


def column_words(name: str) -> str:
    """'CustomerId', 'customer_id' and 'Customer ID' all become 'customer id'."""
    return " ".join(_WORD.findall(_CAMEL.sub(" ", name).lower()))


def binomial_tail(n: int, k: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p): the chance of k or more hits at random."""
    if k <= 0 or p >= 1.0:
        return 1.0
    if p <= 0.0:
        return 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    terms = [
        math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q
        for i in range(k, n + 1)
    ]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


def range_density(col: ColumnProfile) -> float:
    """Share of the integer range [min, max] that a key column fills (0 for non-integers)."""
    if col.dtype != "integer" or not col.numeric:
        return 0.0
    span = col.numeric["max"] - col.numeric["min"] + 1
    return min(1.0, col.distinct / span) if span > 0 else 0.0


def _singular(words: str) -> str:
    return words[:-1] if words.endswith("s") and not words.endswith("ss") else words


def _is_people_table(table: TableProfile, stem: str) -> bool:
    names = {_singular(column_words(table.name)), _singular(stem)}
    if any(n in _PEOPLE_TABLES or _singular(n) in _PEOPLE_TABLES for n in names if n):
        return True
    kinds = {column_pii_kind(c.name) for c in table.columns}
    return "PERSON" in kinds and "EMAIL" in kinds


def names_reference(s_col: ColumnProfile, d_table: TableProfile, d_col: ColumnProfile, target_stem: str,
                    similar: Optional[Similarity] = None) -> bool:
    """Whether the source column's name says it points at this key (or its table)."""
    s_words, d_words = column_words(s_col.name), column_words(d_col.name)
    table_words = _singular(column_words(d_table.name)) if d_table.name else ""
    stem = _singular(target_stem)
    entity = s_words[:-3] if s_words.endswith(" id") else s_words
    if s_words in GENERIC_COLUMNS:
        return False
    if d_words.endswith(" id") and s_words != d_words and s_words.endswith(d_words):
        return True  # "parent customer id" -> "customer id"
    if s_words == d_words and (_KEY_NAME.search(s_words) or (not d_col.small_int_range and s_col.distinct >= 10)):
        return True  # same distinctive key name; plain labels need a real set
    if entity and entity != s_words and entity.replace(" ", "") in {
            table_words.replace(" ", ""), stem.replace(" ", "")} - {""}:
        return True  # "album id" -> Album.csv / table "albums"
    if s_words in {f"{owner} {d_words}" for owner in (table_words, stem) if owner}:
        return True  # "customer email" -> customers.email: the key's own name, qualified by its table
    d_entity = d_words[:-3] if d_words.endswith(" id") else ""
    if d_entity and s_words == d_entity:
        return True  # "vendor" holding vendor ids -> "vendor id"
    tokens = s_words.split()
    role = bool(tokens) and _KEY_NAME.search(s_words) is not None and any(t in ROLE_WORDS for t in tokens)
    if role and _is_people_table(d_table, target_stem):
        return True  # "support rep id" -> employees
    # Synonymous key names ("supplier id" -> "vendor id"), judged by the sentence model.
    return bool(similar and entity != s_words and d_entity and similar(entity, d_entity) >= SYNONYM_SIMILARITY)


def _is_own_key(table: TableProfile, col: ColumnProfile, stem: str) -> bool:
    if col.name in table.primary_key:
        return True
    words = column_words(col.name)
    entity = words[:-3] if words.endswith(" id") else ""
    own = {_singular(column_words(table.name)).replace(" ", ""), _singular(stem).replace(" ", "")} - {""}
    return col.unique and bool(entity) and entity.replace(" ", "") in own


def column_inclusion(s_table: TableProfile, s_col: ColumnProfile, d_table: TableProfile, d_col: ColumnProfile,
                     target_stem: str, source_stem: str = "",
                     similar: Optional[Similarity] = None) -> Optional[Dict[str, Any]]:
    """How strongly s_col looks like a foreign key into d_col, with the evidence."""
    if s_col.distinct < 2 or s_col.dtype in ("empty", "boolean", "float", "date"):
        return None
    # A few dangling references are normal, so the key may hold slightly fewer values.
    if not d_col.unique or d_col.dtype != s_col.dtype or d_col.distinct < 0.9 * s_col.distinct:
        return None
    share = containment(s_col.value_hashes, s_col.exact, d_col.value_hashes, d_col.exact)
    if share < 0.5:
        return None
    if _is_own_key(s_table, s_col, source_stem):
        return None  # a table's own key (EmployeeId in Employee) points nowhere
    name_match = names_reference(s_col, d_table, d_col, target_stem, similar)
    chance = range_density(d_col)
    p_value = binomial_tail(s_col.distinct, round(s_col.distinct * share), chance)
    if name_match:
        strength = share
    elif s_col.unique and (range_density(s_col) >= 0.9 or s_col.distinct == d_col.distinct):
        # The source's own row id, or a 1:1 copy of the key: not a reference.
        strength = 0.0
    else:
        # Without names the containment must be far beyond chance (p 1e-6
        # counts fully), a handful of shared labels is weak evidence, and a
        # personal attribute (an address, an e-mail) is rarely the key.
        significance = min(1.0, -math.log10(max(p_value, 1e-300)) / 6.0)
        strength = 0.7 * share * significance * min(1.0, s_col.distinct / 10.0)
        if column_pii_kind(d_col.name) not in (None, "USERNAME"):  # a handle is an identifier
            strength *= 0.5
    return {
        "strength": strength,
        "containment": round(share, 4),
        "name_match": float(name_match),
        "chance_containment": round(chance, 4),
        "p_value": round(p_value, 6),
        "source_table": s_table.name,
        "source_column": s_col.name,
        "target_table": d_table.name,
        "target_column": d_col.name,
        "source_distinct": s_col.distinct,
        "target_distinct": d_col.distinct,
    }


def _columns(record_tables: Sequence[TableProfile]) -> Iterable[Tuple[TableProfile, ColumnProfile]]:
    return ((t, c) for t in record_tables for c in t.columns)


def best_inclusion(src: FileRecord, dst: FileRecord, similar: Optional[Similarity] = None) -> Optional[Dict[str, Any]]:
    """The strongest inclusion of a column of `src` in a key column of `dst`."""
    # A file's name stands for its table only when it holds one table.
    stem = analyse_name(dst.file_path).stem if len(dst.tables) == 1 else ""
    source_stem = analyse_name(src.file_path).stem if len(src.tables) == 1 else ""
    best = None
    for s_table, s_col in _columns(src.tables):
        for d_table, d_col in _columns(dst.tables):
            found = column_inclusion(s_table, s_col, d_table, d_col, stem, source_stem, similar)
            if found and (best is None or found["strength"] > best["strength"]):
                best = found
    return best


def table_links(tables: Sequence[TableProfile]) -> List[Dict[str, Any]]:
    """Table-level references inside one file: declared foreign keys and detected inclusions.

    One link per (source table, source column), to its strongest target.
    """
    links: Dict[Tuple[str, str], Dict[str, Any]] = {}
    for table in tables:
        for fk in table.foreign_keys:
            for s_name, d_name in zip(fk.get("columns", []), fk.get("ref_columns", [])):
                links[(table.name, s_name)] = {
                    "source_table": table.name, "source_column": s_name, "target_table": fk.get("ref_table"),
                    "target_column": d_name, "declared": True, "strength": 1.0}
    for s_table, s_col in _columns(tables):
        if (s_table.name, s_col.name) in links:
            continue
        best = None
        for d_table, d_col in _columns(tables):
            if d_table is s_table:
                continue
            found = column_inclusion(s_table, s_col, d_table, d_col, d_table.name, s_table.name)
            if found and found["strength"] >= MIN_LINK_STRENGTH and (best is None or found["strength"] > best["strength"]):
                best = found
        if best:
            links[(s_table.name, s_col.name)] = {**{k: best[k] for k in (
                "source_table", "source_column", "target_table", "target_column", "containment")},
                "declared": False, "strength": round(best["strength"], 4)}
    return [links[k] for k in sorted(links)]
