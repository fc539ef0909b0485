"""Groupings whose values wait on disk, a partition of keys read back at a time (transforms/partitioned.py).

The in-process runner holds a grouping whole: every value decoded, a list and a
dictionary entry per key, then all of it encoded again as the next stage reads it.
Blocking's first grouping (a file id per blocking key: 1,149,617 values under 368,202
keys at 12,413 files) was the main process's peak at 125,299 files.

SpilledGroupByKey: each bundle pickles its elements in chunks, one partition of keys
to a chunk, into one spill file (spill.BundleSpill); the runner groups only where the
chunks are, and each partition is grouped in memory on its own.

GroupedSteps: a chain of such groupings, each followed by a step, as meta-blocking is.
Each step runs a partition at a time in worker processes, reading its chunks and
spilling the next grouping's, so only where the chunks are passes through the runner:
the runner's work per element (decoding, calling each fused step, encoding) ran on
one core, and was most of blocking's time (about 21 s of 40 at 12,413 files).
"""

from __future__ import annotations

from typing import Iterable, List, Optional, Sequence, Tuple

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindows

from transforms.model import OK
from transforms.output.spill import SpilledLine
from transforms.partitioned import (PARTITIONS, ChunksByPartition, PartitionStep, Step, packed_chunk, read_partition,
                                    run_partition_task)
from transforms.processes import worker_pool
from transforms.ptransforms.common import NO_TELEMETRY, BundleSpillFn, Timed, only_kind
from transforms.telemetry import Telemetry


class _SpillByPartitionFn(BundleSpillFn):
    """(key, value) -> (partition, where a chunk of its elements was spilled)."""

    def __init__(self, spill_dir: str, prefix: str, partitions: int, lists: bool = False):
        super().__init__(spill_dir, prefix)
        self._partitions = partitions
        self._lists = lists  # elements are lists of (key, value) elements
        self._chunks = ChunksByPartition(partitions)

    def start_bundle(self):
        self._chunks = ChunksByPartition(self._partitions)

    def process(self, element):
        for key_value in element if self._lists else (element,):
            full = self._chunks.add(key_value)
            if full is not None:
                yield self._spilled(*full)

    def _spilled(self, partition: int, elements: list) -> Tuple[int, SpilledLine]:
        return partition, self.bundle_spill().add(packed_chunk(elements))

    def finish_bundle(self):
        for partition, elements in self._chunks.rest():
            yield GlobalWindows.windowed_value(self._spilled(partition, elements))
        super().finish_bundle()  # closes the spill file before any later step reads it


def _read_partition(partition_chunks: Tuple[int, Iterable[SpilledLine]]):
    return read_partition(partition_chunks[1])


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


# What a partition task's spilled outcome is, beside the step's own kinds.
SPILLED = "spilled"


class _PartitionTasksFn(beam.DoFn):
    """(partition, its chunks) -> the step's outcomes: (SPILLED, (partition, chunk)) per chunk
    of the next grouping, or the last step's outcomes, and every other kind as it is.

    The bundle's partitions are run at its end, by `workers` processes
    (processes.ChunkPool) or, where there are none, here.
    """

    def __init__(self, step: PartitionStep, workers: int, stage: str, telemetry: Optional[Telemetry]):
        self._step = step
        self._workers = workers
        self._stage = stage
        self._telemetry = telemetry or NO_TELEMETRY
        self._tasks: List[Tuple[int, List[SpilledLine]]] = []

    def start_bundle(self):
        self._tasks = []

    def process(self, element):
        partition, chunks = element
        self._tasks.append((partition, list(chunks)))  # run_partition_task reads them in order
        return ()

    def finish_bundle(self):
        tasks, self._tasks = sorted(self._tasks), []
        if tasks:
            yield from self._telemetry.timed(self._stage, self._outcomes, tasks)
        self._telemetry.flush()

    def _outcomes(self, tasks):
        pool = worker_pool(min(self._workers, len(tasks)), self._step, run_partition_task, "grouping")
        try:
            results = pool.map(tasks) if pool is not None else (run_partition_task(self._step, t) for t in tasks)
            for spilled, passed_on in results:
                for chunk in spilled:
                    yield GlobalWindows.windowed_value((SPILLED, chunk))
                for outcome in passed_on:
                    yield GlobalWindows.windowed_value(outcome)
        finally:
            if pool is not None:
                pool.close()


def _plain_step(step: Step, args: tuple):
    return lambda key_values: step(key_values[0], key_values[1], *args)


class GroupedSteps(beam.PTransform):
    """Lists of (key, value) elements -> a chain of groupings, each followed by a step
    (partitioned.Step) that reads one key's values and gives the next grouping's elements:
    the last step's OK outcomes, and every other kind any step gives, as (kind, value).

    With `spill_dir`, each grouping waits there a partition at a time and each step runs
    a partition at a time, in `workers` worker processes (partitioned.run_partition_task);
    without, GroupByKey and a FlatMap per step. Either way a step sees each key's values
    whole, in no set order.
    """

    def __init__(self, steps: Sequence[Tuple[str, Step, tuple]], spill_dir: Optional[str], workers: int = 0,
                 stage: str = "block", telemetry: Optional[Telemetry] = None, label: Optional[str] = None):
        super().__init__(label)
        self._steps = list(steps)
        self._spill_dir = spill_dir
        self._workers = workers
        self._stage = stage
        self._telemetry = telemetry

    def expand(self, entry_lists):
        if self._spill_dir is None:
            return self._grouped_in_runner(entry_lists)
        chunks = entry_lists | "SpillByPartition" >> beam.ParDo(
            _SpillByPartitionFn(self._spill_dir, "entries", PARTITIONS, lists=True))
        others = []
        for index, (name, step, args) in enumerate(self._steps):
            last = index == len(self._steps) - 1
            spec = PartitionStep(step, args, self._spill_dir, None if last else f"{name.lower()}")
            outcomes = (chunks
                        | f"GroupChunksFor{name}" >> beam.GroupByKey()
                        | name >> beam.ParDo(_PartitionTasksFn(spec, self._workers, self._stage, self._telemetry)))
            if last:
                return [outcomes, *others] | "AllOutcomes" >> beam.Flatten()
            chunks = outcomes | f"{name}Chunks" >> only_kind(SPILLED)
            others.append(outcomes | f"{name}Others" >> beam.Filter(lambda o: o[0] != SPILLED))

    def _grouped_in_runner(self, entry_lists):
        elements = entry_lists | "Entries" >> beam.FlatMap(lambda entries: entries)
        others = []
        for index, (name, step, args) in enumerate(self._steps):
            outcomes = elements | f"GroupFor{name}" >> beam.GroupByKey() | name >> beam.ParDo(
                Timed(self._stage, _plain_step(step, args), self._telemetry))
            if index == len(self._steps) - 1:
                return [outcomes, *others] | "AllOutcomes" >> beam.Flatten()
            elements = outcomes | f"{name}Ok" >> only_kind(OK)
            others.append(outcomes | f"{name}Others" >> beam.Filter(lambda o: o[0] != OK))
