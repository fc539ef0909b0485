"""Streaming mode: files arriving in waves (TestStream on the BundleBasedDirectRunner) and `run --streaming`."""

import glob
from collections import Counter
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import apache_beam as beam
import pytest
import yaml
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to, equal_to_per_window
from apache_beam.transforms import window

from beam_pipeline.sample_corpus import write_sample_corpus
from transforms.config import config_from_dict
from transforms.detect import blocking, streaming, strategies
from transforms.detect.relationships import active_strategies, ensure_embeddings
from transforms.detect.scoring import ConfidenceModel, typed_edge
from transforms.extract.local import extract_paths, modified_iso
from transforms.extract.matching import MatchedFile
from transforms.ptransforms.stream import StreamingGraph, StreamingPairs

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WAVE_TWO_AT = 10  # event time (s) of the second wave; the first arrives at 1


def _streaming_pipeline():
    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True
    return TestPipeline(runner="BundleBasedDirectRunner", options=options)


@pytest.fixture(scope="module")
def waves(tmp_path_factory):
    _, drive = write_sample_corpus(str(tmp_path_factory.mktemp("stream")), projects=2, seed=31, rows_scale=0.3)
    paths = sorted(os.path.join(d, n) for d, _, names in os.walk(drive) for n in names)
    half = len(paths) // 2
    return paths[:half], paths[half:]


def _arrivals(first, second):
    def matched(path):
        return MatchedFile(path, os.path.getsize(path), modified_iso(path))

    return (TestStream()
            .add_elements([window.TimestampedValue(matched(p), 1) for p in first])
            .advance_watermark_to(WAVE_TWO_AT)
            .add_elements([window.TimestampedValue(matched(p), WAVE_TWO_AT + 1) for p in second])
            .advance_watermark_to_infinity())


def _expected_edges(paths, config):
    """Scoring without corpus statistics (as a stream scores) of the pairs batch blocking proposes,
    before version families and parents (not resolved in streaming)."""
    records, _ = extract_paths(paths, config)
    ensure_embeddings(records, config)
    by_id = {r.file_id: r for r in records}
    cfg = config.relationships.blocking
    pairs, stats, _ = blocking.candidate_pairs(
        ((k, r.file_id) for r in records for k in blocking.blocking_keys(r, cfg)), cfg)
    assert stats["hot_keys"] == 0
    model, names = ConfidenceModel.load(), active_strategies(config)
    edges = []
    for a_id, b_id in sorted(pairs):
        a, b = by_id[a_id], by_id[b_id]
        edge = typed_edge(a, b, strategies.run_strategies(a, b, names), model, config.relationships.thresholds)
        if edge is not None and edge.confidence >= config.relationships.thresholds.min_confidence:
            edges.append(edge)
    return edges


def test_edges_leave_as_files_arrive_and_equal_batch_scoring_when_no_key_is_hot(waves):
    first, second = waves
    # Caps above the corpus size: no key turns hot, so streaming proposes exactly batch's pairs.
    config = config_from_dict({"relationships": {"blocking": {"max_bucket_size": 1000, "max_weak_bucket_size": 1000}}})
    expected = _expected_edges(first + second, config)
    wave_two = {r.file_id for r in extract_paths(second, config)[0]}
    as_tuple = lambda e: (e.source, e.target, e.relationship_type, e.confidence)  # noqa: E731
    by_window = {
        window.IntervalWindow(0, WAVE_TWO_AT): [as_tuple(e) for e in expected
                                                if not {e.source, e.target} & wave_two],
        window.IntervalWindow(WAVE_TWO_AT, 2 * WAVE_TWO_AT): [as_tuple(e) for e in expected
                                                              if {e.source, e.target} & wave_two],
    }
    assert by_window[window.IntervalWindow(0, WAVE_TWO_AT)] and by_window[window.IntervalWindow(WAVE_TWO_AT, 20)]

    with _streaming_pipeline() as p:
        records, errors, edges = p | _arrivals(first, second) | StreamingGraph(config)
        tuples = edges | beam.Map(as_tuple)
        assert_that(tuples, equal_to([as_tuple(e) for e in expected]), label="EveryEdgeOnce")
        assert_that(tuples | beam.WindowInto(window.FixedWindows(WAVE_TWO_AT)), equal_to_per_window(by_window),
                    use_global_window=False, label="EdgesOfEachWaveWhenItArrives")
        assert_that(records | beam.Map(lambda r: r.file_path), equal_to(first + second), label="EveryFileANode")
        assert_that(errors, equal_to([]), label="NoErrors")


