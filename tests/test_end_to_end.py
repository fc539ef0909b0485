"""The whole pipeline on a generated corpus: outputs, schemas, invariants, determinism, accuracy."""

import json
import os

import jsonschema
import pytest

from beam_pipeline.cli import main
from beam_pipeline.pipeline import run_pipeline
from beam_pipeline.sample_corpus import write_sample_corpus
from transforms.config import Config
from transforms.detect.evaluation import evaluate
from transforms.model import FILE_STAGES
from transforms.output import writer

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMAS = {name: json.load(open(os.path.join(REPO, "schemas", f"{name}.schema.json")))
           for name in ("node", "edge", "training", "error", "run_summary")}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    truth, drive = write_sample_corpus(str(root), projects=4, seed=11, rows_scale=0.3)
    # A broken workbook and an empty legacy document must end as error records, not crash the run.
    with open(os.path.join(drive, "broken.xlsx"), "wb") as handle:
        handle.write(b"PK\x03\x04 this is not really a zip")
    with open(os.path.join(drive, "legacy.doc"), "wb") as handle:
        handle.write(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1024)
    return truth, drive


@pytest.fixture(scope="module")
def run(corpus, tmp_path_factory):
    _, drive = corpus
    out = str(tmp_path_factory.mktemp("out"))
    summary = run_pipeline([drive, os.path.join(drive, "legacy.doc")], out, Config())
    return summary, out


def _files(out, sub):
    return sorted(os.listdir(os.path.join(out, sub)))


def test_every_matched_file_is_one_node_or_one_error(corpus, run):
    truth, drive = corpus
    summary, out = run
    nodes = writer.read_jsonl(os.path.join(out, "nodes"), "nodes")
    errors = writer.read_jsonl(os.path.join(out, "errors"), "errors")
    counts = summary["counts"]
    assert counts["matched"] == len(truth["files"]) + 2  # legacy.doc is named twice but matched once
    assert counts["matched"] == counts["processed"] + counts["failed"]
    assert summary["invariant_matched_equals_processed_plus_failed"] is True
    file_errors = [e for e in errors if e["stage"] in FILE_STAGES]
    assert len(errors) - len(file_errors) == counts["stage_errors"]
    paths = [n["file_path"] for n in nodes] + [e["file_path"] for e in file_errors]
    assert len(paths) == len(set(paths)) == counts["matched"]
    by_name = {os.path.basename(e["file_path"]): e for e in file_errors}
    assert by_name["legacy.doc"]["error_type"] == "parse_error"
    assert by_name["broken.xlsx"]["error_type"] in ("corrupt_archive", "parse_error")


@pytest.mark.parametrize("sub, prefix, schema", [
    ("nodes", "nodes", "node"), ("edges", "edges", "edge"), ("training/data", "*", "training"),
    ("errors", "errors", "error")])
def test_every_output_record_validates_against_its_schema(run, sub, prefix, schema):
    _, out = run
    records = writer.read_jsonl(os.path.join(out, sub), prefix)
    assert records, f"no {sub} written"
    validator = jsonschema.Draft202012Validator(SCHEMAS[schema])
    for record in records:
        validator.validate(record)


def test_run_summary_validates_and_counts_edges_by_type(run):
    summary, out = run
    jsonschema.validate(summary, SCHEMAS["run_summary"])
    edges = writer.read_jsonl(os.path.join(out, "edges"), "edges")
    assert summary["counts"]["edges"] == len(edges)
    assert sum(summary["counts"]["edges_by_type"].values()) == len(edges)


def test_edges_reference_nodes_and_are_one_per_pair(run):
    _, out = run
    ids = {n["file_id"] for n in writer.read_jsonl(os.path.join(out, "nodes"), "nodes")}
    edges = writer.read_jsonl(os.path.join(out, "edges"), "edges")
    pairs = [frozenset((e["source"], e["target"])) for e in edges]
    assert len(pairs) == len(set(pairs))
    assert all(e["source"] in ids and e["target"] in ids and e["source"] != e["target"] for e in edges)


def test_graph_recovers_the_labelled_relationships(corpus, run):
    truth, drive = corpus
    _, out = run
    report = evaluate(truth, writer.read_jsonl(os.path.join(out, "edges"), "edges"), drive)
    assert report["f1"] >= 0.8, report
    assert report["type_accuracy"] >= 0.8, report


def test_same_input_gives_byte_identical_outputs(corpus, run, tmp_path):
    _, drive = corpus
    _, first = run
    second = str(tmp_path / "again")
    run_pipeline([drive, os.path.join(drive, "legacy.doc")], second, Config())
    for sub in ("nodes", "edges", "training", "training/data", "errors"):
        assert _files(first, sub) == _files(second, sub)
        for name in _files(first, sub):
            if os.path.isdir(os.path.join(first, sub, name)):
                continue
            with open(os.path.join(first, sub, name), "rb") as a, open(os.path.join(second, sub, name), "rb") as b:
                assert a.read() == b.read(), f"{sub}/{name} differs between runs"


def test_file_ids_are_stable_uuid5_of_the_uri(run):
    from transforms.signatures import file_id_for

    _, out = run
    for node in writer.read_jsonl(os.path.join(out, "nodes"), "nodes"):
        assert node["file_id"] == file_id_for(node["file_path"])


def test_evaluate_command_reads_the_run(corpus, run, tmp_path, capsys):
    _, out = run
    truth_path = os.path.join(os.path.dirname(corpus[1]), "truth.json")
    assert main(["evaluate", "--truth", truth_path, "--output", out, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["truth_pairs"] == len(corpus[0]["edges"]) and report["f1"] >= 0.8
