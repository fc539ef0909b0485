"""Robustness benchmark: whole runs over real broken files and the generated hostile set.

    python -m benchmarks.robustness [--corpus office-samples --corpus hostile] [--config filegraph.yaml]
        [--rss-budget-mb 2048] [--report benchmarks/reports/robustness.json]

Each corpus is first extracted alone, through the parser pool in this
process (the `extraction_*` figures: the per-file stage only), then run end to
end as a user runs it (`python -m beam_pipeline run`, a fresh process, default
config unless --config) while the whole process tree (the run, its fork server
and parser processes) is sampled every 0.1 s. Figures per corpus:

- files on disk matched by the default patterns, and whether every one is
  accounted for: a node or a file-stage error record, `matched = processed + failed`;
- seconds, files/s;
- peak RSS: the largest single process, and the largest sum over the tree
  (an upper bound: pages shared by the fork server's children count once per
  child), against the memory budget;
- errors by type and by stage, and for the hostile set every case whose
  outcome is not one of those it allows.

Corpora: `office-samples` (../shared/data/office-samples: Apache POI's real
test files, legacy, encrypted, fuzzed) and `hostile` (tests/hostile_corpus.py,
written to a temporary folder).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

REPO_ROOT = Path(__file__).resolve().parent.parent
OFFICE_SAMPLES = REPO_ROOT.parent / "shared" / "data" / "office-samples"
DEFAULT_REPORT = Path("benchmarks") / "reports" / "robustness.json"
CORPORA = ("office-samples", "hostile")
SAMPLE_SECONDS = 0.1


class TreeMemory:
    """Samples the resident memory of a process and all its descendants until stopped."""

    def __init__(self, pid: int):
        import psutil

        self._psutil = psutil
        self._root = psutil.Process(pid)
        self.peak_tree = 0
        self.peak_process = 0
        self.peak_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                processes = [self._root] + self._root.children(recursive=True)
            except self._psutil.NoSuchProcess:
                return
            sizes = []
            for process in processes:
                try:
                    sizes.append(process.memory_info().rss)
                except (self._psutil.NoSuchProcess, self._psutil.AccessDenied):
                    pass
            if sizes:
                self.peak_tree = max(self.peak_tree, sum(sizes))
                self.peak_process = max(self.peak_process, max(sizes))
                self.peak_processes = max(self.peak_processes, len(sizes))
            self._stop.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


def measure_extraction(folder: Path) -> Dict[str, Any]:
    """The corpus through a ParserPool with the default configuration: seconds, files/s, peak RSS."""
    from transforms.config import DEFAULT_PATTERNS, Config
    from transforms.extract.isolation import ParserPool
    from transforms.extract.matching import expand_input
    from transforms.model import ErrorRecord

    matched = list(expand_input(str(folder), DEFAULT_PATTERNS))
    memory = TreeMemory(os.getpid())
    started = time.monotonic()
    with ParserPool(Config()) as pool:
        for m in matched:
            pool.submit(m.path, m.path, m.size, m.modified_at)
        outcomes = [outcome for _, outcome in pool.drain()]
        replaced = dict(pool.replaced)
    seconds = time.monotonic() - started
    memory.stop()
    return {
        "extraction_seconds": round(seconds, 1),
        "extraction_files_per_s": round(len(matched) / seconds, 2),
        "extraction_peak_rss_tree_mb": round(memory.peak_tree / 2 ** 20, 1),
        "extraction_errors_by_type": dict(sorted(Counter(
            o.error_type for o in outcomes if isinstance(o, ErrorRecord)).items())),
        "parser_processes_replaced": replaced,
    }


def run_corpus(name: str, folder: Path, output: Path, config: Optional[str], budget_mb: int,
               expected: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """One end-to-end run over `folder`; the figures of the module docstring."""
    from tests.hostile_corpus import CASES
    from transforms.config import DEFAULT_PATTERNS
    from transforms.extract.encoding import display_path
    from transforms.extract.matching import expand_input
    from transforms.model import FILE_STAGES
    from transforms.output import writer

    on_disk = sorted(display_path(m.path) for m in expand_input(str(folder), DEFAULT_PATTERNS))
    command = [sys.executable, "-m", "beam_pipeline", "run", "--input", str(folder), "--output", str(output)]
    if config:
        command += ["--config", config]
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    memory = TreeMemory(process.pid)
    _, err = process.communicate()
    seconds = time.monotonic() - started
    memory.stop()
    if process.returncode != 0:
        return {"corpus": name, "completed": False, "returncode": process.returncode, "stderr_tail": err[-3000:]}
    summary = writer.read_json(str(output / writer.SUMMARY))
    counts = summary["counts"]
    nodes = writer.read_jsonl(str(output / "nodes"), "nodes")
    errors = writer.read_jsonl(str(output / "errors"), "errors")
    file_errors = [e for e in errors if e["stage"] in FILE_STAGES]
    outcome = {n["file_path"]: "node" for n in nodes}
    outcome.update({e["file_path"]: e["error_type"] for e in file_errors})
    report = {
        "corpus": name,
        "completed": True,
        "files_on_disk": len(on_disk),
        "matched": counts["matched"],
        "processed": counts["processed"],
        "failed": counts["failed"],
        "stage_errors": counts["stage_errors"],
        "every_file_accounted_for": sorted(outcome) == on_disk and counts["matched"] == len(on_disk)
        and counts["matched"] == counts["processed"] + counts["failed"],
        "seconds": round(seconds, 1),
        "pipeline_runtime_seconds": summary["runtime_seconds"],
        "files_per_s": round(len(on_disk) / seconds, 2),
        "peak_rss_tree_mb": round(memory.peak_tree / 2 ** 20, 1),
        "peak_rss_process_mb": round(memory.peak_process / 2 ** 20, 1),
        "processes": memory.peak_processes,
        "rss_budget_mb": budget_mb,
        "within_budget": memory.peak_tree <= budget_mb * 2 ** 20,
        "errors_by_type": dict(sorted(Counter(e["error_type"] for e in errors).items())),
        "errors_by_stage": dict(sorted(Counter(e["stage"] for e in errors).items())),
        "candidate_pairs": counts["candidate_pairs"],
        "edges": counts["edges"],
    }
    if expected is not None:
        shown = {display_path(str(folder / case)): case for case in expected}
        report["unexpected_outcomes"] = {
            display_path(shown[path]): outcome.get(path, "missing") for path in sorted(shown)
            if outcome.get(path, "missing") not in CASES[shown[path]].expected
        }
        report["outcomes"] = {display_path(shown[path]): outcome.get(path, "missing") for path in sorted(shown)}
    return report


def format_table(report: Dict[str, Any]) -> str:
    lines = [f"  {'corpus':<16}{'files':>6}{'nodes':>7}{'errors':>7}{'s':>8}{'files/s':>9}{'tree RSS MB':>13}"
             f"{'max proc MB':>13}  accounted"]
    for run in report["corpora"].values():
        if not run.get("completed"):
            lines.append(f"  {run['corpus']:<16} did not complete (exit {run.get('returncode')})")
            continue
        lines.append(f"  {run['corpus']:<16}{run['files_on_disk']:>6}{run['processed']:>7}{run['failed']:>7}"
                     f"{run['seconds']:>8.1f}{run['files_per_s']:>9.2f}{run['peak_rss_tree_mb']:>13.1f}"
                     f"{run['peak_rss_process_mb']:>13.1f}  {run['every_file_accounted_for']}")
        lines.append(f"    errors: {run['errors_by_type']}")
        lines.append(f"    extraction alone: {run['extraction_seconds']} s, {run['extraction_files_per_s']} files/s, "
                     f"peak tree RSS {run['extraction_peak_rss_tree_mb']} MB, replaced {run['parser_processes_replaced']}")
        if run.get("unexpected_outcomes"):
            lines.append(f"    unexpected: {run['unexpected_outcomes']}")
    return "\n".join(lines)


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.robustness", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", action="append", choices=CORPORA, help="Default: both.")
    parser.add_argument("--config", help="filegraph YAML for the runs (default: the defaults).")
    parser.add_argument("--rss-budget-mb", type=int, default=2048)
    parser.add_argument("--office-samples", default=str(OFFICE_SAMPLES))
    parser.add_argument("--report", default=str(DEFAULT_REPORT))
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    from benchmarks.extraction import _load_average, machine_info, package_versions
    from tests.hostile_corpus import write_hostile_corpus

    args = parse_args(argv)
    load_at_start = _load_average()
    corpora: Dict[str, Dict[str, Any]] = {}
    notes: List[str] = []
    with tempfile.TemporaryDirectory(prefix="filegraph-robustness-") as scratch:
        for name in args.corpus or CORPORA:
            expected = None
            if name == "hostile":
                folder = Path(scratch) / "hostile" / "drive"
                expected = write_hostile_corpus(folder)
            else:
                folder = Path(args.office_samples)
                if not folder.is_dir():
                    notes.append(f"{name}: {folder} not found; skipped")
                    continue
            print(f"extracting {name} ({folder})...", file=sys.stderr, flush=True)
            extraction = measure_extraction(folder)
            print(f"running {name} end to end...", file=sys.stderr, flush=True)
            corpora[name] = {**run_corpus(name, folder, Path(scratch) / f"out-{name}", args.config,
                                          args.rss_budget_mb, expected), **extraction}
    report = {
        "benchmark": "robustness",
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {**machine_info(None), "load_average_at_start": load_at_start},
        "versions": package_versions(),
        "settings": {"config": args.config or "defaults", "rss_budget_mb": args.rss_budget_mb,
                     "sample_seconds": SAMPLE_SECONDS},
        "corpora": corpora,
        "notes": notes + [
            "seconds include start-up (Beam, the sentence model when semantic_similarity runs, the fork server).",
            "peak_rss_tree_mb sums RSS over the process tree: pages shared with the fork server count per child.",
        ],
    }
    print(format_table(report))
    out = Path(args.report)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    print(f"report: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
