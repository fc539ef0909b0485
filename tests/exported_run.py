"""One pipeline run with every export, shared by the export, report and DuckDB tests.

The drive is a small sample corpus plus files whose names a spreadsheet would run as
formulas, a broken workbook (an error record) and a file no pattern covers.
"""

import os
from pathlib import Path

from beam_pipeline.pipeline import run_pipeline
from beam_pipeline.sample_corpus import write_sample_corpus
from transforms.config import STRATEGIES, config_from_dict

HOSTILE_NAMES = ("=SUM(A1).csv", "+plus.csv", "-draft notes.txt", "@mention.md")
# Semantic similarity adds a model load and nothing these tests look at.
CONFIG = config_from_dict({"relationships": {"strategies": [s for s in STRATEGIES if s != "semantic_similarity"]}})

_RUN = {}


def exported_run(base: Path):
    """(drive, output, summary) of the shared run, made once per test session."""
    if not _RUN:
        truth, drive = write_sample_corpus(str(base / "corpus"), projects=2, seed=3)
        for name in HOSTILE_NAMES:
            body = "code,amount\nA-1,10\nA-2,20\n" if name.endswith(".csv") else "Notes on the plan for A-1.\n"
            Path(drive, name).write_text(body)
        Path(drive, "broken.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
        Path(drive, "notes.bin").write_bytes(b"\x00\x01")
        output = str(base / "out")
        summary = run_pipeline([drive], output, CONFIG)
        _RUN.update(drive=drive, output=output, summary=summary, truth=truth)
    return _RUN["drive"], _RUN["output"], _RUN["summary"]


def exported(output: str, *parts: str) -> str:
    return os.path.join(output, "exports", *parts)
