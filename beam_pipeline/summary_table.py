"""The table printed after every run: counts from run_summary.json, then where each output is.

Built to tolerate keys it does not know: any other scalar count, and any other
top-level map of numbers (per-stage timings, say), is printed as it comes.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, List, Mapping, Optional

from apache_beam.io.filesystems import FileSystems

from transforms.output import writer

# Counts in reading order; a map under a count is printed indented below it.
_ORDER = ("matched", "skipped_by_patterns", "processed", "failed", "candidate_pairs", "hot_keys", "edges",
          "review_accepted", "review_rejected", "training_records")
_NESTED = {"failed": "errors_by_type", "edges": "edges_by_type", "processed": "files_by_type"}
_LABELS = {"matched": "files matched", "skipped_by_patterns": "skipped by patterns", "processed": "files processed",
           "failed": "files failed", "review_accepted": "edges accepted in review",
           "review_rejected": "edges rejected in review"}
_NOT_TIMINGS = ("counts", "config", "review")
WIDTH = 28


def _line(label: str, value: Any, indent: int = 0) -> str:
    text = f"{value:.1f}" if isinstance(value, float) else str(value)
    return f"{' ' * indent}{label:<{WIDTH - indent}}{text:>8}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def count_lines(summary: Mapping[str, Any]) -> List[str]:
    counts = summary.get("counts", {})
    names = [n for n in _ORDER if n in counts] + sorted(
        n for n in counts if n not in _ORDER and _is_number(counts[n]))
    lines = ["nothing changed since the last run: its outputs are kept"] if summary.get("unchanged_rerun") else []
    for name in names:
        lines.append(_line(_LABELS.get(name, name.replace("_", " ")), counts[name]))
        nested = counts.get(_NESTED.get(name, ""), {})
        lines += [_line(str(k), v, 2) for k, v in nested.items() if _is_number(v)]
    if _is_number(summary.get("runtime_seconds")):
        lines.append(_line("runtime (s)", float(summary["runtime_seconds"])))
    for key in sorted(summary):
        value = summary[key]
        if key in _NOT_TIMINGS or not isinstance(value, Mapping) or not value:
            continue
        if all(_is_number(v) for v in value.values()):
            lines.append(key.replace("_", " "))
            lines += [_line(str(k), v, 2) for k, v in value.items()]
    return lines


def output_lines(output: str) -> List[str]:
    """Each top-level output (folder or file) of a run and how many files it holds."""
    base = output.rstrip("/") + "/"
    paths = [m.path for m in FileSystems.match([writer.join_path(output, "**")])[0].metadata_list]
    tops: Counter = Counter()
    for path in paths:
        rest = path[len(base):] if path.startswith(base) else path
        head, sep, _ = rest.partition("/")
        tops[head + sep] += 1
    lines = [f"outputs in {output}"]
    for top in sorted(tops):
        detail = f"{tops[top]} files" if top.endswith("/") else ""
        lines.append(f"  {top:<{WIDTH - 2}}{detail:>8}".rstrip())
    return lines


def evaluation_lines(report: Mapping[str, Any]) -> List[str]:
    lines = [
        _line("precision", f"{report['precision']:.3f}"),
        _line("recall", f"{report['recall']:.3f}"),
        _line("F1", f"{report['f1']:.3f}"),
        _line("type accuracy", f"{report['type_accuracy']:.3f}"),
    ]
    if report.get("direction_accuracy") is not None:
        lines.append(_line("direction accuracy", f"{report['direction_accuracy']:.3f}"))
    for kind, row in report["per_type"].items():
        recall = "-" if row["recall"] is None else f"{row['recall']:.3f}"
        precision = "-" if row["precision"] is None else f"{row['precision']:.3f}"
        lines.append(_line(f"recall {kind}", recall, 2) + f"  precision {precision:>6}  "
                     f"({row['truth']} labelled, {row['found']} found)")
    for level, row in report.get("at_confidence", {}).items():
        lines.append(f"at confidence >= {level:<5} precision {row['precision']:.3f}  recall {row['recall']:.3f}  "
                     f"F1 {row['f1']:.3f}  ({row['edges']} edges)")
    for kind, table in report.get("reliability", {}).items():
        cells = "  ".join(f"{b['bin']}: {b['mean_confidence']:.2f}->{b['precision']:.2f} ({b['edges']})"
                          for b in table["bins"])
        lines.append(f"  reliability {kind:<11} ECE {table['ece']:.3f}  {cells}")
    return lines


def summary_table(summary: Mapping[str, Any], output: Optional[str] = None,
                  report: Optional[Mapping[str, Any]] = None) -> str:
    lines = count_lines(summary)
    if report:
        lines += evaluation_lines(report)
    if output:
        lines += [""] + output_lines(output)
    return "\n".join(lines)


