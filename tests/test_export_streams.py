"""Exports written piece by piece give what writing them whole gave, and a loaded run repeats no text."""

import io
import json

import networkx as nx
import pyarrow as pa
import pytest
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.output import csv_cells, graph_data, graph_formats, parquet_tables, writer

_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_VALUE = st.one_of(_TEXT, st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                   st.booleans())


@st.composite
def _graphs(draw):
    graph = nx.DiGraph(name=draw(_TEXT))
    names = draw(st.lists(_TEXT, max_size=8, unique=True))
    for name in names:
        graph.add_node(name, **draw(st.dictionaries(st.sampled_from(["a", "label", "x\ny", "é"]), _VALUE)))
    for source, target in draw(st.lists(st.tuples(st.sampled_from(names), st.sampled_from(names)), max_size=12)
                               if names else st.just([])):
        graph.add_edge(source, target, **draw(st.dictionaries(st.sampled_from(["w", "type", "\"q\""]), _VALUE)))
    return graph


@settings(max_examples=150, deadline=None)
@given(_graphs())
def test_node_link_written_in_pieces_is_the_text_of_node_link_data(graph):
    whole = json.dumps(nx.node_link_data(graph, edges="edges"), sort_keys=True, ensure_ascii=False, indent=1)
    out = io.BytesIO()
    graph_formats.write_node_link(graph, out)
    assert out.getvalue() == (whole + "\n").encode("utf-8")


# Text XML must escape or cannot hold: markup, quotes, control characters, a lone surrogate.
_XML_HOSTILE = st.text(alphabet=st.sampled_from(list("ab&<>\"'\r\n\t \x00\x0b\x7f\ufffe\ud800\u00e9\U0001d400")),
                       max_size=8)


@st.composite
def _xml_hostile_graphs(draw):
    graph = draw(_graphs())
    for node in list(graph.nodes)[:2]:
        graph.nodes[node]["note"] = draw(_XML_HOSTILE)
    if draw(st.booleans()):
        graph.add_node(draw(_XML_HOSTILE), label=draw(_XML_HOSTILE), size=draw(st.integers()), odd=draw(_VALUE))
    return graph


@settings(max_examples=200, deadline=None)
@given(st.one_of(_graphs(), _xml_hostile_graphs()))
def test_graphml_written_as_text_is_networkx_graphml_byte_for_byte(graph):
    """Or refused as NetworkX refuses it: text XML cannot hold goes to NetworkX's writer."""
    expected, refused = io.BytesIO(), None
    try:
        nx.write_graphml(graph, expected, encoding="utf-8", prettyprint=True)
    except Exception as exc:  # lxml refuses text XML cannot hold
        refused = type(exc)
    out = io.BytesIO()
    if refused:
        with pytest.raises(refused):
            graph_formats.write_graphml(graph, out)
    else:
        graph_formats.write_graphml(graph, out)
        assert out.getvalue() == expected.getvalue()


def test_graphml_of_a_typed_graph_keeps_networkx_keys_and_escapes():
    graph = nx.DiGraph(name="g&<h>")
    graph.add_node("a\"b", label="x & y < z", size=3, ratio=0.5, hub=True, note="")
    graph.add_node("c", size="3")  # one name, two types: two keys
    graph.add_edge("a\"b", "c", why="line\r\nnext\ttab")
    expected = io.BytesIO()
    nx.write_graphml(graph, expected, encoding="utf-8", prettyprint=True)
    out = io.BytesIO()
    graph_formats.write_graphml(graph, out)
    assert out.getvalue() == expected.getvalue()
    text = out.getvalue().decode()
    assert '<node id="a&quot;b">' in text and "line&#13;\nnext\ttab" in text and text.count("attr.name=\"size\"") == 2


def test_node_link_flushes_to_the_handle_as_it_goes(monkeypatch):
    monkeypatch.setattr(graph_formats, "WRITTEN_TOGETHER", 100)
    graph = nx.DiGraph(name="g")
    graph.add_edges_from((str(i), str(i + 1), {"w": i}) for i in range(50))
    writes = []

    class Handle:
        def write(self, data):
            writes.append(data)

    graph_formats.write_node_link(graph, Handle())
    assert len(writes) > 20 and max(map(len, writes)) < 400
    assert json.loads(b"".join(writes)) == nx.node_link_data(graph, edges="edges")


def test_csv_written_in_pieces_equals_one_piece(monkeypatch):
    rows = [(f"=cmd{i}", i, "a\nb") for i in range(25)]
    whole = csv_cells.csv_bytes(["name", "n", "note"], rows, [True, False, True])
    monkeypatch.setattr(csv_cells, "ROWS_WRITTEN_TOGETHER", 4)
    out = io.BytesIO()
    csv_cells.write_csv(out, ["name", "n", "note"], rows, [True, False, True])
    assert out.getvalue() == whole
    assert whole.decode().splitlines()[1] == "'=cmd0,0,a b"


def test_parquet_in_row_groups_reads_back_every_row(monkeypatch):
    monkeypatch.setattr(parquet_tables, "ROWS_PER_GROUP", 3)
    edges = [{"source": f"s{i}", "target": f"t{i}", "relationship_type": "REFERENCES", "confidence": i / 10,
              "evidence": ["content_similarity"], "evidence_details_json": json.dumps({"i": i})} for i in range(8)]
    data = parquet_tables.edges_parquet(edges)
    handle = pq.ParquetFile(pa.BufferReader(data))
    assert handle.num_row_groups == 3
    table = handle.read()
    assert table.column("source").to_pylist() == [e["source"] for e in edges]
    assert [json.loads(d) for d in table.column("evidence_details").to_pylist()] == [{"i": i} for i in range(8)]
    empty = pq.read_table(pa.BufferReader(parquet_tables.edges_parquet([])))
    assert empty.num_rows == 0 and empty.schema == parquet_tables.EDGES


def test_a_loaded_run_holds_each_id_and_path_once(tmp_path):
    nodes = [{"file_id": f"id{i}", "file_path": f"/d/f{i}.csv", "file_name": f"f{i}.csv", "file_type": "csv",
              "content_signature": {"hash": "h", "key_terms": ["revenue", "region"],
                                    "entities": {"code": ["A-1"]}}} for i in range(3)]
    edges = [{"source": "id0", "target": "id1", "source_path": "/d/f0.csv", "target_path": "/d/f1.csv",
              "relationship_type": "REFERENCES", "confidence": 0.9, "evidence": ["content_similarity"],
              "evidence_details": {"features": {"b": 1, "a": 0.5}}, "description": "d"}]
    writer.write_lines(writer.shard_path(str(tmp_path / "nodes"), "nodes", 0, 1), map(writer.dumps, nodes))
    writer.write_lines(writer.shard_path(str(tmp_path / "edges"), "edges", 0, 1), map(writer.dumps, edges))
    writer.write_json(str(tmp_path / "run_summary.json"), {"inputs": ["/d"], "counts": {}})
    graph = graph_data.load_run(str(tmp_path))
    by_id = graph.node_by_id()
    edge = graph.edges[0]
    assert edge["source"] is by_id["id0"]["file_id"] and edge["target_path"] is by_id["id1"]["file_path"]
    assert graph.nodes[0]["key_terms"][0] is graph.nodes[2]["key_terms"][0]
    assert edge["evidence_details_json"] == '{"features": {"a": 0.5, "b": 1}}' and "evidence_details" not in edge
    assert json.loads(graph.nodes[0]["entities_json"]) == {"code": ["A-1"]}
