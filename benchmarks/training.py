"""Training-records benchmark: records per second and memory of the training stage, by corpus size.

    python -m benchmarks.training [--sizes 200,1000] [--workers 2] [--report benchmarks/reports/training.json]

For each size, a labelled sample corpus (rows_scale 0.02, the blocking
benchmark's cached extraction) is scored in memory with the pipeline's own
functions; then the training stage alone is timed: file summaries, labelled
links, components and splits, not-related pairs, the records of every task and
near-duplicate removal (`transforms.output.training.build_records`, what the
Beam graph's TrainingRecords and DropNearDuplicates steps run). The stage is
timed on one run and its memory traced on a second. De-duplication's two parts
are timed again on the records written: signing every record, and comparing
the records of each LSH bucket shared by two or more (with the bucket sizes,
whose squares that comparison grows with).
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
from collections import Counter
from typing import Dict, Sequence

from benchmarks.blocking import corpus_records
from benchmarks import write_report
from transforms.config import Config
from transforms.detect.relationships import candidate_pairs, typed_edges
from transforms.detect.scoring import ConfidenceModel
from transforms.model import FileRecord
from transforms.output.training import build_records, file_summary, summary_budget, sure_thresholds
from transforms.output.training.dataset import dedup_buckets, dedup_signature, duplicates_in_bucket

HERE = os.path.dirname(os.path.abspath(__file__))


def measure_deduplication(training: Sequence[dict], threshold: float) -> Dict[str, object]:
    """Seconds to sign the records and to compare them within their shared buckets, and the buckets' sizes."""
    started = time.perf_counter()
    signed = [((r["task"], r["id"]), dedup_signature(r)) for r in training]
    sign_seconds = time.perf_counter() - started
    crowded = [entries for entries in dedup_buckets(signed).values() if len(entries) > 1]
    started = time.perf_counter()
    for entries in crowded:
        duplicates_in_bucket(entries, threshold)
    return {
        "sign_seconds": round(sign_seconds, 3),
        "bucket_seconds": round(time.perf_counter() - started, 3),
        "shared_buckets": len(crowded),
        "largest_bucket": max(map(len, crowded), default=0),
        "bucket_pairs": sum(len(entries) * (len(entries) - 1) // 2 for entries in crowded),
    }


def measure(records: Sequence[FileRecord], root: str, config: Config) -> Dict[str, object]:
    """Scores the records, then times the training stage on them."""
    model = ConfidenceModel.load()
    threshold = config.relationships.thresholds.min_confidence
    edges = [e.to_dict() for e in typed_edges(records, config, model) if e.confidence >= threshold]
    pairs, _, _ = candidate_pairs(records, config)
    thresholds = sure_thresholds(config, model)
    stage = lambda: build_records(  # noqa: E731 - the stage, run twice below
        {r.file_id: file_summary(r, (root,), summary_budget(config)) for r in records}, edges,
        [(p, sorted(k)) for p, k in pairs.items()], config, thresholds)
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
        "deduplication": measure_deduplication(training, config.training.dedup_threshold),
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
              f"{dedup['bucket_pairs']} pairs within)", flush=True)
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
