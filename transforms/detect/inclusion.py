"""Foreign-key-like inclusion between table columns: the local step of REFERENCES.

A column references a key column when its values sit inside the key's and a
reference explains that better than the alternatives:

- chance: small whole numbers fall inside any dense id range. The chance is the
  binomial tail of the hits under the key's density *within the child's range*
  (from the key's quantiles), corrected for the number of columns a run
  compares, so the bar rises with the corpus;
- a shared vocabulary: code lists (countries, states, currencies) sit in many
  tables. The run's frequencies (`corpus.PairContext`) say how many other files
  hold the same values as a key;
- one domain, two lists: a unique column inside another unique column is a
  second list of the same codes, not a reference, unless the names say so.

Names are graded evidence: the same key name, the column naming the parent
table, a role pointing at a table of people, a synonym from the sentence model.
Domains under `MIN_UNNAMED_DISTINCT` values, constant columns and dense 1..n
ranges need names. Each candidate is local to one pair; `parents.py` keeps one
parent per child column across the run.

Used between two files (strategies.content_similarity) and between the tables
of one file (`table_links`, e.g. a SQLite mart).
"""

from __future__ import annotations

import bisect
import functools
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from transforms.column_roles import range_density
from transforms.detect.corpus import NO_CONTEXT, PairContext
from transforms.detect.facts import per_file_lazily
from transforms.model import ColumnProfile, FileRecord, TableProfile
from transforms.naming import analyse_name
from transforms.pii import ROLE_WORDS, column_pii_kind
from transforms.words import column_words

# Column names too generic to say anything on their own.
GENERIC_COLUMNS = frozenset(
    "id key name date time value amount total count status type code description notes "
    "comment created updated modified index row no number year month day".split()
)
_KEY_NAME = re.compile(r"(?:^| )(?:id|key|code|no|num|number|ref)$")
# Tables of people, by name: a role column ("support rep", "owner") points at one.
_PEOPLE_TABLES = frozenset("employee staff user person people member agent worker rep personnel "
                           "contact contributor author".split())
# Role words that also name entities with tables of their own ("customer id" -> customers).
_ROLES = frozenset(ROLE_WORDS) - {"customer", "client", "employee", "contact", "to"}
MIN_LINK_STRENGTH = 0.6
SYNONYM_SIMILARITY = 0.7
MIN_CONTAINMENT = 0.5
# Without name evidence a child needs this many distinct values and near-full containment.
MIN_UNNAMED_DISTINCT = 10
MIN_UNNAMED_CODES = 3  # codes ("V-73319") rarely coincide: fewer of them suffice
MIN_UNNAMED_CONTAINMENT = 0.9
# Corrected significance (-log10 of the chance p-value less log10 of the tests run) that counts fully.
FULL_SIGNIFICANCE = 6.0
# Work bounds per file pair: columns compared on each side.
MAX_CHILD_COLUMNS = 64
MAX_PARENT_COLUMNS = 64
BINOMIAL_MAX_N = 200
Similarity = Callable[[str, str], float]

# Name evidence grades: how surely the names alone say "reference".
NAME_SAME_KEY = 1.0  # "customer id" -> "customer id", "parent customer id" -> "customer id"
NAME_TABLE = 0.9  # "album id" -> Album.csv, "vendor" -> "vendor id"
NAME_QUALIFIED = 0.85  # "meta language id" -> languages.csv
NAME_SAME_LABEL = 0.8  # "sku" -> "sku": one plain name, unique in the parent
NAME_ABBREVIATION = 0.75  # "cust id" -> customers
NAME_ROLE = 0.7  # "support rep id", "approved by" -> the table of people
NAME_SYNONYM = 0.6  # "supplier id" -> "vendor id", by the sentence model


@functools.lru_cache(maxsize=1 << 16)  # names recur pair after pair
def singular(words: str) -> str:
    """English plural to singular on the last word: countries -> country, boxes -> box."""
    head, _, last = words.rpartition(" ")
    if len(last) > 4 and last.endswith("ies"):
        last = last[:-3] + "y"
    elif len(last) > 4 and last.endswith(("sses", "shes", "ches", "xes", "zes")):
        last = last[:-2]
    elif len(last) > 3 and last.endswith("s") and not last.endswith(("ss", "us", "is")):
        last = last[:-1]
    return f"{head} {last}" if head else last


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


