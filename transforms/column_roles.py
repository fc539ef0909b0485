"""What a profiled column is for: a key to join on or a measure to sum.

Read by extraction (which columns get grouped sums) and by detection (blocking's
number keys, scoring's aggregates and key columns), so both agree.
"""

from __future__ import annotations

import re

from transforms.model import ColumnProfile

# Column names of keys: "id", "customer_id", "Order ID", "SupportRepId", "sku_key".
_KEY_NAME_RE = re.compile(r"(?:^|[^A-Za-z])(?:id|ID|Id|key|KEY|Key)$|[a-z]I[dD]$")
# A unique integer column filling at least this share of its range is a key (1..n, 1001..1100, years).
KEY_RANGE_DENSITY = 0.5


def is_key_name(name: str) -> bool:
    """"id", "customer_id", "Order ID", "SupportRepId", "sku_key"."""
    return bool(_KEY_NAME_RE.search(name))


def range_density(col: ColumnProfile) -> float:
    """Share of the integer range [min, max] that a column fills (0 for non-integers)."""
    if col.dtype != "integer" or not col.numeric:
        return 0.0
    span = col.numeric["max"] - col.numeric["min"] + 1
    return min(1.0, col.distinct / span) if span > 0 else 0.0


def is_measure(profile: ColumnProfile) -> bool:
    """Numbers worth summing: not keys. A unique integer column is a key when it fills most
    of its range, but counts that merely differ in a small table (clicks per day) are
    measures, as a unique float column is; foreign keys repeat, so they are told by their
    names (SupportRepId, customer_id). Whole numbers that repeat (quantities, days) are
    measures too."""
    if (profile.small_int_range and profile.unique) or is_key_name(profile.name):
        return False
    if profile.dtype == "float":
        return True
    return profile.dtype == "integer" and (not profile.unique or range_density(profile) < KEY_RANGE_DENSITY)
