"""Groupings whose values wait on disk by partition of keys, and steps run a partition at a time.

A grouping's (key, value) elements are pickled in chunks, one partition of keys
(a stable hash) to a chunk, into spill files; a partition's chunks are read
back and grouped in memory on their own (grouped_partition). A chain of
groupings, each step reading one key's values and giving the next grouping's
elements, then runs a partition at a time (run_partition_task): read, group,
step, and spill the outputs by their partition in the next grouping. Only
where the chunks are travels between the tasks, so worker processes can run
them side by side, and no element of a grouping passes through the runner.

Plain Python: the worker processes that run the tasks import no Beam.
"""

from __future__ import annotations

import contextlib
import pickle
import zlib
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Tuple

from transforms.model import OK
from transforms.output.spill import SpilledLine, read_payloads, spill_file, spill_writer

# Partitions of keys: one is grouped in memory at a time.
PARTITIONS = 64
# Elements a spilled chunk holds: a step waits with at most this many a partition.
CHUNK_ELEMENTS = 4096

# A step: (key, its values, *args) -> (kind, value) outcomes. OK values are the next grouping's
# (key, value) elements (the last step's are the chain's output); other kinds are passed on as they are.
Step = Callable[..., Iterable[Tuple[str, Any]]]
# A partition and where one of its chunks waits.
SpilledChunk = Tuple[int, SpilledLine]


def partition_of(key, partitions: int) -> int:
    """A key's partition: a stable hash of a string or integer key, or of a tuple of strings."""
    if isinstance(key, int):
        key = str(key)
    text = key if isinstance(key, str) else "\x1f".join(key)
    return zlib.crc32(text.encode("utf-8", "surrogatepass")) % partitions  # spread is all a partition needs


def grouped_partition(chunks: Iterable[bytes]) -> List[Tuple[object, list]]:
    """Pickled chunks of (key, value) elements -> (key, values) per key, in key order."""
    groups: Dict[object, list] = {}
    for packed in chunks:
        for key, value in pickle.loads(packed):
            groups.setdefault(key, []).append(value)
    return [(key, groups.pop(key)) for key in sorted(groups)]


def read_partition(chunks: Iterable[SpilledLine]) -> List[Tuple[object, list]]:
    """A partition's spilled chunks -> (key, values) per key, in key order (each spill file read forward)."""
    return grouped_partition(read_payloads(sorted(chunks)))


def packed_chunk(elements: list) -> bytes:
    return pickle.dumps(elements, protocol=pickle.HIGHEST_PROTOCOL)


class ChunksByPartition:
    """(key, value) elements gathered by their key's partition, each partition's given back as a
    chunk once it holds CHUNK_ELEMENTS, and the rest at the end: what waits is bounded a partition."""

    def __init__(self, partitions: int):
        self._partitions = partitions
        self._pending: Dict[int, list] = {}

    def add(self, element) -> Optional[Tuple[int, list]]:
        """(partition, a full chunk) when `element` fills one, else None."""
        partition = partition_of(element[0], self._partitions)
        waiting = self._pending.setdefault(partition, [])
        waiting.append(element)
        return (partition, self._pending.pop(partition)) if len(waiting) >= CHUNK_ELEMENTS else None

    def rest(self) -> List[Tuple[int, list]]:
        """Every partition's waiting elements, in partition order; none wait after."""
        rest, self._pending = sorted(self._pending.items()), {}
        return rest


class PartitionStep(NamedTuple):
    """One step of a chain: `step(key, values, *args)` per key of a partition; its OK outcomes are
    spilled under `spill_dir` as `prefix` chunks of the next grouping, or, for the last step
    (`prefix` None), returned."""

    step: Step
    args: tuple
    spill_dir: str
    prefix: Optional[str]  # None for the last step
    partitions: int = PARTITIONS


def run_partition_task(step: PartitionStep, task: Tuple[int, List[SpilledLine]]
                       ) -> Tuple[List[SpilledChunk], List[Tuple[str, Any]]]:
    """A partition's chunks -> (the next grouping's chunks, the outcomes passed on), in key order.

    The task writes one spill file, named after its partition: run again, it writes the same
    file in the same order, and the file it replaces is never read.
    """
    partition, chunks = task
    spilled: List[SpilledChunk] = []
    passed_on: List[Tuple[str, Any]] = []
    chunked = ChunksByPartition(step.partitions)
    with contextlib.ExitStack() as files:
        writer = None

        def spill(to: int, elements: list) -> None:
            nonlocal writer
            if writer is None:
                writer = files.enter_context(spill_writer(spill_file(step.spill_dir, partition, step.prefix)))
            spilled.append((to, writer.add(packed_chunk(elements))))

        for key, values in read_partition(chunks):
            for kind, value in step.step(key, values, *step.args):
                if kind != OK or step.prefix is None:
                    passed_on.append((kind, value))
                elif (full := chunked.add(value)) is not None:
                    spill(*full)
        for to, elements in chunked.rest():
            spill(to, elements)
    return spilled, passed_on
