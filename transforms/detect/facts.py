"""Per-file facts that scoring reads: computed once per file, never per pair.

A strategy helper that derives something from one file alone (its name
analysis, its text in column-word form, its distinctive columns, its
aggregates) is marked `@per_file`. On a record that carries a `facts` dict
(a `PairView`, see pair_view.py) the value is computed once and kept there, so
it travels with the record to every pair it is scored in; on a plain
FileRecord the helper simply computes.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, List, Set

Fact = Callable[[Any], Any]
FACTS: List[Fact] = []  # every registered fact, warmed by pair_view.pair_view()
LAZY_FACTS: Set[str] = set()  # memo keys of facts built on the worker only (never warmed)


def per_file(fn: Fact) -> Fact:
    """A fact warmed into every PairView: small values that travel with it."""
    fact = per_file_lazily(fn)
    LAZY_FACTS.discard(_memo_key(fn))
    FACTS.append(fact)
    return fact


def _memo_key(fn: Fact) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def per_file_lazily(fn: Fact) -> Fact:
    """A fact computed on a view's first pair and kept on it, not warmed or shipped: a large one
    (a file's key columns with their value sets) is rebuilt on each worker from what the view carries.
    Scoring keeps one decoded view per file per bundle (pair_view.ViewCache), so it is built about
    once per file there."""
    key = _memo_key(fn)
    LAZY_FACTS.add(key)

    @functools.wraps(fn)
    def fact(record):
        memo = getattr(record, "facts", None)
        if memo is None:
            return fn(record)
        try:
            return memo[key]
        except KeyError:
            value = memo[key] = fn(record)
            return value

    return fact
