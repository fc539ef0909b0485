"""The Python API of the product proposal runs the same code as the pipeline."""

import os

import networkx as nx

from beam_pipeline.api import (
    AgenticAIFormatter,
    DataTransformationPipeline,
    RelationshipDetector,
    to_networkx,
)
from transforms.output import writer


def _write_pair(folder):
    (folder / "customers.csv").write_text("customer_id,city\n" + "".join(f"C-{1000 + i},City{i}\n" for i in range(80)))
    (folder / "orders.csv").write_text("order_id,customer_id,amount\n" + "".join(
        f"{i},C-{1000 + (i * 3) % 70},{i * 1.5}\n" for i in range(200)))
    (folder / "notes.bin").write_bytes(b"\x00\x01")  # not a pattern match: never read


def test_process_batch_runs_the_pipeline(tmp_path):
    _write_pair(tmp_path)
    out = tmp_path / "out"
    summary = DataTransformationPipeline({"relationships": {"strategies": ["content_similarity"]}}).process_batch(
        input_directory=str(tmp_path), output_directory=str(out), detect_relationships=True)
    assert summary["counts"]["matched"] == 2 and summary["counts"]["edges_by_type"] == {"REFERENCES": 1}
    training = [r for split in ("train", "validation", "test")
                for r in writer.read_jsonl(str(out / "training" / "data"), split)]
    assert {r["task"] for r in training} >= {"explain_link"}
    assert all(r["context"]["primary_file"]["file_path"] in ("customers.csv", "orders.csv") for r in training)


def test_process_batch_without_relationships_writes_nodes_only(tmp_path):
    _write_pair(tmp_path)
    summary = DataTransformationPipeline().process_batch(str(tmp_path), str(tmp_path / "out"),
                                                         detect_relationships=False)
    assert summary["counts"]["processed"] == 2 and summary["counts"]["edges"] == 0


def test_detector_and_formatter_work_in_memory(tmp_path):
    _write_pair(tmp_path)
    records, errors = DataTransformationPipeline().extract(
        [str(tmp_path / "customers.csv"), str(tmp_path / "orders.csv"), str(tmp_path / "missing.csv")])
    assert [os.path.basename(e.file_path) for e in errors] == ["missing.csv"]
    edges = RelationshipDetector().detect_relationships([r.to_dict() for r in records],
                                                        strategies=["content_similarity"])
    assert [(e["relationship_type"], os.path.basename(e["source_path"])) for e in edges] == [
        ("REFERENCES", "orders.csv")]
    graph = to_networkx(edges)
    assert isinstance(graph, nx.DiGraph) and graph.number_of_edges() == 1
    formatter = AgenticAIFormatter({"training": {"precision_level": edges[0]["confidence"]}})
    for relationship_graph in (edges, graph):
        training = formatter.format_for_agentic_ai(records, relationship_graph, include_reasoning=True)
        found = [t for t in training if t["task"] == "find_related"]
        assert sorted(t["context"]["primary_file"]["file_name"] for t in found) == ["customers.csv", "orders.csv"]
        assert [r["file_path"] for r in found[0]["context"]["related_files"]] == (
            ["orders.csv"] if found[0]["context"]["primary_file"]["file_name"] == "customers.csv" else ["customers.csv"])
        assert {t["task"] for t in training} == {"find_related", "explain_link", "workflow", "trajectory"}
        assert all(t["synthetic_reasoning"]["workflow"] for t in training)
    bare = formatter.format_for_agentic_ai(records, edges, include_reasoning=False)
    assert bare and all(t["synthetic_reasoning"] is None for t in bare)