def density_within(key: ColumnProfile, low: float, high: float) -> float:
    """Share of the whole numbers in [low, high] that the key column holds, from its quantiles."""
    if key.dtype != "integer" or not key.numeric or high < low:
        return 0.0
    span = high - low + 1
    if len(key.quantiles) < 2:
        return range_density(key)
    # The quantiles come from a sample; the true extremes are known exactly.
    q = [min(key.quantiles[0], key.numeric["min"])] + list(key.quantiles[1:-1]) + [
        max(key.quantiles[-1], key.numeric["max"])]
    last = len(q) - 1

    def rank(x: float) -> float:  # share of the key's distinct values <= x
        if x < q[0]:
            return 0.0
        if x >= q[-1]:
            return 1.0
        i = bisect.bisect_right(q, x) - 1
        lo, hi = q[i], q[i + 1]
        frac = (x - lo) / (hi - lo) if hi > lo else 1.0
        return (i + frac) / last

    inside = (rank(high) - rank(low - 1)) * key.distinct
    return max(0.0, min(1.0, inside / span))


@dataclass(frozen=True)
class ChildView:
    """A set of values that may reference a key: a column, or the items of a list-valued column."""

    table: TableProfile
    column: ColumnProfile
    hashes: Sequence[int]
    distinct: int
    items: bool

    @property
    def name(self) -> str:
        return self.column.name

    @property
    def exact(self) -> bool:
        return self.distinct <= len(self.hashes)


def child_views(table: TableProfile, col: ColumnProfile) -> List[ChildView]:
    views = []
    if col.dtype in ("integer", "string") and col.distinct >= 1:
        views.append(ChildView(table, col, col.value_hashes, col.distinct, False))
    if col.item_hashes and col.item_distinct >= 1:
        views.append(ChildView(table, col, col.item_hashes, col.item_distinct, True))
    return views


def _people_table(table: TableProfile, stem: str) -> float:
    """1 for a table named for people (employees, staff), less for one that merely holds
    personal data (customers with names and e-mails), 0 otherwise."""
    names = {singular(column_words(table.name)), singular(stem)}
    if any(n.split(" ")[-1] in _PEOPLE_TABLES for n in names if n):
        return 1.0
    kinds = {column_pii_kind(c.name) for c in table.columns}
    return 0.85 if "PERSON" in kinds and "EMAIL" in kinds else 0.0


def _compact(words: str) -> str:
    return words.replace(" ", "")


def _abbreviates(short: str, word: str) -> bool:
    """"cust" for "customer", "dept" for "department": same first letter, letters in order, shorter."""
    if " " in short or len(short) < 3 or len(short) >= len(word) or short[0] != word[0]:
        return False
    rest = iter(word[1:])
    return all(ch in rest for ch in short[1:])


