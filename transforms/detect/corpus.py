"""How rare a pair's evidence is in this run: document frequencies from blocking.

Blocking already groups files by the tokens evidence rests on (a code, a column
name, a value, a number at its precision, a name stem): the size of a key's
bucket is its document frequency, the number of files that carry the token.
A pair is scored with

- the frequencies of the keys it shares, carried from the buckets that paired
  it (`PairContext.shared`), and
- the run's frequent keys, those that `FREQUENT_DF` or more files carry
  (`CorpusStats.frequent`), a bounded side input that also covers hot keys,
  whose buckets pair nothing,

so a token carried by two files counts as strong evidence and one carried by
forty as context at most, with no dictionary of every token in the corpus.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Dict, Iterable, Mapping, Optional, Tuple

# Keys at least this frequent are kept in the run's frequent-key table.
FREQUENT_DF = 3
# The frequent-key table is bounded; past this size only the most frequent stay.
MAX_FREQUENT_KEYS = 400_000
# Key kinds whose frequency evidence reads (blocking.py names them).
FREQUENT_KINDS = frozenset({"code", "col", "file", "key", "num", "stem", "term", "val"})
# Prefix of the context entry that says the first file names the second.
RESOLVED_MENTION = "ref:"
# A folder of at most this many files (or an eighth of the run) keeps its files together.
SMALL_FOLDER = 25
# Kinds of shared key a pair carries to scoring (the others only propose pairs).
PAIR_CONTEXT_KINDS = frozenset({"code", "col", "dir", "hash", "ref", "stem", "term"})
def key_kind(key: str) -> str:
    return key.split(":", 1)[0]


@dataclass(frozen=True)
class CorpusStats:
    """What the run knows about its whole corpus: its size and its frequent keys."""

    n_files: int = 0  # 0: unknown (a pair scored outside a run)
    frequent: Mapping[str, int] = field(default_factory=dict)


EMPTY_STATS = CorpusStats()


@dataclass(frozen=True)
class PairContext:
    """A candidate pair's view of the corpus: shared keys with their frequencies."""

    shared: Mapping[str, int] = field(default_factory=dict)
    stats: CorpusStats = EMPTY_STATS

    @property
    def n_files(self) -> int:
        return self.stats.n_files

    @property
    def known(self) -> bool:
        """False outside a run, where no frequency is known and every token counts as rare."""
        return self.stats.n_files > 0

    def df(self, key: str) -> int:
        """Files that carry `key`: exact for shared and frequent keys, else at most FREQUENT_DF - 1."""
        found = self.shared.get(key) or self.stats.frequent.get(key)
        return int(found) if found else 1

    def information(self, key: str) -> float:
        """Bits of evidence in sharing `key`: log2((n + 8) / df), the rarer the stronger. The
        smoothing makes a token carried by only two files worth 3 bits even in a small run."""
        return max(0.0, math.log2((self.stats.n_files + 8) / max(1, self.df(key))))

    def weight(self, key: str, both_carry: bool = True) -> float:
        """How much sharing `key` says about this pair: 1 when no other file carries it,
        1/(k+1) when k others do. Outside a run every token weighs 1."""
        if not self.known:
            return 1.0
        others = self.df(key) - (2 if both_carry else 1)
        return 1.0 / (1 + max(0, others))

    def shares_small_folder(self) -> bool:
        """Whether both files sit in one small folder (or its parent): kept together in a
        project's folder, not merely under the drive's root. Small is at most SMALL_FOLDER
        files or an eighth of the run, and never a hot key."""
        limit = max(SMALL_FOLDER, self.stats.n_files / 8)
        return any(key.startswith("dir:") and size <= limit for key, size in self.shared.items())

    def mentions(self, source_id: str) -> bool:
        """True when the run resolved a file name in `source_id`'s text to the other file."""
        return (RESOLVED_MENTION + source_id) in self.shared


NO_CONTEXT = PairContext()


def frequent_entry(key: str, size: int) -> Optional[Tuple[str, int]]:
    """(key, size) when a bucket belongs in the frequent-key table."""
    if size >= FREQUENT_DF and key_kind(key) in FREQUENT_KINDS:
        return key, size
    return None


def bounded_frequent(entries: Iterable[Tuple[str, int]], limit: int = MAX_FREQUENT_KEYS) -> Dict[str, int]:
    """The frequent-key table: the `limit` most frequent entries, ties broken by key."""
    top = heapq.nlargest(limit, entries, key=lambda kv: (kv[1], kv[0]))
    return dict(sorted(top))


def merge_shared(entries: Iterable[Optional[Tuple[str, int]]]) -> Dict[str, int]:
    """One pair's shared keys from the buckets that paired it (a key counted once)."""
    shared: Dict[str, int] = {}
    for entry in entries:
        if entry:
            key, size = entry
            shared[key] = max(size, shared.get(key, 0))
    return dict(sorted(shared.items()))
