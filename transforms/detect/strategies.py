"""Relationship strategies: each scores one candidate pair and says why.

A strategy is a pure function `(a, b) -> StrategyResult` over two
FileRecords. Its `features` feed the confidence model (scoring.py), its
`details` become the edge's evidence_details. Strategies never decide the
relationship type; `scoring.classify` does, from all of their features.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from transforms.detect.facts import per_file
from transforms.detect.inclusion import GENERIC_COLUMNS, best_inclusion, column_words
from transforms.extract.profile import is_measure
from transforms.model import FileRecord, TableProfile
from transforms.naming import analyse_name, stem_similarity, version_order
from transforms.signatures import jaccard_of_sets, minhash_jaccard


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
    """The text in column_words form, padded so " name " finds whole words."""
    return f" {column_words(record.text)} "


def _all_columns(record: FileRecord) -> List[Tuple[TableProfile, Any]]:
    return [(t, c) for t in record.tables for c in t.columns]


@per_file
def _distinctive_columns(record: FileRecord) -> List[str]:
    names = {column_words(c.name) for _, c in _all_columns(record)}
    return sorted(n for n in names if n and n not in GENERIC_COLUMNS and len(n) > 2)


def _parse_time(value: Optional[str]) -> Optional[datetime]:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        return None


def _folder(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[0]


# ---------------------------------------------------------------- strategies


def filename_pattern(a: FileRecord, b: FileRecord) -> StrategyResult:
    na, nb = analyse_name(a.file_path), analyse_name(b.file_path)
    sim = stem_similarity(na, nb)
    same_stem = float(bool(na.stem) and na.stem == nb.stem)
    order = version_order(na, nb)
    versioned = float(sim >= 0.85 and (na.has_version_marker or nb.has_version_marker))
    result = StrategyResult({"stem_similarity": sim, "same_stem": same_stem, "version_markers": versioned})
    if sim >= 0.6:
        result.details["name_stems"] = [na.stem, nb.stem]
    if order is not None and versioned:
        result.details["newer"] = a.file_id if order > 0 else b.file_id
    return result


def _value_hits(data: FileRecord, narrative: FileRecord) -> Dict[str, Any]:
    """Data values (IDs, exact amounts, labels) that the narrative file shows."""
    tokens = narrative.token_hashes
    if not tokens or not data.tables:
        return {"key_hits": 0, "label_hits": 0, "columns": []}
    token_set = set(tokens)
    key_hits = label_hits = 0
    columns = []
    for table, col in _all_columns(data):
        if col.small_int_range or col.dtype in ("boolean", "empty", "date"):
            continue
        hits = sum(1 for h in col.value_hashes if h in token_set)
        if not hits:
            continue
        if col.unique or col.dtype == "float":
            key_hits += hits
        else:
            label_hits += hits
        columns.append({"table": table.name, "column": col.name, "hits": hits})
    columns.sort(key=lambda c: (-c["hits"], c["table"], c["column"]))
    return {"key_hits": key_hits, "label_hits": label_hits, "columns": columns[:5]}


def _data_values(record: FileRecord) -> set:
    return set().union(*(c.value_hashes for _, c in _all_columns(record) if not c.small_int_range))


def _mentions(a: FileRecord, b: FileRecord) -> bool:
    names = {m.lower() for m in a.mentions}
    return b.file_name.lower() in names


def _phrase_similarity():
    """Synonym check for key names, when the sentence model runs (records carry embeddings)."""
    from transforms.detect.semantic import phrase_similarity

    return phrase_similarity


def content_similarity(a: FileRecord, b: FileRecord) -> StrategyResult:
    result = StrategyResult()
    jac = minhash_jaccard(a.minhash, b.minhash)
    result.features["content_jaccard"] = jac
    if jac >= 0.2:
        result.details["content_jaccard"] = round(jac, 3)

    shared = {}
    for kind in ("project_code", "identifier"):
        common = sorted(set(a.entities.get(kind, ())) & set(b.entities.get(kind, ())))
        if common:
            shared[kind] = common[:10]
    result.features["shared_codes"] = math.log1p(len(shared.get("project_code", [])))
    result.features["shared_identifiers"] = math.log1p(len(shared.get("identifier", [])))
    if shared:
        result.details["shared_entities"] = shared

    mention_ab, mention_ba = _mentions(a, b), _mentions(b, a)
    result.features["mentions"] = float(mention_ab or mention_ba)
    if mention_ab or mention_ba:
        result.details["mentioned_by"] = a.file_id if mention_ab else b.file_id

    if a.is_data and b.is_data:
        similar = _phrase_similarity() if (a.embedding and b.embedding) else None
        forward, backward = best_inclusion(a, b, similar), best_inclusion(b, a, similar)
        best = max((x for x in (forward, backward) if x), key=lambda x: x["strength"], default=None)
        if best is not None:
            result.features["inclusion"] = best["strength"]
            result.features["inclusion_name_match"] = best["name_match"]
            best = dict(best, source=a.file_id if best is forward else b.file_id)
            result.details["inclusion"] = best
        result.features["value_jaccard"] = jaccard_of_sets(_data_values(a), _data_values(b))
    else:
        data, narrative = (a, b) if a.is_data else (b, a)
        if data.is_data and narrative.is_narrative:
            hits = _value_hits(data, narrative)
            result.features["key_value_hits"] = math.log1p(hits["key_hits"])
            result.features["label_value_hits"] = math.log1p(hits["label_hits"])
            if hits["columns"]:
                result.details["shared_values"] = hits["columns"]
    return result


def _aggregates(record: FileRecord) -> List[Tuple[float, str, str]]:
    """Every aggregate a reader of this data file might quote: (value, origin, breakdown).

    The breakdown names the column or the "measure by dimension" table an
    aggregate belongs to; a report quotes several numbers of one breakdown.
    """
    out: List[Tuple[float, str, str]] = []
    for table in record.tables:
        prefix = f"{table.name}." if table.name else ""
        for col in table.columns:
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


def aggregate_matching(a: FileRecord, b: FileRecord) -> StrategyResult:
    data, narrative = (a, b) if a.is_data else (b, a)
    result = StrategyResult()
    if not (data.is_data and narrative.is_narrative and narrative.numbers):
        return result
    aggregates = _aggregates(data)
    if not aggregates:
        return result
    keys = [v for v, _, _ in aggregates]
    matched: Dict[float, Tuple[str, List[str]]] = {}
    significant = 0
    for value, half_unit in narrative.numbers:
        # Only numbers shown with 3+ significant digits can identify an aggregate.
        if half_unit <= 0 or abs(value) < 200 * half_unit:
            continue
        significant += 1
        tolerance = half_unit * 1.0001 + 1e-9
        lo = bisect.bisect_left(keys, value - tolerance)
        hi = bisect.bisect_right(keys, value + tolerance)
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
    result.features["aggregate_matches"] = math.log1p(count)
    result.features["aggregate_coherence"] = math.log1p(coherent)
    result.features["aggregate_ratio"] = count / significant if significant else 0.0
    if count:
        result.details["aggregates"] = [
            {"value": v, "matches": origin} for v, (origin, _) in sorted(matched.items())[:10]
        ]
    return result


def structure_matching(a: FileRecord, b: FileRecord) -> StrategyResult:
    result = StrategyResult()
    if a.is_data and b.is_data:
        cols_a, cols_b = set(_distinctive_columns(a)), set(_distinctive_columns(b))
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
        result.features["column_coverage"] = len(found) / len(columns) if columns else 0.0
        result.features["columns_named"] = math.log1p(len(found))
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


def metadata_matching(a: FileRecord, b: FileRecord) -> StrategyResult:
    result = StrategyResult()
    same_author = bool(a.author) and (a.author or "").strip().lower() == (b.author or "").strip().lower()
    result.features["same_author"] = float(same_author)
    result.features["same_folder"] = float(_folder(a.file_path) == _folder(b.file_path))
    ta, tb = _parse_time(a.modified_at), _parse_time(b.modified_at)
    if ta and tb:
        days = abs((ta - tb).total_seconds()) / 86400.0
        result.features["time_closeness"] = math.exp(-days / 30.0)
    if same_author:
        result.details["same_author"] = True
    if result.features["same_folder"]:
        result.details["same_folder"] = _folder(a.file_path)
    return result


def semantic_similarity(a: FileRecord, b: FileRecord) -> StrategyResult:
    from transforms.detect.semantic import cosine

    value = cosine(a.embedding, b.embedding)
    result = StrategyResult()
    if value is not None:
        result.features["semantic_similarity"] = max(0.0, value)
        result.details["semantic_similarity"] = round(value, 3)
    return result


Strategy = Callable[[FileRecord, FileRecord], StrategyResult]

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


def run_strategies(a: FileRecord, b: FileRecord, names: Iterable[str]) -> Dict[str, StrategyResult]:
    return {name: STRATEGY_FUNCTIONS[name](a, b) for name in names if name in STRATEGY_FUNCTIONS}
