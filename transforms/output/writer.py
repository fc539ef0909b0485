"""Every output of filegraph goes through this module.

Outputs are JSON Lines shards named `<dir>/<prefix>-SSSSS-of-NNNNN.jsonl` plus
single JSON documents (run_summary.json). Shards are deterministic: a record's
shard is a stable hash of its sort key, and records are sorted within a shard,
so the same input gives byte-identical shards run after run, on any runner.
Paths may be local or on any Beam filesystem (gs://).
"""

from __future__ import annotations

import json
import math
import os
import posixpath
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from transforms.signatures import hash64

RECORDS_PER_SHARD = 50_000
OUTPUTS = {"nodes": "nodes", "edges": "edges", "training": "train", "errors": "errors"}


def join_path(base: str, *parts: str) -> str:
    return FileSystems.join(base, *parts) if "://" in base else posixpath.join(base, *parts)


def dumps(record: Mapping[str, Any]) -> str:
    """One JSONL line: keys sorted, no NaN, UTF-8 kept readable."""
    return json.dumps(record, sort_keys=True, ensure_ascii=False, allow_nan=False, default=str)


def shard_count(records: int, fixed: int = 0) -> int:
    return fixed if fixed > 0 else max(1, math.ceil(records / RECORDS_PER_SHARD))


def shard_of(sort_key: str, shards: int) -> int:
    return hash64(sort_key) % shards


def shard_path(directory: str, prefix: str, index: int, shards: int) -> str:
    return join_path(directory, f"{prefix}-{index:05d}-of-{shards:05d}.jsonl")


def write_lines(path: str, lines: Iterable[str]) -> None:
    with FileSystems.create(path) as handle:
        for line in lines:
            handle.write(line.encode("utf-8") + b"\n")


def write_json(path: str, document: Mapping[str, Any]) -> None:
    with FileSystems.create(path) as handle:
        handle.write(json.dumps(document, indent=2, sort_keys=True, default=str).encode("utf-8") + b"\n")


def read_jsonl(directory: str, prefix: str) -> List[Dict[str, Any]]:
    """All records of one output, in shard order (for evaluation and tests)."""
    return list(iter_jsonl(directory, prefix))


def iter_jsonl(directory: str, prefix: str) -> Iterator[Dict[str, Any]]:
    """Records of one output, one shard in memory at a time."""
    pattern = join_path(directory, f"{prefix}-*-of-*.jsonl")
    for match in sorted(FileSystems.match([pattern])[0].metadata_list, key=lambda m: m.path):
        with FileSystems.open(match.path) as handle:
            for line in handle.read().decode("utf-8").splitlines():
                if line:
                    yield json.loads(line)


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
    """Removes shards of an earlier run so that stale shards never mix in."""
    stale = []
    for sub, prefix in OUTPUTS.items():
        # Batch shards, and part files of a streaming run (transforms/output/appending.py).
        for name in (f"{prefix}-*-of-*.jsonl", f"{prefix}-part-*.jsonl"):
            pattern = join_path(output_dir, sub, name)
            stale.extend(m.path for m in FileSystems.match([pattern])[0].metadata_list)
    if stale:
        FileSystems.delete(stale)


class _WriteShard(beam.DoFn):
    def __init__(self, directory: str, prefix: str):
        self._directory = directory
        self._prefix = prefix

    def process(self, element: Tuple[Tuple[int, int], Iterable[Tuple[str, str]]]):
        (index, shards), keyed_lines = element
        path = shard_path(self._directory, self._prefix, index, shards)
        write_lines(path, (line for _, line in sorted(keyed_lines)))
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

    def __init__(self, directory: str, prefix: str, sort_key, fixed_shards: int = 0, label: Optional[str] = None):
        super().__init__(label)
        self._directory = directory
        self._prefix = prefix
        self._sort_key = sort_key
        self._fixed_shards = fixed_shards

    def expand(self, records):
        fixed = self._fixed_shards
        shards = (
            records
            | "Count" >> beam.combiners.Count.Globally()
            | "ShardCount" >> beam.Map(lambda n: shard_count(n, fixed))
        )
        sort_key = self._sort_key
        written = (
            records
            | "KeyByShard" >> beam.Map(
                lambda r, n: ((shard_of(sort_key(r), n), n), (sort_key(r), dumps(r))),
                n=beam.pvalue.AsSingleton(shards),
            )
            | "GroupShards" >> beam.GroupByKey()
            | "WriteShards" >> beam.ParDo(_WriteShard(self._directory, self._prefix))
        )
        return shards | "WriteEmptyShards" >> beam.ParDo(
            _EmptyShards(self._directory, self._prefix), written=beam.pvalue.AsList(written)
        )
