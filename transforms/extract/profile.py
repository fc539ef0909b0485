"""The shared table profiler and the helpers every tabular reader uses.

`profile_table` turns a header and a stream of rows into a `TableProfile`
in one pass. Rows are taken in chunks and transposed, so the per-value work
runs on each column's *distinct* values (through `collections.Counter`, which
counts in C) rather than on every cell; the only per-cell Python work left is
building numeric vectors for grouped sums, which only happens while the table
has a low-cardinality dimension column.

Memory stays bounded: per column, the distinct value hashes are kept exactly
up to `EXACT_DISTINCT_CAP`, then reduced to a bottom-k sketch (and the
distinct count estimated from it), and the raw-value cache is cleared at chunk
boundaries once it grows past `CACHE_CAP`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections import Counter
from itertools import islice
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from transforms.column_roles import is_measure
from transforms.extract.cells import clean_header, display_value, is_auto_name
from transforms.extract.cells import filled as filled_cells
from transforms.extract.context import ExtractContext
from transforms.extract.encoding import valid_text
from transforms.extract.lists import list_items, list_separator, spaced_items
from transforms.model import ColumnProfile, TableProfile
from transforms.signatures import bottom_k, normalise_value, value_hasher

CHUNK_ROWS = 4096
EXACT_DISTINCT_CAP = 20_000  # distinct hashes kept exactly per column
CACHE_CAP = 16_384  # raw value -> classification cache entries per column
SAMPLE_COUNT = 5
QUANTILE_POINTS = 33  # quantiles of an integer column's distinct values
NUMBER_SAMPLE = 1024  # distinct numbers kept, chosen by hash: a uniform sample
SPACED_LIST_SHARE = 0.2  # a spaced list column: at least this share of values hold 2+ items
MAX_DIM_LABELS = 30  # a dimension has 2..30 distinct labels
SMALL_RANGE_MAX = 1000  # small_int_range: values within 0/1..1000
SMALL_RANGE_COVER = 0.8  # ... covering at least this share of the range
TYPE_SHARE = 0.9  # a dtype wins with this share of non-empty cells
HEADER_SCAN_ROWS = 30
MAX_COLUMNS = 16_384  # Excel's own limit; wider headers are cut (a one-line file of commas)

# Value kinds; the index into a column's kind counters.
INT, FLOAT, DATE, BOOL, STR = range(5)
EMPTY = -1

_INT_RE = re.compile(r"[+-]?\d+")
_FLOAT_RE = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
# Exports often write money with a currency sign and thousands separators.
_GROUPED_RE = re.compile(r"([+-]?)[$€£¥]?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?")
_DATE_RE = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{4}/\d{1,2}/\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"
)
_NUMBER_START = frozenset("0123456789+-.$€£¥")


# --------------------------------------------------------------------------
# Cell values


def classify(value) -> Tuple[int, Optional[float]]:
    """The kind of one cell value and its number, if it is one."""
    kind = type(value)
    if kind is str:
        return _classify_text(value)
    if kind is float:
        if math.isnan(value) or math.isinf(value):
            return EMPTY, None
        return (INT if value.is_integer() else FLOAT), value
    if kind is bool:
        return BOOL, None
    if kind is int:
        try:
            return INT, float(value)
        except OverflowError:  # beyond float range: keep it as text
            return STR, None
    if value is None:
        return EMPTY, None
    if isinstance(value, (dt.date, dt.datetime)):
        return DATE, None
    if isinstance(value, (np.integer, np.floating)):
        return classify(value.item())
    return STR, None


def is_text_cell(value: str) -> bool:
    """A text cell that is no number, date or boolean."""
    return _text_info(value)[0] == STR


def _classify_text(value: str) -> Tuple[int, Optional[float]]:
    kind, number, _ = _text_info(value)
    return kind, number


def _text_info(value: str) -> Tuple[int, Optional[float], Optional[str]]:
    """Kind, number and `normalise_value` key of a text cell, sharing one parse."""
    text = value.strip()
    if not text:
        return EMPTY, None, None
    if text[0] in _NUMBER_START:
        if _INT_RE.fullmatch(text):
            return INT, float(text), str(int(text))
        if _FLOAT_RE.fullmatch(text):
            number = float(text)
            if math.isinf(number):  # "1e999"
                return STR, None, normalise_value(text)
            return (INT if number.is_integer() else FLOAT), number, normalise_value(text)
        match = _GROUPED_RE.fullmatch(text)
        if match:
            sign, whole, frac = match.groups()
            number = float(sign + whole.replace(",", "") + (frac or ""))
            return (INT if number.is_integer() else FLOAT), number, text.casefold()
        if _DATE_RE.fullmatch(text):
            return DATE, None, text.casefold()
    elif text.lower() in ("true", "false"):
        return BOOL, None, text.casefold()
    # Text that is no number is exactly what normalise_value casefolds.
    return STR, None, text.casefold()


def _value_key(value) -> Optional[str]:
    """The normalised text that value hashes are taken of."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        # Hash blobs by content instead of by a (possibly huge) repr.
        return "blob:" + hashlib.blake2b(bytes(value), digest_size=16).hexdigest()
    return normalise_value(value)


