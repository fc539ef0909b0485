"""Workflows, stages, hubs and orphans of a graph; input roots that name files relative."""

from transforms.extract.matching import input_root, relative_path
from transforms.output.analysis import analyse


def _node(name, file_type):
    return {"file_id": f"id-{name}", "relative_path": name, "file_name": name.rsplit("/", 1)[-1],
            "file_type": file_type}


def _edge(source, target, kind, confidence=0.9):
    return {"source": f"id-{source}", "target": f"id-{target}", "relationship_type": kind, "confidence": confidence}


NODES = [_node("sales/orders.csv", "csv"), _node("sales/customers.csv", "csv"), _node("sales/summary.docx", "docx"),
         _node("sales/deck.pptx", "pptx"), _node("hr/policy.md", "md"), _node("hr/policy v2.md", "md"),
         _node("misc/lunch.txt", "txt")]
EDGES = [_edge("sales/orders.csv", "sales/customers.csv", "REFERENCES"),
         _edge("sales/summary.docx", "sales/orders.csv", "SUMMARIZES"),
         _edge("sales/orders.csv", "sales/deck.pptx", "SUPPORTS"),
         _edge("sales/summary.docx", "sales/deck.pptx", "RELATED_TO", 0.7),
         _edge("hr/policy v2.md", "hr/policy.md", "VERSION_OF")]


def test_components_are_numbered_by_size_with_stages_from_sources_to_reports():
    analysis = analyse(NODES, EDGES, hub_min_degree=3)
    first, second = analysis.components
    assert (first["component_id"], first["files"], first["edges"], first["label"]) == (1, 4, 4, "sales")
    assert [s["paths"] for s in first["stages"]] == [
        ["sales/customers.csv"], ["sales/orders.csv"], ["sales/deck.pptx", "sales/summary.docx"]]
    assert first["central_file"] == "sales/orders.csv"
    assert [s["paths"] for s in second["stages"]] == [["hr/policy.md"], ["hr/policy v2.md"]]
    assert second["label"] == "hr"


def test_hubs_and_orphans():
    analysis = analyse(NODES, EDGES, hub_min_degree=3)
    assert [(h["path"], h["degree"]) for h in analysis.hubs] == [("sales/orders.csv", 3)]
    assert analysis.orphans == ["misc/lunch.txt"]
    assert analysis.stats["id-misc/lunch.txt"].component_id is None
    assert analyse(NODES, EDGES, hub_min_degree=3, max_hubs=0).hubs == []


def test_a_cycle_shares_one_stage():
    edges = [_edge("sales/orders.csv", "sales/customers.csv", "REFERENCES"),
             _edge("sales/customers.csv", "sales/orders.csv", "REFERENCES")]
    (component,) = analyse(NODES[:2], edges).components
    assert [s["files"] for s in component["stages"]] == [2]


def test_input_roots_and_relative_paths(tmp_path):
    (tmp_path / "drive" / "sub").mkdir(parents=True)
    (tmp_path / "drive" / "sub" / "a.csv").write_text("x\n")
    drive = str(tmp_path / "drive")
    assert input_root(drive) == drive + "/"
    assert input_root(drive + "/sub/*.csv") == drive + "/sub/"
    assert input_root(drive + "/**/a.csv") == drive + "/"
    assert input_root(drive + "/sub/a.csv") == drive + "/sub/"
    roots = [drive + "/", drive + "/sub/"]
    assert relative_path(drive + "/sub/a.csv", roots) == "a.csv"  # the deepest root wins
    assert relative_path("/elsewhere/b.csv", roots) == "/elsewhere/b.csv"
