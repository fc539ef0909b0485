"""The same corpus gives identical outputs on every runner that runs here.

In-process FnApiRunner (the reference), the multi-process FnApiRunner, the
portable runner against Beam's job service on loopback with LOOPBACK workers
(the path Flink and Spark job servers take), and the DaskRunner on a
dask.distributed LocalCluster of worker processes: byte-identical node, edge,
error and training shards, the same counts in run_summary.json, and stage
counters that show each step ran once per element.

The multi-process runner is checked on a larger drive with the runner's timed
data-plane flush shortened, the conditions under which Beam's own stream drops
part of a stage's input (beam_pipeline/data_plane.py).
"""

import filecmp
import json
import os
import socket
import subprocess
import sys
import time

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from beam_pipeline.options import pipeline_options
from beam_pipeline.pipeline import run_pipeline
from beam_pipeline.sample_corpus import write_sample_corpus
from transforms.config import Config
from transforms.output import writer


SHARDS = ("nodes", "edges", "errors", "training")


@pytest.fixture(scope="module")
def drive(tmp_path_factory):
    _, path = write_sample_corpus(str(tmp_path_factory.mktemp("corpus")), projects=2, seed=3, rows_scale=0.3)
    return path


def _run(drive, out, beam_args):
    summary = run_pipeline([drive], str(out), Config(), beam_args, progress=False)
    graph = {name: sorted(json.dumps(r, sort_keys=True) for r in writer.read_jsonl(str(out / name), prefix))
             for name, prefix in (("nodes", "nodes"), ("edges", "edges"))}
    return summary, graph, out


def _files(out) -> dict:
    """Every shard and the dataset card, by path under the output folder."""
    found = {}
    for folder in SHARDS:
        for parent, _, names in os.walk(out / folder):
            found.update({os.path.relpath(os.path.join(parent, n), out): os.path.join(parent, n) for n in names})
    return found


@pytest.fixture(scope="module")
def reference(drive, tmp_path_factory):
    run = _run(drive, tmp_path_factory.mktemp("in_process"), ["--direct_num_workers=1"])
    assert run[0]["counts"]["processed"] > 20 and run[0]["counts"]["edges"] > 20
    return run


def _assert_same(reference, run):
    summary, graph, out = run
    assert graph == reference[1]
    expected, written = _files(reference[2]), _files(out)
    assert sorted(written) == sorted(expected) and len(expected) >= 6
    assert [p for p in expected if not filecmp.cmp(expected[p], written[p], shallow=False)] == []
    assert summary["counts"] == reference[0]["counts"]
    stages = summary["stages"]
    assert stages["seconds"]["extract"] > 0 and stages["seconds"]["score"] > 0 and stages["seconds"]["train"] > 0
    assert stages["counters"]["files_extracted"] == summary["counts"]["processed"]
    assert stages["counters"]["pairs_scored"] == summary["counts"]["candidate_pairs"]
    assert stages["counters"]["edges"] == summary["counts"]["edges"]


def test_in_process_reports_stage_times_from_beam_metrics(reference):
    stages = reference[0]["stages"]
    assert stages["source"] == "beam_metrics"
    assert set(stages["seconds"]) == {"index", "extract", "embed", "block", "join", "score", "train", "write"}
    assert stages["counters"]["pairs"] == reference[0]["counts"]["candidate_pairs"]


@pytest.fixture(scope="module")
def larger_drive(tmp_path_factory):
    _, path = write_sample_corpus(str(tmp_path_factory.mktemp("larger")), projects=8, seed=3)
    return path