_EMPTY_INFO = (EMPTY, None, None)


# --------------------------------------------------------------------------
# Header detection


def detect_header(rows: List[Sequence]) -> int:
    """0-based index of the header row among the first rows of a table.

    Title and note rows above a header fill only a cell or two, so the header
    is the first row that fills at least half of the table's width with text
    labels and is followed by rows of a similar fill. Headers made of numbers
    (years as columns) fail the label test, so failing that, the first
    wide-enough row is taken.
    """
    scan = rows[:HEADER_SCAN_ROWS]
    filled = [filled_cells(row) for row in scan]
    width = max(filled, default=0)
    if width == 0:
        return 0
    need = 1 if width == 1 else max(2, math.ceil(width / 2))
    first_wide = None
    for index, row in enumerate(scan):
        if filled[index] < need:
            continue
        if first_wide is None:
            first_wide = index
        if _mostly_labels(row) and _followed_by_similar_rows(filled, index):
            return index
    return first_wide or 0


def _mostly_labels(row: Sequence) -> bool:
    kinds = [classify(cell)[0] for cell in row]
    present = [kind for kind in kinds if kind != EMPTY]
    return bool(present) and sum(1 for kind in present if kind == STR) >= 0.8 * len(present)


def _followed_by_similar_rows(filled: List[int], index: int) -> bool:
    following = [count for count in filled[index + 1 :] if count][:3]
    return all(count >= filled[index] / 2 for count in following)


# --------------------------------------------------------------------------
# Column state


