"""The same corpus gives identical nodes and edges on every runner that runs here.

In-process FnApiRunner (the reference), the multi-process FnApiRunner, the
portable runner against Beam's own job service on loopback with LOOPBACK
workers (the path Flink and Spark job servers take), and the DaskRunner on a
dask.distributed LocalCluster of worker processes. Each run also reports its
stage times in run_summary.json.
"""

import json
import socket
import subprocess
import sys
import time

import pytest

from beam_pipeline.pipeline import run_pipeline
from beam_pipeline.sample_corpus import write_sample_corpus
from transforms.config import Config
from transforms.output import writer


@pytest.fixture(scope="module")
def drive(tmp_path_factory):
    _, path = write_sample_corpus(str(tmp_path_factory.mktemp("corpus")), projects=2, seed=3, rows_scale=0.3)
    return path


def _run(drive, out, beam_args):
    summary = run_pipeline([drive], str(out), Config(), beam_args, progress=False)
    graph = {name: sorted(json.dumps(r, sort_keys=True) for r in writer.read_jsonl(str(out / name), prefix))
             for name, prefix in (("nodes", "nodes"), ("edges", "edges"))}
    return summary, graph


@pytest.fixture(scope="module")
def reference(drive, tmp_path_factory):
    summary, graph = _run(drive, tmp_path_factory.mktemp("in_process"), ["--direct_num_workers=1"])
    assert summary["counts"]["processed"] > 20 and summary["counts"]["edges"] > 20
    return summary, graph


def _assert_same(reference, summary, graph):
    assert graph == reference[1]
    assert summary["counts"] == reference[0]["counts"]
    stages = summary["stages"]
    assert stages["seconds"]["extract"] > 0 and stages["seconds"]["score"] > 0
    assert stages["counters"]["files_extracted"] == summary["counts"]["processed"]
    assert stages["counters"]["edges"] == summary["counts"]["edges"]


def test_in_process_reports_stage_times_from_beam_metrics(reference):
    stages = reference[0]["stages"]
    assert stages["source"] == "beam_metrics"
    assert set(stages["seconds"]) == {"index", "extract", "embed", "block", "join", "score", "write"}
    assert stages["counters"]["pairs"] == reference[0]["counts"]["candidate_pairs"]


def test_multi_process_runner_gives_the_same_graph(drive, reference, tmp_path):
    summary, graph = _run(drive, tmp_path, ["--direct_num_workers=2", "--direct_running_mode=multi_processing"])
    _assert_same(reference, summary, graph)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_portable_runner_on_a_loopback_job_service_gives_the_same_graph(drive, reference, tmp_path):
    port = _free_port()
    service = subprocess.Popen([sys.executable, "-m", "apache_beam.runners.portability.local_job_service_main",
                                "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        summary, graph = _run(drive, tmp_path, ["--runner=PortableRunner", f"--job_endpoint=localhost:{port}",
                                                "--environment_type=LOOPBACK"])
    finally:
        service.terminate()
        service.wait(timeout=30)
    _assert_same(reference, summary, graph)


def test_dask_runner_on_a_local_cluster_gives_the_same_graph(drive, reference, tmp_path):
    from distributed import LocalCluster  # the test extra installs apache-beam[dask]

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        summary, graph = _run(drive, tmp_path, ["--runner=DaskRunner",
                                                f"--dask_client_address={cluster.scheduler_address}"])
    finally:
        cluster.close()
    assert summary["stages"]["source"] == "side_channel"  # Beam's DaskRunner reports no metrics
    _assert_same(reference, summary, graph)
