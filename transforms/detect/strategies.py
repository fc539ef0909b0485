"""Relationship strategies: each scores one candidate pair and says why.

A strategy is a pure function `(a, b, context) -> StrategyResult` over two
FileRecords and the pair's view of the corpus (`corpus.PairContext`: how many
files carry each token the pair shares). Evidence is weighed by how rare it is
in the run and how likely it is by chance; its `features` feed the confidence
model (scoring.py) and its `details` become the edge's evidence_details.
Strategies never decide the relationship type; `scoring.classify` does.
"""

from __future__ import annotations

import bisect
import math
import posixpath
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from transforms.column_roles import is_measure, range_density
from transforms.detect import keys, semantic
from transforms.detect.corpus import NO_CONTEXT, PairContext, key_kind
from transforms.detect.facts import per_file, per_file_lazily
from transforms.detect.identity import code_sets, identity_conflict, is_trivial
from transforms.detect.inclusion import GENERIC_COLUMNS, inclusion_candidates, near_in_tree
from transforms.model import FileRecord, TableProfile
from transforms.naming import NameInfo, analyse_name, stem_similarity, version_order
from transforms.signatures import jaccard_of_sets, minhash_jaccard
from transforms.words import column_words, identifier_text

# Work bounds per pair: columns compared and looked for in prose, values per column, candidates kept.
MAX_COLUMNS_COMPARED = 512
MAX_VALUES_COMPARED = 512
MAX_COLUMNS_NAMED = 512
MAX_CANDIDATES_KEPT = 5
# Bits credited to a shared token outside a run, where no frequency is known.
RARE_BITS = 3.0
# A stem shared by more files than a version family holds (about five) names a kind of file.
RARE_STEM_WEIGHT = 0.25
# A single plain word matching a label counts for this much of a code or an amount.
WORD_HIT_WEIGHT = 0.25
# Shared tokens that make a context, and the rarity (bits) each needs to count.
CONTEXT_KINDS = frozenset({"code", "term", "col", "stem"})
CONTEXT_MIN_BITS = 2.0


@dataclass
class StrategyResult:
    features: Dict[str, float] = field(default_factory=dict)
    details: Dict[str, Any] = field(default_factory=dict)

    @property
    def fired(self) -> bool:
        return any(v > 0 for v in self.features.values())


# ---------------------------------------------------------------- helpers


@per_file
def _text_words(record: FileRecord) -> str:
    """The text in column_words form, padded so " name " finds whole words (made here, not through
    column_words' cache, which keeps column names: a file's text is read once)."""
    return f" {identifier_text(record.text)} "


def _all_columns(record: FileRecord) -> List[Tuple[TableProfile, Any]]:
    """The columns a pair is compared on, at most MAX_COLUMNS_COMPARED (a 2,000-column CSV is
    compared on its first columns, not all of them, so one hostile file cannot stall a run)."""
    return [(t, c) for t in record.tables for c in t.columns][:MAX_COLUMNS_COMPARED]


@per_file
def _distinctive_columns(record: FileRecord) -> List[str]:
    names = {column_words(c.name) for _, c in _all_columns(record)}
    return sorted(n for n in names if n and n not in GENERIC_COLUMNS and len(n) > 2)[:MAX_COLUMNS_NAMED]


@per_file_lazily
def _name(record: FileRecord) -> NameInfo:
    return analyse_name(record.file_path)


@per_file_lazily
def _distinctive_column_set(record: FileRecord) -> frozenset:
    return frozenset(_distinctive_columns(record))


@per_file_lazily
def _metadata(record: FileRecord) -> Tuple[str, str, Optional[datetime]]:
    """(normalised author, folder, modification time): what metadata_matching compares."""
    return (record.author or "").strip().lower(), _folder(record.file_path), _parse_time(record.modified_at)


def _parse_time(value: Optional[str]) -> Optional[datetime]:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        return None


