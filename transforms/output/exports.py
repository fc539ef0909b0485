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

from typing import Any, Dict, List

from apache_beam.io.filesystems import FileSystems

from transforms.config import Config
from transforms.output import graph_formats, neo4j, parquet_tables, report, review, writer
from transforms.output.analysis import Analysis, analyse
from transforms.output.graph_data import RunGraph, load_run

EXPORTS_DIR = "exports"
REPORT_FILE = "report.html"


def annotated_nodes(graph: RunGraph, analysis: Analysis) -> List[Dict[str, Any]]:
    rows = []
    for node in graph.nodes:
        stats = analysis.stats[node["file_id"]]
        rows.append({**node, "component_id": stats.component_id, "degree": stats.degree,
                     "in_degree": stats.in_degree, "out_degree": stats.out_degree,
                     "is_hub": stats.is_hub, "is_orphan": stats.is_orphan})
    return rows


def annotated_edges(graph: RunGraph, analysis: Analysis) -> List[Dict[str, Any]]:
    rows = []
    for edge in graph.edges:
        stats = analysis.stats.get(edge["source"])
        rows.append({**edge, "human_reviewed": review.HUMAN_REVIEW in edge["evidence"],
                     "component_id": stats.component_id if stats else None})
    return rows


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
    nodes, edges = annotated_nodes(graph, analysis), annotated_edges(graph, analysis)
    base = writer.join_path(output, EXPORTS_DIR)
    written: Dict[str, str] = {}

    def write(name: str, data: bytes) -> None:  # at once: a large graph's files need not all wait in memory
        written[name] = writer.join_path(base, *name.split("/"))
        writer.write_bytes(written[name], data)

    queued = 0
    if "review_queue" in cfg.formats:
        band = config.review
        queue, queued = review.queue_csv(graph.edges, band.min_confidence, band.max_confidence, graph.roots)
        write("review_queue.csv", queue)
    analysis_doc = {**analysis.to_dict(), "review_queue": queued}
    write("analysis.json", report.json_bytes(analysis_doc))
    formats = set(cfg.formats)
    if formats & {"graphml", "node_link"}:
        nx_graph = graph_formats.to_networkx(nodes, edges)
        if "graphml" in formats:
            write("graph.graphml", graph_formats.graphml_bytes(nx_graph))
        if "node_link" in formats:
            write("graph.node-link.json", graph_formats.node_link_bytes(nx_graph))
        del nx_graph
    if "neo4j" in formats:
        write("neo4j/nodes.csv", neo4j.nodes_csv(nodes))
        write("neo4j/relationships.csv", neo4j.relationships_csv(edges))
        write("neo4j/import.cypher", neo4j.cypher_script().encode("utf-8"))
    if "parquet" in formats:
        write("parquet/nodes.parquet", parquet_tables.parquet_bytes(parquet_tables.nodes_table(nodes)))
        write("parquet/edges.parquet", parquet_tables.parquet_bytes(parquet_tables.edges_table(edges)))
        write("parquet/components.parquet", parquet_tables.parquet_bytes(
            parquet_tables.components_table(analysis.components)))
        write("parquet/errors.parquet", parquet_tables.parquet_bytes(parquet_tables.errors_table(graph.errors)))
    written = dict(sorted(written.items()))
    if "report" in formats:
        path = writer.join_path(output, REPORT_FILE)
        writer.write_bytes(path, report.report_html(graph, nodes, edges, analysis_doc, config))
        written[REPORT_FILE] = path
    return written
