"""Blocking: which files could be related, without comparing all pairs.

Each file emits blocking keys; files sharing a key land in one bucket, and only
pairs inside a bucket are scored. A bucket larger than the configured cap is a
hot key (a "Summary" sheet name, a boilerplate footer, a generic column): it is
skipped and counted, so it never explodes into n^2 pairs.

Key kinds (the prefix before ':'):
  stem  logical file-name stem (versions, dates, copy markers removed)
  lsh   MinHash LSH band of the content shingles (near-duplicates)
  val   a key-like column value (list items too), or an identifier quoted in text (joinability)
  key   a value of a unique column; counted, never paired: how many tables hold it as a key
  col   a distinctive column name (data) or column-like term (narrative)
  code  a project code or other rare identifier
  num   an aggregate of a data file or a number shown in text, at 2-3 significant digits
  nums  two such numbers together: a breakdown's top groups, or two numbers of one text
  cols  two distinctive column names together: a schema, or a data dictionary quoting it
  term  a key term (sheet names, slide titles, headings, frequent words)
  name  a word of the file name ("PRJ-5288 Warehouse list" -> prj, 5288, warehouse, list)
  dir   the file's folder and the folder above it

Every bucket's size is the key's document frequency; pairs carry the sizes of
the keys they share (`transforms/detect/corpus.py`). A file that names another
is paired with it by mention resolution (`transforms/detect/mentions.py`).

Meta-blocking then keeps the pairs worth scoring. A pair's weight sums, over
the kinds of key that proposed it, 1/size of its rarest key of that kind (a
resolved mention counts as a bucket of one): two files alone in a key weigh
1/2, two of a 40-file folder 1/40, and ten values of one column or two folder
levels are one piece of evidence, not ten. Each file ranks its candidate
partners by weight and keeps the best
`top_partners`; a pair stays when either of its files keeps it. A file with
few candidates keeps them all, so small runs lose nothing, while in a large
run the pairs that only a big folder or a common term proposed are dropped.
"""

from __future__ import annotations

import heapq
import itertools
import math
import re
from typing import Dict, Iterable, List, Optional, Set, Tuple

from transforms.column_roles import is_key_name, is_measure
from transforms.config import BlockingConfig
from transforms.detect import corpus
from transforms.detect import keys as key_names
from transforms.detect.corpus import key_kind
from transforms.detect.inclusion import GENERIC_COLUMNS
from transforms.model import ColumnProfile, FileRecord, TableProfile
from transforms.naming import analyse_name, base_name, split_extension
from transforms.signatures import lsh_bands, value_hasher
from transforms.words import column_words, split_identifier

MAX_NUMBER_KEYS = 120
MAX_TERM_KEYS = 12
TOP_GROUPS = 8
MAX_PAIR_KEYS = 400
MAX_TEXT_NUMBERS_PAIRED = 24
MAX_COLUMNS_PAIRED = 12
SMALL_RANGE_VALUE_KEYS = 16
UNIQUE_VALUE_KEYS = 16
MAX_KEYED_COLUMNS = 128


def _significant_key(value: float, digits: int) -> str:
    if value == 0 or not math.isfinite(value):
        return ""
    return f"{digits}:{float(f'{value:.{digits - 1}e}'):.{digits - 1}e}"


def _column_totals(table: TableProfile) -> List[float]:
    """The totals of a table's measure columns."""
    return [float(c.numeric["sum"]) for c in table.columns if c.numeric and is_measure(c) and c.numeric.get("sum") is not None]


def _data_number_keys(record: FileRecord) -> List[str]:
    values = []
    for table in record.tables:
        values.extend(_column_totals(table))
        for measures in table.grouped_sums.values():
            for groups in measures.values():
                values.extend(float(v) for v in groups.values())
    keys: List[str] = []
    for value in values:
        if abs(value) >= 100:
            keys.extend(k for k in (_significant_key(value, 2), _significant_key(value, 3)) if k)
    return sorted(set(keys))[: 2 * MAX_NUMBER_KEYS]


def _text_number_keys(record: FileRecord) -> List[str]:
    keys = set()
    for value, half_unit in record.numbers:
        if abs(value) < 100 or half_unit <= 0:
            continue
        digits = 3 if abs(value) >= 200 * half_unit else 2 if abs(value) >= 20 * half_unit else 0
        if digits:
            keys.add(_significant_key(value, digits))
    keys.discard("")
    return sorted(keys)[:MAX_NUMBER_KEYS]