class _Column:
    """Running statistics of one column."""

    __slots__ = (
        "name", "count", "kinds", "hashes", "threshold", "duplicate", "samples",
        "num_count", "num_sum", "num_min", "num_max", "cache", "labels", "label_text", "hash", "separator",
        "numbers_by_hash", "number_threshold", "items", "item_threshold", "list_values", "text_values",
    )

    def __init__(self, name: str, value_hash: Callable[[str], int]):
        self.name = name
        self.hash = value_hash
        self.separator: Optional[str] = None  # decided on the first chunk; "" for single values
        self.count = 0
        self.kinds = [0, 0, 0, 0, 0]
        self.hashes: set = set()
        self.threshold: Optional[int] = None  # set once the hashes became a sketch
        self.duplicate = False
        self.samples: List[str] = []
        self.num_count = 0
        self.num_sum = 0.0
        self.num_min = math.inf
        self.num_max = -math.inf
        # raw value -> (kind, number, hash); Counter keys are raw values.
        self.cache: Dict[object, Tuple[int, Optional[float], Optional[int]]] = {}
        # Label hash -> index while the column could still be a dimension.
        self.labels: Optional[Dict[int, int]] = {}
        self.label_text: List[str] = []
        # hash -> number for a hash-chosen sample of distinct numbers (quantiles).
        self.numbers_by_hash: Dict[int, float] = {}
        self.number_threshold: Optional[int] = None
        # Item hashes of list-valued text ("DE FR"), and how many distinct text values held a list.
        self.items: set = set()
        self.item_threshold: Optional[int] = None
        self.list_values = 0
        self.text_values = 0

    def add(self, values: Sequence, sketch_size: int) -> None:
        if self.separator is None:
            self.separator = list_separator(values, is_text_cell)
            if self.separator:
                self.labels = None  # a list column is no dimension
        if self.separator:
            values = list_items(values, self.separator)
        if len(self.cache) > CACHE_CAP:
            self.cache.clear()  # only between chunks: `codes`/`numbers` read it per chunk
        cache = self.cache
        kinds = self.kinds
        learn = self._learn
        count = num_count = 0
        num_sum = 0.0
        duplicate = self.duplicate
        for raw, n in Counter(values).items():
            info = cache.get(raw)
            if info is None:
                info = cache[raw] = learn(raw, sketch_size)
            elif info[0] != EMPTY:
                duplicate = True  # seen in an earlier chunk
            kind, number, _ = info
            if kind == EMPTY:
                continue
            if n > 1:
                duplicate = True
            count += n
            kinds[kind] += n
            if number is not None:
                num_count += n
                num_sum += number * n
        self.count += count
        self.num_count += num_count
        self.num_sum += num_sum
        self.duplicate = self.duplicate or duplicate

    def _learn(self, raw, sketch_size: int) -> Tuple[int, Optional[float], Optional[int]]:
        """Classifies and hashes a value first seen in this chunk."""
        if type(raw) is str:
            kind, number, key = _text_info(raw)
            if kind == EMPTY:
                return _EMPTY_INFO
        else:
            kind, number = classify(raw)
            key = _value_key(raw) if kind != EMPTY else None
            if key is None:
                return _EMPTY_INFO
        h = self.hash(key)
        if number is not None:
            if number < self.num_min:
                self.num_min = number
            if number > self.num_max:
                self.num_max = number
            if kind == INT:
                self._sample_number(h, number)
        elif kind == STR:
            self._add_items(key, h)
        if self._remember(h, sketch_size):
            if len(self.samples) < SAMPLE_COUNT:
                self.samples.append(display_value(raw).strip())
            labels = self.labels
            if labels is not None:
                if len(labels) < MAX_DIM_LABELS:
                    labels[h] = len(labels)
                    self.label_text.append(display_value(raw).strip())
                else:
                    self.labels = None  # too many distinct values for a dimension
        return kind, number, h

    def _remember(self, h: int, sketch_size: int) -> bool:
        """Adds a hash to the distinct set; False when it was already there."""
        threshold = self.threshold
        if threshold is not None and h > threshold:
            return True  # beyond the sketch: new as far as we can tell
        hashes = self.hashes
        if h in hashes:
            self.duplicate = True
            return False
        hashes.add(h)
        if len(hashes) > (EXACT_DISTINCT_CAP if threshold is None else 2 * sketch_size):
            self._shrink(sketch_size)
        return True

    def _sample_number(self, h: int, number: float) -> None:
        if self.number_threshold is not None and h > self.number_threshold:
            return
        sample = self.numbers_by_hash
        sample[h] = number
        if len(sample) > 2 * NUMBER_SAMPLE:
            kept = bottom_k(sample, NUMBER_SAMPLE)
            self.number_threshold = kept[-1]
            self.numbers_by_hash = {k: sample[k] for k in kept}

    def _add_items(self, key: str, h: int) -> None:
        """The item view of a space-separated list column ("de fr"): itself when it is one
        identifier-like token, its items when it is a list of them, nothing otherwise.
        Lists split on ";" or "|" are profiled by item already (`self.separator`)."""
        if self.separator:
            return
        self.text_values += 1
        items = spaced_items(key)
        if items is None:
            return
        if len(items) == 1:
            hashes = [h]
        else:
            self.list_values += 1
            hashes = [self.hash(_text_info(item)[2] or item) for item in items]
        threshold = self.item_threshold
        self.items.update(x for x in hashes if threshold is None or x <= threshold)
        if len(self.items) > 2 * EXACT_DISTINCT_CAP:
            kept = bottom_k(self.items, EXACT_DISTINCT_CAP)
            self.items = set(kept)
            self.item_threshold = kept[-1]

    def _shrink(self, sketch_size: int) -> None:
        kept = bottom_k(self.hashes, sketch_size)
        self.hashes = set(kept)
        self.threshold = kept[-1]

    # Per-cell vectors for grouped sums -------------------------------------

    def is_dimension_candidate(self) -> bool:
        return bool(self.labels) and not self.separator and (self.kinds[STR] + self.kinds[BOOL]) * 2 > self.count

    def is_measure_candidate(self) -> bool:
        return not self.separator and self.num_count * 2 > self.count

    def codes(self, values: Sequence) -> np.ndarray:
        cache, labels = self.cache, self.labels
        return np.fromiter((labels.get(cache[v][2], -1) for v in values), dtype=np.int64, count=len(values))

    def numbers(self, values: Sequence) -> np.ndarray:
        cache = self.cache
        return np.array([cache[v][1] for v in values], dtype=np.float64)

    # Results ----------------------------------------------------------------

    def distinct(self) -> int:
        if self.threshold is None:
            return len(self.hashes)
        if not self.duplicate:
            return self.count  # no repeat seen: every value distinct, as far as we can tell
        # KMV estimate: k distinct hashes spread over [0, kth smallest].
        k = len(self.hashes)
        estimate = int((k - 1) * 2.0**64 / (max(self.hashes) + 1))
        return min(self.count, max(k, estimate))

    def dtype(self) -> str:
        if not self.count:
            return "empty"
        need = TYPE_SHARE * self.count
        int_n, float_n, date_n, bool_n, _ = self.kinds
        if int_n + float_n >= need:
            return "float" if float_n else "integer"
        if date_n >= need:
            return "date"
        if bool_n >= need:
            return "boolean"
        return "string"

    def is_small_int_range(self, dtype: str, distinct: int) -> bool:
        if dtype != "integer" or distinct < 3 or self.num_min not in (0.0, 1.0):
            return False
        span = self.num_max - self.num_min + 1
        return self.num_max <= SMALL_RANGE_MAX and distinct >= SMALL_RANGE_COVER * span

    def profile(self, sketch_size: int, redactor, redactions: Dict[str, int]) -> ColumnProfile:
        dtype = self.dtype()
        distinct = self.distinct()
        numeric = None
        if dtype in ("integer", "float") and self.num_count:
            numeric = {
                "sum": self.num_sum,
                "mean": self.num_sum / self.num_count,
                "min": self.num_min,
                "max": self.num_max,
                "count": float(self.num_count),
            }
        is_list = dtype == "string" and self.list_values >= max(2, SPACED_LIST_SHARE * self.text_values)
        return ColumnProfile(
            name=self.name,
            dtype=dtype,
            count=self.count,
            distinct=distinct,
            samples=_redact(self.name, self.samples, redactor, redactions),
            value_hashes=bottom_k(self.hashes, sketch_size),
            numeric=numeric,
            small_int_range=self.is_small_int_range(dtype, distinct),
            unique=self.count >= 2 and not self.duplicate and not self.separator,
            separator=self.separator or "",
            quantiles=self.quantiles() if dtype == "integer" else [],
            item_hashes=bottom_k(self.items, sketch_size) if is_list else [],
            item_distinct=self.item_distinct() if is_list else 0,
        )

    def quantiles(self) -> List[float]:
        values = sorted(self.numbers_by_hash.values())
        if not values:
            return []
        last = len(values) - 1
        points = [values[round(i * last / (QUANTILE_POINTS - 1))] for i in range(QUANTILE_POINTS)]
        points[0], points[-1] = self.num_min, self.num_max  # the sample's ends are not the column's
        return points

    def item_distinct(self) -> int:
        if self.item_threshold is None:
            return len(self.items)
        return int((len(self.items) - 1) * 2.0**64 / (self.item_threshold + 1))


