"""Extraction benchmark: filegraph's `extract_file` against MarkItDown, on one core.

    python -m benchmarks.extraction [--projects 8] [--seed 0] [--repeat 3]
        [--report benchmarks/reports/extraction.json] [--no-markitdown]

Corpora: a generated sample drive (`generate_corpus` into a temporary folder)
and every file of ../shared/data/office-samples beside the repository (real
Apache POI test files, some deliberately broken).

Each run of one tool over one corpus is a fresh subprocess, pinned to one CPU,
that imports the tool, resolves its readers, reads every file's bytes into
memory (so disk I/O is not timed), records a baseline `ru_maxrss`, then
converts every file once in order, timing each call. Peak memory is the
process's `ru_maxrss` after the pass minus that baseline. Runs are repeated
`--repeat` times and the report gives the median of each figure.

The measuring function is `measure_once`, usable in process (the tests call
it); `benchmark_corpus` runs it per tool and repeat, in subprocesses unless
told otherwise; `build_report` assembles the JSON report.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

REPO_ROOT = Path(__file__).resolve().parent.parent
OFFICE_SAMPLES = REPO_ROOT.parent / "shared" / "data" / "office-samples"
DEFAULT_REPORT = Path("benchmarks") / "reports" / "extraction.json"
NOT_INPUTS = frozenset({"README.md", "LICENSE", "NOTICE"})
TOOLS = ("filegraph", "markitdown")
MARKITDOWN_REQUIREMENT = "markitdown[docx,pptx,xlsx]==0.1.9"
# Thread pools of numeric libraries (numpy via pandas, onnxruntime via magika) stay at one thread.
SINGLE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}
VERSIONED_PACKAGES = (
    "filegraph", "markitdown", "magika", "onnxruntime", "openpyxl", "xlrd", "python-pptx",
    "python-docx", "pypdf", "pandas", "mammoth", "charset-normalizer",
)

Blob = Tuple[str, bytes]  # (relative path, bytes)


# ---------------------------------------------------------------- corpora


def office_sample_paths(directory: Path = OFFICE_SAMPLES) -> List[str]:
    """Every input file of the office-samples folder (not its README, LICENSE or NOTICE)."""
    return sorted(p.name for p in directory.iterdir() if p.is_file() and p.name not in NOT_INPUTS)


def sample_corpus_paths(out_dir: Path, projects: int, seed: int, rows_scale: float) -> List[str]:
    """Generates the sample drive into `out_dir`; its files (truth.json itself is not listed)."""
    from beam_pipeline.sample_corpus import generate_corpus

    truth = generate_corpus(str(out_dir), projects, seed, rows_scale)
    return sorted(truth["files"])


def load_files(root: Path, paths: Sequence[str]) -> List[Blob]:
    return [(path, (Path(root) / path).read_bytes()) for path in paths]


def extension_of(path: str) -> str:
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


# ---------------------------------------------------------------- tools

Converter = Callable[[str, bytes], Dict[str, Any]]  # returns output figures; raises on failure


class FileTimeout(BaseException):
    """One conversion ran past the per-file limit (BaseException: no converter may swallow it)."""


def _filegraph(blobs: Sequence[Blob], timeout: Optional[float]) -> Tuple[Converter, Callable]:
    import dataclasses

    from transforms.config import Config
    from transforms.extract import READERS, extract_file, reader_for
    from transforms.model import ExtractionError

    config = Config()
    if timeout is not None:
        config = dataclasses.replace(
            config, extraction=dataclasses.replace(config.extraction, timeout_seconds=float(timeout))
        )
    # Readers are imported on first use; import them now so the baseline includes them.
    for ext in sorted({extension_of(path) for path, _ in blobs} & set(READERS)):
        reader_for(ext)

    def convert(path: str, data: bytes) -> Dict[str, Any]:
        record = extract_file(path, data, config, size=len(data))
        structure = record.structure or {}
        return {
            "text_chars": len(record.text),
            "with_author": int(bool(record.author)),
            "with_title": int(bool(record.title)),
            "with_dates": int(bool(record.created_at or record.modified_at)),
            "tables": len(record.tables),
            "columns_profiled": sum(len(t.columns) for t in record.tables),
            "headings": len(structure.get("headings") or []) + len(structure.get("slide_titles") or []),
            "key_terms": len(record.key_terms),
            "entities": sum(len(v) for v in record.entities.values()),
        }

    def error_type(exc: BaseException) -> str:
        return exc.error_type if isinstance(exc, ExtractionError) else type(exc).__name__

    return convert, error_type


def _markitdown(blobs: Sequence[Blob], timeout: Optional[float]) -> Tuple[Converter, Callable]:
    from markitdown import MarkItDown, StreamInfo

    converter = MarkItDown()  # builds its converters and loads magika's model

    def convert(path: str, data: bytes) -> Dict[str, Any]:
        import io

        ext = extension_of(path)
        info = StreamInfo(extension=f".{ext}" if ext else None, filename=path.rsplit("/", 1)[-1])
        result = converter.convert_stream(io.BytesIO(data), stream_info=info)
        return {"text_chars": len(result.text_content or ""), "with_title": int(bool(result.title))}

    def error_type(exc: BaseException) -> str:
        return type(exc).__name__

    return convert, error_type


PREPARERS = {"filegraph": _filegraph, "markitdown": _markitdown}


def _alarm(seconds: Optional[float]):
    """A SIGALRM per-file limit where possible (main thread, POSIX); no thread is added."""

    usable = bool(seconds) and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()

    class _Limit:
        def __enter__(self):
            if usable:
                self.previous = signal.signal(signal.SIGALRM, self._fire)
                signal.setitimer(signal.ITIMER_REAL, seconds)

        @staticmethod
        def _fire(signum, frame):
            raise FileTimeout(f"no result within {seconds:g} s")

        def __exit__(self, *exc):
            if usable:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, self.previous)
            return False

    return _Limit()


# ---------------------------------------------------------------- measuring


def max_rss_mb() -> float:
    """This process's peak resident set size so far, in MB (ru_maxrss is KB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def measure_once(tool: str, blobs: Sequence[Blob], timeout: Optional[float] = None) -> Dict[str, Any]:
    """One timed pass of `tool` over `blobs` (already in memory), in this process.

    `timeout` is the per-file limit: filegraph's own `extraction.timeout_seconds`
    (None keeps the config default), a SIGALRM for MarkItDown. Peak memory is
    ru_maxrss after the pass minus ru_maxrss after imports and set-up: it is
    only meaningful in a fresh process, as the subprocess runner gives.
    """
    convert, error_type = PREPARERS[tool](blobs, timeout)
    alarm_seconds = timeout if tool != "filegraph" else None  # filegraph enforces its own limit
    gc.collect()
    baseline = max_rss_mb()
    per_format: Dict[str, Dict[str, float]] = defaultdict(lambda: {"files": 0, "bytes": 0, "seconds": 0.0, "ok": 0})
    errors: Counter = Counter()
    failures: Dict[str, str] = {}
    output: Counter = Counter()
    slowest: List[Tuple[float, str]] = []
    started = time.perf_counter()
    for path, data in blobs:
        t0 = time.perf_counter()
        try:
            with _alarm(alarm_seconds):
                figures = convert(path, data)
        except FileTimeout:
            kind, figures = "timeout", None
        except Exception as exc:  # a failed file is a figure, never the end of the run
            kind, figures = error_type(exc), None
        else:
            kind = None
        elapsed = time.perf_counter() - t0
        fmt = per_format[extension_of(path)]
        fmt["files"] += 1
        fmt["bytes"] += len(data)
        fmt["seconds"] += elapsed
        slowest.append((elapsed, path))
        if kind is None:
            fmt["ok"] += 1
            output.update(figures)
        else:
            errors[kind] += 1
            failures[path] = kind
    seconds = time.perf_counter() - started
    total_bytes = sum(len(data) for _, data in blobs)
    peak = max_rss_mb()
    return {
        "tool": tool,
        "files": len(blobs),
        "bytes": total_bytes,
        "seconds": seconds,
        "files_per_s": len(blobs) / seconds if seconds > 0 else 0.0,
        "mb_per_s": total_bytes / 1e6 / seconds if seconds > 0 else 0.0,
        "ok": len(blobs) - sum(errors.values()),
        "errors": dict(sorted(errors.items())),
        "failed_files": dict(sorted(failures.items())),
        "rss_baseline_mb": baseline,
        "rss_max_mb": peak,
        "peak_rss_mb": max(0.0, peak - baseline),
        "per_format": {ext: dict(values) for ext, values in sorted(per_format.items())},
        "slowest_files": [{"file": p, "seconds": s} for s, p in sorted(slowest, reverse=True)[:5]],
        "output": dict(sorted(output.items())),
    }


