"""Blocking's steps between its groupings, one key's values at a time (partitioned.Step).

key -> files (a bucket)      BUCKET: each member's proposal to the later members
first file -> proposals      WEIGH: its weighed pairs, as partner entries of both files
file -> partners             KEEP: the pairs the file keeps (meta-blocking)
pair -> shared keys          ONCE: one candidate pair, however many files kept it

The same steps follow Beam's GroupByKey or run a spilled partition at a time in
worker processes (ptransforms/grouping.GroupedSteps). Values between the
groupings travel packed (blocking_codec).
"""

from __future__ import annotations

from typing import Iterable, Iterator, Tuple

from transforms.config import BlockingConfig
from transforms.detect import blocking, corpus, mentions
from transforms.detect.blocking_codec import (pack_bucket_proposal, pack_partner, pack_shared,
                                              unpack_bucket_proposal, unpack_partner, unpack_shared)
from transforms.model import OK

HOT = "hot"  # a key whose bucket is over its cap: counted, never paired
FREQUENT = "frequent"  # a (key, size) entry for the frequent-key table (corpus.frequent_entry)

Outcome = Tuple[str, object]


def bucket_step(key: str, members: Iterable, config: BlockingConfig) -> Iterator[Outcome]:
    """(first file, packed bucket proposal) per member but the last, HOT for a hot key, and the
    bucket's FREQUENT entry. A name group's members are name entries: its resolved mentions are
    proposals of their own."""
    if mentions.is_name_group(key):
        for source, target in mentions.resolve_entries(members):
            (first, second), proposal = blocking.mention_proposal(source, target)
            yield OK, (first, pack_bucket_proposal(proposal, [second]))
        return
    proposals, hot, size = blocking.bucket_proposals(key, members, config)
    entry = corpus.frequent_entry(key, size)
    if entry:
        yield FREQUENT, entry
    if hot:
        yield HOT, key
        return
    for first, proposal, later in proposals:
        yield OK, (first, pack_bucket_proposal(proposal, later))


def weigh_step(first: str, packed: Iterable[bytes], top: int) -> Iterator[Outcome]:
    """A first file's proposals -> (file, packed partner entry) for both files of each weighed pair."""
    weighed = blocking.weighed_pairs_of_first(first, map(unpack_bucket_proposal, packed))
    for file_id, partner in blocking.first_file_entries(first, weighed, top):
        yield OK, (file_id, pack_partner(partner))


def keep_step(file_id: str, partners: Iterable[bytes], top: int) -> Iterator[Outcome]:
    """A file's partner entries -> (pair, packed shared keys) per pair it keeps."""
    for pair, shared in blocking.kept_pairs(file_id, map(unpack_partner, partners), top):
        yield OK, (pair, pack_shared(shared))


def once_step(pair: Tuple[str, str], shared: Iterable[bytes]) -> Iterator[Outcome]:
    """A kept pair (kept by one of its files or both, with the same shared keys) -> the candidate pair."""
    yield OK, (pair, unpack_shared(next(iter(shared))))
