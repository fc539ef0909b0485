"""Exports benchmark: time and peak memory of writing every export after a run.

    python -m benchmarks.exports [--sizes 1000,10000,50000] [--edges-per-file 3] [--run OUTPUT ...]
                                 [--report benchmarks/reports/exports.json]

For each size, a synthetic finished run (nodes, edges, errors shards and
run_summary.json, as the pipeline writes them) is made in a temporary folder: files
in workflows of 12, each file linked to `--edges-per-file` others of its workflow,
with evidence details of realistic size. Then `write_exports` runs on it in a fresh
process, which reports the seconds per step and its peak RSS. `--run` measures the same
on finished runs instead (for example a scale benchmark's output under benchmarks/.cache);
their exports are written again in place.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from typing import Dict, List

from transforms.output import writer
from transforms.signatures import file_id_for

TYPES = ("csv", "xlsx", "docx", "pptx", "md", "pdf")
WORKFLOW = 12


def synthetic_run(output: str, files: int, edges_per_file: int) -> None:
    root = "/drive/"
    nodes, edges = [], []
    for i in range(files):
        path = f"{root}team{i // WORKFLOW:05d}/file{i:06d}.{TYPES[i % len(TYPES)]}"
        nodes.append({"file_id": file_id_for(path), "file_path": path, "file_name": path.rsplit("/", 1)[-1],
                      "file_type": TYPES[i % len(TYPES)], "file_size": 1000 + i, "created_at": None,
                      "modified_at": "2024-05-01T00:00:00Z", "author": f"Author {i % 50}", "title": f"Title {i}",
                      "content_signature": {"hash": f"{i:064x}", "key_terms": ["revenue", "region", f"t{i % 97}"],
                                            "entities": {"project_code": [f"PRJ-{i // WORKFLOW}"]}},
                      "structure": {}, "properties": {}, "text_preview": "x" * 400, "redactions": {}, "warnings": []})
    for i in range(files):
        base = i - i % WORKFLOW
        for k in range(1, edges_per_file + 1):
            j = base + (i - base + k) % WORKFLOW
            if j >= files or j == i or (k * 2 == WORKFLOW and i > j):
                continue
            edges.append({"source": nodes[i]["file_id"], "target": nodes[j]["file_id"],
                          "source_path": nodes[i]["file_path"], "target_path": nodes[j]["file_path"],
                          "relationship_type": ("SUMMARIZES", "REFERENCES", "RELATED_TO")[k % 3],
                          "confidence": round(0.6 + (i * 7 + k) % 40 / 100, 4),
                          "evidence": ["content_similarity", "metadata_matching"],
                          "evidence_details": {"features": {"content_jaccard": 0.4, "inclusion": 0.9},
                                               "shared_values": [f"v{n}" for n in range(20)]},
                          "description": f"file{i} relates to file{j}."})
    for sub, prefix, rows, key in (("nodes", "nodes", nodes, "file_id"), ("edges", "edges", edges, "source"),
                                   ("errors", "errors", [], "file_path")):
        shards = writer.shard_count(len(rows))
        for index in range(shards):
            part = sorted((r for r in rows if writer.shard_of(r[key], shards) == index), key=lambda r: r[key])
            writer.write_lines(writer.shard_path(os.path.join(output, sub), prefix, index, shards),
                               (writer.dumps(r) for r in part))
    counts = {"matched": files, "processed": files, "failed": 0, "edges": len(edges), "edges_by_type": {},
              "files_by_type": {}, "errors_by_type": {}}
    writer.write_json(os.path.join(output, "run_summary.json"),
                      {"counts": counts, "inputs": [root], "output": output, "runtime_seconds": 0.0,
                       "invariant_matched_equals_processed_plus_failed": True})


def measure(output: str) -> Dict[str, float]:
    """Runs in a fresh process: seconds per step of write_exports and peak RSS."""
    from transforms.config import Config
    from transforms.output import exports, graph_data
    from transforms.output.analysis import analyse

    config = Config()
    started = time.perf_counter()
    graph = graph_data.load_run(output)
    loaded = time.perf_counter()
    loaded_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    analyse(graph.nodes, graph.edges, config.exports.hub_min_degree, config.exports.max_hubs)
    analysed = time.perf_counter()
    del graph  # write_exports loads the run itself
    exports.write_exports(output, config)
    done = time.perf_counter()
    return {"load_seconds": round(loaded - started, 2), "analyse_seconds": round(analysed - loaded, 2),
            "write_exports_seconds": round(done - analysed, 2), "loaded_rss_mb": round(loaded_rss, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "report_mb": round(os.path.getsize(os.path.join(output, "report.html")) / 1e6, 2)}


def measured(output: str) -> Dict[str, float]:
    """`measure` in a fresh process, so each figure starts from an empty heap."""
    child = subprocess.run([sys.executable, "-m", "benchmarks.exports", "--measure", output],
                           capture_output=True, text=True, check=True)
    return json.loads(child.stdout.strip().splitlines()[-1])


def main(argv: List[str] = None) -> Dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--edges-per-file", type=int, default=3)
    parser.add_argument("--report", default=os.path.join(os.path.dirname(__file__), "reports", "exports.json"))
    parser.add_argument("--run", nargs="*", default=[], help="finished runs' output folders to measure instead")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: the child process
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return {}
    results = []
    for output in args.run:
        summary = writer.read_json(os.path.join(output, "run_summary.json"))
        figures = {"run": output, "files": summary["counts"]["processed"], "edges": summary["counts"]["edges"],
                   **measured(output)}
        results.append(figures)
        print("  ".join(f"{k}={v}" for k, v in figures.items()), flush=True)
    for size in [int(s) for s in args.sizes.split(",")] if not args.run else []:
        with tempfile.TemporaryDirectory(prefix="filegraph-exports-") as output:
            synthetic_run(output, size, args.edges_per_file)
            figures = {"files": size, "edges": len(writer.read_jsonl(os.path.join(output, "edges"), "edges")),
                       **measured(output)}
        results.append(figures)
        print("  ".join(f"{k}={v}" for k, v in figures.items()), flush=True)
    report = {"benchmark": "exports", "python": platform.python_version(), "cpu_count": os.cpu_count(),
              "results": results}
    os.makedirs(os.path.dirname(args.report), exist_ok=True)
    with open(args.report, "w") as handle:
        json.dump(report, handle, indent=2)
    return report


if __name__ == "__main__":
    main()
