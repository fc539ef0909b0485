"""`filegraph calibrate`: fit the confidence model on sample corpora, check it on held-out seeds.

    filegraph calibrate --fit-seeds 1,2,3 --holdout-seeds 0,4 [--write]

Fits on the typed candidate pairs of the fit seeds' corpora, then runs the
whole detection on each held-out corpus and prints precision, recall, F1 and
type accuracy. With --write the model replaces transforms/detect/confidence_model.json.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any, Dict, List, Sequence, Tuple

from beam_pipeline.sample_corpus import generate_corpus
from transforms.config import Config
from transforms.detect.calibration import (
    LabelledRows,
    calibration_report,
    fit,
    labelled_rows,
)
from transforms.detect.evaluation import evaluate
from transforms.detect.relationships import detect
from transforms.detect.scoring import _MODEL_PATH, ConfidenceModel
from transforms.extract.local import extract_paths
from transforms.model import FileRecord


def corpus_records(workdir: str, seed: int, projects: int, config: Config) -> Tuple[List[FileRecord], Dict, str]:
    """Generates one sample corpus and extracts it in memory."""
    root = os.path.join(workdir, f"seed-{seed}")
    truth = generate_corpus(root, projects=projects, seed=seed)
    drive = os.path.join(root, truth.get("root", ""))
    paths = [os.path.join(drive, p) for p in truth["files"]]
    records, _ = extract_paths(paths, config)
    return records, truth, drive


def run_calibration(fit_seeds: Sequence[int], holdout_seeds: Sequence[int], projects: int = 8,
                    config: Config = Config(), c: float = 1.0) -> Tuple[ConfidenceModel, Dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="filegraph-calibrate-") as workdir:
        parts = []
        for seed in fit_seeds:
            records, truth, drive = corpus_records(workdir, seed, projects, config)
            parts.append(labelled_rows(records, truth, drive, config))
        rows = LabelledRows.concat(parts)
        model = fit(rows, {"fit_seeds": list(fit_seeds), "projects": projects}, c=c)
        report: Dict[str, Any] = {"fit": calibration_report(model, rows), "holdout": {}}
        for seed in holdout_seeds:
            records, truth, drive = corpus_records(workdir, seed, projects, config)
            held_out = labelled_rows(records, truth, drive, config)
            edges = [e.to_dict() for e in detect(records, config, model)]
            result = evaluate(truth, edges, drive)
            report["holdout"][seed] = {
                **{k: result[k] for k in ("precision", "recall", "f1", "type_accuracy", "direction_accuracy")},
                "per_type": result["per_type"],
                "calibration": calibration_report(model, held_out),
            }
    return model, report


def main(fit_seeds: Sequence[int], holdout_seeds: Sequence[int], projects: int, write: bool) -> int:
    model, report = run_calibration(fit_seeds, holdout_seeds, projects)
    print(json.dumps({"model": model.to_dict(), "report": report}, indent=2))
    if write:
        with open(_MODEL_PATH, "w", encoding="utf-8") as handle:
            json.dump({**model.to_dict(), "fitted_on": {**model.fitted_on, "holdout": {
                str(k): {m: v[m] for m in ("precision", "recall", "f1", "type_accuracy")}
                for k, v in report["holdout"].items()}}}, handle, indent=2, sort_keys=True)
            handle.write("\n")
        print(f"wrote {_MODEL_PATH}")
    return 0