def name_grade(s_name: str, d_table: TableProfile, d_col: ColumnProfile, target_stem: str,
               similar: Optional[Similarity] = None, s_distinct: int = MIN_UNNAMED_DISTINCT) -> float:
    """How surely the names say the source column points at this key (0: they do not)."""
    s_words, d_words = column_words(s_name), column_words(d_col.name)
    if not s_words or s_words in GENERIC_COLUMNS:
        return 0.0
    table_words = singular(column_words(d_table.name)) if d_table.name else ""
    stem = singular(target_stem)
    entity = s_words[:-3] if s_words.endswith(" id") else s_words
    d_entity = d_words[:-3] if d_words.endswith(" id") else ""
    if d_words.endswith(" id") and s_words != d_words and s_words.endswith(" " + d_words):
        return NAME_SAME_KEY  # "parent customer id" -> "customer id"
    if s_words == d_words and _KEY_NAME.search(s_words):
        return NAME_SAME_KEY
    if s_words == d_words and d_col.unique and s_distinct >= MIN_UNNAMED_DISTINCT:
        return NAME_SAME_LABEL  # one plain name ("sku", "title") over a real set of values
    targets = {_compact(table_words), _compact(stem)} - {""}
    if _compact(entity) in targets or _compact(singular(entity)) in targets:
        return NAME_TABLE  # "album id" -> Album.csv, "countries" -> country.csv
    last = singular(entity.rsplit(" ", 1)[-1])
    if " " in entity and last in targets:
        return NAME_QUALIFIED  # "meta language id" -> languages.csv, "ship to customer id" -> customers
    if any(_abbreviates(entity, t) for t in targets):
        return NAME_ABBREVIATION  # "cust id" -> customers, "dept" -> departments
    if d_entity and s_words in (d_entity, singular(d_entity)):
        return NAME_TABLE  # "vendor" holding vendor ids -> "vendor id"
    if s_words in {f"{owner} {d_words}" for owner in (table_words, stem) if owner}:
        return NAME_TABLE  # "customer email" -> customers.email: the key's own name, qualified by its table
    tokens = s_words.split()
    people = _people_table(d_table, target_stem) if any(t in _ROLES for t in tokens) else 0.0
    if people:
        return NAME_ROLE * people  # "support rep id", "approved by" -> employees
    if similar and d_entity and entity != s_words and similar(entity, d_entity) >= SYNONYM_SIMILARITY:
        return NAME_SYNONYM  # "supplier id" -> "vendor id"
    return 0.0


def names_reference(s_col: ColumnProfile, d_table: TableProfile, d_col: ColumnProfile, target_stem: str,
                    similar: Optional[Similarity] = None) -> bool:
    return name_grade(s_col.name, d_table, d_col, target_stem, similar) > 0


def _is_own_key(table: TableProfile, col: ColumnProfile, stem: str) -> bool:
    if col.name in table.primary_key:
        return True
    return col.unique and _names_own_entity(col.name, table.name, stem)


@functools.lru_cache(maxsize=1 << 16)  # a child is asked again for each file it meets
def _names_own_entity(column: str, table: str, stem: str) -> bool:
    """Whether an "X id" column names the entity of its own table or file ("employee id" in Employee)."""
    words = column_words(column)
    entity = words[:-3] if words.endswith(" id") else ""
    names = [singular(column_words(table)), singular(stem)]
    own = {_compact(n) for n in names} | {n.rsplit(" ", 1)[-1] for n in names}
    return bool(entity) and _compact(singular(entity)) in own - {""}


_CODE_VALUE = re.compile(r"(?=[^\s]*\d)(?=[^\s]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9_\-/.:]{2,}|\d{5,}")


def code_like(col: ColumnProfile) -> bool:
    """Whether a text column holds codes ("V-73319", "AG-69574", long numbers), judged on its
    samples: codes coincide across unrelated tables far less often than words do."""
    samples = [s for s in col.samples if s]
    return bool(samples) and sum(1 for s in samples if _CODE_VALUE.fullmatch(s)) >= 0.6 * len(samples)


def _names_a_collection_of(child_table: TableProfile, source_stem: str, d_table: TableProfile,
                           target_stem: str) -> bool:
    """A table named for groups of the parent's rows ("machine batches", "employee groups")."""
    parent = {singular(column_words(n)) for n in (d_table.name, target_stem) if n}
    words = set(column_words(child_table.name).split()) | set(column_words(source_stem).split())
    return any(p in words or singular(p) in {singular(w) for w in words} for p in parent if p and " " not in p)


def tests_in_run(context: PairContext) -> int:
    """Column comparisons a run makes, for the multiple-testing correction."""
    return max(100, 10 * context.n_files)


def integer_chance(child: ChildView, key: ColumnProfile, share: float) -> float:
    """P-value of the observed hits if the child's values were whole numbers drawn at random
    from its own range, against the key's density there."""
    numeric = child.column.numeric
    if child.items or not numeric:
        return 1.0
    density = density_within(key, numeric["min"], numeric["max"])
    n = min(child.distinct, BINOMIAL_MAX_N)
    return binomial_tail(n, round(n * share), density)


