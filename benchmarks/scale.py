"""End-to-end scale benchmark: wall time, files/s, time per stage and peak memory at 1k / 10k / 100k files.

    python -m benchmarks.scale [--sizes 1000,10000] [--workers 2] [--report benchmarks/reports/scale.json]
                               [-- BEAM_ARGS...]

For each size, the labelled sample corpus generator writes a drive of about
that many small files (rows_scale 0.02, the blocking benchmark's corpora,
cached under benchmarks/.cache/scale-SIZE), then `python -m beam_pipeline run`
runs on it in a fresh process with the default runner (or the Beam arguments
given after `--`). The benchmark samples the resident memory of that process
and all its children (the runner's worker processes) with psutil every 0.2 s
and reports the peak of the sum. It also reports the main process's own peak and a
timeline of both every 5 s, and a CPU timeline: the cores the whole machine kept busy
and the cores the main process used over each 5 s, which shows the parts of a run
where a core idles. Stage times are the run's own
`run_summary.json` `stages` section (time inside filegraph's code per stage,
summed over workers). Precision / recall / F1 are the run's edges against the
corpus's truth.

Run it from the repository root. The 100k point takes a long time on 2 cores:
run it alone, under `nice -n 10`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from benchmarks import write_report

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(HERE, ".cache")
DEFAULT_REPORT = os.path.join(HERE, "reports", "scale.json")
ROWS_SCALE = 0.02
FILES_PER_PROJECT = 11.0  # measured on generated corpora; sizes are approximate
SAMPLE_SECONDS = 0.2
TIMELINE_SECONDS = 5.0


def corpus(size: int, workers: int, cache: str = CACHE) -> Dict[str, Any]:
    """Generates (or reuses) a drive of about `size` files: {root, truth, seconds}.

    The truth is kept beside the drive, never in it: a run must not read its own answers.
    """
    from beam_pipeline.sample_corpus import generate_corpus

    root = os.path.join(cache, f"scale-{size}")
    truth_path = os.path.join(cache, f"scale-{size}.truth.json")
    if os.path.exists(os.path.join(root, "truth.json")):  # written by the generator into the drive
        os.replace(os.path.join(root, "truth.json"), truth_path)
    if os.path.exists(truth_path) and os.path.isdir(root):
        with open(truth_path, encoding="utf-8") as handle:
            return {"root": root, "truth": json.load(handle), "seconds": None}
    started = time.perf_counter()
    projects = max(1, round(size / FILES_PER_PROJECT))
    truth = generate_corpus(root, projects=projects, seed=size, rows_scale=ROWS_SCALE, workers=workers)
    os.replace(os.path.join(root, "truth.json"), truth_path)
    return {"root": root, "truth": truth, "seconds": round(time.perf_counter() - started, 1)}


def _tree_rss(process) -> Tuple[int, int]:
    """(RSS of the process, RSS of it and all its children)."""
    import psutil

    main = total = 0
    for proc in [process] + process.children(recursive=True):
        try:
            rss = proc.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        total += rss
        main = rss if proc is process else main
    return main, total


def _busy_seconds(cpu) -> float:
    """CPU seconds the machine spent busy (psutil.cpu_times(): all but idle and waiting on I/O)."""
    return sum(cpu) - cpu.idle - getattr(cpu, "iowait", 0.0)


def run_measured(command: Sequence[str], log_path: str) -> Dict[str, Any]:
    """Runs a command, sampling the RSS of its process tree: {returncode, wall_seconds, peak_rss_mb,
    peak_rss_main_mb, rss_timeline_mb, cpu_timeline}. The RSS timeline has one [seconds, main MB,
    tree MB] sample every TIMELINE_SECONDS, so a report shows in which part of the run memory rose;
    the CPU timeline one [seconds, busy cores of the machine, cores of the main process] over each
    interval, so it shows where the run left a core idle."""
    import psutil

    started = time.perf_counter()
    timeline: List[List[float]] = []
    cpu_timeline: List[List[float]] = []
    with open(log_path, "wb") as log:
        child = subprocess.Popen(list(command), stdout=log, stderr=subprocess.STDOUT)
        process = psutil.Process(child.pid)
        peak = peak_main = 0
        last = (0.0, _busy_seconds(psutil.cpu_times()), 0.0)
        while child.poll() is None:
            try:
                main, tree = _tree_rss(process)
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                break
            peak, peak_main = max(peak, tree), max(peak_main, main)
            elapsed = time.perf_counter() - started
            if not timeline or elapsed - timeline[-1][0] >= TIMELINE_SECONDS:
                timeline.append([round(elapsed, 1), round(main / 2**20), round(tree / 2**20)])
            if elapsed - last[0] >= TIMELINE_SECONDS:
                now = (elapsed, _busy_seconds(psutil.cpu_times()), times.user + times.system)
                span = now[0] - last[0]
                cpu_timeline.append([round(elapsed, 1), round((now[1] - last[1]) / span, 2),
                                     round((now[2] - last[2]) / span, 2)])
                last = now
            time.sleep(SAMPLE_SECONDS)
        child.wait()
    return {"returncode": child.returncode, "wall_seconds": round(time.perf_counter() - started, 2),
            "peak_rss_mb": round(peak / 2**20, 1), "peak_rss_main_mb": round(peak_main / 2**20, 1),
            "rss_timeline_mb": timeline, "cpu_timeline": cpu_timeline}


def measure(root: str, truth: dict, out: str, beam_args: Sequence[str] = ()) -> Dict[str, Any]:
    """One end-to-end run on a generated drive, and what it gave."""
    from transforms.detect.evaluation import evaluate
    from transforms.output import writer

    command = [sys.executable, "-m", "beam_pipeline", "run", "--input", root, "--output", out, *beam_args]
    # A cold run: the default metadata index lives in the output folder, and a
    # previous run's index would let this one reuse every extraction.
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out, exist_ok=True)
    measured = run_measured(command, os.path.join(out, "run.log"))
    if measured["returncode"] != 0:
        return {**measured, "error": f"run failed, see {os.path.join(out, 'run.log')}"}
    summary = writer.read_json(os.path.join(out, "run_summary.json"))
    report = evaluate(truth, writer.read_jsonl(os.path.join(out, "edges"), "edges"), root)
    files = summary["counts"]["matched"]
    return {
        **measured,
        "files": files,
        "files_per_s": round(files / measured["wall_seconds"], 2) if measured["wall_seconds"] else None,
        "stage_seconds": summary["stages"]["seconds"],
        "stage_source": summary["stages"]["source"],
        "counts": {k: summary["counts"][k] for k in ("matched", "processed", "failed", "candidate_pairs",
                                                      "hot_keys", "edges")},
        "precision": round(report["precision"], 4),
        "recall": round(report["recall"], 4),
        "f1": round(report["f1"], 4),
    }


def _machine() -> Dict[str, Any]:
    return {"cpu_count": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None}


def build_report(points: Dict[int, Dict[str, Any]], beam_args: Sequence[str]) -> Dict[str, Any]:
    sizes = sorted(points)
    base = points[sizes[0]].get("files_per_s") if sizes else None
    for size in sizes:
        rate = points[size].get("files_per_s")
        points[size]["files_per_s_vs_smallest"] = round(rate / base, 3) if rate and base else None
    return {"benchmark": "scale", "machine": _machine(), "beam_args": list(beam_args),
            "rows_scale": ROWS_SCALE, "points": {str(s): points[s] for s in sizes}}


def format_table(report: Dict[str, Any]) -> str:
    lines = [f"{'files':>8} {'wall s':>9} {'files/s':>8} {'peak MB':>8} {'main MB':>8} {'F1':>6}  stage seconds"]
    for point in report["points"].values():
        if "error" in point:
            lines.append(f"{'-':>8} {point['wall_seconds']:>9} {point['error']}")
            continue
        stages = " ".join(f"{k}={v:g}" for k, v in point["stage_seconds"].items())
        lines.append(f"{point['files']:>8} {point['wall_seconds']:>9.1f} {point['files_per_s']:>8.2f} "
                     f"{point['peak_rss_mb']:>8.0f} {point.get('peak_rss_main_mb', 0):>8.0f} {point['f1']:>6.3f}  {stages}")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    beam_args: List[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, beam_args = argv[:cut], argv[cut + 1:]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--workers", type=int, default=2, help="processes that generate the corpora")
    parser.add_argument("--report", default=DEFAULT_REPORT)
    args = parser.parse_args(argv)
    points: Dict[int, Dict[str, Any]] = {}
    for size in (int(s) for s in args.sizes.split(",") if s.strip()):
        drive = corpus(size, args.workers)
        out = os.path.join(CACHE, f"scale-out-{size}")
        points[size] = {**measure(drive["root"], drive["truth"], out, beam_args),
                        "generation_seconds": drive["seconds"]}
        timelines = ("rss_timeline_mb", "cpu_timeline")  # in the report, not printed
        shown = {k: v for k, v in points[size].items() if k not in timelines}
        print(f"{size}: {json.dumps(shown)}", flush=True)
    report = build_report(points, beam_args)
    write_report(args.report, report, sort_keys=True)
    print(format_table(report))
    print(f"report: {args.report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
