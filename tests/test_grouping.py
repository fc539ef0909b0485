"""SpilledGroupByKey groups as GroupByKey does, with its values waiting on disk a partition at a time;
GroupedSteps runs a chain of groupings and steps a spilled partition at a time, as the runner would."""

import os
import pickle

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from hypothesis import given
from hypothesis import strategies as st

from transforms import partitioned
from transforms.model import OK
from transforms.partitioned import PartitionStep, grouped_partition, partition_of, run_partition_task
from transforms.ptransforms.grouping import GroupedSteps, SpilledGroupByKey

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
    monkeypatch.setattr(partitioned, "CHUNK_ELEMENTS", 3)  # chunks spilled as elements come, and the rest at the end
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


# A chain of steps: words by their first letter -> letters by word length -> lengths with their letters.
def _by_length(letter, words, suffix):
    if letter == "z":
        yield "odd", f"z{suffix}"
    for word in words:
        yield OK, (len(word), letter)


def _letters_of_length(length, letters):
    yield OK, (length, "".join(sorted(letters)))
    if length > 5:
        yield "long", length


STEPS = [("ByLength", _by_length, ("!",)), ("Letters", _letters_of_length, ())]
WORDS = [f"{letter}{'x' * (i % 7)}" for i, letter in enumerate("abczqrstuvwxyzab" * 5)]


def _in_memory_chain():
    by_letter = {}
    for word in WORDS:
        by_letter.setdefault(word[0], []).append(word)
    outcomes, elements = [], []
    for letter in sorted(by_letter):
        for kind, value in _by_length(letter, by_letter[letter], "!"):
            (elements if kind == OK else outcomes).append(value if kind == OK else (kind, value))
    by_length = {}
    for length, letter in elements:
        by_length.setdefault(length, []).append(letter)
    for length in sorted(by_length):
        outcomes.extend(_letters_of_length(length, by_length[length]))
    return sorted(outcomes)


@pytest.mark.parametrize("spilled, workers", [(False, 0), (True, 0), (True, 2)])
def test_grouped_steps_give_the_in_memory_chain_spilled_or_not_in_worker_processes_or_not(
        spilled, workers, tmp_path, monkeypatch):
    monkeypatch.setattr(partitioned, "CHUNK_ELEMENTS", 2)  # a task spills chunks as it goes (not in the processes)
    spill = str(tmp_path / "spill") if spilled else None
    entry_lists = [[(w[0], w) for w in WORDS[i:i + 3]] for i in range(0, len(WORDS), 3)]  # a list per element
    with TestPipeline(runner=RUNNER) as p:
        outcomes = p | beam.Create(entry_lists) | GroupedSteps(STEPS, spill, workers)
        assert_that(outcomes, equal_to(_in_memory_chain()))
    if spilled:  # the entries, then one file per partition of the first step's input
        names = os.listdir(spill)
        assert {n.split("-")[0] for n in names} == {"entries", "bylength"}
        assert all(n == f"bylength-{int(n.split('-')[1].split('.')[0])}.bin" for n in names if n.startswith("bylength"))


def test_a_partition_task_run_again_writes_the_same_file_and_gives_the_same_chunks(tmp_path):
    spill = str(tmp_path)
    path = os.path.join(spill, "input.bin")
    elements = [(w[0], w) for w in WORDS]
    chunk = partitioned.packed_chunk(elements)
    with open(path, "wb") as handle:
        handle.write(chunk)
    from transforms.output.spill import SpilledLine

    task = (3, [SpilledLine(path, 0, len(chunk))])
    step = PartitionStep(_by_length, ("!",), spill, "next", partitions=4)
    first = run_partition_task(step, task)
    written = open(os.path.join(spill, "next-3.bin"), "rb").read()
    assert run_partition_task(step, task) == first
    assert open(os.path.join(spill, "next-3.bin"), "rb").read() == written
    spilled, passed_on = first
    assert passed_on == [("odd", "z!")]
    assert sorted(to for to, _ in spilled) == sorted({partition_of(len(w), 4) for w in WORDS})
    last = run_partition_task(step._replace(prefix=None), task)  # the last step returns what it gives
    assert last[0] == [] and sorted(last[1]) == sorted([("odd", "z!")] + [(OK, (len(w), w[0])) for w in WORDS])


def test_partition_tasks_import_no_beam():
    """Worker processes that run partition tasks start in a fraction of a second: no Beam to import."""
    import subprocess
    import sys

    code = ("import sys, transforms.partitioned, transforms.detect.blocking_steps; "
            "from transforms.output.files import atomic; print('apache_beam' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
