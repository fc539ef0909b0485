"""Outputs of a streaming run: JSONL part files appended as results arrive.

A batch run writes each output once, in deterministic shards. A streaming run
never ends, so each bundle of results becomes one more part file,
`<dir>/<prefix>-part-<digest>.jsonl`, its lines sorted and its name the digest
of its content: a bundle retried by the runner rewrites the same file instead
of adding a copy. A part is written atomically (writer.write_lines), so a
reader never sees half a part.
"""

from __future__ import annotations

import hashlib
from typing import Any, Callable, Dict, List, Optional

import apache_beam as beam

from transforms.output.writer import dumps, join_path, write_lines


def part_path(directory: str, prefix: str, lines: List[str]) -> str:
    digest = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()[:20]
    return join_path(directory, f"{prefix}-part-{digest}.jsonl")


class _AppendPartFn(beam.DoFn):
    def __init__(self, directory: str, prefix: str, sort_key: Callable[[Dict[str, Any]], str]):
        self._directory = directory
        self._prefix = prefix
        self._sort_key = sort_key
        self._pending: List[Dict[str, Any]] = []

    def start_bundle(self):
        self._pending = []

    def process(self, record: Dict[str, Any]):
        self._pending.append(record)

    def finish_bundle(self):
        if not self._pending:
            return
        lines = [dumps(r) for r in sorted(self._pending, key=self._sort_key)]
        write_lines(part_path(self._directory, self._prefix, lines), lines)
        self._pending = []


class AppendJsonl(beam.PTransform):
    """Dicts -> part files appended under `directory` as bundles complete."""

    def __init__(self, directory: str, prefix: str, sort_key, label: Optional[str] = None):
        super().__init__(label)
        self._fn = _AppendPartFn(directory, prefix, sort_key)

    def expand(self, records):
        return records | "AppendParts" >> beam.ParDo(self._fn)
