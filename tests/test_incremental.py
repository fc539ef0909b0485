"""Incremental runs: a rerun extracts only new or changed files and writes exactly the graph a full run writes.

One drive is rebuilt at the same path with the same bytes and mtimes for every
test, so a single full run without an index is the reference for the SQLite
index, the PostgreSQL index and a killed-and-resumed run alike.
"""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from beam_pipeline.pipeline import run_pipeline
from beam_pipeline.sample_corpus import write_sample_corpus
from transforms.config import config_from_dict

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUTS = ("nodes", "edges", "training", "errors")
BASE_TIME = 1_750_000_000  # every file's mtime before the changes
LATER = BASE_TIME + 86_400  # mtime of what the changes touch
ADDED, CHANGED, DELETED = 12, 3, 3


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental")
    _, base = write_sample_corpus(str(root / "base"), projects=3, seed=21, rows_scale=0.3)
    with open(os.path.join(base, "broken.xlsx"), "wb") as handle:
        handle.write(b"PK\x03\x04 not really a zip")  # fails once; its error is reused, not retried
    _, extra = write_sample_corpus(str(root / "extra"), projects=1, seed=22, rows_scale=0.3)
    return root, base, extra


def _files(drive, suffix=""):
    return sorted(os.path.join(d, n) for d, _, names in os.walk(drive) for n in names if n.endswith(suffix))


def build_drive(corpora, changed: bool) -> str:
    """The base drive at root/work (same bytes, same mtimes every time), with the changes applied if asked."""
    root, base, extra = corpora
    work = str(root / "work")
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(base, work)
    for path in _files(work):
        os.utime(path, (BASE_TIME, BASE_TIME))
    if changed:
        apply_changes(work, extra)
    return work


def apply_changes(work: str, extra: str) -> None:
    incoming = os.path.join(work, "incoming")
    for path in _files(extra)[:ADDED]:  # relative paths kept: two folders may hold the same name
        target = os.path.join(incoming, os.path.relpath(path, extra))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy(path, target)
    markdown, csvs = _files(work, ".md"), _files(work, ".csv")
    with open(markdown[0], "a") as handle:  # grows
        handle.write("\nAddendum: totals were restated after the audit.\n")
    with open(csvs[0]) as handle:
        lines = handle.read().splitlines()
    with open(csvs[0], "w") as handle:  # one more row
        handle.write("\n".join(lines + [lines[-1]]) + "\n")
    with open(markdown[1], "r+b") as handle:  # same size, other bytes: only the hash tells
        data = handle.read()
        handle.seek(0)
        handle.write(data.replace(b"e", b"a", 1))
    touched = _files(work, ".pptx")[0]  # new mtime, same bytes: the hash shows it unchanged
    for path in (markdown[0], csvs[0], markdown[1], touched) + tuple(_files(incoming)):
        os.utime(path, (LATER, LATER))
    for path in _files(work, ".xlsx")[1:1 + DELETED]:
        os.remove(path)


def _shards(out):
    found = {}
    for sub in OUTPUTS:
        for folder, _, names in os.walk(os.path.join(out, sub)):
            for name in names:
                path = os.path.join(folder, name)
                with open(path, "rb") as handle:
                    found[os.path.relpath(path, out)] = handle.read()
    return found


def _config(url=""):
    return config_from_dict({"index": {"url": url}, "batch": {"num_shards": 2}})


@pytest.fixture(scope="module")
def reference(corpora, tmp_path_factory):
    """A full run, without an index, on the changed drive."""
    drive = build_drive(corpora, changed=True)
    out = str(tmp_path_factory.mktemp("reference"))
    summary = run_pipeline([drive], out, config_from_dict({"index": {"enabled": False}, "batch": {"num_shards": 2}}))
    assert summary["index"] is None and summary["counts"]["extracted"] == summary["counts"]["matched"]
    return _shards(out), summary["counts"]




@pytest.fixture(params=["sqlite", "postgresql"])
def index_url(request, tmp_path, monkeypatch):
    if request.param == "sqlite":
        return str(tmp_path / "elsewhere" / "index.sqlite")
    server = request.getfixturevalue("postgres")
    monkeypatch.setenv("PGPASSWORD", server.password)
    return server.url


