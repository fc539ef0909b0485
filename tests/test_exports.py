"""Each export of a real run, loaded back by the tool it is meant for."""

import csv
import json
import re

import networkx as nx
import pyarrow.parquet as pq
import pytest

from tests.exported_run import HOSTILE_NAMES, CONFIG, exported, exported_run
from transforms.output import writer
from transforms.output.exports import write_exports


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    drive, output, summary = exported_run(tmp_path_factory.mktemp("exported"))
    nodes = writer.read_jsonl(f"{output}/nodes", "nodes")
    edges = writer.read_jsonl(f"{output}/edges", "edges")
    return {"drive": drive, "output": output, "summary": summary, "nodes": nodes, "edges": edges}


def test_the_run_has_what_the_exports_must_show(run):
    counts = run["summary"]["counts"]
    assert counts["edges"] > 20 and counts["failed"] == 1 and counts["skipped_by_patterns"] == 1
    assert counts["processed"] == len(run["nodes"])


def test_graphml_loads_in_networkx_with_typed_attributes(run):
    graph = nx.read_graphml(exported(run["output"], "graph.graphml"))
    assert isinstance(graph, nx.DiGraph)
    assert sorted(graph.nodes) == sorted(n["file_id"] for n in run["nodes"])
    assert graph.number_of_edges() == len(run["edges"])
    for edge in run["edges"]:
        attrs = graph.edges[edge["source"], edge["target"]]
        assert attrs["relationship_type"] == edge["relationship_type"]
        assert attrs["confidence"] == pytest.approx(edge["confidence"])
        assert attrs["evidence"].split(";") == edge["evidence"]
        assert json.loads(attrs["evidence_details"]) == edge["evidence_details"]
    some = run["nodes"][0]
    assert graph.nodes[some["file_id"]]["label"] == some["file_name"]
    assert isinstance(graph.nodes[some["file_id"]]["file_size"], int)


def test_node_link_json_loads_in_networkx(run):
    with open(exported(run["output"], "graph.node-link.json")) as handle:
        graph = nx.node_link_graph(json.load(handle), edges="edges")
    assert graph.is_directed()
    assert graph.number_of_nodes() == len(run["nodes"]) and graph.number_of_edges() == len(run["edges"])


