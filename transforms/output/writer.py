"""Every output of filegraph goes through this module.

Outputs are JSON Lines shards named `<dir>/<prefix>-SSSSS-of-NNNNN.jsonl` plus
single JSON documents (run_summary.json). Shards are deterministic: a record's
shard is a stable hash of its sort key, and records are sorted within a shard,
so the same input gives byte-identical shards run after run, on any runner.
Paths may be local or on any Beam filesystem (gs://).

Every file is written under a temporary name beside its final one and then
renamed, so a reader never sees half a shard. A run first removes the
previous run's summary, then its shards; its own summary is written after
every shard (the pipeline makes it wait for them). A run killed
midway therefore leaves shards and no summary, never a folder that looks
finished, and the next run over the same folder replaces everything.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from transforms.output.lines import PackedRecord, dumps, line_bytes, packed_line  # noqa: F401 (dumps re-exported)
from transforms.output.files import TEMPORARY as _TEMPORARY
from transforms.output.files import atomic as _atomic
from transforms.output.files import join_path
from transforms.output.spill import Payload, read_payloads
from transforms.ptransforms import Timed
from transforms.signatures import hash64

RECORDS_PER_SHARD = 50_000
# Output folder -> shard prefix; "training" holds shards of the layout before training/data/.
OUTPUTS = {"nodes": "nodes", "edges": "edges", "errors": "errors", "training/data": "*", "training": "train"}
TRAINING_DATA = ("training", "data")  # training/data/<split>-SSSSS-of-NNNNN.jsonl, card in training/README.md
TRAINING_SPILL = ("training", ".spill")  # file summaries and training records' lines until the shards are written (spill.py)
VIEW_SPILL = (".scoring-views",)  # scoring's packed views until every pair is scored (spill.py)
BLOCKING_SPILL = (".blocking",)  # blocking's groupings until its candidate pairs are made (ptransforms/grouping.py)
SUMMARY = "run_summary.json"


def error_sort_key(error: Mapping[str, Any]) -> str:
    """Orders and places error records: a file can have errors of several stages and pairs."""
    return f"{error['file_path']}|{error['stage']}|{error.get('paired_with') or ''}|{error['error_type']}"


def shard_count(records: int, fixed: int = 0, per_shard: int = RECORDS_PER_SHARD) -> int:
    return fixed if fixed > 0 else max(1, math.ceil(records / per_shard))


def shard_of(sort_key: str, shards: int) -> int:
    return hash64(sort_key) % shards


def shard_path(directory: str, prefix: str, index: int, shards: int) -> str:
    return join_path(directory, f"{prefix}-{index:05d}-of-{shards:05d}.jsonl")


def write_lines(path: str, lines: Iterable[str]) -> None:
    write_line_bytes(path, (line.encode("utf-8") for line in lines))


def write_line_bytes(path: str, lines: Iterable[bytes]) -> None:
    """UTF-8 lines, each ended by a newline."""
    with _atomic(path) as handle:
        for line in lines:
            handle.write(line)
            handle.write(b"\n")


def write_text(path: str, text: str) -> None:
    with _atomic(path) as handle:
        handle.write(text.encode("utf-8"))


def write_json(path: str, document: Mapping[str, Any]) -> None:
    with _atomic(path) as handle:
        handle.write(json.dumps(document, indent=2, sort_keys=True, default=str).encode("utf-8") + b"\n")


def shard_payload(record: Mapping[str, Any]) -> Payload:
    """What a shard carries for a record until it is written: the compressed line, or where it was spilled."""
    return record.payload() if isinstance(record, PackedRecord) else packed_line(record)


def read_jsonl(directory: str, prefix: str) -> List[Dict[str, Any]]:
    """All records of one output, in shard order (for evaluation and tests)."""
    return list(iter_jsonl(directory, prefix))


# Lines decoded in one call share their key strings (the decoder's memo): edges read back in a
# third less memory (93 MB against 139 MB for 27,973 edges), which exports hold all at once.
DECODED_TOGETHER = 1000


def iter_jsonl(directory: str, prefix: str) -> Iterator[Dict[str, Any]]:
    """Records of one output, one shard in memory at a time. Lines end at a newline only: a
    string may hold U+2028 or U+0085 as they are, which str.splitlines would also split at."""
    pattern = join_path(directory, f"{prefix}-*-of-*.jsonl")
    for match in sorted(FileSystems.match([pattern])[0].metadata_list, key=lambda m: m.path):
        with FileSystems.open(match.path) as handle:
            lines = [line for line in handle.read().splitlines() if line.strip()]
        for start in range(0, len(lines), DECODED_TOGETHER):
            yield from json.loads(b"[" + b",".join(lines[start:start + DECODED_TOGETHER]) + b"]")


def read_json(path: str) -> Dict[str, Any]:
    with FileSystems.open(path) as handle:
        return json.loads(handle.read().decode("utf-8"))


def is_file(path: str) -> bool:
    """True when `path` names an existing file (or object) rather than a folder."""
    if "://" not in path:
        return os.path.isfile(path)
    return not path.endswith("/") and FileSystems.exists(path)


def read_bytes(path: str) -> bytes:
    with FileSystems.open(path) as handle:
        return handle.read()


def write_bytes(path: str, data: bytes) -> None:
    with FileSystems.create(path) as handle:
        handle.write(data)


def clear_outputs(output_dir: str) -> None:
    """Removes an earlier run's outputs: its summary first, then its shards and any file left half-written."""
    summary = join_path(output_dir, SUMMARY)
    if FileSystems.exists(summary):
        FileSystems.delete([summary])
    patterns = [join_path(output_dir, f".*{_TEMPORARY}*")]
    for sub, prefix in OUTPUTS.items():
        # Batch shards, part files of a streaming run (transforms/output/appending.py), temporaries.
        patterns += [join_path(output_dir, sub, name)
                     for name in (f"{prefix}-*-of-*.jsonl", f"{prefix}-part-*.jsonl", f".*{_TEMPORARY}*")]
    patterns.append(join_path(output_dir, "training", "README.md"))
    patterns += [join_path(output_dir, *spill, name) for spill in (TRAINING_SPILL, VIEW_SPILL, BLOCKING_SPILL)
                 for name in ("*", ".*")]
    stale = sorted({m.path for result in FileSystems.match(patterns) for m in result.metadata_list})
    if stale:
        FileSystems.delete(stale)


