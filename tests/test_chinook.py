"""Real data with known foreign keys: the Chinook database as CSV files and as one SQLite file."""

import json
import os

import pytest

from beam_pipeline.pipeline import run_pipeline
from transforms.config import Config
from transforms.detect.evaluation import evaluate
from transforms.extract import extract_file
from transforms.output import writer

CHINOOK = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "data", "chinook")
pytestmark = pytest.mark.skipif(not os.path.isdir(CHINOOK), reason="../shared/data/chinook is not present")


@pytest.fixture(scope="module")
def truth():
    with open(os.path.join(CHINOOK, "truth.json")) as handle:
        return json.load(handle)


def _fk_pairs(truth):
    """{(source table, target table)} from the truth's file-level foreign keys."""
    return {(e["source"][:-4], (e["b"] if e["source"] == e["a"] else e["a"])[:-4]) for e in truth["edges"]}


def test_csv_foreign_keys_are_found_as_references_in_the_right_direction(truth, tmp_path):
    csv_dir = os.path.abspath(os.path.join(CHINOOK, "csv"))
    run_pipeline([csv_dir], str(tmp_path), Config())
    edges = writer.read_jsonl(str(tmp_path / "edges"), "edges")
    report = evaluate(truth, edges, csv_dir)
    references = [e for e in edges if e["relationship_type"] == "REFERENCES"]
    found = {(os.path.basename(e["source_path"])[:-4], os.path.basename(e["target_path"])[:-4]) for e in references}
    assert _fk_pairs(truth) <= found, f"missing: {_fk_pairs(truth) - found}"
    assert len(found - _fk_pairs(truth)) <= 2, f"not foreign keys: {found - _fk_pairs(truth)}"
    assert report["direction_accuracy"] == 1.0
    for edge in references:  # evidence names the key columns
        inclusion = edge["evidence_details"]["inclusion"]
        assert inclusion["containment"] >= 0.9 and inclusion["source_column"] and inclusion["target_column"]


def _sqlite_links(strip_declarations: bool):
    path = os.path.join(CHINOOK, "Chinook_Sqlite.sqlite")
    with open(path, "rb") as handle:
        data = handle.read()
    record = extract_file(path, data, Config())
    if strip_declarations:  # detection must not depend on the DDL
        from transforms.detect.inclusion import table_links

        for table in record.tables:
            table.foreign_keys, table.primary_key = [], []
        return table_links(record.tables)
    return record.structure["table_links"]


@pytest.mark.parametrize("strip_declarations", [False, True], ids=["declared", "detected"])
def test_sqlite_table_links_cover_every_foreign_key(truth, strip_declarations):
    links = _sqlite_links(strip_declarations)
    found = {(l["source_table"], l["target_table"]) for l in links if l["source_table"] != l["target_table"]}
    assert _fk_pairs(truth) <= found, f"missing: {_fk_pairs(truth) - found}"
    assert len(found - _fk_pairs(truth)) <= 2, f"not foreign keys: {found - _fk_pairs(truth)}"
