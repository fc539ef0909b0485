"""Faults around a run: killed midway and started again, interrupted with Ctrl-C, one element failing.

The first two run the real command (`python -m beam_pipeline run`) in a child process.
"""

import os
import signal
import subprocess
import sys
import time

import apache_beam as beam
import psutil
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from beam_pipeline.sample_corpus import write_sample_corpus
from tests.records import data_record, text_record
from transforms.config import Config, with_overrides
from transforms.detect import strategies
from transforms.output import writer
from transforms.ptransforms import CandidatePairs, EmbedRecords, ScorePairs

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUT_FILES = ("nodes", "edges", "training", "training/data", "errors")
# No sentence model: these tests are about the run's life, and loading it costs seconds each time.
CONFIG_YAML = "relationships:\n  strategies: [filename_pattern, content_similarity, metadata_matching]\n"


@pytest.fixture(scope="module")
def drive(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults")
    _, folder = write_sample_corpus(str(root), projects=2, seed=5, rows_scale=0.3)
    with open(os.path.join(folder, "broken.xlsx"), "wb") as handle:
        handle.write(b"PK\x03\x04 not a zip")
    config = root / "filegraph.yaml"
    config.write_text(CONFIG_YAML)
    (root / "no_index.yaml").write_text(CONFIG_YAML + "index:\n  enabled: false\n")
    return folder, str(config)


def _start(drive, out, config=None) -> subprocess.Popen:
    folder, config = drive[0], config or drive[1]
    return subprocess.Popen(
        [sys.executable, "-m", "beam_pipeline", "run", "--input", folder, "--output", out, "--config", config],
        cwd=REPO, env={**os.environ, "PYTHONPATH": REPO}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _finish(process: subprocess.Popen, timeout: float = 900) -> str:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-3000:]
    return out


def _outputs(out: str):
    files = {}
    for sub in OUTPUT_FILES:
        folder = os.path.join(out, sub)
        for name in sorted(os.listdir(folder)):
            if os.path.isfile(os.path.join(folder, name)):
                with open(os.path.join(folder, name), "rb") as handle:
                    files[f"{sub}/{name}"] = handle.read()
    return files


def _descendants(pid: int):
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(scope="module")
def uninterrupted(drive, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("reference") / "out")
    _finish(_start(drive, out))
    return out


def test_a_run_killed_midway_and_started_again_equals_an_uninterrupted_run(drive, uninterrupted, tmp_path):
    out = str(tmp_path / "out")
    # A complete earlier run in the same folder, without an index, so the next run has files to extract.
    _finish(_start(drive, out, os.path.join(os.path.dirname(drive[1]), "no_index.yaml")))
    summary = os.path.join(out, writer.SUMMARY)
    started = time.time()
    process = _start(drive, out)
    # Midway: the earlier summary is gone, parser processes are at work; kill as an OOM killer would.
    assert _wait_for(lambda: not os.path.exists(summary), 300)
    assert _wait_for(lambda: len(_descendants(process.pid)) >= 2, 300)
    time.sleep(1.0)
    children = _descendants(process.pid)
    process.kill()
    process.communicate(timeout=60)
    assert not os.path.exists(summary), "a killed run must not leave a summary, its own or an earlier one"
    _, alive = psutil.wait_procs(children, timeout=30)
    assert not alive, "parser processes outlived the killed run"

    _finish(_start(drive, out))
    assert _outputs(out) == _outputs(uninterrupted)
    again, reference = writer.read_json(summary), writer.read_json(os.path.join(uninterrupted, writer.SUMMARY))
    # The killed run committed some files to the index: only what was extracted or reused may differ.
    index_counts = ("extracted", "reused")
    assert {k: v for k, v in again["counts"].items() if k not in index_counts} == \
        {k: v for k, v in reference["counts"].items() if k not in index_counts}
    assert again["counts"]["extracted"] + again["counts"]["reused"] == again["counts"]["matched"]
    assert os.path.getmtime(summary) >= started
    leftovers = [name for sub in OUTPUT_FILES for name in os.listdir(os.path.join(out, sub)) if name.startswith(".")]
    assert leftovers == []


def test_ctrl_c_exits_promptly_with_one_line_and_leaves_no_process(drive, tmp_path):
    process = _start(drive, str(tmp_path / "out"))
    assert _wait_for(lambda: len(_descendants(process.pid)) >= 2, 300), "the run never started its parsers"
    children = _descendants(process.pid)
    process.send_signal(signal.SIGINT)
    interrupted = time.monotonic()
    _, err = process.communicate(timeout=60)
    assert time.monotonic() - interrupted < 15
    assert process.returncode == 130
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if "interrupted" in line] == ["filegraph: interrupted"]
    assert err.strip().splitlines()[-1] == "filegraph: interrupted"
    _, alive = psutil.wait_procs(children, timeout=30)
    assert not alive
    assert not os.path.exists(tmp_path / "out" / writer.SUMMARY)