class _WriteShard(beam.DoFn):
    def __init__(self, directory: str, prefix: str):
        self._directory = directory
        self._prefix = prefix

    def process(self, element: Tuple[Tuple[int, int], Iterable[Tuple[str, bytes]]]):
        (index, shards), keyed_payloads = element
        path = shard_path(self._directory, self._prefix, index, shards)
        ordered = [payload for _, payload in sorted(keyed_payloads)]
        write_line_bytes(path, (line_bytes(packed) for packed in read_payloads(ordered)))
        yield path


class _EmptyShards(beam.DoFn):
    """Writes shard files that received no records, so every output exists."""

    def __init__(self, directory: str, prefix: str):
        self._directory = directory
        self._prefix = prefix

    def process(self, shards: int, written: List[str]):
        for index in range(shards):
            path = shard_path(self._directory, self._prefix, index, shards)
            if path not in written:
                write_lines(path, [])
                yield path


class WriteJsonlShards(beam.PTransform):
    """Writes dicts as deterministic JSONL shards; `sort_key` orders and places them."""

    def __init__(self, directory: str, prefix: str, sort_key, fixed_shards: int = 0, telemetry=None,
                 records_per_shard: int = RECORDS_PER_SHARD, write_empty: bool = True, label: Optional[str] = None):
        super().__init__(label)
        self._directory = directory
        self._prefix = prefix
        self._sort_key = sort_key
        self._fixed_shards = fixed_shards
        self._telemetry = telemetry  # times the writes to the "write" stage (transforms/telemetry.py)
        self._per_shard = records_per_shard
        self._write_empty = write_empty  # False: no records, no file (a JSON reader rejects an empty file)

    def expand(self, records):
        fixed, per_shard, write_empty = self._fixed_shards, self._per_shard, self._write_empty
        shards = (
            records
            | "Count" >> beam.combiners.Count.Globally()
            | "ShardCount" >> beam.Map(lambda n: shard_count(n, fixed, per_shard) if n or write_empty else 0)
        )
        sort_key = self._sort_key
        written = (
            records
            | "KeyByShard" >> beam.Map(
                lambda r, n: ((shard_of(sort_key(r), n), n), (sort_key(r), shard_payload(r))),
                n=beam.pvalue.AsSingleton(shards),
            )
            | "GroupShards" >> beam.GroupByKey()
            | "WriteShards" >> beam.ParDo(Timed("write", _WriteShard(self._directory, self._prefix), self._telemetry))
        )
        empty = shards | "WriteEmptyShards" >> beam.ParDo(
            _EmptyShards(self._directory, self._prefix), written=beam.pvalue.AsList(written)
        )
        return (written, empty) | "AllShards" >> beam.Flatten()
