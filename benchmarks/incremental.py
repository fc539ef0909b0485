"""Incremental-run benchmark: first run, unchanged rerun, and a rerun after adding and deleting files.

    python -m benchmarks.incremental [--projects 40] [--seed 0] [--add 12] [--delete 3]
        [--report benchmarks/reports/incremental.json] [-- BEAM_ARGS...]

Writes a sample drive (`--projects 40`: about 540 files), then runs
`python -m beam_pipeline run` as a fresh process for each step, timing its wall
clock and reading its peak RSS (`ru_maxrss` of the child):

  1. first run: empty index, every file extracted;
  2. unchanged rerun: nothing changed, so the last run's outputs are kept and no
     pipeline runs (transforms/index/runs.py);
  3. unchanged rerun through the pipeline (`index.reuse_outputs: false`): every
     record from the index, every pair score from the cache;
  4. `--add` files copied in from a drive of another seed and `--delete` removed, then a rerun;
  5. a full run without an index on that changed drive, the reference: step 4's
     nodes/edges/training/errors shards must be byte-identical to it.

Also timed: `python -c "import beam_pipeline.pipeline"` (interpreter and import
start-up that every run pays). Figures depend on machine load: the report
records the load average at start and end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Sequence

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REPORT = Path("benchmarks") / "reports" / "incremental.json"
OUTPUTS = ("nodes", "edges", "training", "errors")


def timed_process(command: Sequence[str]) -> Dict[str, float]:
    """Runs a command; its wall seconds and peak RSS (MiB)."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    started = time.perf_counter()
    proc = subprocess.Popen(list(command), env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    stderr = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{stderr[-2000:]}")
    return {"wall_seconds": round(seconds, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def run_step(drive: str, output: str, beam_args: Sequence[str], config: str = "") -> Dict[str, Any]:
    command = [sys.executable, "-m", "beam_pipeline", "run", "--input", drive, "--output", output]
    command += ["--config", config] if config else []
    figures = timed_process(command + list(beam_args))
    with open(os.path.join(output, "run_summary.json")) as handle:
        summary = json.load(handle)
    counts = summary["counts"]
    step = {**figures, "pipeline_seconds": summary["runtime_seconds"],
            **{k: counts[k] for k in ("matched", "extracted", "reused", "deleted", "candidate_pairs", "edges")},
            "stages": summary.get("stages", {})}
    return step


def step_line(name: str, step: Dict[str, Any]) -> str:
    return f"{name:<34} " + "  ".join(f"{k}={v}" for k, v in step.items() if k != "stages")


def shards(output: str) -> Dict[str, bytes]:
    found = {}
    for sub in OUTPUTS:
        for path in sorted(p for p in Path(output, sub).rglob("*") if p.is_file()):
            found[path.relative_to(output).as_posix()] = path.read_bytes()
    return found


def change_drive(drive: str, donor: str, add: int, delete: int) -> Dict[str, List[str]]:
    donors = sorted(p for p in Path(donor).rglob("*") if p.is_file())[:add]
    added = []
    for path in donors:  # relative paths kept: two folders may hold the same name
        target = Path(drive, "incoming", path.relative_to(donor))
        target.parent.mkdir(parents=True, exist_ok=True)
        added.append(shutil.copy(path, target))
    candidates = sorted(str(p) for p in Path(drive).rglob("*.xlsx") if "incoming" not in p.parts)
    deleted = candidates[1:1 + delete]
    for path in deleted:
        os.remove(path)
    return {"added": [os.path.relpath(p, drive) for p in added], "deleted": [os.path.relpath(p, drive) for p in deleted]}


def main(argv: Sequence[str] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    beam_args = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--add", type=int, default=12)
    parser.add_argument("--delete", type=int, default=3)
    parser.add_argument("--report", default=str(DEFAULT_REPORT))
    args = parser.parse_args(argv)

    from beam_pipeline.sample_corpus import write_sample_corpus

    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="filegraph-incremental-") as root:
        _, drive = write_sample_corpus(os.path.join(root, "corpus"), projects=args.projects, seed=args.seed)
        _, donor = write_sample_corpus(os.path.join(root, "donor"), projects=2, seed=args.seed + 1)
        out = os.path.join(root, "out")
        steps: Dict[str, Any] = {}

        def step(name: str, figures: Dict[str, Any]) -> None:
            steps[name] = figures
            print(step_line(name, figures), flush=True)

        def config_file(name: str, text: str) -> str:
            Path(root, name).write_text(text)
            return os.path.join(root, name)

        step("import_startup", timed_process([sys.executable, "-c", "import beam_pipeline.pipeline"]))
        step("first_run", run_step(drive, out, beam_args))
        step("unchanged_rerun", run_step(drive, out, beam_args))
        step("unchanged_rerun_through_pipeline", run_step(
            drive, out, beam_args, config=config_file("through-pipeline.yaml", "index:\n  reuse_outputs: false\n")))
        changes = change_drive(drive, donor, args.add, args.delete)
        step("rerun_after_changes", run_step(drive, out, beam_args))
        reference = os.path.join(root, "reference")
        step("full_run_after_changes", run_step(
            drive, reference, beam_args, config=config_file("no-index.yaml", "index:\n  enabled: false\n")))
        identical = shards(out) == shards(reference)

    first, same, changed = steps["first_run"], steps["unchanged_rerun"], steps["rerun_after_changes"]
    report = {
        "benchmark": "incremental",
        "date": datetime.now(timezone.utc).isoformat(),
        "machine": {"cpu_count": os.cpu_count(), "python": sys.version.split()[0],
                    "load_average_start": load_start, "load_average_end": os.getloadavg()},
        "settings": {**vars(args), "beam_args": beam_args},
        "changes": changes,
        "steps": steps,
        "unchanged_rerun_over_first_run": round(same["wall_seconds"] / first["wall_seconds"], 3),
        "unchanged_rerun_through_pipeline_over_first_run": round(
            steps["unchanged_rerun_through_pipeline"]["wall_seconds"] / first["wall_seconds"], 3),
        "changed_rerun_extracted_only_added": (changed["extracted"], changed["deleted"]) == (args.add, args.delete),
        "changed_rerun_equals_full_run": identical,
    }
    Path(args.report).parent.mkdir(parents=True, exist_ok=True)
    Path(args.report).write_text(json.dumps(report, indent=2) + "\n")
    print(f"unchanged rerun / first run: {report['unchanged_rerun_over_first_run']} "
          f"(through the pipeline: {report['unchanged_rerun_through_pipeline_over_first_run']})")
    print(f"rerun after changes extracted {changed['extracted']} (added {args.add}), deleted {changed['deleted']}; "
          f"equals a full run: {identical}")
    print(f"report: {args.report}")
    return 0 if identical and report["changed_rerun_extracted_only_added"] else 1


if __name__ == "__main__":
    sys.exit(main())
