"""A GroupByKey whose values wait on disk, a partition of keys read back at a time.

The in-process runner holds a grouping whole: every value decoded, a list and a
dictionary entry per key, then all of it encoded again as the next stage reads it.
Blocking's first grouping (a file id per blocking key: 1,149,617 values under 368,202
keys at 12,413 files) was the main process's peak at 125,299 files. Here each bundle
pickles its elements in chunks, one partition of keys (a stable hash) to a chunk, into
one spill file (spill.BundleSpill); the runner groups only where the chunks are, and
each partition is grouped in memory on its own.
"""

from __future__ import annotations

import pickle
from typing import Dict, Iterable, List, Optional, Tuple

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindows

from transforms.output.spill import SpilledLine, read_payloads
from transforms.ptransforms.common import BundleSpillFn
from transforms.signatures import hash64

# Partitions of keys: one is grouped in memory at a time.
PARTITIONS = 64
# Elements a spilled chunk holds: a bundle waits with at most this many a partition.
CHUNK_ELEMENTS = 4096


def partition_of(key, partitions: int) -> int:
    """A key's partition: a stable hash of a string or integer key, or of a tuple of strings."""
    if isinstance(key, int):
        key = str(key)
    return hash64(key if isinstance(key, str) else "\x1f".join(key)) % partitions


def grouped_partition(chunks: Iterable[bytes]) -> List[Tuple[object, list]]:
    """Pickled chunks of (key, value) elements -> (key, values) per key, in key order."""
    groups: Dict[object, list] = {}
    for packed in chunks:
        for key, value in pickle.loads(packed):
            groups.setdefault(key, []).append(value)
    return [(key, groups.pop(key)) for key in sorted(groups)]


class _SpillByPartitionFn(BundleSpillFn):
    """(key, value) -> (partition, where a chunk of its elements was spilled)."""

    def __init__(self, spill_dir: str, prefix: str, partitions: int):
        super().__init__(spill_dir, prefix)
        self._partitions = partitions
        self._pending: Dict[int, list] = {}

    def start_bundle(self):
        self._pending = {}

    def process(self, element):
        partition = partition_of(element[0], self._partitions)
        pending = self._pending.setdefault(partition, [])
        pending.append(element)
        if len(pending) >= CHUNK_ELEMENTS:
            yield partition, self._spilled(self._pending.pop(partition))

    def _spilled(self, elements: list) -> SpilledLine:
        return self.bundle_spill().add(pickle.dumps(elements, protocol=pickle.HIGHEST_PROTOCOL))

    def finish_bundle(self):
        for partition in sorted(self._pending):
            yield GlobalWindows.windowed_value((partition, self._spilled(self._pending[partition])))
        self._pending = {}
        super().finish_bundle()  # closes the spill file before any later step reads it


def _read_partition(partition_chunks: Tuple[int, Iterable[SpilledLine]]):
    _, chunks = partition_chunks
    return grouped_partition(read_payloads(sorted(chunks)))


@beam.ptransform_fn
def SpilledGroupByKey(pcoll, spill_dir: Optional[str], prefix: str, partitions: int = PARTITIONS):
    """GroupByKey with its values spilled under `spill_dir` (keys: strings, integers or tuples of strings);
    a plain GroupByKey without one. Each key's values are grouped whole, in no set order."""
    if spill_dir is None:
        return pcoll | "GroupByKey" >> beam.GroupByKey()
    return (
        pcoll
        | "SpillByPartition" >> beam.ParDo(_SpillByPartitionFn(spill_dir, prefix, partitions))
        | "GroupChunks" >> beam.GroupByKey()
        | "GroupPartition" >> beam.FlatMap(_read_partition)
    )