def summarize(runs: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """The median of each figure over the repeats; counts from the run with the median time."""
    if not runs:
        raise ValueError("no runs to summarize")
    by_time = sorted(runs, key=lambda run: run["seconds"])
    middle = by_time[(len(by_time) - 1) // 2]
    per_format = {}
    for ext, fmt in middle["per_format"].items():
        seconds = statistics.median(run["per_format"][ext]["seconds"] for run in runs)
        per_format[ext] = {
            "files": fmt["files"],
            "ok": fmt["ok"],
            "bytes": fmt["bytes"],
            "seconds": seconds,
            "files_per_s": fmt["files"] / seconds if seconds > 0 else None,
        }
    return {
        "files": middle["files"],
        "bytes": middle["bytes"],
        "ok": middle["ok"],
        "failed": middle["files"] - middle["ok"],
        "errors": middle["errors"],
        "failed_files": middle["failed_files"],
        "consistent_outcomes": all(run["errors"] == middle["errors"] for run in runs),
        "seconds": statistics.median(run["seconds"] for run in runs),
        "files_per_s": statistics.median(run["files_per_s"] for run in runs),
        "mb_per_s": statistics.median(run["mb_per_s"] for run in runs),
        "peak_rss_mb": statistics.median(run["peak_rss_mb"] for run in runs),
        "rss_baseline_mb": statistics.median(run["rss_baseline_mb"] for run in runs),
        "rss_max_mb": statistics.median(run["rss_max_mb"] for run in runs),
        "per_format": per_format,
        "slowest_files": middle["slowest_files"],
        "output": middle["output"],
        "runs": [
            {key: run[key] for key in ("seconds", "files_per_s", "mb_per_s", "peak_rss_mb", "ok")} for run in runs
        ],
    }


# ---------------------------------------------------------------- runner


def _child_env() -> Dict[str, str]:
    env = dict(os.environ, **SINGLE_THREAD_ENV)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def run_child(tool: str, root: Path, paths: Sequence[str], timeout: Optional[float], cpu: Optional[int],
              work_dir: Path) -> Dict[str, Any]:
    """`measure_once` in a fresh interpreter, pinned to `cpu`; its result."""
    manifest = work_dir / f"manifest-{tool}.json"
    result = work_dir / f"result-{tool}.json"
    log = work_dir / f"log-{tool}.txt"
    manifest.write_text(json.dumps({"root": str(root), "files": list(paths)}))
    result.unlink(missing_ok=True)
    command = [sys.executable, "-m", "benchmarks.extraction", "--child", tool, "--manifest", str(manifest),
               "--out", str(result)]
    if timeout is not None:
        command += ["--timeout", str(timeout)]
    if cpu is not None:
        command += ["--cpu", str(cpu)]
    with open(log, "wb") as out:  # libraries print warnings; keep them out of the table
        completed = subprocess.run(command, cwd=REPO_ROOT, env=_child_env(), stdout=out, stderr=subprocess.STDOUT)
    if completed.returncode != 0 or not result.exists():
        tail = log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{tool} benchmark process failed (exit {completed.returncode}):\n{tail}")
    return json.loads(result.read_text())


def benchmark_corpus(root: Path, paths: Sequence[str], tools: Sequence[str], repeat: int,
                     timeout: Optional[float] = None, cpu: Optional[int] = None, in_process: bool = False,
                     progress: Callable[[str], None] = lambda message: None) -> Dict[str, Any]:
    """{"files", "bytes", "formats", "tools": {tool: summary}} for one corpus."""
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    blobs = load_files(root, paths) if in_process else None
    sizes = [(Path(root) / p).stat().st_size for p in paths]
    summaries = {}
    with tempfile.TemporaryDirectory(prefix="filegraph-bench-") as work:
        for tool in tools:
            runs = []
            for i in range(repeat):
                progress(f"{tool} run {i + 1}/{repeat}")
                if in_process:
                    runs.append(measure_once(tool, blobs, timeout))
                else:
                    runs.append(run_child(tool, Path(root), paths, timeout, cpu, Path(work)))
            summaries[tool] = summarize(runs)
    return {
        "files": len(paths),
        "bytes": sum(sizes),
        "formats": dict(sorted(Counter(extension_of(p) for p in paths).items())),
        "tools": summaries,
        "ratio_files_per_s": _ratio(summaries),
    }


def _ratio(summaries: Dict[str, Any]) -> Optional[float]:
    """filegraph files/s over MarkItDown files/s, when both ran."""
    if "filegraph" in summaries and "markitdown" in summaries and summaries["markitdown"]["files_per_s"] > 0:
        return summaries["filegraph"]["files_per_s"] / summaries["markitdown"]["files_per_s"]
    return None


def machine_info(cpu: Optional[int]) -> Dict[str, Any]:
    info = {
        "cpu_count": os.cpu_count(),
        "cpus_available": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "pinned_cpu": cpu,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": _cpu_model() or platform.processor(),
        # Other processes share the machine: read the figures against its load.
        "load_average_at_end": _load_average(),
    }
    try:
        with open("/proc/meminfo") as handle:
            kb = int(handle.readline().split()[1])
        info["memory_gb"] = round(kb / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return info


def _load_average() -> Optional[List[float]]:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def _cpu_model() -> Optional[str]:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def package_versions() -> Dict[str, Optional[str]]:
    from importlib import metadata

    versions = {}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def markitdown_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("markitdown") is not None


def build_report(corpora: Dict[str, Dict[str, Any]], settings: Dict[str, Any], cpu: Optional[int] = None,
                 notes: Sequence[str] = ()) -> Dict[str, Any]:
    return {
        "benchmark": "extraction",
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(cpu),
        "versions": package_versions(),
        "settings": settings,
        "corpora": corpora,
        "notes": list(notes),
    }


# ---------------------------------------------------------------- printing


def format_table(report: Dict[str, Any]) -> str:
    lines = []
    header = f"  {'tool':<11} {'files':>6} {'ok':>5} {'failed':>6} {'files/s':>9} {'MB/s':>7} {'peak RSS MB':>12}"
    for name, corpus in report["corpora"].items():
        lines.append(f"{name}: {corpus['files']} files, {corpus['bytes'] / 1e6:.1f} MB")
        lines.append(header)
        for tool, s in corpus["tools"].items():
            lines.append(
                f"  {tool:<11} {s['files']:>6} {s['ok']:>5} {s['failed']:>6} {s['files_per_s']:>9.1f}"
                f" {s['mb_per_s']:>7.2f} {s['peak_rss_mb']:>12.1f}"
            )
        for tool, s in corpus["tools"].items():
            if s["errors"]:
                errors = ", ".join(f"{kind} {n}" for kind, n in s["errors"].items())
                lines.append(f"  {tool} failures: {errors}")
            formats = ", ".join(
                f"{ext} {fmt['files_per_s']:.1f}" for ext, fmt in s["per_format"].items() if fmt["files_per_s"]
            )
            lines.append(f"  {tool} files/s by format: {formats}")
        if corpus.get("ratio_files_per_s") is not None:
            lines.append(f"  filegraph / MarkItDown files/s: {corpus['ratio_files_per_s']:.1f}x")
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------- command line


def _child_main(args: argparse.Namespace) -> int:
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    import warnings

    warnings.simplefilter("ignore")
    manifest = json.loads(Path(args.manifest).read_text())
    blobs = load_files(Path(manifest["root"]), manifest["files"])
    result = measure_once(args.child, blobs, args.timeout)
    Path(args.out).write_text(json.dumps(result))
    return 0


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.extraction",
        description="Files/s, MB/s, failures and peak memory of filegraph's extraction against MarkItDown.",
    )
    parser.add_argument("--projects", type=int, default=8, help="projects in the generated sample corpus")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated sample corpus")
    parser.add_argument("--rows-scale", type=float, default=1.0, help="rows_scale of the generated corpus")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool and corpus; the median is reported")
    parser.add_argument("--report", default=str(DEFAULT_REPORT), help="where to write the JSON report")
    parser.add_argument("--no-markitdown", action="store_true", help="measure filegraph only")
    parser.add_argument("--office-samples", default=str(OFFICE_SAMPLES), help="folder of real Office files")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="per-file limit in seconds for both tools (filegraph's default is 120)")
    parser.add_argument("--cpu", type=int, default=None,
                        help="CPU to pin each measuring process to (default: the first available one)")
    parser.add_argument("--child", choices=TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--manifest", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.projects < 1:
        parser.error("--projects must be at least 1")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if args.child:
        return _child_main(args)
    load_at_start = _load_average()
    cpu = args.cpu
    if cpu is None and hasattr(os, "sched_getaffinity"):
        cpu = min(os.sched_getaffinity(0))
    tools = ["filegraph"]
    notes = [
        "Each run is a fresh process pinned to one CPU; file bytes are read before timing.",
        "peak_rss_mb is ru_maxrss after the pass minus ru_maxrss after imports, set-up and reading the files.",
        "filegraph runs each reader on its own daemon thread (its per-file timeout); the benchmark adds none.",
    ]
    if args.no_markitdown:
        notes.append("MarkItDown disabled (--no-markitdown).")
    elif not markitdown_available():
        notes.append(f"MarkItDown not installed (pip install '{MARKITDOWN_REQUIREMENT}'); skipped.")
        print("note: MarkItDown is not installed; pip install -e '.[bench]' to compare", file=sys.stderr)
    else:
        tools.append("markitdown")
        notes.append("MarkItDown's per-file limit is a SIGALRM; a file past it counts as failed ('timeout').")

    def progress(message: str) -> None:
        print(f"  {message}", file=sys.stderr, flush=True)

    corpora: Dict[str, Dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="filegraph-sample-") as sample_dir:
        print(f"generating the sample corpus ({args.projects} projects, seed {args.seed})...", file=sys.stderr)
        paths = sample_corpus_paths(Path(sample_dir), args.projects, args.seed, args.rows_scale)
        print(f"sample corpus: {len(paths)} files", file=sys.stderr)
        corpora["sample"] = benchmark_corpus(Path(sample_dir), paths, tools, args.repeat, args.timeout, cpu,
                                             progress=progress)
    office = Path(args.office_samples)
    if office.is_dir():
        paths = office_sample_paths(office)
        print(f"office-samples: {len(paths)} files", file=sys.stderr)
        corpora["office-samples"] = benchmark_corpus(office, paths, tools, args.repeat, args.timeout, cpu,
                                                     progress=progress)
    else:
        notes.append(f"office-samples not found at {office}; skipped.")
        print(f"note: no office-samples at {office}; skipped", file=sys.stderr)

    settings = {
        "projects": args.projects,
        "seed": args.seed,
        "rows_scale": args.rows_scale,
        "repeat": args.repeat,
        "timeout_seconds": args.timeout,
        "tools": tools,
        "markitdown_enabled": "markitdown" in tools,
        "office_samples": str(office),
        "single_thread_env": SINGLE_THREAD_ENV,
        "filegraph_config": "Config() defaults (redaction on, mask policy) with extraction.timeout_seconds = --timeout",
    }
    report = build_report(corpora, settings, cpu, notes)
    report["machine"]["load_average_at_start"] = load_at_start
    print()
    print(format_table(report))
    out = Path(args.report)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"report: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