def test_multi_process_runner_keeps_every_pair_when_flushes_interrupt_large_inputs(larger_drive, tmp_path,
                                                                                   monkeypatch):
    # On a loaded machine, sending a large stage input to a worker spans the runner's timed flushes
    # (every 1 s) and threads are preempted mid-flush. A 1 ms period and a 0.1 ms thread switch
    # interval do that here: Beam's own stream lost pairs on this drive (130 files) in each of 9 runs.
    from apache_beam.runners.portability.fn_api_runner import worker_handlers

    reference = _run(larger_drive, tmp_path / "in_process", ["--direct_num_workers=1"])
    monkeypatch.setattr(worker_handlers, "DATA_BUFFER_TIME_LIMIT_MS", 1)
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    try:
        run = _run(larger_drive, tmp_path / "multi_process",
                   ["--direct_num_workers=2", "--direct_running_mode=multi_processing"])
    finally:
        sys.setswitchinterval(switch_interval)
    assert run[0]["counts"]["candidate_pairs"] > 2500
    _assert_same(reference, run)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_portable_runner_on_a_loopback_job_service_gives_the_same_graph(drive, reference, tmp_path):
    port = _free_port()
    service = subprocess.Popen([sys.executable, "-m", "beam_pipeline.job_service", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        run = _run(drive, tmp_path, ["--runner=PortableRunner", f"--job_endpoint=localhost:{port}",
                                     "--environment_type=LOOPBACK"])
    finally:
        service.terminate()
        service.wait(timeout=30)
    _assert_same(reference, run)


@pytest.fixture(scope="module")
def dask_scheduler():
    """A LocalCluster of two worker processes on loopback; its scheduler's address."""
    from distributed import LocalCluster  # the test extra installs apache-beam[dask]

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    yield cluster.scheduler_address
    cluster.close()


def test_dask_runner_on_a_local_cluster_gives_the_same_outputs(drive, reference, dask_scheduler, tmp_path):
    run = _run(drive, tmp_path, ["--runner=DaskRunner", f"--dask_client_address={dask_scheduler}"])
    assert run[0]["stages"]["source"] == "side_channel"  # Beam's DaskRunner reports no metrics
    _assert_same(reference, run)


class _Parity(beam.DoFn):
    def process(self, n):
        yield n if n % 2 == 0 else beam.pvalue.TaggedOutput("odd", n)


def test_dask_runner_reads_every_kind_of_side_input_and_keeps_every_output(dask_scheduler):
    # Beam's DaskRunner sent tagged outputs to the main one and dropped what finish_bundle emits.
    p = beam.Pipeline(options=pipeline_options(["--runner=DaskRunner", f"--dask_client_address={dask_scheduler}"]))
    files = p | "Files" >> beam.Create(["a", "b", "c"])
    views = p | "Views" >> beam.Create([("a", "a1"), ("b", "b1"), ("a", "a2")])  # per-file views by file id
    sizes = p | "Sizes" >> beam.Create([("a", 1), ("b", 2), ("c", 3)])
    total = sizes | "Total" >> beam.combiners.Count.Globally()
    nothing = p | "Nothing" >> beam.Create([]) | "Typed" >> beam.Map(str)
    joined = files | "Join" >> beam.Map(
        lambda f, views, sizes, every, n, absent, seen: (f, sorted(views[f]), sizes[f], sorted(every), n, absent,
                                                          sorted(seen)),
        views=beam.pvalue.AsMultiMap(views), sizes=beam.pvalue.AsDict(sizes), every=beam.pvalue.AsList(files),
        n=beam.pvalue.AsSingleton(total), absent=beam.pvalue.AsSingleton(nothing, default_value="none"),
        seen=beam.pvalue.AsIter(files))
    every = ["a", "b", "c"]
    assert_that(joined, equal_to([("a", ["a1", "a2"], 1, every, 3, "none", every),
                                  ("b", ["b1"], 2, every, 3, "none", every),
                                  ("c", [], 3, every, 3, "none", every)]), label="SideInputs")
    numbers = p | "Numbers" >> beam.Create(range(7))
    parity = numbers | "Parity" >> beam.ParDo(_Parity()).with_outputs("odd", main="even")
    assert_that(parity.even, equal_to([0, 2, 4, 6]), label="Even")
    assert_that(parity.odd, equal_to([1, 3, 5]), label="Odd")
    batched = numbers | "Batch" >> beam.BatchElements(min_batch_size=100, max_batch_size=100)  # in finish_bundle
    assert_that(batched | "Unbatch" >> beam.FlatMap(lambda batch: batch), equal_to(list(range(7))), label="Batched")
    result = p.run()
    try:
        assert result.wait_until_finish() == "DONE"
    finally:
        result.client.close()


def test_the_command_line_knows_the_dask_flags_after_runner_dask_runner():
    # In a fresh interpreter: once any test imports Beam's DaskRunner, its flags are known everywhere.
    check = "import sys; from beam_pipeline.flags import unrecognised; print(unrecognised(sys.argv[1:]))"
    proc = subprocess.run([sys.executable, "-c", check, "--runner=DaskRunner", "--dask_client_address=127.0.0.1:8786",
                           "--dask_npartitions=4", "--dask_clientaddress=x"], capture_output=True, text=True,
                          timeout=120)
    assert proc.stdout.strip() == "['--dask_clientaddress']", proc.stderr
