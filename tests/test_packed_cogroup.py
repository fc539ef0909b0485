"""PackedCoGroupByKey groups as CoGroupByKey does, holding each value packed in the grouping."""

from collections.abc import Mapping

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms.output.training.evidence import FileSummary
from transforms.ptransforms.common import PackedCoGroupByKey


def _comparable(key, grouped):  # a FileSummary compares by its whole record, text included
    return key, {tag: sorted(repr(dict(v) if isinstance(v, Mapping) else v) for v in values)
                 for tag, values in sorted(grouped.items())}


def test_packed_cogroup_gives_what_cogroupbykey_gives():
    summaries = [(f"c{i % 7}", FileSummary({"file_id": f"f{i}", "file_path": f"d/f{i}.csv", "text": "x" * i}))
                 for i in range(40)]
    links = [(f"c{i % 5}", {"source_id": f"f{i}", "label": "related", "weight": i / 3}) for i in range(30)]
    only_left = [("c99", ("lonely", 1))]
    expected = {}
    for tag, entries in (("files", summaries + only_left), ("links", links)):
        for key, value in entries:
            expected.setdefault(key, {"files": [], "links": []})[tag].append(value)
    with TestPipeline(runner="FnApiRunner") as p:
        files = p | "Files" >> beam.Create(summaries + only_left)
        linked = p | "Links" >> beam.Create(links)
        packed = {"files": files, "links": linked} | "Packed" >> PackedCoGroupByKey()
        plain = {"files": files, "links": linked} | "Plain" >> beam.CoGroupByKey()
        want = [_comparable(k, g) for k, g in expected.items()]
        assert_that(packed | "ComparablePacked" >> beam.MapTuple(_comparable), equal_to(want), label="AsExpected")
        assert_that(plain | "ComparablePlain" >> beam.MapTuple(_comparable), equal_to(want), label="AsBeam")