def _redact(column: str, values: List[str], redactor, redactions: Dict[str, int]) -> List[str]:
    values = [valid_text(value) for value in values]
    if redactor is None or not values:
        return values
    redacted, counts = redactor.redact_values(column, values)
    for kind, n in counts.items():
        redactions[kind] = redactions.get(kind, 0) + n
    return list(redacted)


def _is_pii_column(column: str, labels: List[str], redactor) -> bool:
    if redactor is None:
        return False
    _, counts = redactor.redact_values(valid_text(column), [valid_text(label) for label in labels])
    return any(counts.values())


# --------------------------------------------------------------------------
# Table state


class TableProfiler:
    """Accumulates column batches of one table; `finish` builds the profile."""

    def __init__(self, name: str, header: Sequence, ctx: ExtractContext):
        self.name = name
        self.ctx = ctx
        value_hash = value_hasher()
        self.columns = [_Column(column, value_hash) for column in clean_header(header[:MAX_COLUMNS])]
        self.rows = 0
        self.sketch_size = column_sketch_size(ctx.limits, len(self.columns))
        # (dimension index, measure index) -> label sums
        self.sums: Dict[Tuple[int, int], np.ndarray] = {}

    @property
    def width(self) -> int:
        return len(self.columns)

    def add_columns(self, values: List[Sequence], nrows: int) -> None:
        """Adds one chunk given column-major: values[i] holds column i's cells."""
        self.rows += nrows
        for column, cells in zip(self.columns, values):
            column.add(cells, self.sketch_size)
        self._add_group_sums(values)

    def add_rows(self, rows: List[Sequence]) -> None:
        width = self.width
        if any(len(row) != width for row in rows):
            rows = [_fit(row, width) for row in rows]  # ragged rows: pad or cut
        self.add_columns(list(zip(*rows)), len(rows))

    def _add_group_sums(self, values: List[Sequence]) -> None:
        dims = [i for i, c in enumerate(self.columns) if c.is_dimension_candidate()]
        if not dims:
            return
        measures = [i for i, c in enumerate(self.columns) if c.is_measure_candidate() and i not in dims]
        if not measures:
            return
        numbers = {m: self.columns[m].numbers(values[m]) for m in measures}
        for d in dims:
            codes = self.columns[d].codes(values[d])
            has_label = codes >= 0
            for m in measures:
                vector = numbers[m]
                keep = has_label & ~np.isnan(vector)
                if not keep.any():
                    continue
                add = np.bincount(codes[keep], weights=vector[keep], minlength=MAX_DIM_LABELS)
                total = self.sums.get((d, m))
                self.sums[(d, m)] = add if total is None else total + add

    def finish(
        self,
        sampled: bool = False,
        total_rows: Optional[int] = None,
        header_row: int = 0,
        redactions: Optional[Dict[str, int]] = None,
    ) -> TableProfile:
        redactions = {} if redactions is None else redactions
        redactor = self.ctx.redactor
        profiles = [c.profile(self.sketch_size, redactor, redactions) for c in self.columns]
        # A column with neither a name nor a value is layout, not data.
        keep = [i for i, p in enumerate(profiles) if p.count or not is_auto_name(p.name, i)]
        sampled = sampled or (total_rows is not None and total_rows > self.rows)
        return TableProfile(
            name=self.name,
            columns=[profiles[i] for i in keep],
            row_count=max(self.rows, total_rows or 0) if sampled else self.rows,
            header_row=header_row,
            sampled=sampled,
            grouped_sums=self._grouped_sums(profiles, redactor),
        )

    def _grouped_sums(self, profiles: List[ColumnProfile], redactor) -> Dict[str, Dict[str, Dict[str, float]]]:
        result: Dict[str, Dict[str, Dict[str, float]]] = {}
        dimensions = {
            d: _is_dimension(profiles[d], self.columns[d])
            and not _is_pii_column(profiles[d].name, self.columns[d].label_text, redactor)
            for d in {d for d, _ in self.sums}
        }
        for (d, m), sums in sorted(self.sums.items()):
            if not dimensions[d] or not is_measure(profiles[m]):
                continue
            labels = self.columns[d].label_text
            result.setdefault(profiles[d].name, {})[profiles[m].name] = {
                labels[i]: float(sums[i]) for i in range(len(labels))
            }
        return result


