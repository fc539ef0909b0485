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
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Tuple

from transforms.model import OK
from transforms.output.spill import SpilledLine, read_payloads, spill_file, spill_writer
from transforms.signatures import hash64

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
    return hash64(key if isinstance(key, str) else "\x1f".join(key)) % partitions


def grouped_partition(chunks: Iterable[bytes]) -> List[Tuple[object, list]]:
    """Pickled chunks of (key, value) elements -> (key, values) per key, in key order."""
    groups: Dict[object, list] = {}
    for packed in chunks:
        for key, value in pickle.loads(packed):
            groups.setdefault(key, []).append(value)
    return [(key, groups.pop(key)) for key in sorted(groups)]


def packed_chunk(elements: list) -> bytes:
    return pickle.dumps(elements, protocol=pickle.HIGHEST_PROTOCOL)


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
    pending: Dict[int, list] = {}
    with contextlib.ExitStack() as files:
        writer = None

        def spill(to: int) -> None:
            nonlocal writer
            if writer is None:
                writer = files.enter_context(spill_writer(spill_file(step.spill_dir, partition, step.prefix)))
            spilled.append((to, writer.add(packed_chunk(pending.pop(to)))))

        for key, values in grouped_partition(read_payloads(sorted(chunks))):
            for kind, value in step.step(key, values, *step.args):
                if kind != OK or step.prefix is None:
                    passed_on.append((kind, value))
                    continue
                to = partition_of(value[0], step.partitions)
                waiting = pending.setdefault(to, [])
                waiting.append(value)
                if len(waiting) >= CHUNK_ELEMENTS:
                    spill(to)
        for to in sorted(pending):
            spill(to)
    return spilled, passed_on