def _value_keys(child: ChildView, limit: int = 16) -> List[str]:
    return [f"key:{h}" for h in child.hashes[:limit]]


def other_key_holders(child: ChildView, context: PairContext) -> float:
    """How many other files hold the child's values as a key (median over its first values)."""
    if not context.known:
        return 0.0
    counts = sorted(context.df(k) for k in _value_keys(child))
    if not counts:
        return 0.0
    return max(0.0, counts[len(counts) // 2] - 1.0)


def candidate(child: ChildView, d_table: TableProfile, d_col: ColumnProfile, d_hashes: set,
              target_stem: str, source_stem: str, similar: Optional[Similarity],
              context: PairContext, near: bool = True) -> Optional[Dict[str, Any]]:
    """How strongly the child values look like a foreign key into d_col, with the evidence."""
    s_col = child.column
    if not d_col.unique or d_col.distinct < 0.9 * child.distinct or (d_col.dtype != s_col.dtype and not child.items):
        return None
    if child.items and d_col.dtype not in ("string", "integer"):
        return None
    pool = child.hashes if d_col.exact else [h for h in child.hashes if h <= d_col.value_hashes[-1]]
    if not pool:
        return None
    share = sum(1 for h in pool if h in d_hashes) / len(pool)
    if share < MIN_CONTAINMENT:
        return None
    if not child.items and _is_own_key(child.table, s_col, source_stem):
        return None  # a table's own key (EmployeeId in Employee) points nowhere
    grade = name_grade(s_col.name, d_table, d_col, target_stem, similar, child.distinct)
    if not grade and child.items and _names_a_collection_of(child.table, source_stem, d_table, target_stem):
        grade = NAME_ROLE  # "machine batches" holding "members" -> machines
    p_value = integer_chance(child, d_col, share) if s_col.dtype == "integer" else 0.0
    significance = -math.log10(max(p_value, 1e-300)) - math.log10(tests_in_run(context))
    holders = other_key_holders(child, context) if s_col.dtype == "string" else 0.0
    codes = s_col.dtype == "string" and code_like(s_col)
    # Values that cannot match by accident: codes like "V-73319", or whole numbers far beyond chance.
    specific = codes or (s_col.dtype == "integer" and significance >= FULL_SIGNIFICANCE / 2)
    one_domain = s_col.unique and not child.items
    # Every table numbers its rows 1..n: a row number inside another is chance unless the
    # column names the other table or its key.
    row_number = (s_col.unique and s_col.dtype == "integer" and range_density(s_col) >= 0.9
                  and bool(s_col.numeric) and s_col.numeric["min"] <= 1)
    # Values any two tables could share by accident: whole numbers no likelier here than at random,
    # or a few labels (or labels other files hold as keys too). Far apart in the drive, a name
    # alone does not make them a reference: template siblings number their rows alike.
    chance_level = not specific and (significance < 0 if s_col.dtype == "integer"
                                     else child.distinct < MIN_UNNAMED_DISTINCT or holders >= 1)
    if row_number and grade < NAME_TABLE:
        strength = 0.0
    elif chance_level and not near:
        strength = 0.0
    elif one_domain and grade < NAME_SAME_KEY:
        strength = 0.0  # a list of its own (a country table's names) inside another: one domain
    elif grade:
        # Names carry the reference; a constant child needs them sure, or values that are specific.
        strength = share * (0.55 + 0.45 * grade)
        if child.distinct < 2 and grade < NAME_TABLE and not specific:
            strength *= 0.5
        if grade < NAME_TABLE and not specific and not near:
            strength = 0.0  # a role or synonym over chance-level values, in another part of the drive
        if child.items and d_col.dtype == "integer" and grade < NAME_TABLE and not near:
            strength = 0.0
    elif share < MIN_UNNAMED_CONTAINMENT or one_domain or child.distinct < 2:
        strength = 0.0  # too partial, a second list of one domain, or one value with no name
    elif s_col.dtype == "integer":
        strength = 0.7 * share * max(0.0, min(1.0, significance / FULL_SIGNIFICANCE))
    elif child.items and d_col.dtype == "integer":
        strength = 0.0  # lists of small numbers fit any id range: names must say it
    elif child.distinct < (MIN_UNNAMED_CODES if codes else MIN_UNNAMED_DISTINCT):
        strength = 0.0  # a handful of labels fits any list of labels
    else:
        # A set of labels found as another file's key: a reference unless others hold it too.
        strength = 0.7 * share / (1.0 + holders)
        if column_pii_kind(d_col.name) not in (None, "USERNAME"):  # a handle is an identifier
            strength *= 0.5  # a personal attribute (an address, an e-mail) is rarely the key
    return {
        "strength": round(strength, 6),
        "containment": round(share, 4),
        "name_match": round(grade, 3),
        "significance": round(max(-10.0, min(significance, 50.0)), 3) if s_col.dtype == "integer" else None,
        "other_key_holders": holders,
        "list_items": child.items,
        "source_table": child.table.name,
        "source_column": s_col.name,
        "target_table": d_table.name,
        "target_column": d_col.name,
        "source_distinct": child.distinct,
        "target_distinct": d_col.distinct,
    }


def _key_like_first(columns: List[Tuple[TableProfile, ColumnProfile]]) -> List[Tuple[TableProfile, ColumnProfile]]:
    """Columns in a bounded, deterministic order: key-like names first."""
    def order(tc):
        words = column_words(tc[1].name)
        return (0 if _KEY_NAME.search(words) else 1, tc[0].name, tc[1].name)
    return sorted(columns, key=order)


def _parents(tables: Sequence[TableProfile]) -> List[Tuple[TableProfile, ColumnProfile, set]]:
    keys = [(t, c) for t in tables for c in t.columns if c.unique and c.dtype in ("integer", "string")]
    return [(t, c, set(c.value_hashes)) for t, c in _key_like_first(keys)[:MAX_PARENT_COLUMNS]]


def _children(tables: Sequence[TableProfile]) -> List[ChildView]:
    columns = [(t, c) for t in tables for c in t.columns]
    views = [v for t, c in _key_like_first(columns) for v in child_views(t, c)]
    return views[:MAX_CHILD_COLUMNS]


@per_file_lazily
def _file_parents(record: FileRecord) -> List[Tuple[TableProfile, ColumnProfile, set]]:
    return _parents(record.tables)


@per_file_lazily
def _file_children(record: FileRecord) -> List[ChildView]:
    return _children(record.tables)


@per_file_lazily
def _file_key_values(record: FileRecord) -> set:
    """Every value of the file's key columns: a child holding none of them has no parent here."""
    parents = _file_parents(record)
    return parents[0][2] if len(parents) == 1 else set().union(*(values for _, _, values in parents))


# A file's child values are kept as one set (a per-pair rejection) up to this many.
MAX_CHILD_VALUES_SET = 4096


@per_file_lazily
def _file_child_values(record: FileRecord) -> Optional[frozenset]:
    """Every value of the file's children, when they are few enough to keep as a set: a file none of
    whose values is a key value of the other holds no reference to it."""
    values = set()
    for child in _file_children(record):
        values.update(child.hashes)
        if len(values) > MAX_CHILD_VALUES_SET:
            return None
    return frozenset(values)


def inclusion_candidates(src: FileRecord, dst: FileRecord, similar: Optional[Similarity] = None,
                         context: PairContext = NO_CONTEXT) -> List[Dict[str, Any]]:
    """For each column of `src` (and list items), its strongest key in `dst`; strongest first."""
    # A file's name stands for its table only when it holds one table.
    stem = analyse_name(dst.file_path).stem if len(dst.tables) == 1 else ""
    source_stem = analyse_name(src.file_path).stem if len(src.tables) == 1 else ""
    parents = _file_parents(dst)
    if not parents:
        return []
    key_values = _file_key_values(dst)
    child_values = _file_child_values(src)
    if child_values is not None and child_values.isdisjoint(key_values):
        return []
    own_parents = _file_parents(src)
    near = context.shares_small_folder() if context.known else near_in_tree(src.file_path, dst.file_path)
    found = []
    for index, child in enumerate(_file_children(src)):
        if key_values.isdisjoint(child.hashes):
            continue
        best = _best_parent(child, parents, stem, source_stem, similar, context, near)
        if best is None:
            continue
        # A key of the child's own file that fits as well wins: a manager id points at
        # its own employees table, not at every table of people on the drive.
        own = _own_fit(src, index, child, own_parents, source_stem, similar, context)
        if own is not None and own[0] >= MIN_LINK_STRENGTH and own[1] >= best["name_match"]:
            continue
        found.append(best)
    found.sort(key=lambda c: (-c["strength"], c["source_table"], c["source_column"], c["list_items"]))
    return found


@per_file_lazily
def _own_fits(record: FileRecord) -> Dict[tuple, Optional[Tuple[float, float]]]:
    """Memo of _own_fit for the file's children."""
    return {}


def _own_fit(src: FileRecord, index: int, child: ChildView, own_parents, source_stem: str,
             similar: Optional[Similarity], context: PairContext) -> Optional[Tuple[float, float]]:
    """(strength, name grade) of the child's strongest key in its own file, or None. The same for
    every pair of the file that brings the same sentence model, run size and run frequencies of
    the child's values (all a candidate reads of its pair), so it is judged once per file."""
    holders = tuple(context.df(k) for k in _value_keys(child)) if context.known else ()
    memo, key = _own_fits(src), (index, similar, context.n_files, holders)
    if key not in memo:
        own = _best_parent(child, [p for p in own_parents if p[1] is not child.column], source_stem,
                           source_stem, similar, context)
        memo[key] = None if own is None else (own["strength"], own["name_match"])
    return memo[key]


def near_in_tree(path_a: str, path_b: str) -> bool:
    """Side by side, or one folder apart (a project's data/ and its mart/): where a schema's
    tables are kept. Weak name evidence only counts between near tables."""
    folder_a = path_a.replace("\\", "/").split("/")[:-1]
    folder_b = path_b.replace("\\", "/").split("/")[:-1]
    shared = 0
    for x, y in zip(folder_a, folder_b):
        if x != y:
            break
        shared += 1
    return max(len(folder_a), len(folder_b)) - shared <= 1


def _best_parent(child: ChildView, parents, target_stem: str, source_stem: str, similar: Optional[Similarity],
                 context: PairContext, near: bool = True) -> Optional[Dict[str, Any]]:
    best = None
    floor = 0.9 * child.distinct
    for d_table, d_col, d_hashes in parents:
        # Cheap rejections first, each one that candidate() would make: a key with too few
        # values, or none of the child's values.
        if d_col.distinct < floor or d_hashes.isdisjoint(child.hashes):
            continue
        match = candidate(child, d_table, d_col, d_hashes, target_stem, source_stem, similar, context, near)
        if match and (best is None or match["strength"] > best["strength"]):
            best = match
    return best


def best_inclusion(src: FileRecord, dst: FileRecord, similar: Optional[Similarity] = None,
                   context: PairContext = NO_CONTEXT) -> Optional[Dict[str, Any]]:
    """The strongest inclusion of a column of `src` in a key column of `dst`."""
    found = inclusion_candidates(src, dst, similar, context)
    return found[0] if found else None


def _columns(record_tables: Sequence[TableProfile]) -> Iterable[Tuple[TableProfile, ColumnProfile]]:
    return ((t, c) for t in record_tables for c in t.columns)


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
    parents = _parents(tables)
    for child in _children(tables):
        if (child.table.name, child.name) in links:
            continue
        best = None
        for d_table, d_col, d_hashes in parents:
            if d_table is child.table:
                continue
            found = candidate(child, d_table, d_col, d_hashes, d_table.name, child.table.name, None, NO_CONTEXT)
            if found and found["strength"] >= MIN_LINK_STRENGTH and (best is None or found["strength"] > best["strength"]):
                best = found
        if best:
            links[(child.table.name, child.name)] = {**{k: best[k] for k in (
                "source_table", "source_column", "target_table", "target_column", "containment")},
                "declared": False, "strength": round(best["strength"], 4)}
    return [links[k] for k in sorted(links)]
