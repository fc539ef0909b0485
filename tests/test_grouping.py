"""SpilledGroupByKey groups as GroupByKey does, with its values waiting on disk a partition at a time."""

import os
import pickle

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from hypothesis import given
from hypothesis import strategies as st

from transforms.ptransforms import grouping
from transforms.ptransforms.grouping import SpilledGroupByKey, grouped_partition, partition_of

RUNNER = "FnApiRunner"


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c\udce9", "d|e"]), st.integers()), max_size=40),
       st.integers(1, 7))
def test_chunks_of_a_partition_group_into_every_keys_values_in_key_order(elements, chunk):
    chunks = [pickle.dumps(elements[i:i + chunk]) for i in range(0, len(elements), chunk)]
    grouped = grouped_partition(chunks)
    assert [key for key, _ in grouped] == sorted({key for key, _ in elements})
    assert {key: sorted(values) for key, values in grouped} == {
        key: sorted(v for k, v in elements if k == key) for key in {k for k, _ in elements}}


def test_a_keys_partition_is_stable_for_string_integer_and_tuple_keys():
    assert partition_of("val:1f", 64) == partition_of("val:1f", 64) < 64
    assert partition_of(("a", "b"), 64) == partition_of("a\x1fb", 64)
    assert partition_of(17, 64) == partition_of("17", 64)  # training's component batches are numbered


def test_spilled_grouping_equals_group_by_key_and_leaves_its_chunks_on_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(grouping, "CHUNK_ELEMENTS", 3)  # chunks spilled as elements come, and the rest at the end
    strings = [(f"key{i % 11}", i) for i in range(200)]
    pairs = [((f"a{i % 3}", "b"), i) for i in range(20)]
    numbers = [(i % 5, str(i)) for i in range(30)]
    spill = str(tmp_path / "spill")

    def groups(elements):
        return sorted({k: sorted(v for kk, v in elements if kk == k) for k, _ in elements}.items())

    with TestPipeline(runner=RUNNER) as p:
        for name, elements in (("strings", strings), ("pairs", pairs), ("numbers", numbers)):
            pcoll = p | f"Create{name}" >> beam.Create(elements)
            spilled = pcoll | f"Spilled{name}" >> SpilledGroupByKey(spill, "test", partitions=4)
            plain = pcoll | f"Plain{name}" >> SpilledGroupByKey(None, "test")
            for label, grouped in (("spilled", spilled), ("plain", plain)):
                assert_that(grouped | f"{label}{name}Sets" >> beam.MapTuple(lambda k, vs: (k, sorted(vs))),
                            equal_to(groups(elements)), label=f"{label}_{name}")
    files = os.listdir(spill)
    assert files and all(name.startswith("test-") for name in files)
