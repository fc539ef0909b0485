"""gs:// in and out, against a local GCS emulator (gcp-storage-emulator on loopback)."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest

pytest.importorskip("gcp_storage_emulator", reason="installed by the test extra")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def gcs(tmp_path_factory):
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gcp_storage_emulator", "start", "--host", "127.0.0.1", "--port", str(port),
         "--in-memory"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # The emulator needs no credentials: tell Beam so instead of letting it
    # retry the default-credentials lookup with back-off for ~20 s.
    from apache_beam.internal.gcp import auth

    auth._Credentials._credentials_init, auth._Credentials._credentials = True, None
    previous = os.environ.get("STORAGE_EMULATOR_HOST")
    os.environ["STORAGE_EMULATOR_HOST"] = f"http://127.0.0.1:{port}"
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(credentials=AnonymousCredentials(), project="test")
    for _ in range(100):  # wait for the emulator to listen
        try:
            client.list_buckets(max_results=1)
            break
        except Exception:
            time.sleep(0.1)
    try:
        yield client
    finally:
        server.terminate()
        server.wait(timeout=10)
        if previous is None:
            os.environ.pop("STORAGE_EMULATOR_HOST", None)
        else:
            os.environ["STORAGE_EMULATOR_HOST"] = previous


def test_pipeline_reads_and_writes_gcs(gcs):
    from beam_pipeline.pipeline import run_pipeline
    from transforms.config import config_from_dict
    from transforms.output import writer

    drive = gcs.create_bucket("drive")
    drive.blob("in/customers.csv").upload_from_string(
        "customer_id,city\n" + "".join(f"C-{1000 + i},City{i}\n" for i in range(60)))
    drive.blob("in/sub/orders.csv").upload_from_string(
        "order_id,customer_id,amount\n" + "".join(f"{i},C-{1000 + (i * 3) % 50},{i * 1.5}\n" for i in range(150)))
    drive.blob("in/broken.xlsx").upload_from_string(b"not a zip")
    drive.blob("in/skip.exe").upload_from_string(b"MZ")
    gcs.create_bucket("out")

    config = config_from_dict({"relationships": {"strategies": ["content_similarity", "filename_pattern"]}})
    summary = run_pipeline(["gs://drive/in"], "gs://out/run", config)

    assert summary["counts"]["matched"] == 3 and summary["counts"]["failed"] == 1
    assert summary["counts"]["skipped_by_patterns"] == 1
    assert summary["counts"]["edges_by_type"] == {"REFERENCES": 1}
    names = sorted(blob.name for blob in gcs.list_blobs("out"))
    exports = ["run/exports/" + n for n in (
        "analysis.json", "graph.graphml", "graph.node-link.json", "neo4j/import.cypher", "neo4j/nodes.csv",
        "neo4j/relationships.csv", "parquet/components.parquet", "parquet/edges.parquet", "parquet/errors.parquet",
        "parquet/nodes.parquet", "review_queue.csv")]
    assert [n for n in names if not n.startswith("run/training/data/")] == [
        "run/edges/edges-00000-of-00001.jsonl", "run/errors/errors-00000-of-00001.jsonl", *exports,
        "run/nodes/nodes-00000-of-00001.jsonl", "run/report.html", "run/run_summary.json", "run/training/README.md"]
    assert [n for n in names if n.startswith("run/training/data/")], names
    training = [json.loads(line) for n in names if n.startswith("run/training/data/")
                for line in gcs.bucket("out").blob(n).download_as_text().splitlines()]
    assert {t["context"]["primary_file"]["file_path"] for t in training} <= {"customers.csv", "sub/orders.csv"}
    analysis = json.loads(gcs.bucket("out").blob("run/exports/analysis.json").download_as_text())
    assert analysis["components"][0]["stages"][0]["paths"] == ["customers.csv"]
    edge = writer.read_jsonl("gs://out/run/edges", "edges")[0]
    assert edge["source_path"] == "gs://drive/in/sub/orders.csv"
    assert edge["target_path"] == "gs://drive/in/customers.csv"
    error = writer.read_jsonl("gs://out/run/errors", "errors")[0]
    assert error["file_path"] == "gs://drive/in/broken.xlsx"
    assert json.loads(gcs.bucket("out").blob("run/run_summary.json").download_as_text())["inputs"] == ["gs://drive/in"]
