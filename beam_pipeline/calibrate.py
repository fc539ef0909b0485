"""`filegraph calibrate`: fit the confidence model on several labelled sources, check each one left out.

    filegraph calibrate --fit-seeds 1,2,3 --holdout-seeds 0,4 [--source NAME=TRUTH:ROOT ...] [--write]

Sources are sample corpora of the fit seeds plus real labelled corpora: by
default ../shared/data/opendata-dev and ../shared/data/chinook when present.
The report gives, for every source, precision / recall / F1 and calibration
error of a model fitted on the other sources (leave one source out); then the
model fitted on all of them, checked on sample corpora of the held-out seeds,
and each type's reliability (observed precision above each confidence, from
the out-of-source predictions). With --write the model replaces
transforms/detect/confidence_model.json.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any, Dict, List, Optional, Sequence, Tuple

from beam_pipeline.sample_corpus import generate_corpus
from transforms.config import Config
from transforms.detect.calibration import (
    LabelledRows,
    Source,
    fit,
    labelled_rows,
    leave_one_source_out,
    precision_above,
    predict,
    reliability_table,
)
from transforms.detect.evaluation import evaluate
from transforms.detect.relationships import detect
from transforms.detect.scoring import _MODEL_PATH
from transforms.extract.local import extract_paths
from transforms.output import writer

SHARED_DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "data")
# Real corpora with truth from their own declarations: (truth file, root the truth's paths are relative to).
DEFAULT_SOURCES = {
    "opendata-dev": ("opendata-dev/truth.json", "opendata-dev/drive"),
    "chinook": ("chinook/truth.json", "chinook/csv"),
}
MIN_CONFIDENCE = Config().relationships.thresholds.min_confidence


def _drive_files(root: str) -> List[str]:
    return sorted(os.path.join(d, f) for d, _, files in os.walk(root) for f in files)


def sample_source(workdir: str, seed: int, projects: int, config: Config) -> Source:
    """Generates one sample corpus and extracts it in memory."""
    root = os.path.join(workdir, f"seed-{seed}")
    truth = generate_corpus(root, projects=projects, seed=seed)
    drive = os.path.join(root, truth.get("root", ""))
    records, _ = extract_paths([os.path.join(drive, p) for p in truth["files"]], config)
    return Source(f"sample-seed-{seed}", records, truth, drive)


def real_source(name: str, truth_path: str, root: str, config: Config) -> Source:
    truth = writer.read_json(truth_path)
    root = os.path.abspath(root)
    records, _ = extract_paths(_drive_files(root), config)
    return Source(name, records, truth, root)


def default_sources() -> List[Tuple[str, str, str]]:
    found = []
    for name, (truth, root) in DEFAULT_SOURCES.items():
        truth_path, root_path = os.path.join(SHARED_DATA, truth), os.path.join(SHARED_DATA, root)
        if os.path.exists(truth_path) and os.path.isdir(root_path):
            found.append((name, truth_path, root_path))
    return found


def run_calibration(fit_seeds: Sequence[int], holdout_seeds: Sequence[int], projects: int = 8,
                    real: Optional[Sequence[Tuple[str, str, str]]] = None, config: Config = Config(),
                    c: float = 1.0) -> Tuple[Any, Dict[str, Any]]:
    real = default_sources() if real is None else real
    with tempfile.TemporaryDirectory(prefix="filegraph-calibrate-") as workdir:
        sources = [sample_source(workdir, seed, projects, config) for seed in fit_seeds]
        sources += [real_source(name, truth, root, config) for name, truth, root in real]
        rows = LabelledRows.concat([labelled_rows(s, config) for s in sources])
        truth_pairs = {s.name: len({tuple(sorted((e["a"], e["b"]))) for e in s.truth["edges"]}) for s in sources}
        loso, out_of_source = leave_one_source_out(rows, truth_pairs, c, MIN_CONFIDENCE)
        model = fit(rows, {"sources": [s.name for s in sources], "projects": projects}, c)
        edge_mask = [bool(e) for e in rows.edges]
        reliability = precision_above(out_of_source[edge_mask], rows.y[edge_mask],
                                      [t for t, e in zip(rows.types, edge_mask) if e])
        model = model.with_reliability(reliability)
        report: Dict[str, Any] = {
            "leave_one_source_out": loso,
            "reliability_out_of_source": reliability,
            "fit": reliability_table(predict(model, rows), rows.y),
            "holdout": {},
        }
        for seed in holdout_seeds:
            held = sample_source(workdir, seed, projects, config)
            edges = [e.to_dict() for e in detect(held.records, config, model)]
            result = evaluate(held.truth, edges, held.root)
            report["holdout"][seed] = {k: result[k] for k in ("precision", "recall", "f1", "type_accuracy",
                                                                "direction_accuracy", "per_type")}
    return model, report


def parse_sources(values: Sequence[str]) -> List[Tuple[str, str, str]]:
    """NAME=TRUTH:ROOT -> (name, truth path, root)."""
    out = []
    for value in values:
        name, _, rest = value.partition("=")
        truth, _, root = rest.partition(":")
        if not (name and truth and root):
            raise ValueError(f"--source must be NAME=TRUTH:ROOT, got '{value}'")
        out.append((name, truth, root))
    return out


def main(fit_seeds: Sequence[int], holdout_seeds: Sequence[int], projects: int, write: bool,
         sources: Optional[Sequence[str]] = None) -> int:
    real = parse_sources(sources) if sources else None
    model, report = run_calibration(fit_seeds, holdout_seeds, projects, real)
    print(json.dumps({"model": model.to_dict(), "report": report}, indent=2))
    if write:
        with open(_MODEL_PATH, "w", encoding="utf-8") as handle:
            json.dump({**model.to_dict(), "fitted_on": {
                **model.fitted_on,
                "leave_one_source_out": report["leave_one_source_out"],
                "holdout": {str(k): {m: v[m] for m in ("precision", "recall", "f1", "type_accuracy")}
                            for k, v in report["holdout"].items()}}}, handle, indent=2, sort_keys=True)
            handle.write("\n")
        print(f"wrote {_MODEL_PATH}")
    return 0