_HEADER = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)?(?::(?P<type>ID|LABEL|START_ID|END_ID|TYPE|int|long|float|"
                     r"double|boolean|byte|short|char|string|point|date|localtime|time|localdatetime|datetime|"
                     r"duration)(?P<array>\[\])?)?$")
_PARSE = {"int": int, "long": int, "float": float, "double": float,
          "boolean": lambda v: {"true": True, "false": False}[v]}


def _neo4j_rows(path):
    """Rows of an admin-import CSV, checked against the header spec, values parsed by their type."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        specs = [_HEADER.match(h) for h in header]
        assert all(specs), f"bad header in {path}: {header}"
        rows = []
        for cells in reader:
            assert len(cells) == len(header)
            row = {}
            for spec, cell in zip(specs, cells):
                kind, key = spec["type"], spec["name"] or f":{spec['type']}"
                if spec["array"]:
                    row[key] = cell.split(";") if cell else []
                elif cell and kind in _PARSE:
                    row[key] = _PARSE[kind](cell)
                else:
                    row[key] = cell
            rows.append(row)
        return header, rows


def test_neo4j_csvs_follow_the_admin_import_header_spec(run):
    header, nodes = _neo4j_rows(exported(run["output"], "neo4j", "nodes.csv"))
    assert header[:2] == ["fileId:ID", ":LABEL"] and "size:long" in header and "keyTerms:string[]" in header
    ids = {n["fileId"] for n in nodes}
    assert ids == {n["file_id"] for n in run["nodes"]}
    assert all(n[":LABEL"].split(";")[0] == "File" for n in nodes)
    header, rels = _neo4j_rows(exported(run["output"], "neo4j", "relationships.csv"))
    assert header[:3] == [":START_ID", ":END_ID", ":TYPE"] and "confidence:float" in header
    assert len(rels) == len(run["edges"])
    assert all(r[":START_ID"] in ids and r[":END_ID"] in ids for r in rels)
    by_pair = {(e["source"], e["target"]): e for e in run["edges"]}
    for r in rels:
        edge = by_pair[(r[":START_ID"], r[":END_ID"])]
        assert r[":TYPE"] == edge["relationship_type"] and r["confidence"] == pytest.approx(edge["confidence"])
        assert r["evidence"] == edge["evidence"]
    script = open(exported(run["output"], "neo4j", "import.cypher")).read()
    assert "LOAD CSV WITH HEADERS FROM 'file:///relationships.csv'" in script
    assert all(f"MERGE (a)-[r:{t}]->(b)" in script for t in {e["relationship_type"] for e in run["edges"]})


def test_csv_exports_neutralise_formula_like_cells(run):
    names = {}
    with open(exported(run["output"], "neo4j", "nodes.csv"), newline="") as handle:
        for row in csv.DictReader(handle):
            names[row["name"]] = row
    for name in HOSTILE_NAMES:
        assert "'" + name in names, f"{name} not neutralised"
    for cell in (c for row in names.values() for c in row.values()):
        assert not cell.startswith(("=", "+", "-", "@")), cell


def test_parquet_tables_load_with_pyarrow(run):
    nodes = pq.read_table(exported(run["output"], "parquet", "nodes.parquet")).to_pylist()
    edges = pq.read_table(exported(run["output"], "parquet", "edges.parquet")).to_pylist()
    components = pq.read_table(exported(run["output"], "parquet", "components.parquet")).to_pylist()
    errors = pq.read_table(exported(run["output"], "parquet", "errors.parquet")).to_pylist()
    assert len(nodes) == len(run["nodes"]) and len(edges) == len(run["edges"])
    assert [e["error_type"] for e in errors] and errors[0]["file_path"].endswith("broken.xlsx")
    assert sum(c["files"] for c in components) == sum(1 for n in nodes if n["component_id"] is not None)
    assert sum(c["edges"] for c in components) == len(edges)
    degree = {n["file_id"]: n["degree"] for n in nodes}
    for n in nodes:
        assert n["is_orphan"] == (degree[n["file_id"]] == 0) == (n["component_id"] is None)
    assert sum(degree.values()) == 2 * len(edges)
    assert isinstance(json.loads(edges[0]["evidence_details"]), dict)
    sizes = [c["files"] for c in components]
    assert sizes == sorted(sizes, reverse=True) and [c["component_id"] for c in components] == list(
        range(1, len(components) + 1))


def test_analysis_lists_workflows_hubs_and_orphans(run):
    analysis = json.load(open(exported(run["output"], "analysis.json")))
    orphans = set(analysis["orphans"])
    connected = {e[k] for e in run["edges"] for k in ("source_path", "target_path")}
    all_paths = {n["file_path"] for n in run["nodes"]}
    assert {run["drive"] + "/" + o for o in orphans} == all_paths - connected
    assert analysis["hubs"] and all(h["degree"] >= CONFIG.exports.hub_min_degree for h in analysis["hubs"])
    first = analysis["components"][0]
    assert sum(s["files"] for s in first["stages"]) == first["files"]
    assert first["edges_by_type"] and first["central_file"]


def test_review_queue_holds_the_band_least_confident_first(run):
    with open(exported(run["output"], "review_queue.csv"), newline="") as handle:
        rows = list(csv.DictReader(handle))
    band = [e for e in run["edges"] if 0.6 <= e["confidence"] < 0.8]
    assert len(rows) == len(band)
    confidences = [float(r["confidence"]) for r in rows]
    assert confidences == sorted(confidences)
    assert all(r["decision"] == "" and not r["source"].startswith("/") for r in rows)


def test_exports_are_byte_identical_when_written_again(run, tmp_path):
    names = ["graph.graphml", "graph.node-link.json", "neo4j/nodes.csv", "neo4j/relationships.csv",
             "parquet/nodes.parquet", "parquet/edges.parquet", "parquet/components.parquet", "analysis.json",
             "review_queue.csv"]
    before = {n: open(exported(run["output"], n), "rb").read() for n in names}
    report = open(f"{run['output']}/report.html", "rb").read()
    write_exports(run["output"], CONFIG)
    assert {n: open(exported(run["output"], n), "rb").read() for n in names} == before
    assert open(f"{run['output']}/report.html", "rb").read() == report


def test_formats_can_be_turned_off(run, tmp_path):
    import shutil

    from transforms.config import config_from_dict

    copy = tmp_path / "copy"
    shutil.copytree(run["output"], copy)
    written = write_exports(str(copy), config_from_dict({**CONFIG.to_dict(), "exports": {"formats": ["parquet"]}}))
    assert sorted(written) == ["analysis.json", "parquet/components.parquet", "parquet/edges.parquet",
                               "parquet/errors.parquet", "parquet/nodes.parquet"]
    assert not (copy / "exports" / "graph.graphml").exists() and not (copy / "report.html").exists()
