"""report.html: one self-contained page about a run, for people.

Run counts (straight from run_summary.json), files and edges per type, a confidence
histogram, workflows, hubs, orphans, the error table and an interactive graph view
(nodes coloured by file type, edges by relationship type; click an edge for its
evidence, a file for its metadata). Tables and charts are rendered here as HTML and
inline SVG; the graph view is drawn by the inline script in report_assets/. Nothing
is fetched: no CDN, no fonts, no requests, so the page works offline.
"""

from __future__ import annotations

import html
import json
import os
from typing import Any, Dict, List, Mapping, Sequence

from transforms.config import Config
from transforms.detect.scoring import RELATIONSHIP_TYPES
from transforms.output.graph_data import RunGraph
from transforms.output.graph_layout import components_within, layout

_ASSETS = os.path.join(os.path.dirname(__file__), "report_assets")
MAX_ERROR_ROWS = 500
MAX_ORPHAN_ROWS = 300
MAX_COMPONENT_ROWS = 100
MAX_DETAILS_CHARS = 4000
HISTOGRAM_BINS = 20

RELATIONSHIP_COLOURS = {"SUPPORTS": "#1f77b4", "SUMMARIZES": "#d62728", "DOCUMENTS": "#2ca02c",
                        "REFERENCES": "#9467bd", "VERSION_OF": "#ff7f0e", "RELATED_TO": "#7f7f7f"}
_FILE_PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
                 "#9c755f", "#bab0ac", "#17becf", "#8c564b", "#bcbd22", "#e377c2")
_FILE_TYPE_ORDER = ("csv", "tsv", "xlsx", "xlsm", "xls", "json", "jsonl", "sqlite", "db", "docx", "pdf", "md",
                    "txt", "pptx")


def json_bytes(document: Any) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n").encode("utf-8")


def file_type_colours(types: Sequence[str]) -> Dict[str, str]:
    """A stable colour per file type: known types keep theirs, others follow in name order."""
    known = [t for t in _FILE_TYPE_ORDER]
    others = sorted(set(types) - set(known))
    order = known + others
    return {t: _FILE_PALETTE[order.index(t) % len(_FILE_PALETTE)] for t in sorted(set(types))}


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _script_json(document: Any) -> str:
    """JSON safe inside a <script> element: no '<', '>' or '&' that could close it."""
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _table(table_id: str, header: Sequence[str], rows: Sequence[Sequence[str]], note: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(rows_cell for rows_cell in row) + "</tr>" for row in rows)
    empty = f'<tr><td colspan="{len(header)}" class="empty">none</td></tr>' if not rows else ""
    caption = f'<p class="note">{_e(note)}</p>' if note else ""
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}{empty}</tbody></table>{caption}'


def _td(value: Any, attrs: str = "") -> str:
    return f"<td{attrs}>{_e(value)}</td>"


def _counts_rows(counts: Mapping[str, Any]) -> List[List[str]]:
    """Every scalar count of run_summary.json, in its order; maps get their own tables."""
    return [[_td(name.replace("_", " ")), _td(value, f' class="num" data-count="{_e(name)}"')]
            for name, value in counts.items() if isinstance(value, (int, float)) and not isinstance(value, bool)]


def _bars(svg_id: str, labels: Sequence[str], values: Sequence[int], colours: Sequence[str], title: str) -> str:
    """A horizontal bar chart as inline SVG."""
    top = max(values, default=0) or 1
    row, width = 22, 420
    bars = []
    for i, (label, value, colour) in enumerate(zip(labels, values, colours)):
        y = i * row
        length = 0 if value == 0 else max(2, value / top * (width - 200))
        bars.append(f'<text x="0" y="{y + 15}" class="label">{_e(label)}</text>'
                    f'<rect x="120" y="{y + 4}" width="{length:.1f}" height="14" fill="{colour}">'
                    f'<title>{_e(label)}: {value}</title></rect>'
                    f'<text x="{124 + length:.1f}" y="{y + 15}" class="value">{value}</text>')
    height = max(row, row * len(labels))
    return (f'<svg id="{svg_id}" role="img" aria-label="{_e(title)}" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}">{"".join(bars)}</svg>')


def histogram(confidences: Sequence[float], bins: int = HISTOGRAM_BINS) -> List[int]:
    """Edge counts per confidence bin [i/bins, (i+1)/bins); 1.0 falls in the last bin."""
    counts = [0] * bins
    for c in confidences:
        counts[min(bins - 1, max(0, int(c * bins)))] += 1
    return counts