def _pairs(items: List[str], limit: int) -> List[str]:
    ordered = sorted(set(items))[:limit]
    return [f"{a}|{b}" for a, b in itertools.combinations(ordered, 2)]


def _rounded_pairs(values: Iterable[float]) -> List[str]:
    """Pair keys of the numbers of at least 100, each at 3 significant digits."""
    return _pairs([k for k in (_significant_key(v, 3) for v in values if abs(v) >= 100) if k], TOP_GROUPS)


def _data_number_pair_keys(record: FileRecord) -> List[str]:
    """Pairs of a table's largest group sums (what a "top regions" slide shows) and of its
    columns' totals (a summary's key figures), rounded.

    A single rounded number is common across a large drive; two of them from
    the same breakdown or table rarely are, so these keys stay small at scale.
    """
    keys: Set[str] = set()
    for table in record.tables:
        keys.update(_rounded_pairs(_column_totals(table)))
        for measures in table.grouped_sums.values():
            for groups in measures.values():
                top = sorted((float(v) for v in groups.values() if abs(float(v)) >= 100), reverse=True)[:TOP_GROUPS]
                keys.update(_rounded_pairs(top))
    return sorted(keys)[:MAX_PAIR_KEYS]


def _text_number_pair_keys(number_keys: List[str]) -> List[str]:
    precise = [k for k in number_keys if k.startswith("3:")]
    return _pairs(precise[:MAX_TEXT_NUMBERS_PAIRED], MAX_TEXT_NUMBERS_PAIRED)


_COLUMN_LIKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b|\b[a-z]+(?:[A-Z][a-z0-9]+)+\b|\b(?:[A-Z][a-z0-9]+){2,}\b")


def _column_pair_keys(record: FileRecord) -> List[str]:
    """Pairs of distinctive column names: a schema, or a data dictionary quoting one."""
    if record.is_data:
        names = [column_words(c.name) for t in record.tables for c in t.columns]
    else:
        names = [column_words(m) for m in _COLUMN_LIKE.findall(record.text)]
    names = [n for n in names if n and n not in GENERIC_COLUMNS and len(n) > 2]
    return _pairs(names, MAX_COLUMNS_PAIRED)


def _keyed_columns(record: FileRecord) -> List[Tuple[TableProfile, ColumnProfile]]:
    """The columns a file is keyed on: at most MAX_KEYED_COLUMNS, key-like names first, so a
    2,000-column table costs no more than a wide one."""
    columns = [(t, c) for t in record.tables for c in t.columns]
    if len(columns) <= MAX_KEYED_COLUMNS:
        return columns
    return sorted(columns, key=lambda tc: (not is_key_name(tc[1].name),))[:MAX_KEYED_COLUMNS]


def _name_keys(path: str) -> List[str]:
    """Words of the file name: a code or a rare word that names share pairs files kept apart;
    a common word ("data", "2024") is a hot key."""
    root, _ = split_extension(base_name(path))
    return ["name:" + w for w in split_identifier(root) if len(w) > 2]