# ---------------------------------------------------------------- one element failing


def _records():
    customers = data_record("/d/customers.csv", {"customers": (
        ["customer_id", "name"], [[f"C-{1000 + i}", f"n{i}"] for i in range(120)])})
    orders = data_record("/d/orders.csv", {"orders": (
        ["order_id", "customer_id", "amount"], [[i, f"C-{1000 + (i * 7) % 100}", i * 2.5] for i in range(300)])})
    returns = data_record("/d/returns.csv", {"returns": (
        ["return_id", "customer_id"], [[i, f"C-{1000 + (i * 3) % 100}"] for i in range(80)])})
    return customers, orders, returns


def test_a_pair_whose_scoring_fails_is_an_error_record_and_the_other_pairs_are_scored(monkeypatch):
    customers, orders, returns = _records()
    real = strategies.run_strategies

    def fails_for_returns(a, b, names, context=None):
        if "returns.csv" in (a.file_name, b.file_name):
            raise ValueError("boom")
        return real(a, b, names, context)

    monkeypatch.setattr(strategies, "run_strategies", fails_for_returns)
    config = with_overrides(Config(), **{"batch.worker_processes": 0})  # the patch reaches this process only
    with TestPipeline(runner="FnApiRunner") as p:
        records = p | beam.Create([customers, orders, returns])
        pairs, _, stats, _ = records | CandidatePairs(config)
        edges, errors = pairs | ScorePairs(records, config, stats)
        assert_that(edges | beam.Map(lambda e: (e.source, e.target)), equal_to([(orders.file_id, customers.file_id)]),
                    label="edges")
        assert_that(errors | beam.Map(lambda e: (e.stage, e.error_type, e.message,
                                                 {e.file_path, e.paired_with} <= {r.file_path for r in (customers, orders,
                                                                                                         returns)})),
                    equal_to([("score", "internal_error", "ValueError: boom", True)] * 2), label="errors")


def test_a_record_the_embedding_model_refuses_fails_alone(monkeypatch):
    from transforms.detect import semantic

    good = [text_record(f"/d/note{i}.txt", f"Weekly note {i} about the depot.") for i in range(5)]
    bad = text_record("/d/bad.txt", "poison")

    def embed(records):
        if any(r.text == "poison" for r in records):
            raise TypeError("TextEncodeInput must be Union[TextInputSequence, Tuple[InputSequence, InputSequence]]")
        for record in records:
            record.embedding = [1] * 4
        return list(records)

    monkeypatch.setattr(semantic, "_load_model", lambda: None)
    monkeypatch.setattr(semantic, "embed_records", embed)
    with TestPipeline(runner="FnApiRunner") as p:
        records, errors = p | beam.Create(good + [bad]) | EmbedRecords()
        assert_that(records | beam.Map(lambda r: (r.file_name, r.embedding)),
                    equal_to([(r.file_name, [1] * 4) for r in good]), label="embedded")
        assert_that(errors | beam.Map(lambda e: (e.file_path, e.stage, e.error_type)),
                    equal_to([("/d/bad.txt", "embed", "internal_error")]), label="refused")
