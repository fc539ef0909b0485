"""Reading a run's output files back as text, for tests that scan every byte."""

import json
from pathlib import Path


def output_text(path: Path) -> str:
    """An output file as text to scan: Parquet tables as one JSON line per row."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return "\n".join(json.dumps(row, ensure_ascii=False, default=str) for row in pq.read_table(path).to_pylist())
    return path.read_bytes().decode("utf-8")