def _folder(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[0]


def _bits(context: PairContext, key: str) -> float:
    """Rarity of a shared token in bits; every token counts as rare outside a run."""
    return context.information(key) if context.known else 2 * RARE_BITS


def _weight(context: PairContext, key: str, both_carry: bool = True) -> float:
    return context.weight(key, both_carry)


# ---------------------------------------------------------------- strategies


def filename_pattern(a: FileRecord, b: FileRecord, context: PairContext = NO_CONTEXT) -> StrategyResult:
    na, nb = _name(a), _name(b)
    sim = stem_similarity(na, nb)
    same_stem = float(bool(na.stem) and na.stem == nb.stem)
    order = version_order(na, nb)
    versioned = float(sim >= 0.85 and (na.has_version_marker or nb.has_version_marker))
    # A stem that many files share ("readme", "notes", "data") names a kind of file, not one file.
    rare_stem = float(bool(same_stem) and _weight(context, keys.stem_key(na.stem)) >= RARE_STEM_WEIGHT)
    result = StrategyResult({"stem_similarity": sim, "same_stem": same_stem, "version_markers": versioned,
                             "rare_stem": rare_stem})
    if sim >= 0.6:
        result.details["name_stems"] = [na.stem, nb.stem]
    if same_stem and not rare_stem:
        result.details["common_stem_files"] = context.df(keys.stem_key(na.stem))
    if order is not None and versioned:
        result.details["newer"] = a.file_id if order > 0 else b.file_id
    return result


def _value_hits(data: FileRecord, narrative: FileRecord, context: PairContext) -> Dict[str, Any]:
    """Data values (IDs, exact amounts, labels) that the narrative file shows, each weighed by
    how few other files hold it; a single plain word ("Finance") weighs a quarter of a code
    or an amount, since any label list may hold it by chance."""
    if not (narrative.token_hashes or narrative.word_hashes) or not data.tables:
        return {"key_hits": 0.0, "label_hits": 0.0, "columns": []}
    values, words = _text_value_sets(narrative)
    key_hits = label_hits = 0.0
    columns = []
    for table, col, sample, sample_set in _quotable_columns(data):
        if values.isdisjoint(sample_set) and words.isdisjoint(sample_set):
            continue
        found = [(h, 1.0) for h in sample if h in values]
        found += [(h, WORD_HIT_WEIGHT) for h in sample if h in words]
        if not found:
            continue
        weight = sum(w * _weight(context, keys.value_key(h), both_carry=False) for h, w in found)
        if col.unique or col.dtype == "float":
            key_hits += weight
        else:
            label_hits += weight
        columns.append({"table": table.name, "column": col.name, "hits": len(found), "weight": round(weight, 3)})
    columns.sort(key=lambda c: (-c["weight"], c["table"], c["column"]))
    return {"key_hits": key_hits, "label_hits": label_hits, "columns": columns[:5]}


@per_file_lazily
def _text_value_sets(record: FileRecord) -> Tuple[frozenset, frozenset]:
    """A narrative file's value tokens and plain words, as sets."""
    return frozenset(record.token_hashes), frozenset(record.word_hashes)


@per_file_lazily
def _quotable_columns(record: FileRecord) -> List[Tuple[TableProfile, Any, List[int], frozenset]]:
    """A data file's columns whose values a text can quote, each with its compared values (list and set).
    A number in text falls inside a dense run of whole numbers by chance (a year in an id range)."""
    out = []
    for table, col in _all_columns(record):
        if col.small_int_range or col.dtype in ("boolean", "empty", "date") or range_density(col) >= 0.5:
            continue
        sample = col.value_hashes[:MAX_VALUES_COMPARED]
        out.append((table, col, sample, frozenset(sample)))
    return out


def mentions(a: FileRecord, b: FileRecord, context: PairContext = NO_CONTEXT) -> bool:
    """Whether a's text names b: resolved by the run, or by exact name outside one."""
    if context.known:
        return context.mentions(a.file_id)
    return any(posixpath.basename(m.replace("\\", "/")) == b.file_name for m in a.mentions)


@per_file_lazily
def _data_values(record: FileRecord) -> frozenset:
    return frozenset({h for _, c in _all_columns(record) for h in c.value_hashes[:MAX_VALUES_COMPARED] if not c.small_int_range})


def _shared_codes(a: FileRecord, b: FileRecord, context: PairContext) -> Dict[str, List[str]]:
    shared = {}
    codes_a, codes_b = code_sets(a), code_sets(b)
    for kind in ("project_code", "identifier"):
        common = sorted(codes_a[kind] & codes_b[kind])
        if common:
            shared[kind] = common[:20]
    return shared


def content_similarity(a: FileRecord, b: FileRecord, context: PairContext = NO_CONTEXT) -> StrategyResult:
    result = StrategyResult()
    jac = minhash_jaccard(a.minhash, b.minhash)
    result.features["content_jaccard"] = jac
    if jac >= 0.2:
        result.details["content_jaccard"] = round(jac, 3)
    same_bytes = a.content_hash == b.content_hash and bool(a.content_hash)
    result.features["identical"] = float(same_bytes and not is_trivial(a))
    if same_bytes:
        result.details["identical_copies"] = context.df(keys.hash_key(a.content_hash))
    conflict = identity_conflict(a, b, jac)
    result.features["identity_conflict"] = float(conflict is not None)
    if conflict:
        result.details["identity_conflict"] = conflict

    shared = _shared_codes(a, b, context)
    # Codes weigh by rarity: one in two files is strong, one in forty is context at most.
    weights = {kind: [_weight(context, keys.code_key(v)) for v in values] for kind, values in shared.items()}
    result.features["shared_codes"] = math.log1p(sum(weights.get("project_code", [])))
    result.features["shared_identifiers"] = math.log1p(sum(weights.get("identifier", [])))
    result.features["shared_code_bits"] = min(40.0, sum(_bits(context, keys.code_key(v))
                                                         for values in shared.values() for v in values))
    if shared:
        result.details["shared_entities"] = shared
    # Shared context: rare codes, terms, column names and name stems, by their bits.
    context_keys = [(k, _bits(context, k)) for k in context.shared if key_kind(k) in CONTEXT_KINDS]
    context_keys = [(k, bits) for k, bits in context_keys if bits >= CONTEXT_MIN_BITS]
    result.features["shared_context_bits"] = min(60.0, sum(bits for _, bits in context_keys))
    result.features["shared_context_tokens"] = math.log1p(len(context_keys))
    project_bits = [_bits(context, keys.code_key(v)) for v in shared.get("project_code", [])]
    result.features["project_code_bits"] = max(project_bits, default=0.0)

    mention_ab, mention_ba = mentions(a, b, context), mentions(b, a, context)
    result.features["mentions"] = float(mention_ab or mention_ba)
    if mention_ab or mention_ba:
        result.details["mentioned_by"] = a.file_id if mention_ab else b.file_id

    if a.is_data and b.is_data:
        _inclusion_features(a, b, context, result)
        result.features["value_jaccard"] = jaccard_of_sets(_data_values(a), _data_values(b))
    else:
        data, narrative = (a, b) if a.is_data else (b, a)
        if data.is_data and narrative.is_narrative:
            hits = _value_hits(data, narrative, context)
            result.features["key_value_hits"] = math.log1p(hits["key_hits"])
            result.features["label_value_hits"] = math.log1p(hits["label_hits"])
            if hits["columns"]:
                result.details["shared_values"] = hits["columns"]
    return result


def _inclusion_features(a: FileRecord, b: FileRecord, context: PairContext, result: StrategyResult) -> None:
    # Synonym check for key names, when the sentence model runs (records carry embeddings).
    similar = semantic.phrase_similarity if (a.embedding and b.embedding) else None
    candidates = [dict(c, source=a.file_id) for c in inclusion_candidates(a, b, similar, context)]
    candidates += [dict(c, source=b.file_id) for c in inclusion_candidates(b, a, similar, context)]
    candidates.sort(key=lambda c: (-c["strength"], c["source"], c["source_table"], c["source_column"]))
    if not candidates:
        return
    best = candidates[0]
    result.features["inclusion"] = best["strength"]
    result.features["inclusion_name_match"] = best["name_match"]
    result.features["inclusion_containment"] = best["containment"]
    if best.get("significance") is not None:
        result.features["inclusion_significance"] = max(0.0, min(best["significance"], 20.0)) / 20.0
    result.features["inclusion_shared_domain"] = math.log1p(best["other_key_holders"])
    result.details["inclusion"] = best
    # Both directions: the global step (parents.py) chooses per child column.
    kept = [c for c in candidates if c["strength"] > 0][:2 * MAX_CANDIDATES_KEPT]
    result.details["inclusion_candidates"] = kept


def _aggregates(record: FileRecord) -> List[Tuple[float, str, str]]:
    """Every aggregate a reader of this data file might quote: (value, origin, breakdown).

    The breakdown names the column or the "measure by dimension" table an
    aggregate belongs to; a report quotes several numbers of one breakdown.
    """
    out: List[Tuple[float, str, str]] = []
    for table in record.tables:
        prefix = f"{table.name}." if table.name else ""
        for col in table.columns[:MAX_COLUMNS_COMPARED]:
            if col.numeric and is_measure(col):
                for stat in ("sum", "mean", "min", "max"):
                    value = col.numeric.get(stat)
                    if value is not None:
                        out.append((float(value), f"{stat}({prefix}{col.name})", f"{prefix}{col.name}"))
        for dim, measures in table.grouped_sums.items():
            for measure, groups in measures.items():
                total = sum(groups.values())
                breakdown = f"{prefix}{measure} by {dim}"
                for label, value in groups.items():
                    out.append((float(value), f"sum({prefix}{measure}) where {dim}={label}", breakdown))
                    if total:
                        out.append((100.0 * value / total, f"share({prefix}{measure}) where {dim}={label}", breakdown))
    out.sort()
    return out


@per_file_lazily
def _aggregate_index(record: FileRecord) -> Tuple[List[Tuple[float, str, str]], List[float], List[float]]:
    """The aggregates, their values in order and their sizes in order, for bisecting."""
    aggregates = _aggregates(record)
    values = [v for v, _, _ in aggregates]
    return aggregates, values, sorted(abs(v) for v in values)


def poisson_tail(k: int, lam: float) -> float:
    """P(X >= k) for X ~ Poisson(lam)."""
    if k <= 0:
        return 1.0
    term = math.exp(-lam)
    below = term
    for i in range(1, k):
        term *= lam / i
        below += term
    return max(0.0, 1.0 - below)


def _chance_of_match(value: float, half_unit: float, keys_sorted: List[float]) -> float:
    """Chance that a number of this size and precision equals some aggregate by accident:
    the aggregates within a factor of two of it, each a window of 2 * half_unit, over that span."""
    magnitude = abs(value)
    lo = bisect.bisect_left(keys_sorted, magnitude / 2) if value > 0 else 0
    hi = bisect.bisect_right(keys_sorted, magnitude * 2) if value > 0 else len(keys_sorted)
    near = max(1, hi - lo)
    return min(1.0, near * 2.0 * half_unit / max(1.5 * magnitude, 1e-9))


def aggregate_matching(a: FileRecord, b: FileRecord, context: PairContext = NO_CONTEXT) -> StrategyResult:
    data, narrative = (a, b) if a.is_data else (b, a)
    result = StrategyResult()
    if not (data.is_data and narrative.is_narrative and narrative.numbers):
        return result
    aggregates, values, positive = _aggregate_index(data)
    if not aggregates:
        return result
    matched: Dict[float, Tuple[str, List[str]]] = {}
    significant = 0
    expected = 0.0
    for value, half_unit in narrative.numbers:
        # Only numbers shown with 3+ significant digits can identify an aggregate.
        if half_unit <= 0 or abs(value) < 200 * half_unit:
            continue
        significant += 1
        expected += _chance_of_match(value, half_unit, positive)
        tolerance = half_unit * 1.0001 + 1e-9
        lo = bisect.bisect_left(values, value - tolerance)
        hi = bisect.bisect_right(values, value + tolerance)
        if lo < hi and value not in matched:
            matched[value] = (aggregates[lo][1], [b for _, _, b in aggregates[lo:hi]])
    count = len(matched)
    # Numbers matching scattered aggregates happen by chance in a big table;
    # a report quotes several numbers of the same breakdown.
    per_breakdown: Dict[str, int] = {}
    for _, breakdowns in matched.values():
        for breakdown in set(breakdowns):
            per_breakdown[breakdown] = per_breakdown.get(breakdown, 0) + 1
    coherent = max(per_breakdown.values(), default=0)
    # How unlikely this many matches are by chance, corrected for the data files a report meets.
    p_value = poisson_tail(count, expected)
    tests = max(10, context.n_files)
    significance = -math.log10(max(p_value, 1e-300)) - math.log10(tests)
    result.features["aggregate_matches"] = math.log1p(count)
    result.features["aggregate_coherence"] = math.log1p(coherent)
    result.features["aggregate_ratio"] = count / significant if significant else 0.0
    result.features["aggregate_significance"] = max(0.0, min(significance, 20.0)) / 20.0 if count else 0.0
    if count:
        result.details["aggregates"] = [
            {"value": v, "matches": origin} for v, (origin, _) in sorted(matched.items())[:10]
        ]
        result.details["aggregate_chance"] = {"expected": round(expected, 4), "p_value": p_value}
    return result


def structure_matching(a: FileRecord, b: FileRecord, context: PairContext = NO_CONTEXT) -> StrategyResult:
    result = StrategyResult()
    if a.is_data and b.is_data:
        cols_a, cols_b = _distinctive_column_set(a), _distinctive_column_set(b)
        if cols_a and cols_b:
            common = cols_a & cols_b
            result.features["schema_overlap"] = len(common) / len(cols_a | cols_b)
            if common:
                result.details["shared_columns"] = sorted(common)[:20]
        return result
    data, narrative = (a, b) if a.is_data else (b, a)
    if data.is_data and narrative.is_narrative:
        columns = _distinctive_columns(data)
        words = _text_words(narrative)
        found = [c for c in columns if f" {c} " in words]
        # Column names weigh by rarity: a README explaining a standard's columns
        # (latitude, glottocode) names them in every table that uses the standard.
        weight = sum(_weight(context, keys.column_key(c), both_carry=False) for c in found)
        result.features["column_coverage"] = len(found) / len(columns) if columns else 0.0
        result.features["rare_column_coverage"] = weight / len(columns) if columns else 0.0
        result.features["columns_named"] = math.log1p(len(found))
        result.features["rare_columns_named"] = math.log1p(weight)
        result.features["column_bits"] = min(60.0, sum(_bits(context, keys.column_key(c)) for c in found))
        if found:
            result.details["columns_named"] = found[:20]
        tables = {column_words(t.name) for t in data.tables if t.name}
        tables = {t for t in tables if t and t not in GENERIC_COLUMNS and t not in ("sheet 1", "sheet1")}
        named_tables = sorted(t for t in tables if f" {t} " in words)
        result.features["tables_named"] = float(bool(named_tables))
        if named_tables:
            result.details["tables_named"] = named_tables
        return result
    heads_a = _section_titles(a)
    heads_b = _section_titles(b)
    if heads_a and heads_b:
        result.features["heading_overlap"] = len(heads_a & heads_b) / len(heads_a | heads_b)
    return result


@per_file
def _section_titles(record: FileRecord) -> set:
    titles = list(record.structure.get("slide_titles") or [])
    titles += [h.get("text", "") for h in record.structure.get("headings") or [] if isinstance(h, dict)]
    return {column_words(t) for t in titles if t and column_words(t)}


def metadata_matching(a: FileRecord, b: FileRecord, context: PairContext = NO_CONTEXT) -> StrategyResult:
    result = StrategyResult()
    (author_a, folder_a, ta), (author_b, folder_b, tb) = _metadata(a), _metadata(b)
    same_author = bool(a.author) and author_a == author_b
    result.features["same_author"] = float(same_author)
    result.features["same_folder"] = float(folder_a == folder_b)
    near = context.shares_small_folder() if context.known else near_in_tree(a.file_path, b.file_path)
    result.features["near_in_tree"] = float(near)
    if ta and tb:
        days = abs((ta - tb).total_seconds()) / 86400.0
        result.features["time_closeness"] = math.exp(-days / 30.0)
    if same_author:
        result.details["same_author"] = True
    if result.features["same_folder"]:
        result.details["same_folder"] = folder_a
    return result


def semantic_similarity(a: FileRecord, b: FileRecord, context: PairContext = NO_CONTEXT) -> StrategyResult:
    value = semantic.record_cosine(a, b)
    result = StrategyResult()
    if value is not None:
        result.features["semantic_similarity"] = max(0.0, value)
        result.details["semantic_similarity"] = round(value, 3)
    return result


Strategy = Callable[[FileRecord, FileRecord, PairContext], StrategyResult]

# Strategies by configured name. semantic_similarity needs embeddings on the
# records (transforms/detect/semantic.py); relationships.active_strategies drops it
# where the model is not installed.
STRATEGY_FUNCTIONS: Dict[str, Strategy] = {
    "semantic_similarity": semantic_similarity,
    "filename_pattern": filename_pattern,
    "content_similarity": content_similarity,
    "aggregate_matching": aggregate_matching,
    "structure_matching": structure_matching,
    "metadata_matching": metadata_matching,
}


def run_strategies(a: FileRecord, b: FileRecord, names: Iterable[str],
                   context: PairContext = NO_CONTEXT) -> Dict[str, StrategyResult]:
    return {name: STRATEGY_FUNCTIONS[name](a, b, context) for name in names if name in STRATEGY_FUNCTIONS}
