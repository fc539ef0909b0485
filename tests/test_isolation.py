"""Parser isolation: a crash, panic, hang or memory blow-up in a parser is one file's error, never the run's.

The misbehaving readers are in tests/crash_readers.py; the pool registers them in
its parser processes only, so nothing here can take the test process down.
"""

import dataclasses
import os
import time

import apache_beam as beam
import psutil
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests import crash_readers
from tests.hostile_corpus import write_hostile_corpus
from transforms import extract
from transforms.config import Config, ExtractionConfig, config_from_dict
from transforms.extract.isolation import ParserPool, extract_one
from transforms.extract.matching import MatchedFile
from transforms.model import ErrorRecord, FileRecord
from transforms.ptransforms import ExtractFiles

MISBEHAVIOURS = ("abort", "segfault", "panic", "spin", "hog", "exits")
READERS = {name: f"tests.crash_readers:{name}" for name in (*MISBEHAVIOURS, "sleepy")}
EXPECTED = {
    "abort": ("crash", "SIGABRT"),
    "segfault": ("crash", "SIGSEGV"),
    "panic": ("crash", "NativePanic"),
    "spin": ("timeout", "no result within 3 s"),
    "hog": ("memory_limit", "grew past"),
    "exits": ("crash", "exited with status 3"),
}


def _config(**limits) -> Config:
    defaults = {"timeout_seconds": 3.0, "workers": 2, "memory_budget_mb": 1536}
    return dataclasses.replace(Config(), extraction=ExtractionConfig(**{**defaults, **limits}))


def _files(tmp_path, names):
    paths = []
    for name in names:
        path = tmp_path / name
        path.write_text("the quarterly numbers\n" if name.endswith(".txt") else "x")
        paths.append(str(path))
    return paths


@pytest.fixture(scope="module")
def misbehaving_run(tmp_path_factory):
    """Each misbehaving file followed by a good one, through one pool of two processes."""
    folder = tmp_path_factory.mktemp("crashes")
    names = [n for kind in MISBEHAVIOURS for n in (f"{kind}.{kind}", f"after-{kind}.txt")]
    paths = _files(folder, names)
    started = time.monotonic()
    with ParserPool(_config(), READERS) as pool:
        for path in paths:
            pool.submit(os.path.basename(path), path)
        done = dict(pool.drain())
        replaced = dict(pool.replaced)
        processes = pool.processes_started
    return done, replaced, processes, time.monotonic() - started


@pytest.mark.parametrize("kind", MISBEHAVIOURS)
def test_a_misbehaving_parser_is_one_specific_error_naming_the_file(misbehaving_run, kind):
    outcome = misbehaving_run[0][f"{kind}.{kind}"]
    error_type, fragment = EXPECTED[kind]
    assert isinstance(outcome, ErrorRecord)
    assert outcome.file_path.endswith(f"{kind}.{kind}")
    assert (outcome.stage, outcome.error_type) == ("extract", error_type)
    assert fragment in outcome.message


@pytest.mark.parametrize("kind", MISBEHAVIOURS)
def test_the_file_after_a_misbehaving_one_is_still_read(misbehaving_run, kind):
    outcome = misbehaving_run[0][f"after-{kind}.txt"]
    assert isinstance(outcome, FileRecord)
    assert "quarterly" in outcome.text


def test_each_misbehaving_parser_process_is_replaced(misbehaving_run):
    _, replaced, processes, _ = misbehaving_run
    assert replaced == {"crash": 4, "timeout": 1, "memory_limit": 1}
    assert len(misbehaving_run[0]) == 12
    # The first two, and a new one for each replacement while files remain: the last
    # replacement of each of the two may find the queue empty.
    assert processes >= 2 + 6 - 2


def test_a_hanging_parser_costs_its_timeout_not_the_run(misbehaving_run):
    assert misbehaving_run[3] < 60  # one 3 s timeout, six replacements, twelve files


def test_closing_the_pool_leaves_no_process_behind(tmp_path):
    paths = _files(tmp_path, ["a.sleepy", "b.txt"])
    (tmp_path / "a.sleepy").write_text("30")  # still busy when the pool closes
    pool = ParserPool(_config(), READERS)
    pool.submit("a", paths[0])
    pool.submit("b", paths[1])
    children = [psutil.Process(pid) for pid in pool.child_pids()]
    pool.close()
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive


def test_parser_processes_are_recycled_after_their_file_quota(tmp_path):
    paths = _files(tmp_path, [f"n{i}.txt" for i in range(6)])
    with ParserPool(_config(workers=1, worker_max_files=2), READERS) as pool:
        pids = []
        for path in paths:
            pool.submit(path, path)
            pids.extend(pool.child_pids())
            pool.drain()
    assert len(set(pids)) == 3  # six files, two per process


def test_a_process_is_sent_no_file_past_its_quota_when_files_queue(tmp_path):
    paths = _files(tmp_path, [f"n{i}.txt" for i in range(6)])
    with ParserPool(_config(workers=1, worker_max_files=2), READERS) as pool:
        for path in paths:
            pool.submit(path, path)
        done = dict(pool.drain())
        assert pool.processes_started == 3
    assert all(isinstance(done[path], FileRecord) for path in paths)