def blocking_keys(record: FileRecord, config: BlockingConfig) -> List[str]:
    """All blocking keys of one file, sorted and distinct."""
    keys: Set[str] = set()
    stem = analyse_name(record.file_path).stem
    if stem:
        keys.add(key_names.stem_key(stem))
    keys.update(_name_keys(record.file_path))
    if record.content_hash:
        keys.add(key_names.hash_key(record.content_hash))
    # Files kept side by side, or in sibling subfolders of one folder (a
    # project's data/ and decks/), are often related; a big folder is a hot key.
    folders = record.file_path.replace("\\", "/").split("/")[:-1]
    keys.update("dir:" + "/".join(folders[:depth]) for depth in (len(folders), len(folders) - 1) if depth > 1)
    keys.update("lsh:" + band for band in lsh_bands(record.minhash, config.lsh_bands, config.lsh_rows))
    value_hash = value_hasher()
    for kind in ("project_code", "identifier"):
        for value in record.entities.get(kind, ()):
            keys.add(key_names.code_key(value))
            keys.add(key_names.code_value_key(value, value_hash))

    for table, col in _keyed_columns(record):
        words = column_words(col.name)
        if words and words not in GENERIC_COLUMNS and len(words) > 2:
            keys.add(key_names.column_key(words))
        # Bottom-k hashes of two sets that overlap share their smallest
        # elements, so the first hashes are the right ones to key on.
        # Row-id ranges (1..n) are the same in every table: a few keys
        # suffice, and at scale they are hot keys anyway.
        count = SMALL_RANGE_VALUE_KEYS if col.small_int_range else config.value_keys_per_column
        if col.dtype in ("integer", "string") and col.distinct >= 1:
            keys.update(key_names.value_key(h) for h in col.value_hashes[:count])
            if col.unique:
                keys.update(key_names.unique_value_key(h) for h in col.value_hashes[:UNIQUE_VALUE_KEYS])
        keys.update(key_names.value_key(h) for h in col.item_hashes[:count])

    keys.update("cols:" + k for k in _column_pair_keys(record))
    if record.is_data:
        keys.update("num:" + k for k in _data_number_keys(record))
        keys.update("nums:" + k for k in _data_number_pair_keys(record))
    else:
        number_keys = _text_number_keys(record)
        keys.update("num:" + k for k in number_keys)
        keys.update("nums:" + k for k in _text_number_pair_keys(number_keys))
        # Narrative files name columns in prose; key terms are their best guess.
        keys.update(key_names.column_key(t) for t in record.key_terms if t not in GENERIC_COLUMNS and len(t) > 2)
    keys.update(key_names.term_key(t) for t in record.key_terms[:MAX_TERM_KEYS] if len(t) > 2)
    return sorted(keys)


# File-name words keep the strong cap: meta-blocking, not the cap, keeps their pairs few.
WEAK_KINDS = frozenset({"col", "term", "num"})
# Kinds counted for their frequency but never paired on.
COUNTED_ONLY_KINDS = frozenset({"key"})

Pair = Tuple[str, str]
# What one bucket says about a pair it proposes: (its key's kind, the bucket's size,
# the context entry scoring reads or None).
Proposal = Tuple[str, int, Optional[Tuple[str, int]]]


def bucket_cap(key: str, config: BlockingConfig) -> int:
    """The largest bucket this key may form before it counts as hot."""
    return config.max_weak_bucket_size if key_kind(key) in WEAK_KINDS else config.max_bucket_size


def bucket_proposals(key: str, file_ids: Iterable[str], config: BlockingConfig
                     ) -> Tuple[List[Tuple[str, Proposal, List[str]]], bool, int]:
    """One bucket's pairs by their first file: (first file, the bucket's Proposal, the later
    members it pairs with) per member but the last; whether the bucket is hot; its size."""
    members = sorted(set(file_ids))
    kind, size = key_kind(key), len(members)
    if kind in COUNTED_ONLY_KINDS:
        return [], False, size
    if size > bucket_cap(key, config):
        return [], True, size
    # Only the kinds scoring reads travel with a pair; the others only propose it.
    proposal = (kind, size, (key, size) if kind in corpus.PAIR_CONTEXT_KINDS else None)
    return [(first, proposal, members[i + 1:]) for i, first in enumerate(members[:-1])], False, size


def pairs_of_bucket(key: str, file_ids: Iterable[str], config: BlockingConfig
                    ) -> Tuple[List[Tuple[Pair, Proposal]], bool, int]:
    """One bucket's pairs, each with its Proposal; whether the bucket is hot; its size."""
    by_first, hot, size = bucket_proposals(key, file_ids, config)
    return [((first, b), proposal) for first, proposal, later in by_first for b in later], hot, size


def mention_proposal(source: str, target: str) -> Tuple[Pair, Proposal]:
    """A resolved mention ("source names target") as a proposal: a bucket of one, the strongest."""
    key = corpus.RESOLVED_MENTION + source
    return (min(source, target), max(source, target)), (key_kind(key), 1, (key, 1))


def merge_proposals(proposals: Iterable[Proposal]) -> Tuple[Dict[str, int], float]:
    """One pair's shared keys (what scoring reads) and its weight: per kind of key, 1/size
    of the smallest bucket, summed over kinds in name order (the same whatever the order in)."""
    smallest: Dict[str, int] = {}
    entries = []
    for kind, size, entry in proposals:
        smallest[kind] = min(size, smallest.get(kind, size))
        entries.append(entry)
    weight = sum(1.0 / smallest[kind] for kind in sorted(smallest))
    return corpus.merge_shared(entries), weight


