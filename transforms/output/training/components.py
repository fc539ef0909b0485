"""Training records of connected components, built a batch of components at a time, in chunks that
worker processes (processes.ChunkPool) or this process build.

A record is packed and signed where it is built (`TrainingRecord`): that is most
of the work, so it happens in the worker processes, and what comes back is
compressed lines and signatures.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

from transforms.model import ErrorRecord, stage_error
from transforms.output.spill import SpillableRecord, SpilledLine, SpillWriter, loaded, spillable_record
from transforms.output.training import dataset as training_dataset
from transforms.output.training import place
from transforms.output.training.variants import RecordSettings, component_records
from transforms.processes import batch_of, chunked

# Files per batch of components (one element of the step), and per chunk of a batch: a chunk
# is about a tenth of a second of work, and a batch's chunks keep the processes busy.
BATCH_FILES = 512
CHUNK_FILES = 32
# Own files per part of a large component: a part's records (about 18 KB each while made, 3 KB
# once packed) are what a process holds, where a whole component of thousands of files took
# about a gigabyte.
PART_FILES = 256


class TrainingRecord(SpillableRecord):
    """A training record between stages: its output line, compressed (a record repeats its files'
    text in several fields, and the in-process runner holds every stage's output in memory), and
    the fields that splitting, counting and de-duplicating key on. Written as it is.

    Once spilled (`spilled_to`), the line is on disk and the record carries only where it is."""

    FIELDS = ("id", "task", "split", "label")
    __slots__ = ("signature",)

    def __init__(self, record):
        super().__init__(record)
        # Signed while the record is at hand: de-duplication then never decodes the line.
        self.signature = training_dataset.dedup_signature(record)

    def unsigned(self) -> "TrainingRecord":
        """This record without its signature, once de-duplication has read it (256 bytes a record
        that the split filters and the shard groupings would carry for nothing)."""
        return training_record(self.fields, self.packed, b"", self.spilled)

    def spilled_to(self, spill: SpillWriter) -> "TrainingRecord":
        return training_record(self.fields, None, self.signature, spill.add(self.packed))

    def __reduce__(self):
        return training_record, (self.fields, self.packed, self.signature, self.spilled)


def training_record(fields, packed: Optional[bytes], signature: bytes,
                    spilled: Optional[SpilledLine] = None) -> TrainingRecord:
    record = spillable_record(TrainingRecord, fields, packed, spilled)
    record.signature = signature
    return record


class ComponentTask(NamedTuple):
    """What one component's records are built from."""

    component: str
    split: str
    own: List[str]  # the component's files
    files: Dict[str, Mapping[str, Any]]  # summaries of its files and of the other ends of its links
    links: List[Mapping[str, Any]]
    share: Tuple[int, int] = (0, 1)  # (part, parts): which of the component's records (variants.component_records)

    def size(self) -> int:
        """Own files this task builds records of, about."""
        return -(-len(self.own) // self.share[1])


def component_batch(component: str, n_files: int) -> int:
    """The batch of a component: about BATCH_FILES files a batch."""
    return batch_of(component, n_files, BATCH_FILES)


def component_tasks(files: Iterable[Tuple[str, Tuple[Mapping[str, Any], Optional[str]]]],
                    links: Iterable[Tuple[str, Mapping[str, Any]]]) -> List[ComponentTask]:
    """(component, (file summary, the split of a file of the component, None for a file at the other
    end of one of its links)) and (component, link) entries of a batch -> one task per component with
    a link, in component order; a component of more than `PART_FILES` files is several tasks, one a
    part. Spilled summaries and links are read back here, a batch at a time."""
    links = list(links)
    linked: Dict[str, List[Mapping[str, Any]]] = {}
    for (component, _), link in zip(links, loaded(link for _, link in links)):
        linked.setdefault(component, []).append(link)
    wanted = [(component, summary, split) for component, (summary, split) in files if component in linked]
    summaries: Dict[str, Dict[str, Mapping[str, Any]]] = {}
    own: Dict[str, List[str]] = {}
    splits: Dict[str, str] = {}
    for (component, _, split), summary in zip(wanted, loaded(summary for _, summary, _ in wanted)):
        summaries.setdefault(component, {})[summary["file_id"]] = summary
        if split is not None:
            own.setdefault(component, []).append(summary["file_id"])
            splits[component] = split
    tasks = [ComponentTask(component, splits[component], own[component], summaries[component], linked[component])
             for component in sorted(linked) if component in own]
    return [task._replace(share=(part, parts)) for task in tasks
            for parts in [-(-len(task.own) // PART_FILES)] for part in range(parts)]


def task_chunks(tasks: Sequence[ComponentTask], files_per_chunk: int = CHUNK_FILES) -> List[List[ComponentTask]]:
    """Whole tasks in order, cut into chunks of about `files_per_chunk` files."""
    return chunked(tasks, ComponentTask.size, files_per_chunk)


def chunk_records(settings: RecordSettings, chunk: Sequence[ComponentTask]
                  ) -> List[Union[TrainingRecord, ErrorRecord]]:
    """Every record of a chunk's tasks, each packed as it is made; a task that fails gives one error,
    naming its component's first file (and its part, where the component has several)."""
    out: List[Union[TrainingRecord, ErrorRecord]] = []
    for task in chunk:
        try:
            records = component_records(task.files, task.own, task.links, settings, task.share)
            # All of a task's records, or its error.
            out.extend([TrainingRecord(record) for record in place(records, task.component, task.split)])
        except Exception as exc:  # this task's failure, recorded; the others go on
            paths = sorted(s["file_path"] for s in task.files.values())
            error = stage_error("train", exc, paths[0] if paths else task.component)
            part, parts = task.share
            if parts > 1:
                error = dataclasses.replace(
                    error, message=f"part {part + 1} of {parts} of its component: {error.message}")
            out.append(error)
    return out