@pytest.mark.parametrize("kind", ["segfault", "spin", "hog"])
def test_the_file_sent_ahead_to_a_failing_process_is_read_not_blamed(tmp_path, kind):
    # One process holds the bad file and, sent ahead, the next one: only the bad file fails.
    paths = _files(tmp_path, [f"bad.{kind}", "next.txt", "last.txt"])
    with ParserPool(_config(workers=1), READERS) as pool:
        for path in paths:
            pool.submit(os.path.basename(path), path)
        done = dict(pool.drain())
    assert done["bad." + kind].error_type == EXPECTED[kind][0]
    assert isinstance(done["next.txt"], FileRecord) and isinstance(done["last.txt"], FileRecord)


def test_a_file_sent_ahead_is_timed_from_when_its_parsing_starts(tmp_path):
    # Two 2 s files on one process under a 3 s timeout: the second waits 2 s in the pipe, then parses in 2 s.
    paths = _files(tmp_path, ["a.sleepy", "b.sleepy"])
    for path in paths:
        with open(path, "w") as handle:
            handle.write("2")
    with ParserPool(_config(workers=1), READERS) as pool:
        for path in paths:
            pool.submit(os.path.basename(path), path)
        done = dict(pool.drain())
    assert [done[n].text for n in ("a.sleepy", "b.sleepy")] == ["slept", "slept"]


def test_outcomes_are_independent_of_the_number_of_workers(tmp_path):
    paths = _files(tmp_path, [f"doc{i}.txt" for i in range(8)])
    results = []
    for workers in (1, 3):
        with ParserPool(_config(workers=workers)) as pool:
            for path in paths:
                pool.submit(path, path)
            results.append({token: outcome.content_hash for token, outcome in pool.drain()})
    assert results[0] == results[1]


def test_the_in_process_path_turns_a_native_panic_into_a_crash_record(tmp_path, monkeypatch):
    monkeypatch.setitem(extract.READERS, "panic", "tests.crash_readers:panic")
    path = _files(tmp_path, ["deck.panic"])[0]
    outcome = extract_one(path, None, None, config_from_dict({"extraction": {"isolation": False}}))
    assert (outcome.stage, outcome.error_type) == ("extract", "crash")
    assert "NativePanic" in outcome.message


def test_the_panic_reader_really_escapes_except_exception():
    with pytest.raises(BaseException) as caught:
        try:
            crash_readers.panic(b"", None)
        except Exception:  # what the readers' own error handling catches
            pass
    assert not isinstance(caught.value, Exception)


def test_extract_files_keeps_every_other_file_when_a_real_parser_aborts(tmp_path):
    """Beam end to end: calamine aborts (SIGABRT) on one workbook; the others are extracted."""
    cases = write_hostile_corpus(tmp_path / "drive")
    assert "far-cell-lying.xlsx" in cases
    names = ["far-cell-lying.xlsx", "utf8-bom.csv", "deep-object.json", "rtf-named.doc"]
    files = [MatchedFile(str(tmp_path / "drive" / n), (tmp_path / "drive" / n).stat().st_size, None) for n in names]
    with TestPipeline(runner="FnApiRunner") as p:
        records, errors = p | beam.Create(files) | ExtractFiles(Config())
        assert_that(records | beam.Map(lambda r: r.file_name), equal_to(names[1:]), label="others")
        assert_that(errors | beam.Map(lambda e: (os.path.basename(e.file_path), e.error_type in ("memory_limit",
                                                                                                 "crash"))),
                    equal_to([("far-cell-lying.xlsx", True)]), label="abort")


def _report_reason(queue):
    from transforms.extract.isolation import unavailable_reason

    queue.put(unavailable_reason())


def test_a_daemonic_worker_says_it_cannot_own_parser_processes():
    import multiprocessing

    from transforms.extract.isolation import unavailable_reason

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    worker = context.Process(target=_report_reason, args=(queue,), daemon=True)
    worker.start()
    reason = queue.get(timeout=120)
    worker.join(30)
    assert "daemonic" in reason and "distributed.worker.daemon" in reason
    assert unavailable_reason() == ""  # the test process itself may


def test_the_fork_server_stops_once_parsing_is_done_and_starts_again_when_a_pool_needs_it(tmp_path):
    """A run stops the parsers' fork server (its readers loaded, about 150 MB) once extraction is done;
    a pool made later still parses, from a new server."""
    from multiprocessing import forkserver

    from transforms.processes import stop_fork_server

    paths = _files(tmp_path, ["a.txt", "b.txt"])
    for path in paths:
        with ParserPool(_config(workers=1)) as pool:
            pool.submit("file", path)
            assert isinstance(dict(pool.drain())["file"], FileRecord)
        server = forkserver._forkserver._forkserver_pid
        assert server is not None and psutil.pid_exists(server)
        assert stop_fork_server(len(paths)) is True
        assert forkserver._forkserver._forkserver_pid is None and not psutil.pid_exists(server)
    assert stop_fork_server() is False  # none running here
