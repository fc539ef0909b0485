"""Output lines kept on disk between the step that makes them and the shard that holds them.

Training records are most of a run's output bytes (about 3 KB compressed each,
several per file), and the in-process runner holds every stage's output in
memory, often in several copies: the step's output, a filter's, the shard
grouping. So each batch of records writes its compressed lines to one spill
file under the output folder, and the records travel on as their fields, their
signature and a `SpilledLine` (where the line is). The shard writer reads the
lines back, a file at a time in offset order, and the spill folder is removed
once every shard is written.

A spill file is named after its batch, and a batch always gives the same lines
in the same order: a retried bundle rewrites the same file, byte for byte.

File summaries and training's links wait the same way between the steps that
make them and training's component batches (`SpillableRecord`, `loaded`):
training's joins hold every summary and link, some twice over.

Scoring's pair views wait the same way (BundleSpill, one file per bundle of
records): its side input carries where each view is, and the scoring processes
read the views they need themselves (SpillReader).
"""

from __future__ import annotations

import contextlib
import os
from collections import OrderedDict
from typing import Any, Dict, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

from transforms.output.lines import PackedRecord

# Beam's filesystems are imported on first use: training worker processes build records with this
# module loaded and never touch a file.


class SpilledLine(NamedTuple):
    """Where a compressed output line was spilled."""

    path: str
    offset: int
    length: int


# What a shard carries for a record until it is written: the compressed line, or where it was spilled.
Payload = Union[bytes, SpilledLine]


class SpillWriter:
    """Appends compressed lines to one open spill file; `add` says where each line went."""

    def __init__(self, path: str, handle):
        self.path = path
        self._handle = handle
        self._offset = 0

    def add(self, packed: bytes) -> SpilledLine:
        self._handle.write(packed)
        where = SpilledLine(self.path, self._offset, len(packed))
        self._offset += len(packed)
        return where


class SpillableRecord(PackedRecord):
    """A PackedRecord whose compressed line may wait in a spill file: once spilled (`spilled_to`),
    `packed` is None and `spilled` says where the line is."""

    __slots__ = ("spilled",)

    def __init__(self, record):
        super().__init__(record)
        self.spilled: Optional[SpilledLine] = None

    def compressed(self) -> bytes:
        return self.packed if self.spilled is None else next(read_payloads([self.spilled]))

    def payload(self) -> Payload:
        return self.packed if self.spilled is None else self.spilled

    def spilled_to(self, spill: Union["SpillWriter", "BundleSpill"]):
        """This record with its line written to `spill` and no longer held."""
        return spillable_record(type(self), self.fields, None, spill.add(self.packed))

    def __reduce__(self):
        return spillable_record, (type(self), self.fields, self.packed, self.spilled)


def spillable_record(cls, fields: Dict[str, Any], packed: Optional[bytes], spilled: Optional[SpilledLine] = None):
    """A SpillableRecord (of class `cls`) from its fields and its line, or where the line was spilled."""
    record = cls.__new__(cls)
    record.packed, record.fields, record._record, record.spilled = packed, fields, None, spilled
    return record


def loaded(records: Iterable[Any]) -> List[Any]:
    """`records` with the lines of spilled ones read back (read_payloads: a file at a time, in offset
    order); others as they are."""
    records = list(records)
    spilled = [r.spilled for r in records if isinstance(r, SpillableRecord) and r.spilled is not None]
    if not spilled:
        return records
    lines = read_payloads(spilled)
    return [spillable_record(type(r), r.fields, next(lines))
            if isinstance(r, SpillableRecord) and r.spilled is not None else r for r in records]


def spill_file(directory: str, batch: object, prefix: str = "batch") -> str:
    from transforms.output.files import join_path

    return join_path(directory, f"{prefix}-{batch}.bin")


@contextlib.contextmanager
def spill_writer(path: str) -> Iterator[SpillWriter]:
    """A spill file being written (renamed into place when the block succeeds)."""
    from transforms.output.files import atomic

    with atomic(path) as handle:
        yield SpillWriter(path, handle)


def remove_spill(directory: str, *_written) -> str:
    """Deletes a spill folder; `_written` (side inputs: the shards that read it) makes the step wait for them."""
    from apache_beam.io.filesystems import FileSystems

    from transforms.output.files import join_path

    found = sorted({m.path for result in FileSystems.match([join_path(directory, "*"), join_path(directory, ".*")])
                    for m in result.metadata_list})
    if found:
        FileSystems.delete(found)
    if "://" not in directory and os.path.isdir(directory):
        os.rmdir(directory)
    return directory


def read_payloads(payloads: Sequence[Payload]) -> Iterator[bytes]:
    """The compressed lines of `payloads`, in their order; spilled ones are read a file at a time,
    in offset order, so a shard reads each spill file once and forward only."""
    wanted: Dict[str, List[Tuple[int, int, int]]] = {}
    for index, payload in enumerate(payloads):
        if isinstance(payload, SpilledLine):
            wanted.setdefault(payload.path, []).append((payload.offset, payload.length, index))
    if not wanted:
        yield from payloads  # type: ignore[misc]
        return
    resolved: Dict[int, bytes] = {}
    for path in sorted(wanted):
        with _open_spill(path) as handle:
            position = 0
            for offset, length, index in sorted(wanted[path]):
                if offset != position:
                    handle.seek(offset)
                resolved[index] = _read_exactly(handle, length, path)
                position = offset + length
    for index, payload in enumerate(payloads):
        yield resolved.pop(index) if isinstance(payload, SpilledLine) else payload  # type: ignore[misc]


class BundleSpill:
    """One spill file for whatever a bundle spills, opened with its first line and renamed into place
    by `close` (a DoFn's finish_bundle). Named at random: a retried bundle writes a new file, and the
    one it replaces goes with the folder."""

    def __init__(self, directory: str, prefix: str):
        self._directory = directory
        self._prefix = prefix
        self._stack = contextlib.ExitStack()
        self._writer = None

    def add(self, packed: bytes) -> SpilledLine:
        if self._writer is None:
            import uuid

            path = spill_file(self._directory, uuid.uuid4().hex, self._prefix)
            self._writer = self._stack.enter_context(spill_writer(path))
        return self._writer.add(packed)

    def close(self) -> None:
        self._stack.close()
        self._writer = None


class SpillReader:
    """Reads spilled lines one at a time, keeping up to `open_files` spill files open (least recently
    used closed first): for lookups by file, where read_payloads serves whole shards."""

    def __init__(self, open_files: int = 64):
        self._limit = open_files
        self._handles: "OrderedDict[str, Any]" = OrderedDict()

    def read(self, where: SpilledLine) -> bytes:
        handle = self._handles.pop(where.path, None)
        if handle is None:
            handle = _open_spill(where.path)
            while len(self._handles) >= self._limit:
                self._handles.popitem(last=False)[1].close()
        self._handles[where.path] = handle
        handle.seek(where.offset)
        return _read_exactly(handle, where.length, where.path)

    def close(self) -> None:
        while self._handles:
            self._handles.popitem()[1].close()


def _open_spill(path: str):
    if "://" not in path:  # a local file: no Beam in the worker processes that read these
        return open(path, "rb")
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def _read_exactly(handle, length: int, path: str) -> bytes:
    data = handle.read(length)
    while len(data) < length:  # a remote reader may return less than asked
        more = handle.read(length - len(data))
        if not more:
            raise IOError(f"spill file {path} ends before a line it should hold")
        data += more
    return data
