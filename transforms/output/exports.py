"""Files written after the Beam run, from the written shards: graph exports, analysis,
review queue and the HTML report.

    OUT/report.html                       one self-contained page (transforms/output/report.py)
    OUT/exports/analysis.json             workflows (components), hubs, orphans
    OUT/exports/graph.graphml             Gephi, yEd, Cytoscape
    OUT/exports/graph.node-link.json      NetworkX / D3 node-link JSON
    OUT/exports/neo4j/                    nodes.csv, relationships.csv, import.cypher
    OUT/exports/parquet/                  nodes, edges, components, errors (.parquet)
    OUT/exports/review_queue.csv          borderline edges to accept or reject

Which are written is `exports.formats`; analysis.json always is. Works on local and
gs:// outputs; the same shards give byte-identical files.
"""

from __future__ import annotations

from typing import BinaryIO, Callable, Dict

from apache_beam.io.filesystems import FileSystems

from transforms.config import Config
from transforms.output import graph_formats, neo4j, parquet_tables, report, review, writer
from transforms.output.analysis import Analysis, analyse
from transforms.output.files import atomic
from transforms.output.graph_data import RunGraph, load_run

EXPORTS_DIR = "exports"
REPORT_FILE = "report.html"


def annotate(graph: RunGraph, analysis: Analysis) -> None:
    """Adds each node's workflow and degrees, and each edge's workflow and review flag, in place
    (copies of every row would double what a large graph holds)."""
    for node in graph.nodes:
        stats = analysis.stats[node["file_id"]]
        node.update(component_id=stats.component_id, degree=stats.degree, in_degree=stats.in_degree,
                    out_degree=stats.out_degree, is_hub=stats.is_hub, is_orphan=stats.is_orphan)
    for edge in graph.edges:
        stats = analysis.stats.get(edge["source"])
        edge.update(human_reviewed=review.HUMAN_REVIEW in edge["evidence"],
                    component_id=stats.component_id if stats else None)


def _clear(output: str) -> None:
    stale = [m.path for m in FileSystems.match([writer.join_path(output, EXPORTS_DIR, "**")])[0].metadata_list]
    stale += [m.path for m in FileSystems.match([writer.join_path(output, REPORT_FILE)])[0].metadata_list]
    if stale:
        FileSystems.delete(stale)


def write_exports(output: str, config: Config) -> Dict[str, str]:
    """Writes the configured exports of the run in `output`; returns {export name: path}."""
    _clear(output)
    graph = load_run(output)
    cfg = config.exports
    analysis = analyse(graph.nodes, graph.edges, cfg.hub_min_degree, cfg.max_hubs)
    annotate(graph, analysis)
    nodes, edges = graph.nodes, graph.edges
    base = writer.join_path(output, EXPORTS_DIR)
    written: Dict[str, str] = {}

    def write(name: str, content: Callable[[BinaryIO], None]) -> None:
        """Streams one export file: a large graph's files are never held whole in memory."""
        written[name] = writer.join_path(base, *name.split("/"))
        with atomic(written[name]) as handle:
            content(handle)

    def data(content: bytes) -> Callable[[BinaryIO], None]:
        return lambda handle: handle.write(content)

    queued = 0
    if "review_queue" in cfg.formats:
        band = config.review
        queue, queued = review.queue_csv(edges, band.min_confidence, band.max_confidence, graph.roots)
        write("review_queue.csv", data(queue))
    analysis_doc = {**analysis.to_dict(), "review_queue": queued}
    write("analysis.json", data(report.json_bytes(analysis_doc)))
    formats = set(cfg.formats)
    if formats & {"graphml", "node_link"}:
        nx_graph = graph_formats.to_networkx(nodes, edges)
        if "graphml" in formats:
            write("graph.graphml", lambda handle: graph_formats.write_graphml(nx_graph, handle))
        if "node_link" in formats:
            write("graph.node-link.json", lambda handle: graph_formats.write_node_link(nx_graph, handle))
        del nx_graph
    if "neo4j" in formats:
        write("neo4j/nodes.csv", lambda handle: neo4j.write_nodes_csv(handle, nodes))
        write("neo4j/relationships.csv", lambda handle: neo4j.write_relationships_csv(handle, edges))
        write("neo4j/import.cypher", data(neo4j.cypher_script().encode("utf-8")))
    if "parquet" in formats:
        write("parquet/nodes.parquet", data(parquet_tables.nodes_parquet(nodes)))
        write("parquet/edges.parquet", data(parquet_tables.edges_parquet(edges)))
        write("parquet/components.parquet", data(parquet_tables.components_parquet(analysis.components)))
        write("parquet/errors.parquet", data(parquet_tables.errors_parquet(graph.errors)))
    written = dict(sorted(written.items()))
    if "report" in formats:
        path = writer.join_path(output, REPORT_FILE)
        writer.write_bytes(path, report.report_html(graph, nodes, edges, analysis_doc, config))
        written[REPORT_FILE] = path
    return written
