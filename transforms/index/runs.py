"""The last complete run of an output: what it depended on and what it wrote.

A rerun whose inputs (each matched file's path, size and mtime, and the paths
the patterns skipped), configuration, code (transforms, beam_pipeline,
templates), reader libraries, PII key and review decisions are all unchanged
would write exactly the outputs already there. When those outputs are intact
(each file's size and mtime as the last run left them), it keeps them and runs
no pipeline: only run_summary.json is written anew, saying that nothing was
extracted. Any difference runs the pipeline, which reuses what the index holds
file by file and pair by pair (plan.py, cache.py).

The run row is deleted before a pipeline starts and written after its summary,
so a killed run is never taken for a complete one.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Dict, Optional, Sequence

from transforms.config import Config
from transforms.extract.encoding import display_path
from transforms.extract.matching import match_outcomes
from transforms.index import plan
from transforms.index.store import open_index, sqlite_path

# Packages whose code and data decide a run's outputs.
RUN_PACKAGES = ("transforms", "beam_pipeline", "templates")
SUMMARY = "run_summary.json"  # rewritten by every run, kept or not


def reusable(index, output: str, config: Config) -> bool:
    """Whether this run may keep the last run's outputs: an index, a local output folder, the
    setting on, and no LLM review (its answers are not a function of the inputs)."""
    return (index is not None and config.index.reuse_outputs and "://" not in output
            and not config.reasoning.llm.enabled)


def run_fingerprint(inputs: Sequence[str], output: str, config: Config, extraction_fingerprint: str) -> str:
    """A digest of everything a run's outputs depend on, the input files listed now."""
    matched, skipped = {}, set()
    for spec in inputs:
        for ok, item in match_outcomes(spec, config.batch.patterns, [output]):
            if ok:
                matched[display_path(item.path)] = (item.size, item.modified_at)
            else:
                skipped.add(display_path(item))
    document = {
        "inputs": list(inputs),
        "output": output,
        "config": config.to_dict(),
        "extraction": extraction_fingerprint,
        "code": plan.code_digest(RUN_PACKAGES),
        "feedback": _file_digest(config.review.feedback_file),
        "matched": sorted(matched.items()),
        "skipped": sorted(skipped),
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode("utf-8")).hexdigest()


def _file_digest(path: str) -> Optional[str]:
    """sha256 of a file's bytes; "unreadable" when it cannot be read (the run reports why)."""
    if not path:
        return None
    from apache_beam.io.filesystems import FileSystems

    try:
        with FileSystems.open(path) as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except Exception:
        return "unreadable"


def output_stamps(output: str, location: str) -> Dict[str, Any]:
    """{relative path: [size, mtime_ns]} of every file in the output folder but the summary and the
    index at `location` (when it is a file there)."""
    path = sqlite_path(location)
    index_files = {os.path.abspath(path + suffix) for suffix in ("", "-wal", "-shm", "-journal")} if path else set()
    stamps = {}
    for folder, dirs, files in os.walk(output):
        dirs.sort()
        for name in files:
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, output)
            if relative == SUMMARY or os.path.abspath(path) in index_files:
                continue
            stat = os.stat(path)
            stamps[relative] = [stat.st_size, stat.st_mtime_ns]
    return stamps


def kept_summary(location: str, scope: str, fingerprint: str) -> Optional[Dict[str, Any]]:
    """The last run's summary when this run would repeat it and its outputs are intact, else None."""
    index = open_index(location)
    try:
        index.ensure_schema()
        last = index.last_run(scope)
    finally:
        index.close()
    summary_path = os.path.join(scope, SUMMARY)
    if last is None or last[0] != fingerprint or not os.path.isfile(summary_path):
        return None
    if output_stamps(scope, location) != last[1]:
        return None
    try:
        with open(summary_path, encoding="utf-8") as handle:
            return json.load(handle)
    except ValueError:
        return None


def unchanged_summary(last: Dict[str, Any], runtime_seconds: float) -> Dict[str, Any]:
    """run_summary.json of a run that kept the last run's outputs: every file reused, none extracted."""
    counts = dict(last["counts"])
    counts.update(extracted=0, reused=counts["matched"], deleted=0)
    return {**last, "counts": counts, "runtime_seconds": round(runtime_seconds, 3), "unchanged_rerun": True}


def forget(location: str, scope: str) -> None:
    index = open_index(location)
    try:
        index.ensure_schema()
        index.forget_run(scope)
    finally:
        index.close()


def remember(location: str, scope: str, fingerprint: str) -> None:
    index = open_index(location)
    try:
        index.ensure_schema()
        index.put_run(scope, fingerprint, output_stamps(scope, location))
    finally:
        index.close()
