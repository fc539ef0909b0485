"""Static embeddings of files, for the semantic_similarity strategy.

The vectors are token embeddings distilled offline from all-MiniLM-L6-v2 with
model2vec (`tools/distill_embeddings.py`) and shipped as package data in
`static_model/`: a word-piece tokenizer and one int8 row (with a float scale)
per token. A text's embedding is the mean of its tokens' rows, less what every file text
shares, normalised; `cosine` maps it onto the sentence model's scale (both
corrections are fitted at distillation, see the tool). It needs numpy and the
`tokenizers` package, no torch and no download.

Embeddings are stored on the record as int8 (unit vector x 127) so records
stay small and JSON-serialisable.
"""

from __future__ import annotations

import bisect
import functools
import os
import threading
from typing import List, Optional, Sequence, Tuple

import numpy as np

from transforms.detect.facts import per_file_lazily
from transforms.model import FileRecord
from transforms.naming import analyse_name

MODEL_DIR = os.path.join(os.path.dirname(__file__), "static_model")
# all-MiniLM-L6-v2 reads at most 256 word pieces; the static model reads as many.
# A text is cut to 2,400 characters, more than 256 word pieces ever cover, before tokenising.
MAX_TOKENS = 256
_MAX_CHARS = 1200
_MAX_TEXT_CHARS = 2 * _MAX_CHARS
_SCALE = 127.0
_lock = threading.Lock()
_model: Optional["StaticModel"] = None


class StaticModel:
    """Token vectors plus their tokenizer and the corrections fitted at distillation."""

    def __init__(self, directory: str = MODEL_DIR):
        from tokenizers import Tokenizer

        with np.load(os.path.join(directory, "embeddings.npz")) as data:
            self.vectors = data["vectors"].astype(np.float32) * data["scales"][:, None]
            self.keep = data["keep"]
            self.background = data["background"].astype(np.float32)
            self.knots = data["cosine_knots"].astype(np.float64)
        self._knot_x, self._knot_y = self.knots[:, 0].tolist(), self.knots[:, 1].tolist()
        self.tokenizer = Tokenizer.from_file(os.path.join(directory, "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)

    @property
    def dims(self) -> int:
        return int(self.vectors.shape[1])

    def mean_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """The mean vector of each text's tokens that carry a letter (zeros when none)."""
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch([t[:_MAX_TEXT_CHARS] for t in texts], add_special_tokens=False)
        for row, encoding in enumerate(encodings):
            ids = np.asarray(encoding.ids, dtype=np.int64)
            ids = ids[self.keep[ids]] if len(ids) else ids
            if len(ids):
                out[row] = self.vectors[ids].mean(axis=0)
        return out

    def embed(self, texts: Sequence[str], centred: bool = True) -> np.ndarray:
        """Unit vectors; `centred` removes what every file text shares (not for short phrases)."""
        out = self.mean_vectors(texts)
        if centred:
            out = np.where(np.any(out != 0, axis=1, keepdims=True), out - self.background, out)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1.0)

    def on_sentence_scale(self, cosine: float) -> float:
        """A cosine of two text embeddings, mapped onto the sentence model's scale: piecewise
        linear between the knots, as np.interp computes it (the same floats), without numpy's
        per-call cost, since scoring maps one cosine per pair."""
        xs, ys = self._knot_x, self._knot_y
        if cosine > xs[-1]:
            return ys[-1]
        if cosine < xs[0]:
            return ys[0]
        j = bisect.bisect_right(xs, cosine) - 1
        if j == len(xs) - 1 or xs[j] == cosine:
            return ys[j]
        return (ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j]) * (cosine - xs[j]) + ys[j]


def available() -> bool:
    """True when the packaged model and the `tokenizers` package are both present."""
    try:
        import tokenizers  # noqa: F401
    except ImportError:
        return False
    return os.path.exists(os.path.join(MODEL_DIR, "embeddings.npz"))


def _load_model() -> StaticModel:
    """The model, loaded once per process (workers share it across bundles)."""
    global _model
    with _lock:
        if _model is None:
            _model = StaticModel()
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
    return ". ".join(p for p in parts if p)[:_MAX_TEXT_CHARS]


def embed_texts(texts: Sequence[str], centred: bool = True) -> np.ndarray:
    return _load_model().embed(list(texts), centred)


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
    return embed_texts([phrase], centred=False)[0]


def phrase_similarity(a: str, b: str) -> float:
    """Cosine of two short phrases (column names), cached per process."""
    return float(_phrase_vector(a) @ _phrase_vector(b))


Vector = Tuple[np.ndarray, float]  # a stored embedding as floats, with its norm


def _vector(embedding: Sequence[int]) -> Vector:
    values = np.asarray(embedding, dtype=float)
    return values, float(np.linalg.norm(values))


@per_file_lazily
def record_vector(record: FileRecord) -> Optional[Vector]:
    """The record's embedding as floats with its norm, converted once per file, not once per pair."""
    return _vector(record.embedding) if record.embedding else None


def _cosine(a: Vector, b: Vector) -> Optional[float]:
    (va, norm_a), (vb, norm_b) = a, b
    if len(va) != len(vb):
        return None
    denom = norm_a * norm_b
    return _load_model().on_sentence_scale(float(va @ vb / denom)) if denom else None


def cosine(a: Sequence[int], b: Sequence[int]) -> Optional[float]:
    """Similarity of two stored embeddings: their cosine on the sentence model's scale."""
    if not a or not b or len(a) != len(b):
        return None
    return _cosine(_vector(a), _vector(b))


def record_cosine(a: FileRecord, b: FileRecord) -> Optional[float]:
    """`cosine` of two records' embeddings."""
    va, vb = record_vector(a), record_vector(b)
    return _cosine(va, vb) if va is not None and vb is not None else None
