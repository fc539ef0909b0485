"""Each PTransform on its own, with TestPipeline and assert_that."""

import os

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.records import data_record, text_record
from transforms.config import Config, config_from_dict
from transforms.extract.matching import MatchedFile
from transforms.ptransforms import (
    CandidatePairs,
    ExtractFiles,
    DropNearDuplicates,
    MatchInputs,
    ScorePairs,
    TrainingRecords,
)

RUNNER = "FnApiRunner"
CONFIG = Config()


def _customers_orders():
    customers = data_record("/d/customers.csv", {"customers": (
        ["customer_id", "name"], [[f"C-{1000 + i}", f"n{i}"] for i in range(120)])})
    orders = data_record("/d/orders.csv", {"orders": (
        ["order_id", "customer_id", "amount"], [[i, f"C-{1000 + (i * 7) % 100}", i * 2.5] for i in range(300)])})
    menu = text_record("/d/menu.txt", "Soup of the day and a salad.")
    return customers, orders, menu


def test_match_inputs_walks_directories_with_patterns_and_dedupes(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("a.csv", "sub/b.xlsx", "sub/skip.exe", "c.CSV"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "nodes.csv").write_bytes(b"x")  # the run's own output: never input
    specs = [str(tmp_path), str(tmp_path / "*.csv")]  # a.csv is named twice
    with TestPipeline(runner=RUNNER) as p:
        matched, skipped = p | beam.Create(specs) | MatchInputs(["*.csv", "*.xlsx"], exclude=[str(tmp_path / "out")])
        paths = matched | beam.Map(lambda m: os.path.basename(m.path))
        assert_that(paths, equal_to(["a.csv", "b.xlsx", "c.CSV"]))
        assert_that(skipped | beam.Map(os.path.basename), equal_to(["skip.exe"]), label="Skipped")


def test_extract_files_splits_records_and_errors(tmp_path):
    good = tmp_path / "people.csv"
    good.write_text("id,city\n1,Oslo\n2,Lima\n")
    bad = tmp_path / "legacy.doc"
    bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    missing = tmp_path / "gone.csv"
    files = [MatchedFile(str(good), good.stat().st_size, None), MatchedFile(str(bad), bad.stat().st_size, None),
             MatchedFile(str(missing), 10, None)]
    with TestPipeline(runner=RUNNER) as p:
        records, errors = p | beam.Create(files) | ExtractFiles(CONFIG)
        assert_that(records | beam.Map(lambda r: (r.file_name, r.file_type)), equal_to([("people.csv", "csv")]),
                    label="records")
        assert_that(errors | beam.Map(lambda e: (os.path.basename(e.file_path), e.stage, e.error_type)),
                    equal_to([("legacy.doc", "extract", "parse_error"), ("gone.csv", "read", "read_error")]),
                    label="errors")


def test_too_large_files_fail_before_reading(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("a,b\n1,2\n")
    config = config_from_dict({"extraction": {"max_file_bytes": 3}})
    with TestPipeline(runner=RUNNER) as p:
        _, errors = p | beam.Create([MatchedFile(str(path), 8, None)]) | ExtractFiles(config)
        assert_that(errors | beam.Map(lambda e: (e.stage, e.error_type)), equal_to([("read", "too_large")]))


@pytest.mark.parametrize("spilled", [False, True])
def test_candidate_pairs_are_distinct_and_skip_hot_keys(spilled, tmp_path):
    customers, orders, _ = _customers_orders()
    reports = [text_record(f"/{d}/report.txt", f"Weekly notes {d}.") for d in ("x", "y", "z")]
    tight = config_from_dict({"relationships": {"blocking": {"max_bucket_size": 2}}})
    with TestPipeline(runner=RUNNER) as p:
        pairs, hot, _, errors = p | beam.Create([customers, orders] + reports) | CandidatePairs(
            tight, spill_dir=str(tmp_path / "blocking") if spilled else None)
        counts = pairs | beam.Map(lambda kv: kv[0]) | beam.combiners.Count.PerElement()
        assert_that(counts | beam.Filter(lambda kv: kv[1] > 1), equal_to([]), label="each_pair_once")
        expected = tuple(sorted((customers.file_id, orders.file_id)))
        assert_that(counts | beam.Keys() | beam.Filter(lambda k: k == expected), equal_to([expected]),
                    label="fk_pair_proposed")
        # Three files share the stem "report": with a cap of 2 the bucket is hot.
        assert_that(hot | beam.Filter(lambda k: k == "stem:report"), equal_to(["stem:report"]), label="hot_key")
        assert_that(errors, equal_to([]), label="no_errors")


@pytest.mark.parametrize("spilled", [False, True])
def test_candidate_pairs_in_beam_equal_the_in_memory_blocking_with_pruning(spilled, tmp_path):
    """CandidatePairs (groupings, weighing, each file's best partners) gives what
    relationships.candidate_pairs computes in memory, shared keys included, whether its
    groupings wait on disk or not."""
    from transforms.detect.relationships import candidate_pairs

    customers, orders, menu = _customers_orders()
    notes = [text_record(f"/d/notes/week_{i}.md", f"Weekly notes {i} on customers.csv, region North.")
             for i in range(9)]
    records = [customers, orders, menu] + notes
    config = config_from_dict({"relationships": {"blocking": {"top_partners": 2}}})
    expected, stats, _ = candidate_pairs(records, config)
    assert stats["proposed_pairs"] > len(expected)  # the limit prunes here
    with TestPipeline(runner=RUNNER) as p:
        pairs, _, _, _ = p | beam.Create(records) | CandidatePairs(
            config, spill_dir=str(tmp_path / "blocking") if spilled else None)
        assert_that(pairs, equal_to(sorted(expected.items())))
    assert os.path.isdir(tmp_path / "blocking") == spilled


def _scored_edges(p, records):
    """Records -> candidate pairs -> joined -> scored edges, as the pipeline wires them."""
    recs = p | "Records" >> beam.Create(records)
    pairs, _, stats, _ = recs | CandidatePairs(CONFIG)
    edges, _ = pairs | ScorePairs(recs, CONFIG, stats)
    return recs, edges


def test_join_and_score_produce_a_typed_edge():
    customers, orders, menu = _customers_orders()
    with TestPipeline(runner=RUNNER) as p:
        _, edges = _scored_edges(p, [customers, orders, menu])
        assert_that(edges | beam.Map(lambda e: (e.source, e.target, e.relationship_type)),
                    equal_to([(orders.file_id, customers.file_id, "REFERENCES")]))


def test_scoring_from_spilled_views_gives_the_same_edges_and_keeps_views_on_disk(tmp_path):
    """ScorePairs with a spill folder: the side input carries where each view is, not the view."""
    import json

    customers, orders, menu = _customers_orders()
    notes = [text_record(f"/d/notes/week_{i}.md", f"Weekly notes {i} on customers.csv and orders.csv.")
             for i in range(4)]
    records = [customers, orders, menu] + notes
    spill = str(tmp_path / "views")

    def scored_pairs(p, spill_dir):
        recs = p | "Records" >> beam.Create(records)
        pairs, _, stats, _ = recs | CandidatePairs(CONFIG)
        edges, _ = pairs | ScorePairs(recs, CONFIG, stats, spill_dir=spill_dir)
        return edges | beam.Map(lambda e: json.dumps(e.to_dict(), sort_keys=True))

    plain_file = str(tmp_path / "plain.json")
    with TestPipeline(runner=RUNNER) as p:
        scored_pairs(p, None) | beam.combiners.ToList() | beam.Map(
            lambda edges: open(plain_file, "w").write(json.dumps(sorted(edges))))
    plain = json.load(open(plain_file))
    assert plain  # orders.csv references customers.csv (more pairs: tests/test_worker_processes.py)
    with TestPipeline(runner=RUNNER) as p:
        assert_that(scored_pairs(p, spill), equal_to(plain))
    files = os.listdir(spill)  # the folder stays until the pipeline removes it (remove_spill)
    assert len(files) >= 1 and all(f.startswith("views-") for f in files)
    total = sum(os.path.getsize(os.path.join(spill, f)) for f in files)
    from transforms.detect.pair_view import packed_view
    # Every view once, nothing else: a record that went through Beam's coder may pickle a few bytes apart.
    assert total == pytest.approx(sum(len(packed_view(r)) for r in records), rel=0.002)


@pytest.mark.parametrize("spilled", [False, True])
def test_training_records_equal_the_in_memory_build(tmp_path, spilled):
    """The Beam graph of the training stage writes exactly what build_records computes in memory,
    with summaries, links and their grouping into component batches held or waiting in a spill folder."""
    from transforms.output.training import FileSummary
    from transforms.ptransforms.output import Spilled

    from transforms.detect.relationships import candidate_pairs, detect
    from transforms.detect.scoring import ConfidenceModel
    from transforms.output.training import build_records, file_summary, sure_thresholds

    records = list(_customers_orders())
    config = config_from_dict({"training": {"precision_level": 0.5}})
    thresholds = sure_thresholds(config, ConfidenceModel.load())
    summaries = {r.file_id: file_summary(r, ("/d",), 400) for r in records}
    pairs, _, _ = candidate_pairs(records, config)
    expected, _ = build_records(summaries, [e.to_dict() for e in detect(records, config)],
                                [(p, sorted(k)) for p, k in pairs.items()], config, thresholds)
    assert {r["task"] for r in expected} == {"find_related", "explain_link", "workflow", "trajectory"}
    with TestPipeline(runner=RUNNER) as p:
        recs = p | "Records" >> beam.Create(records)
        candidates, _, stats, _ = recs | CandidatePairs(config)
        edges, _ = candidates | ScorePairs(recs, config, stats)
        spill_dir = str(tmp_path / "spill") if spilled else None
        keyed = (recs | beam.Map(lambda r: (r.file_id, FileSummary(file_summary(r, ("/d",), 400))))
                 | Spilled(spill_dir, "summaries"))
        training, _ = edges | TrainingRecords(keyed, candidates, config, ("/d",), thresholds, spill_dir=spill_dir,
                                              grouping_spill_dir=spill_dir)
        training, _ = training | DropNearDuplicates(config.training.dedup_threshold)
        assert_that(training | beam.Map(lambda t: (t["id"], t)), equal_to([(r["id"], r) for r in expected]))
    spill_files = os.listdir(tmp_path / "spill") if spilled else []
    assert {n.split("-")[0] for n in spill_files} == ({"batch", "batches", "links", "summaries"} if spilled
                                                      else set())


def test_drop_near_duplicates_equals_the_in_memory_dedup():
    """Buckets grouped on IDs, signatures joined back: the same records dropped as in memory."""
    from transforms.output.training.dataset import deduplicate
    from transforms.ptransforms.output import TrainingRecord

    def record(i, task, text):
        return {"id": f"id-{i:02d}", "task": task, "messages": [
            {"role": "system", "content": "s"}, {"role": "user", "content": text}, {"role": "assistant", "content": "a"}]}

    bases = [" ".join(f"{word}{i % 50} t{i % 7}" for i in range(300)) for word in ("alpha", "bravo", "delta")]
    records = [record(n, task, f"{base} {year}")
               for n, (task, base, year) in enumerate((t, b, y) for t in ("explain_link", "find_related")
                                                      for b in bases for y in (2022, 2023, 2024))]
    records.append(record(99, "explain_link", "something else entirely " * 20))
    expected, dropped = deduplicate(records, 0.9)
    assert dropped == 12  # two of each three-year family, in each task
    with TestPipeline(runner=RUNNER) as p:
        kept, gone = (p | beam.Create([TrainingRecord(r) for r in records])
                      | DropNearDuplicates(0.9))
        assert_that(kept | beam.Map(lambda r: r["id"]), equal_to([r["id"] for r in expected]), label="Kept")
        assert_that(kept | beam.Map(lambda r: (r.signature, r.compressed() == TrainingRecord(r).packed)),
                    equal_to([(b"", True)] * len(expected)), label="Unsigned")
        assert_that(gone, equal_to(sorted({r["id"] for r in records} - {r["id"] for r in expected})),
                    label="Gone")