def test_a_keys_bucket_holds_at_most_its_cap_and_then_pairs_nothing():
    assert [streaming.admit(n, False, 3) for n in range(4)] == ["pair"] * 3 + ["turned_hot"]
    assert streaming.admit(0, True, 3) == "hot"
    arrivals = [(f"f{i}", ["stem:report", f"file:f{i}"]) for i in range(5)] + [("f9", ["stem:report", "dir:x"])]
    pairs = streaming.stream_pairs(arrivals, lambda key: 3)
    assert sorted(pairs) == [("f0", "f1"), ("f0", "f2"), ("f1", "f2")]  # f3 turns the key hot; f4, f9 pair with nothing


def test_streaming_pairs_follow_bounded_buckets_with_small_caps(waves):
    first, second = waves
    config = config_from_dict({"relationships": {"blocking": {"max_bucket_size": 4, "max_weak_bucket_size": 3}}})
    cfg = config.relationships.blocking
    records, _ = extract_paths(first, config)
    expected = streaming.stream_pairs([(r.file_id, blocking.blocking_keys(r, cfg)) for r in records],
                                      lambda key: blocking.bucket_cap(key, cfg))
    batch, stats, _ = blocking.candidate_pairs(
        ((k, r.file_id) for r in records for k in blocking.blocking_keys(r, cfg)), cfg)
    assert stats["hot_keys"] > 0 and set(expected) != set(batch)  # the caps bite: streaming differs from batch

    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True
    stream = TestStream()
    for i, record in enumerate(records):  # one at a time, in order: arrival order decides which pairs are made
        stream = stream.add_elements([window.TimestampedValue(record, i)]).advance_watermark_to(i + 1)
    with _streaming_pipeline() as p:
        pairs, errors = p | stream.advance_watermark_to_infinity() | StreamingPairs(cfg)
        assert_that(pairs | beam.Map(lambda t: (t[0].file_id, t[1].file_id)), equal_to(sorted(expected)),
                    label="BoundedPairsOnce")
        assert_that(errors, equal_to([]), label="NoBlockingErrors")


def test_run_streaming_appends_edges_for_files_that_arrive_while_it_watches(waves, tmp_path):
    # A few files of one project, the second wave holding a file related to one of the first.
    paths = waves[0] + waves[1]
    root = os.path.commonpath(paths)
    project = Counter(tuple(os.path.relpath(p, root).split(os.sep)[:2]) for p in paths).most_common(1)[0][0]
    files = [p for p in paths if tuple(os.path.relpath(p, root).split(os.sep)[:2]) == project][:12]
    config_text = "relationships:\n  strategies: [filename_pattern, content_similarity, metadata_matching]\n"
    config = config_from_dict(yaml.safe_load(config_text))
    related = _expected_edges(files, config)
    assert related, "the project's files are related"
    first_end, second_end = related[0].source_path, related[0].target_path
    first = [first_end] + [p for p in files if p not in (first_end, second_end)][:3]
    second = [second_end] + [p for p in files if p not in first and p != second_end][:2]
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    for path in first:
        shutil.copy(path, inbox / os.path.basename(path))
    (tmp_path / "filegraph.yaml").write_text(config_text)
    env = {**os.environ, "PYTHONPATH": REPO}
    run = subprocess.Popen([sys.executable, "-m", "beam_pipeline", "run", "--streaming", "--poll_seconds", "1",
                            "--config", str(tmp_path / "filegraph.yaml"), "--input", str(inbox), "--output", str(out)],
                           env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    as_tuples = lambda edges: {(e["source"], e["target"], e["relationship_type"], e["confidence"])  # noqa: E731
                               for e in edges}
    expected = lambda: as_tuples(e.to_dict() for e in _expected_edges(sorted(map(str, inbox.iterdir())), config))  # noqa: E731
    try:
        def lines(kind):
            return [json.loads(line) for part in glob.glob(str(out / kind / f"{kind}-part-*.jsonl"))
                    for line in open(part)]

        first_edges = expected()
        _wait_for(lambda: len(lines("nodes")) == len(first) and as_tuples(lines("edges")) == first_edges, run)
        for path in second:
            shutil.copy(path, inbox / os.path.basename(path))
        all_edges = expected()
        assert all_edges - first_edges, "the second wave brings edges"
        _wait_for(lambda: len(lines("nodes")) == len(first) + len(second) and as_tuples(lines("edges")) == all_edges,
                  run)
        assert len({(e["source"], e["target"]) for e in lines("edges")}) == len(lines("edges"))  # each pair once
    finally:
        run.send_signal(signal.SIGTERM)
        run.wait()


def _wait_for(condition, run, timeout=240):
    deadline = time.monotonic() + timeout
    while not condition():
        if run.poll() is not None:
            raise AssertionError(f"streaming run exited: {run.stderr.read().decode()[-2000:]}")
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the streaming run")
        time.sleep(0.5)
