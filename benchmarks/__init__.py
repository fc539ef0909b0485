"""Benchmarks: each `python -m benchmarks.NAME` prints figures and writes a JSON report."""

import json
import os


def write_report(path: str, report: dict, sort_keys: bool = False) -> None:
    """Writes a benchmark's JSON report, making its folder first."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2, sort_keys=sort_keys)