def test_rerun_extracts_only_added_and_changed_files_and_equals_a_full_run(corpora, reference, index_url, tmp_path):
    expected_shards, expected_counts = reference
    out = str(tmp_path / "out")
    drive = build_drive(corpora, changed=False)
    first = run_pipeline([drive], out, _config(index_url))["counts"]
    assert first["extracted"] == first["matched"] and first["reused"] == 0

    apply_changes(drive, corpora[2])
    second = run_pipeline([drive], out, _config(index_url))
    counts = second["counts"]
    assert second["index"] == index_url
    assert counts["extracted"] == ADDED + CHANGED
    assert counts["deleted"] == DELETED
    assert counts["reused"] == counts["matched"] - ADDED - CHANGED
    assert counts["matched"] == first["matched"] + ADDED - DELETED == expected_counts["matched"]
    assert counts["errors_by_type"] == expected_counts["errors_by_type"] != {}
    assert _shards(out) == expected_shards


def _stamps(out):
    return {path: os.stat(os.path.join(out, path)).st_mtime_ns for path in _shards(out)}


def test_unchanged_rerun_keeps_the_outputs_and_a_pipeline_rerun_rewrites_the_same_graph(corpora, tmp_path):
    drive = build_drive(corpora, changed=False)
    out = str(tmp_path / "out")
    first = run_pipeline([drive], out, _config())
    shards, stamps = _shards(out), _stamps(out)
    assert first["unchanged_rerun"] is False

    kept = run_pipeline([drive], out, _config())  # nothing changed: no pipeline runs
    counts = kept["counts"]
    assert kept["unchanged_rerun"] is True
    assert (counts["extracted"], counts["reused"], counts["deleted"]) == (0, counts["matched"], 0)
    assert {k: v for k, v in counts.items() if k not in ("extracted", "reused")} == {
        k: v for k, v in first["counts"].items() if k not in ("extracted", "reused")}
    assert _stamps(out) == stamps

    removed = sorted(p for p in shards if p.startswith("edges"))[0]
    os.remove(os.path.join(out, removed))  # outputs no longer intact: the pipeline runs, from the index
    rerun = run_pipeline([drive], out, _config())
    counts = rerun["counts"]
    assert rerun["unchanged_rerun"] is False
    assert (counts["extracted"], counts["reused"], counts["deleted"]) == (0, counts["matched"], 0)
    scored = rerun["stages"]["counters"]
    assert scored["pairs_scored"] == scored["pair_scores_reused"] == counts["candidate_pairs"] > 0
    assert _shards(out) == shards
    assert run_pipeline([drive], out, _config())["unchanged_rerun"] is True


def _committed(index_path):
    if not os.path.exists(index_path):
        return 0
    conn = sqlite3.connect(index_path, timeout=30)
    try:
        return conn.execute("SELECT count(*) FROM filegraph_files").fetchone()[0]
    except sqlite3.OperationalError:  # tables not created yet
        return 0
    finally:
        conn.close()


def test_a_run_killed_midway_resumes_without_losing_or_duplicating_anything(corpora, reference, tmp_path):
    expected_shards, expected_counts = reference
    drive = build_drive(corpora, changed=True)
    out = str(tmp_path / "out")
    index_path = os.path.join(out, "index.sqlite")
    env = {**os.environ, "PYTHONPATH": REPO}
    run = subprocess.Popen([sys.executable, "-m", "beam_pipeline", "run", "--input", drive, "--output", out,
                            "--num_shards", "2"], env=env, cwd=REPO,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while _committed(index_path) == 0 and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    run.send_signal(signal.SIGKILL)
    run.wait()
    committed = _committed(index_path)
    assert 0 < committed < expected_counts["matched"], "the kill must land while files are being extracted"

    counts = run_pipeline([drive], out, _config())["counts"]
    assert counts["reused"] == committed
    assert counts["extracted"] == expected_counts["matched"] - committed
    assert _committed(index_path) == counts["matched"]
    assert _shards(out) == expected_shards