def weighed_pairs_of_first(first: str, proposals: Iterable[Tuple[Proposal, Iterable[str]]]
                           ) -> List[Tuple[Pair, Tuple[Dict[str, int], float]]]:
    """The pairs whose first file is `first`, each weighed (merge_proposals) from every
    (proposal, later partners) that proposed it, in partner order."""
    by_partner: Dict[str, List[Proposal]] = {}
    for proposal, partners in proposals:
        for partner in partners:
            by_partner.setdefault(partner, []).append(proposal)
    return [((first, b), merge_proposals(found)) for b, found in sorted(by_partner.items())]


def first_file_entries(first: str, weighed: Iterable[Tuple[Pair, Tuple[Dict[str, int], float]]], limit: int):
    """partner_entries of a first file's weighed pairs, its own side cut to its `limit` best of
    them: a partner outside those cannot be among its best over all its pairs (kept_pairs)."""
    entries, own = [], []
    for (_, b), (shared, weight) in weighed:
        entries.append((b, (first, weight, shared)))
        own.append((b, weight, shared))
    return entries + [(first, partner) for partner in best_partners(own, limit)]


def partner_entries(pair: Pair, shared: Dict[str, int], weight: float):
    """A weighted pair seen from each of its files: (file, (partner, weight, shared))."""
    a, b = pair
    return [(a, (b, weight, shared)), (b, (a, weight, shared))]


def best_partners(partners: Iterable[Tuple[str, float, Dict[str, int]]], limit: int):
    """The `limit` heaviest (partner, weight, shared) entries, ties by partner id; all when limit is 0."""
    return heapq.nsmallest(limit, partners, key=lambda p: (-p[1], p[0])) if limit else partners


def kept_pairs(file_id: str, partners: Iterable[Tuple[str, float, Dict[str, int]]], limit: int
               ) -> List[Tuple[Pair, Dict[str, int]]]:
    """The pairs one file keeps: its best_partners."""
    return [((min(file_id, b), max(file_id, b)), shared) for b, _, shared in best_partners(partners, limit)]


def prune_pairs(weighted: Dict[Pair, Tuple[Dict[str, int], float]], limit: int) -> Dict[Pair, Dict[str, int]]:
    """Meta-blocking: the pairs that either of their files keeps (`kept_pairs`)."""
    by_file: Dict[str, list] = {}
    for pair, (shared, weight) in weighted.items():
        for file_id, partner in partner_entries(pair, shared, weight):
            by_file.setdefault(file_id, []).append(partner)
    kept: Dict[Pair, Dict[str, int]] = {}
    for file_id in sorted(by_file):
        kept.update(kept_pairs(file_id, by_file[file_id], limit))
    return dict(sorted(kept.items()))


def candidate_pairs(
    keyed: Iterable[Tuple[str, str]], config: BlockingConfig, mentioned: Iterable[Pair] = ()
) -> Tuple[Dict[Pair, Dict[str, int]], Dict[str, int], Dict[str, int]]:
    """In-memory blocking for tests and calibration: {(a, b): {key: size}}, stats, frequent keys.

    `mentioned`: resolved mentions (source, target), proposed beside the buckets.
    The Beam pipeline does the same with GroupByKey (transforms/ptransforms/detect.py).
    """
    buckets: Dict[str, set] = {}
    for key, file_id in keyed:
        buckets.setdefault(key, set()).add(file_id)
    proposals: Dict[Pair, List[Proposal]] = {}
    stats = {"keys": len(buckets), "hot_keys": 0}
    frequent = []
    for key in sorted(buckets):
        found, hot, size = pairs_of_bucket(key, buckets[key], config)
        stats["hot_keys"] += int(hot)
        entry = corpus.frequent_entry(key, size)
        if entry:
            frequent.append(entry)
        for pair, proposal in found:
            proposals.setdefault(pair, []).append(proposal)
    for source, target in mentioned:
        pair, proposal = mention_proposal(source, target)
        proposals.setdefault(pair, []).append(proposal)
    stats["proposed_pairs"] = len(proposals)
    buckets.clear()
    weighted = {pair: merge_proposals(proposals.pop(pair)) for pair in sorted(proposals)}
    return prune_pairs(weighted, config.top_partners), stats, corpus.bounded_frequent(frequent)
