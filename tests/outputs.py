"""Reading a run's output files back as text, for tests that scan every byte."""

import json
import sqlite3
import zlib
from pathlib import Path

INDEX_FILE = "index.sqlite"  # the metadata index kept beside the outputs


def output_text(path: Path) -> str:
    """An output file as text to scan: Parquet tables as one JSON line per row, the metadata
    index as what it stores (its write-ahead log and shared memory are read through it)."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return "\n".join(json.dumps(row, ensure_ascii=False, default=str) for row in pq.read_table(path).to_pylist())
    if path.name == INDEX_FILE:
        return index_text(path)
    if path.name.startswith(INDEX_FILE + "-"):
        return ""
    return path.read_bytes().decode("utf-8")


def index_text(path: Path) -> str:
    """Every stored record, error, blocking key and cached edge of the index, one line each."""
    conn = sqlite3.connect(path)
    try:
        lines = [zlib.decompress(payload).decode("utf-8") + "\t" + keys
                 for payload, keys in conn.execute("SELECT payload, blocking_keys FROM filegraph_files")]
        lines += [edge for (edge,) in conn.execute("SELECT edge FROM filegraph_pair_scores") if edge]
    finally:
        conn.close()
    assert lines, "the index holds the run's records"
    return "\n".join(lines)