def _is_dimension(profile: ColumnProfile, column: _Column) -> bool:
    return (
        column.labels is not None
        and profile.dtype in ("string", "boolean")
        and 2 <= profile.distinct <= MAX_DIM_LABELS
        and not profile.unique
    )


def _fit(row: Sequence, width: int) -> Sequence:
    if len(row) > width:
        return row[:width]
    return list(row) + [None] * (width - len(row))


# --------------------------------------------------------------------------
# Entry points

_END = object()


MIN_COLUMN_SKETCH = 32  # below this, containment estimates are noise


def column_sketch_size(limits, width: int) -> int:
    """Value hashes kept per column of a table `width` columns wide, within the table's budget."""
    return min(limits.value_sketch_size, max(MIN_COLUMN_SKETCH, limits.table_sketch_hashes // max(width, 1)))


def row_limit(ctx: ExtractContext, width: int) -> int:
    """Rows profiled in a table `width` columns wide: the row cap, or fewer to stay in the cell budget."""
    return max(1, min(ctx.limits.max_rows_per_table, ctx.limits.max_table_cells // max(width, 1)))


def profile_table(
    name: str,
    header: Sequence,
    rows: Iterable[Sequence],
    ctx: ExtractContext,
    total_rows: Optional[int] = None,
    *,
    header_row: int = 0,
    redactions: Optional[Dict[str, int]] = None,
) -> TableProfile:
    """Profiles a table from its header and rows, reading at most
    `row_limit(ctx, width)` rows.

    `total_rows` is the table's full size when the reader knows it (the
    profile then reports it and is marked sampled if it exceeds the rows
    read). Redaction counts of sample values are added to `redactions`.
    """
    profiler = TableProfiler(name, header, ctx)
    limit = row_limit(ctx, profiler.width)
    iterator = iter(rows)
    sampled = False
    if profiler.width:
        while profiler.rows < limit:
            chunk = list(islice(iterator, min(CHUNK_ROWS, limit - profiler.rows)))
            if not chunk:
                break
            profiler.add_rows(chunk)
        else:
            sampled = next(iterator, _END) is not _END
    return profiler.finish(sampled, total_rows, header_row, redactions)


def profile_batches(
    name: str,
    header: Sequence,
    batches: Iterable[List[Sequence]],
    ctx: ExtractContext,
    total_rows: Optional[int] = None,
    *,
    header_row: int = 0,
    redactions: Optional[Dict[str, int]] = None,
) -> TableProfile:
    """Like `profile_table`, for column-major batches (e.g. Arrow record batches)."""
    profiler = TableProfiler(name, header, ctx)
    limit = row_limit(ctx, profiler.width)
    sampled = False
    for batch in batches:
        nrows = len(batch[0]) if batch else 0
        room = limit - profiler.rows
        if room <= 0:
            sampled = sampled or nrows > 0
            break
        if nrows > room:
            batch, nrows, sampled = [column[:room] for column in batch], room, True
        for offset in range(0, nrows, CHUNK_ROWS):
            part = [column[offset : offset + CHUNK_ROWS] for column in batch]
            profiler.add_columns(part, min(CHUNK_ROWS, nrows - offset))
    return profiler.finish(sampled, total_rows, header_row, redactions)
