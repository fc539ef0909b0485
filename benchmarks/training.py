"""Training-records benchmark: records per second and memory of the training stage, by corpus size.

    python -m benchmarks.training [--sizes 200,1000] [--workers 2] [--report benchmarks/reports/training.json]

For each size, a labelled sample corpus (rows_scale 0.02, the blocking
benchmark's cached extraction) is scored in memory with the pipeline's own
functions; then the training stage alone is timed: file summaries, labelled
links, components and splits, not-related pairs, the records of every task and
near-duplicate removal (`transforms.output.training.build_records`, what the
Beam graph's TrainingRecords and DropNearDuplicates steps run). The stage is
timed on one run and its memory traced on a second. De-duplication's two parts
are timed again on the records before it: signing every record, and comparing
the records of each LSH bucket shared by two or more (with the bucket sizes,
whose squares that comparison grows with); and a sample of the records dropped
is checked against the exact Jaccard of their shingles.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import sys
import time
import tracemalloc
from collections import Counter, defaultdict
from functools import lru_cache
from typing import Dict, Sequence

from benchmarks.blocking import corpus_records
from benchmarks import write_report
from transforms.config import Config
from transforms.detect.relationships import candidate_pairs, typed_edges
from transforms.detect.scoring import ConfidenceModel
from transforms.model import FileRecord
from transforms.output.training import all_records, build_records, file_summary, summary_budget, sure_thresholds
from transforms.output.training.dataset import dedup_buckets, dedup_signature, dedup_text, duplicates_in_bucket
from transforms.signatures import shingles

HERE = os.path.dirname(os.path.abspath(__file__))
DROPPED_SAMPLE = 600  # dropped records whose exact likeness is checked (pairwise, so a sample)


def measure_deduplication(records: Sequence[dict], threshold: float) -> Dict[str, object]:
    """De-duplication of the records before it: seconds to sign them and to compare them within
    their shared buckets, the buckets' sizes, and how many of a sample of the records dropped are
    truly that alike (exact Jaccard of their 5-word shingles) with a record before them in a bucket."""
    started = time.perf_counter()
    signed = [((r["task"], r["id"]), dedup_signature(r)) for r in records]
    sign_seconds = time.perf_counter() - started
    crowded = [entries for entries in dedup_buckets(signed).values() if len(entries) > 1]
    started = time.perf_counter()
    dropped = sorted({i for entries in crowded for i in duplicates_in_bucket(entries, threshold)})
    bucket_seconds = time.perf_counter() - started
    sample = set(dropped[::max(1, len(dropped) // DROPPED_SAMPLE)][:DROPPED_SAMPLE])
    before: Dict[str, set] = defaultdict(set)  # sampled ID -> IDs sorted before it in a shared bucket
    for entries in crowded:
        for key, _ in entries:
            if key[1] in sample:
                before[key[1]].update(other[1] for other, _ in entries if other < key)
    texts = {r["id"]: r for r in records}
    words = lru_cache(maxsize=None)(lambda i: frozenset(shingles(dedup_text(texts[i]), 5)))
    alike = [max((len(words(i) & words(j)) / len(words(i) | words(j)) for j in before[i]), default=0.0)
             for i in sorted(sample)]
    return {
        "sign_seconds": round(sign_seconds, 3),
        "bucket_seconds": round(bucket_seconds, 3),
        "shared_buckets": len(crowded),
        "largest_bucket": max(map(len, crowded), default=0),
        "bucket_pairs": sum(len(entries) * (len(entries) - 1) // 2 for entries in crowded),
        "dropped": len(dropped),
        "dropped_sampled": len(alike),
        "sampled_exact_jaccard_at_threshold": round(sum(j >= threshold for j in alike) / len(alike), 3)
        if alike else None,
        "sampled_exact_jaccard_within_0_05": round(sum(j >= threshold - 0.05 for j in alike) / len(alike), 3)
        if alike else None,
    }


def measure(records: Sequence[FileRecord], root: str, config: Config) -> Dict[str, object]:
    """Scores the records, then times the training stage on them."""
    model = ConfidenceModel.load()
    threshold = config.relationships.thresholds.min_confidence
    edges = [e.to_dict() for e in typed_edges(records, config, model) if e.confidence >= threshold]
    pairs, _, _ = candidate_pairs(records, config)
    thresholds = sure_thresholds(config, model)
    inputs = lambda: ({r.file_id: file_summary(r, (root,), summary_budget(config)) for r in records},  # noqa: E731
                      edges, [(p, sorted(k)) for p, k in pairs.items()], config, thresholds)
    stage = lambda: build_records(*inputs())  # noqa: E731 - the stage, run twice below
    gc.collect()
    started = time.perf_counter()
    training, duplicates = stage()
    seconds = time.perf_counter() - started
    # Memory on a second run: tracemalloc slows allocation several times, so it never runs while timing.
    gc.collect()
    tracemalloc.start()
    stage()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = sum(len(json.dumps(r, ensure_ascii=False)) for r in training)
    return {
        "files": len(records),
        "edges": len(edges),
        "candidate_pairs": len(pairs),
        "records": len(training),
        "records_by_task": dict(sorted(Counter(r["task"] for r in training).items())),
        "records_by_split": dict(sorted(Counter(r["split"] for r in training).items())),
        "duplicates_dropped": duplicates,
        "mean_record_kb": round(size / len(training) / 1024, 2) if training else 0.0,
        "seconds": round(seconds, 3),
        "records_per_s": round(len(training) / seconds, 1) if seconds else None,
        "ms_per_file": round(1000 * seconds / len(records), 3),
        "stage_peak_python_mb": round(peak / 2 ** 20, 1),
        "process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "deduplication": measure_deduplication(all_records(*inputs()), config.training.dedup_threshold),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200,1000")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--report", default=os.path.join(HERE, "reports", "training.json"))
    args = parser.parse_args(argv)
    config = Config()
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        records, _, root = corpus_records(size, args.workers)
        result = {"target_size": size, **measure(records, root, config)}
        results.append(result)
        print(f"{result['files']:>6} files  {result['records']:>6} records  {result['records_per_s']:>8} records/s  "
              f"{result['ms_per_file']:>7.2f} ms/file  stage peak {result['stage_peak_python_mb']} MB  "
              f"process peak RSS {result['process_peak_rss_mb']} MB", flush=True)
        dedup = result["deduplication"]
        print(f"{'':>6}       de-duplication: sign {dedup['sign_seconds']} s, buckets {dedup['bucket_seconds']} s "
              f"({dedup['shared_buckets']} shared, largest {dedup['largest_bucket']}, "
              f"{dedup['bucket_pairs']} pairs within); {dedup['dropped']} dropped, of {dedup['dropped_sampled']} "
              f"sampled {dedup['sampled_exact_jaccard_at_threshold']} truly at the threshold, "
              f"{dedup['sampled_exact_jaccard_within_0_05']} within 0.05 of it", flush=True)
    report = {
        "benchmark": "training",
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "platform": platform.platform()},
        "settings": config.to_dict()["training"],
        "results": results,
    }
    write_report(args.report, report)
    print(f"report: {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
