"""Training records' lines spilled to disk between the step that builds them and their shards."""

import json
import os
import pickle

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline

from transforms.output import writer
from transforms.output.spill import read_payloads, remove_spill, spill_file, spill_writer
from transforms.output.training.components import TrainingRecord
from transforms.ptransforms.output import TrainingRecordCoder


def _record(i, text="the quarterly revenue table by region"):
    return {"id": f"r{i:03d}", "task": "find_related", "split": "train", "label": "related",
            "messages": [{"role": "user", "content": f"{text} {i} " * 20}]}


def _spilled(tmp_path, batch, records):
    with spill_writer(spill_file(str(tmp_path), batch)) as spill:
        return [TrainingRecord(r).spilled_to(spill) for r in records]


def test_a_spilled_record_keeps_its_fields_and_signature_and_reads_its_line_back(tmp_path):
    records = [_record(i) for i in range(5)]
    spilled = _spilled(tmp_path, 7, records)
    assert os.listdir(tmp_path) == ["batch-7.bin"]  # one file per batch, no temporary left
    for record, handle in zip(records, spilled):
        packed = TrainingRecord(record)
        assert handle.packed is None and handle.spilled.path == str(tmp_path / "batch-7.bin")
        assert handle["split"] == "train" and handle._record is None  # fields without reading the file
        assert handle.signature == packed.signature
        assert handle.compressed() == packed.packed and writer.dumps(handle) == writer.dumps(record)
        assert handle["messages"] == record["messages"]
    offsets = [h.spilled.offset for h in spilled]
    assert offsets == sorted(offsets) and offsets[0] == 0
    assert os.path.getsize(tmp_path / "batch-7.bin") == sum(h.spilled.length for h in spilled)


def test_the_coder_and_pickle_carry_where_a_line_is_not_the_line(tmp_path):
    handle = _spilled(tmp_path, 1, [_record(1)])[0]
    coder = TrainingRecordCoder()
    encoded = coder.encode(handle)
    held = coder.encode(TrainingRecord(_record(1)))
    path = handle.spilled.path.encode()
    assert len(encoded) == len(held) - handle.spilled.length + len(path) + 16  # the line's place, not the line
    decoded = coder.decode(encoded)
    assert decoded.spilled == handle.spilled and decoded.fields == handle.fields
    assert decoded.signature == handle.signature and coder.encode(decoded) == encoded
    assert pickle.loads(pickle.dumps(handle)).spilled == handle.spilled
    assert writer.shard_payload(decoded) == handle.spilled
    assert writer.shard_payload(TrainingRecord(_record(1))) == TrainingRecord(_record(1)).packed


def test_payloads_come_back_in_their_order_reading_each_file_forward(tmp_path):
    first = _spilled(tmp_path, 1, [_record(i) for i in range(4)])
    second = _spilled(tmp_path, 2, [_record(i, "a memo about the budget") for i in range(4, 8)])
    in_memory = TrainingRecord(_record(99)).packed
    mixed = [second[2].spilled, first[3].spilled, in_memory, first[0].spilled, second[0].spilled]
    expected = [second[2].compressed(), first[3].compressed(), in_memory, first[0].compressed(),
                second[0].compressed()]
    assert list(read_payloads(mixed)) == expected


