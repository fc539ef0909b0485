"""Human review: feedback files, and decisions applied by later runs."""

import csv
import shutil

import pytest

from beam_pipeline.pipeline import run_pipeline
from transforms.config import config_from_dict
from transforms.output import writer
from transforms.output.csv_cells import csv_bytes, neutralise, restore
from transforms.output.review import (
    HUMAN_REVIEW,
    QUEUE_COLUMNS,
    FeedbackError,
    parse_feedback,
    review_key,
)

CONFIG = config_from_dict({"relationships": {"strategies": ["content_similarity"]}})


def _feedback(rows, header=("source", "target", "relationship_type", "decision", "note")):
    return csv_bytes(header, rows, [True] * len(header))


def test_blank_decisions_are_skipped_and_pairs_are_undirected():
    feedback = parse_feedback(_feedback([("a/x.csv", "b/y.csv", "REFERENCES", "Reject", ""),
                                         ("c.csv", "d.csv", "SUPPORTS", "", "")]), "fb.csv")
    assert len(feedback.decisions) == 1
    assert feedback.decisions[0].key == review_key("b/y.csv", "a/x.csv", "REFERENCES")
    assert not feedback.decisions[0].accept


def test_formula_like_paths_round_trip_through_the_queue():
    assert neutralise("=cmd.csv") == "'=cmd.csv" and restore("'=cmd.csv") == "=cmd.csv"
    assert restore("'quoted.csv") == "'quoted.csv"
    feedback = parse_feedback(_feedback([("-draft.csv", "@who.md", "RELATED_TO", "accept", "")]), "fb.csv")
    assert (feedback.decisions[0].source, feedback.decisions[0].target) == ("-draft.csv", "@who.md")


@pytest.mark.parametrize("rows, header, message", [
    ([("a", "b", "REFERENCES", "maybe", "")], None, "line 2: decision must be accept or reject"),
    ([("a", "b", "LINKS", "accept", "")], None, "unknown relationship_type 'LINKS'"),
    ([("a", "b", "REFERENCES", "accept", ""), ("b", "a", "REFERENCES", "reject", "")], None,
     "line 3 contradicts line 2"),
    ([("a", "b", "accept")], ("source", "target", "decision"), "lacks column 'relationship_type'"),
])
def test_bad_feedback_names_the_line(rows, header, message):
    data = _feedback(rows, header) if header else _feedback(rows)
    with pytest.raises(FeedbackError, match=message):
        parse_feedback(data, "fb.csv")


def _drive(folder):
    folder.mkdir(parents=True)
    (folder / "customers.csv").write_text(
        "customer_id,city\n" + "".join(f"C-{1000 + i},City{i}\n" for i in range(80)))
    (folder / "orders.csv").write_text("order_id,customer_id,amount\n" + "".join(
        f"{i},C-{1000 + (i * 3) % 70},{i * 1.5}\n" for i in range(200)))
    (folder / "sales").mkdir()
    (folder / "sales" / "products.csv").write_text(
        "product_id,name\n" + "".join(f"P-{500 + i},Widget {i}\n" for i in range(60)))
    (folder / "sales" / "lines.csv").write_text("line_id,product_id,qty\n" + "".join(
        f"L{i},P-{500 + (i * 7) % 55},{i % 9}\n" for i in range(150)))
    (folder / "notes.md").write_text("# Notes\n\nMeeting about the garden party.\n")
    return folder


def _pairs(output):
    return {(e["source_path"].rsplit("/", 1)[-1], e["target_path"].rsplit("/", 1)[-1], e["relationship_type"]): e
            for e in writer.read_jsonl(f"{output}/edges", "edges")}


def test_feedback_applies_across_runs_on_a_moved_drive(tmp_path):
    first = _drive(tmp_path / "drive")
    run_pipeline([str(first)], str(tmp_path / "out1"), CONFIG)
    found = _pairs(tmp_path / "out1")
    assert ("orders.csv", "customers.csv", "REFERENCES") in found
    assert ("lines.csv", "products.csv", "REFERENCES") in found
    assert not any("notes.md" in key for key in found)

    feedback = tmp_path / "reviewed.csv"
    rows = [("orders.csv", "customers.csv", "REFERENCES", "", "", "", "reject", "wrong join"),
            ("sales/lines.csv", "sales/products.csv", "REFERENCES", "", "", "", "accept", ""),
            ("notes.md", "customers.csv", "RELATED_TO", "", "", "", "accept", "party guests")]
    feedback.write_bytes(csv_bytes(QUEUE_COLUMNS, rows, [True] * len(QUEUE_COLUMNS)))

    # The second run reads the same files from another folder: decisions follow relative paths.
    second = tmp_path / "moved" / "drive"
    shutil.copytree(first, second)
    config = config_from_dict({**CONFIG.to_dict(), "review": {"feedback_file": str(feedback)}})
    summary = run_pipeline([str(second)], str(tmp_path / "out2"), config)
    reviewed = _pairs(tmp_path / "out2")

    assert ("orders.csv", "customers.csv", "REFERENCES") not in reviewed
    kept = reviewed[("lines.csv", "products.csv", "REFERENCES")]
    assert kept["confidence"] == 1.0 and HUMAN_REVIEW in kept["evidence"] and len(kept["evidence"]) > 1
    assert kept["evidence_details"][HUMAN_REVIEW]["detector_confidence"] == found[
        ("lines.csv", "products.csv", "REFERENCES")]["confidence"]
    restored = reviewed[("notes.md", "customers.csv", "RELATED_TO")]
    assert restored["evidence"] == [HUMAN_REVIEW] and "party guests" in restored["description"]
    assert restored["source_path"] == str(second / "notes.md")
    assert summary["counts"]["review_rejected"] == 1 and summary["counts"]["review_accepted"] == 2
    assert summary["counts"]["edges"] == len(reviewed)
    with open(tmp_path / "out2" / "exports" / "review_queue.csv", newline="") as handle:
        assert not [r for r in csv.DictReader(handle) if r["source"] == "sales/lines.csv"]
    training = writer.read_jsonl(str(tmp_path / "out2" / "training" / "data"), "*")
    taught = [rel for t in training for rel in t["relationships"] if "notes.md" in (rel["source"], rel["target"])]
    assert any(rel["label"] == "related" and rel["evidence"][-1]["signal"] == "human_review" for rel in taught)


def test_a_missing_feedback_file_is_a_one_line_error(tmp_path, capsys):
    from beam_pipeline.cli import main

    _drive(tmp_path / "drive")
    assert main(["run", "--input", str(tmp_path / "drive"), "--output", str(tmp_path / "out"),
                 "--feedback", str(tmp_path / "nope.csv")]) == 2
    assert "cannot read feedback file" in capsys.readouterr().err