def _histogram_svg(counts: Sequence[int], threshold: float) -> str:
    width, height, pad = 440, 160, 24
    top = max(counts, default=0) or 1
    bar = (width - 2 * pad) / len(counts)
    parts = []
    for i, n in enumerate(counts):
        h = n / top * (height - 2 * pad)
        low, high = i / len(counts), (i + 1) / len(counts)
        parts.append(f'<rect class="bin" data-bin="{i}" data-count="{n}" x="{pad + i * bar:.1f}" '
                     f'y="{height - pad - h:.1f}" width="{bar - 1:.1f}" height="{h:.1f}">'
                     f'<title>{low:.2f}-{high:.2f}: {n} edges</title></rect>')
    x = pad + threshold * (width - 2 * pad)
    parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{pad / 2}" y2="{height - pad}" class="threshold">'
                 f'<title>min_confidence {threshold}</title></line>')
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<text x="{pad + tick * (width - 2 * pad):.1f}" y="{height - 6}" class="tick">{tick:g}</text>')
    return (f'<svg id="confidence-histogram" role="img" aria-label="confidence histogram" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}">{"".join(parts)}</svg>')


def _trimmed_details(details: Mapping[str, Any]) -> str:
    text = json.dumps(details, indent=1, sort_keys=True, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_DETAILS_CHARS else text[:MAX_DETAILS_CHARS] + "\n... (truncated)"


def graph_view_data(nodes: Sequence[Mapping[str, Any]], edges: Sequence[Mapping[str, Any]],
                    components: Sequence[Mapping[str, Any]], max_nodes: int) -> Dict[str, Any]:
    """Nodes with positions and edges for the graph view: the largest components first, then
    files without relationships, up to `max_nodes` files."""
    members: Dict[int, List[str]] = {}
    for node in nodes:
        if node["component_id"] is not None:
            members.setdefault(node["component_id"], []).append(node["file_id"])
    groups = [members[c["component_id"]] for c in components]
    loose = [n["file_id"] for n in nodes if n["component_id"] is None]
    shown_groups, shown_loose = components_within(groups, loose, max_nodes)
    shown = {m for g in shown_groups for m in g} | set(shown_loose)
    pairs = [(e["source"], e["target"]) for e in edges if e["source"] in shown and e["target"] in shown]
    positions = layout(shown_groups, pairs, shown_loose)
    view_nodes = [{"id": n["file_id"], "label": n["file_name"], "path": n["relative_path"], "type": n["file_type"],
                   "size": n["file_size"], "degree": n["degree"], "component": n["component_id"],
                   "hub": n["is_hub"], "x": positions[n["file_id"]][0], "y": positions[n["file_id"]][1],
                   "title": n.get("title"), "author": n.get("author"), "modified": n.get("modified_at")}
                  for n in nodes if n["file_id"] in shown]
    view_edges = [{"s": e["source"], "t": e["target"], "type": e["relationship_type"],
                   "confidence": e["confidence"], "evidence": e["evidence"], "description": e["description"],
                   "details": _trimmed_details(json.loads(e["evidence_details_json"]))}
                  for e in edges if e["source"] in shown and e["target"] in shown]
    return {"nodes": view_nodes, "edges": view_edges, "total_nodes": len(nodes), "total_edges": len(edges)}


def _asset(name: str) -> str:
    with open(os.path.join(_ASSETS, name), encoding="utf-8") as handle:
        return handle.read()


def report_html(graph: RunGraph, nodes: Sequence[Mapping[str, Any]], edges: Sequence[Mapping[str, Any]],
                analysis: Mapping[str, Any], config: Config) -> bytes:
    summary = graph.summary
    counts = summary.get("counts", {})
    threshold = config.relationships.thresholds.min_confidence
    type_colours = file_type_colours([n["file_type"] for n in nodes])
    view = graph_view_data(nodes, edges, analysis["components"], config.exports.report_max_nodes)
    view["fileColours"] = type_colours
    view["relationshipColours"] = RELATIONSHIP_COLOURS

    by_type = counts.get("edges_by_type", {})
    rel_names = [t for t in RELATIONSHIP_TYPES if t in by_type] + sorted(set(by_type) - set(RELATIONSHIP_TYPES))
    files_by_type = counts.get("files_by_type", {})
    errors = graph.errors
    components = analysis["components"]

    sections = [
        '<section id="run"><h2>Run</h2>',
        _table("counts", ["count", "value"], _counts_rows(counts)),
        f'<p class="note">Inputs: {_e(", ".join(summary.get("inputs", [])))}<br>Output: {_e(summary.get("output"))}'
        f'<br>Runtime: {_e(summary.get("runtime_seconds"))} s; matched = processed + failed: '
        f'{_e(summary.get("invariant_matched_equals_processed_plus_failed"))}</p></section>',
        '<section id="types"><h2>Edges per relationship type</h2>',
        _table("edges-by-type", ["relationship type", "edges"],
               [[_td(t), _td(by_type[t], f' class="num" data-type="{_e(t)}"')] for t in rel_names]),
        _bars("edges-by-type-chart", rel_names, [by_type[t] for t in rel_names],
              [RELATIONSHIP_COLOURS.get(t, "#999") for t in rel_names], "edges per relationship type"),
        '<h2>Files per type</h2>',
        _table("files-by-type", ["file type", "files"],
               [[_td(t), _td(n, f' class="num" data-type="{_e(t)}"')] for t, n in files_by_type.items()]),
        '<h2>Confidence</h2>',
        _histogram_svg(histogram([e["confidence"] for e in edges]), threshold),
        f'<p class="note">Edges per confidence bin of {1 / HISTOGRAM_BINS:g}; the line is min_confidence '
        f'({threshold:g}). {analysis.get("review_queue", 0)} edges are in the review queue '
        f'(exports/review_queue.csv).</p></section>',
        '<section id="graph-section"><h2>Graph</h2><div id="graph-controls"></div>'
        '<div id="graph-wrap"><div id="graph" aria-label="relationship graph"></div>'
        '<aside id="details"><p class="note">Click an edge to see its evidence, or a file to see its '
        'metadata.</p></aside></div>'
        f'<p class="note" id="graph-note">Showing {len(view["nodes"])} of {len(nodes)} files and '
        f'{len(view["edges"])} of {len(edges)} edges (largest workflows first).</p></section>',
        '<section id="workflows"><h2>Workflows (connected components)</h2>',
        _table("components", ["#", "label", "files", "edges", "stages", "file types", "relationships",
                              "central file"],
               [[_td(c["component_id"]), _td(c["label"]), _td(c["files"], ' class="num"'),
                 _td(c["edges"], ' class="num"'),
                 _td(" → ".join(", ".join(f"{n} {t}" for t, n in s["file_types"].items()) for s in c["stages"])),
                 _td(", ".join(f"{t} {n}" for t, n in c["file_types"].items())),
                 _td(", ".join(f"{t} {n}" for t, n in c["edges_by_type"].items())), _td(c["central_file"])]
                for c in components[:MAX_COMPONENT_ROWS]],
               f"Showing {MAX_COMPONENT_ROWS} of {len(components)}." if len(components) > MAX_COMPONENT_ROWS else ""),
        '<h2>Hub files</h2>',
        _table("hubs", ["file", "type", "relationships", "workflow", "by type"],
               [[_td(h["path"]), _td(h["file_type"]), _td(h["degree"], ' class="num"'), _td(h["component_id"]),
                 _td(", ".join(f"{t} {n}" for t, n in h["edges_by_type"].items()))] for h in analysis["hubs"]]),
        '<h2>Orphan files (no relationship)</h2>',
        _table("orphans", ["file"], [[_td(p)] for p in analysis["orphans"][:MAX_ORPHAN_ROWS]],
               f"Showing {MAX_ORPHAN_ROWS} of {len(analysis['orphans'])}."
               if len(analysis["orphans"]) > MAX_ORPHAN_ROWS else ""),
        '</section><section id="errors-section"><h2>Errors</h2>',
        _table("errors", ["file", "stage", "error type", "message"],
               [[_td(e["file_path"]), _td(e["stage"]), _td(e["error_type"]), _td(e["message"])]
                for e in errors[:MAX_ERROR_ROWS]],
               f"Showing {MAX_ERROR_ROWS} of {len(errors)}; all are in errors/." if len(errors) > MAX_ERROR_ROWS else ""),
        '</section>',
    ]
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">"
        '<title>filegraph report</title>'
        f'<style>{_asset("report.css")}</style></head><body>'
        f'<header><h1>filegraph report</h1><p>{_e(counts.get("processed", 0))} files, '
        f'{_e(counts.get("edges", 0))} relationships, {_e(counts.get("failed", 0))} errors, '
        f'{len(components)} workflows</p></header><main>'
        + "".join(sections)
        + f'</main><script id="graph-data" type="application/json">{_script_json(view)}</script>'
        f'<script>{_asset("report.js")}</script></body></html>\n'
    )
    return page.encode("utf-8")