def test_a_spill_file_shorter_than_its_lines_is_a_clear_error(tmp_path):
    handle = _spilled(tmp_path, 3, [_record(1)])[0]
    with open(handle.spilled.path, "r+b") as f:
        f.truncate(handle.spilled.length // 2)
    with pytest.raises(IOError, match="ends before a line"):
        list(read_payloads([handle.spilled]))


def test_a_batch_that_fails_midway_leaves_no_spill_file(tmp_path):
    def failing():
        yield _record(1)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        with spill_writer(spill_file(str(tmp_path), 4)) as spill:
            for record in failing():
                TrainingRecord(record).spilled_to(spill)
    assert os.listdir(tmp_path) == []


def test_shards_written_from_spilled_records_equal_shards_from_records_in_memory(tmp_path):
    records = [_record(i) for i in range(40)]
    spilled = _spilled(tmp_path / "spill", 0, records[:25]) + _spilled(tmp_path / "spill", 1, records[25:])
    for name, items in (("memory", [TrainingRecord(r) for r in records]), ("spilled", spilled)):
        with TestPipeline(runner="FnApiRunner") as p:
            (p | beam.Create(list(reversed(items))).with_output_types(TrainingRecord)
               | writer.WriteJsonlShards(str(tmp_path / name), "train", lambda r: f"{r['task']}|{r['id']}", 3))
    names = sorted(os.listdir(tmp_path / "memory"))
    assert len(names) == 3 and names == sorted(os.listdir(tmp_path / "spilled"))
    for name in names:
        assert (tmp_path / "memory" / name).read_bytes() == (tmp_path / "spilled" / name).read_bytes()
    lines = [json.loads(line) for name in names for line in (tmp_path / "spilled" / name).read_text().splitlines()]
    assert sorted(r["id"] for r in lines) == [r["id"] for r in records]


def test_the_spill_folder_is_removed_and_a_stale_one_is_cleared(tmp_path):
    _spilled(tmp_path / "out" / "training" / ".spill", 0, [_record(1)])
    (tmp_path / "out" / "training" / ".spill" / ".batch-1.bin.tmp-1-abc").write_bytes(b"half")
    writer.clear_outputs(str(tmp_path / "out"))
    assert os.listdir(tmp_path / "out" / "training" / ".spill") == []
    _spilled(tmp_path / "out" / "training" / ".spill", 0, [_record(1)])
    remove_spill(str(tmp_path / "out" / "training" / ".spill"), ["a shard"])
    assert not (tmp_path / "out" / "training" / ".spill").exists()


def test_a_stale_view_or_blocking_spill_is_cleared_and_a_run_leaves_no_spill_behind(tmp_path):
    from beam_pipeline.pipeline import run_pipeline
    from beam_pipeline.sample_corpus import write_sample_corpus
    from transforms.config import Config
    from transforms.output.spill import BundleSpill

    out = tmp_path / "out"
    views, blocking = out / writer.VIEW_SPILL[0], out / writer.BLOCKING_SPILL[0]
    for folder, prefix in ((views, "views"), (blocking, "keys")):
        stale = BundleSpill(str(folder), prefix)
        stale.add(b"spilled by a killed run")
        stale.close()
        (folder / f".{prefix}-1.bin.tmp-1-abc").write_bytes(b"half")
    writer.clear_outputs(str(out))
    assert os.listdir(views) == [] and os.listdir(blocking) == []
    _, drive = write_sample_corpus(str(tmp_path / "corpus"), projects=2, seed=3)
    summary = run_pipeline([drive], str(out), Config())
    assert summary["counts"]["edges"] > 0 and summary["counts"]["training_records"] > 0
    assert not views.exists() and not blocking.exists() and not (out / "training" / ".spill").exists()
    from multiprocessing import forkserver
    assert forkserver._forkserver._forkserver_pid is None  # the parsers' fork server stopped after extraction



def test_a_bundle_spill_writes_one_file_on_close_and_a_reader_reads_any_line_back(tmp_path):
    from transforms.output.spill import BundleSpill, SpillReader

    lines = [f"packed view {i} ".encode() * (i + 1) for i in range(30)]
    empty = BundleSpill(str(tmp_path), "views")
    empty.close()
    assert os.listdir(tmp_path) == []  # a bundle without lines leaves no file
    places = []
    for start in (0, 10, 20):  # three bundles, three files
        bundle = BundleSpill(str(tmp_path), "views")
        places += [bundle.add(line) for line in lines[start:start + 10]]
        assert not os.path.exists(places[-1].path)  # under a temporary name until the bundle ends
        bundle.close()
    files = sorted(os.listdir(tmp_path))
    assert len(files) == 3 and all(f.startswith("views-") and f.endswith(".bin") for f in files)
    reader = SpillReader(open_files=2)
    order = list(range(30))[::-1] + [5, 17, 29, 0]  # backwards and across files: at most two kept open
    assert [reader.read(places[i]) for i in order] == [lines[i] for i in order]
    assert len(reader._handles) == 2
    reader.close()
    assert not reader._handles
    copied = pickle.loads(pickle.dumps(places[3]))
    assert SpillReader().read(copied) == lines[3]


def test_a_spilled_line_past_the_end_of_its_file_is_a_clear_error(tmp_path):
    from transforms.output.spill import BundleSpill, SpilledLine, SpillReader

    bundle = BundleSpill(str(tmp_path), "views")
    where = bundle.add(b"0123456789")
    bundle.close()
    with pytest.raises(IOError, match="ends before"):
        SpillReader().read(SpilledLine(where.path, 5, 10))


def test_summaries_and_links_wait_spilled_and_read_back_as_they_were(tmp_path):
    """SpillLinesFn: each summary or link carries its fields and where its line is (one spill file a
    bundle), pickled as that place; `loaded` reads the lines back in the order asked."""
    from tests.records import text_record
    from transforms.output.spill import loaded
    from transforms.output.training import FileSummary, PackedLink, file_summary
    from transforms.ptransforms.output import SpillLinesFn

    records = [text_record(f"/d/notes/memo_{i}.txt", f"memo {i} about the regional budget " * 30) for i in range(6)]
    held = [FileSummary(file_summary(r, ["/d"], 400)) for r in records]
    fn = SpillLinesFn(str(tmp_path / "spill"), "summaries")
    out = [kv for r, summary in zip(records, held) for kv in fn.process((r.file_id, summary))]
    fn.finish_bundle()
    assert len(os.listdir(tmp_path / "spill")) == 1  # one file a bundle
    for (file_id, summary), record, expected in zip(out, records, held):
        assert file_id == record.file_id and summary.packed is None
        assert summary["file_path"] == expected["file_path"] and summary._record is None  # fields without reading
        assert summary.compressed() == expected.packed
        travelled = pickle.loads(pickle.dumps(summary))
        assert travelled.spilled == summary.spilled and travelled.fields == summary.fields
        assert travelled.packed is None and dict(travelled) == dict(expected)
    link = PackedLink({"source_id": "a", "target_id": "b", "label": "related", "reasoning": "same columns " * 9})
    fn = SpillLinesFn(str(tmp_path / "spill"), "links")
    spilled_link = next(iter(fn.process(link)))
    fn.finish_bundle()
    assert spilled_link.packed is None and spilled_link["label"] == "related" and spilled_link._record is None
    mixed = [out[4][1], held[0], spilled_link, out[1][1]]
    back = loaded(mixed)
    assert [s.packed for s in back] == [held[4].packed, held[0].packed, link.packed, held[1].packed]
    assert dict(back[0]) == dict(held[4]) and back[1] is held[0] and dict(back[2]) == dict(link)
    assert len(os.listdir(tmp_path / "spill")) == 2 and loaded([held[2]]) == [held[2]]


def test_blocking_groupings_wait_on_disk_only_where_workers_share_the_machine(tmp_path):
    """On a cluster (here a portable job with Docker workers, built but never run) the runner's own
    shuffle groups blocking's candidates and training's component batches: no spill step, no blocking
    folder to remove."""
    from apache_beam.options.pipeline_options import PipelineOptions

    from beam_pipeline.pipeline import build_pipeline
    from transforms.config import Config

    def labels(args):
        p = beam.Pipeline(options=PipelineOptions(args))
        build_pipeline(p, [str(tmp_path)], str(tmp_path / "out"), Config())
        found = []

        class Labels(beam.pipeline.PipelineVisitor):
            def enter_composite_transform(self, node):
                found.append(node.full_label)

            def visit_transform(self, node):
                found.append(node.full_label)

        p.visit(Labels())
        return found

    local = labels(["--runner=FnApiRunner"])
    cluster = labels(["--runner=PortableRunner", "--job_endpoint=localhost:1", "--environment_type=DOCKER"])
    assert "RemoveBlockingSpill" in local and any(label.endswith("/SpillByPartition") for label in local)
    assert "RemoveBlockingSpill" not in cluster and not any("SpillByPartition" in label for label in cluster)
    assert "RemoveViewSpill" in cluster  # scoring's views wait on disk on every runner
    # Training's component batches too; and only here is there a parsers' fork server to stop.
    assert "TrainingRecords/GroupBatches/SpillByPartition" in local and "StopForkServer" in local
    assert "TrainingRecords/GroupBatches/GroupByKey" in cluster and "StopForkServer" not in cluster
