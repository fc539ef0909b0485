"""Scoring benchmark: detection time per candidate pair, split by strategy, with peak memory.

    python -m benchmarks.scoring [--sizes 1000,10000] [--workers 2] [--report benchmarks/reports/scoring.json]

Reuses the blocking benchmark's generated corpora and their extracted records
(cached under benchmarks/.cache, made on first use), embeds them, then runs
in-memory detection (`transforms.detect.relationships.detect`: blocking, pair
views, every strategy on every candidate pair, typing, the global steps,
declared edges) once per size, each size in a fresh process. Per size the
report gives files, candidate pairs, edges, wall and CPU seconds of detection,
microseconds per pair, the seconds of each part (blocking, views, each
strategy, inclusion within content_similarity, typing, global steps), the
process's RSS before detection and its peak, F1 against the corpus's truth,
and `edges_sha256`, a digest of every edge with its evidence. `scoring_step`
times the pipeline's scoring step on the same records in this process and on
two worker processes (`batch.worker_processes` 0 and 2).

It only uses names that older checkouts have too, so
`PYTHONPATH=OTHER_CHECKOUT python benchmarks/scoring.py --report other.json`
measures them: equal `edges_sha256` means the same edges, to the last digit.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections import Counter
from typing import Any, Callable, Dict, List, Optional, Sequence

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _timed(totals: Counter, part: str, fn: Callable) -> Callable:
    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            totals[part] += time.perf_counter() - started
    return timed


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def edges_digest(edges: Sequence[Any]) -> str:
    rows = sorted(json.dumps(e.to_dict(), sort_keys=True) for e in edges)
    return hashlib.sha256("\n".join(rows).encode("utf-8")).hexdigest()


@contextlib.contextmanager
def timed_parts(parts: Counter, pairs: List[int]):
    """Times each part of detection into `parts` (and counts the candidate pairs) while it lasts."""
    from transforms.detect import relationships, strategies

    saved_strategies = dict(strategies.STRATEGY_FUNCTIONS)
    saved = [(strategies, "_inclusion_features")] + [
        (relationships, name) for name in ("candidate_pairs", "pair_view", "typed_edge", "resolve")]
    originals = [(module, name, getattr(module, name)) for module, name in saved]
    blocking = relationships.candidate_pairs

    def counted_blocking(*args, **kwargs):
        found = blocking(*args, **kwargs)
        pairs.append(len(found[0]))
        return found

    for name, fn in saved_strategies.items():
        strategies.STRATEGY_FUNCTIONS[name] = _timed(parts, f"strategy {name}", fn)
    strategies._inclusion_features = _timed(parts, "  of which inclusion", strategies._inclusion_features)
    relationships.candidate_pairs = _timed(parts, "blocking", counted_blocking)
    relationships.pair_view = _timed(parts, "pair views", relationships.pair_view)
    relationships.typed_edge = _timed(parts, "typing", relationships.typed_edge)
    relationships.resolve = _timed(parts, "global steps", relationships.resolve)
    try:
        yield
    finally:
        strategies.STRATEGY_FUNCTIONS.update(saved_strategies)
        for module, name, fn in originals:
            setattr(module, name, fn)


def measure(records: Sequence[Any], truth: Optional[dict] = None, root: str = "") -> Dict[str, Any]:
    """Detection over `records`, each part timed."""
    from transforms.config import Config
    from transforms.detect import relationships
    from transforms.detect.evaluation import evaluate

    config = Config()
    relationships.ensure_embeddings(records, config)  # extraction's work, not scoring's
    parts: Counter = Counter()
    pairs: List[int] = []
    rss_before = _peak_rss_mb()
    with timed_parts(parts, pairs):
        started, cpu_started = time.perf_counter(), time.process_time()
        edges = relationships.detect(records, config)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    result = {
        "files": len(records),
        "candidate_pairs": pairs[0] if pairs else None,
        "edges": len(edges),
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "microseconds_per_pair": round(1e6 * seconds / pairs[0], 1) if pairs and pairs[0] else None,
        "part_seconds": {k: round(v, 2) for k, v in parts.most_common()},
        "rss_before_mb": rss_before,
        "peak_rss_mb": _peak_rss_mb(),
        "edges_sha256": edges_digest(edges),
    }
    if truth:
        report = evaluate(truth, [e.to_dict() for e in edges], root)
        result["f1"] = round(report["f1"], 4)
    return result


def measure_scoring_step(records: Sequence[Any], worker_processes: Sequence[int] = (0, 2)) -> Dict[str, Any]:
    """The pipeline's scoring step (ScoreBatchFn over every batch, views from packed buckets) with each
    `batch.worker_processes`: wall seconds, this process's CPU seconds, its children's (the worker
    processes') CPU seconds, and whether every setting gave the same outcomes. {} for a checkout
    without the step."""
    try:
        from transforms.ptransforms.detect import ScoreBatchFn
    except ImportError:
        return {}
    try:
        from transforms.ptransforms.detect import scoring_batches
    except ImportError:  # a checkout whose batches were a hash of the first file
        from transforms.ptransforms.detect import score_batch

        def scoring_batches(files):
            return {file_id: score_batch(file_id, len(files)) for file_id, _ in files}
    import psutil

    from transforms.config import Config, with_overrides
    from transforms.detect.pair_view import packed_view, view_bucket
    from transforms.detect.relationships import candidate_pairs

    pairs, _, stats = candidate_pairs(records, Config())
    buckets: Dict[int, list] = {}
    for record in records:
        buckets.setdefault(view_bucket(record.file_id), []).append((record.file_id, packed_view(record)))
    batch_of_file = scoring_batches([(record.file_id, record.file_path) for record in records])
    batches: Dict[int, list] = {}
    for (a, b), shared in pairs.items():
        batches.setdefault(batch_of_file[a], []).append((a, b, shared))
    figures: Dict[str, Any] = {"pairs": len(pairs), "batches": len(batches)}
    outcomes = {}
    for workers in worker_processes:
        fn = ScoreBatchFn(with_overrides(Config(), **{"batch.worker_processes": workers}))
        fn.setup()
        started, cpu_started = time.perf_counter(), time.process_time()
        outcomes[workers] = [(kind, value.to_dict()) for key in sorted(batches)
                             for kind, value in fn.process((key, batches[key]), buckets, stats)]
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        children = sum(sum(child.cpu_times()[:2]) for child in psutil.Process().children(recursive=True)
                       if "spawn" in " ".join(child.cmdline()))
        fn.finish_bundle()
        fn.teardown()
        figures[f"worker_processes_{workers}"] = {"seconds": round(seconds, 2), "cpu_seconds": round(cpu_seconds, 2),
                                                  "worker_cpu_seconds": round(children, 2)}
    figures["same_outcomes"] = all(o == outcomes[worker_processes[0]] for o in outcomes.values())
    return figures


def _measure_size(size: int, workers: int) -> Dict[str, Any]:
    from benchmarks.blocking import corpus_records

    records, truth, root = corpus_records(size, workers)
    return {"target_size": size, **measure(records, truth, root), "scoring_step": measure_scoring_step(records)}


def _in_fresh_process(size: int, workers: int) -> Dict[str, Any]:
    """One size in a new interpreter (its own peak RSS), with this process's PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH", ""), ROOT) if p)
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--one", str(size), "--workers", str(workers)],
                          env=env, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def format_row(row: Dict[str, Any]) -> str:
    parts = ", ".join(f"{k} {v}" for k, v in row["part_seconds"].items())
    return (f"{row['files']:>7} files {row['candidate_pairs']:>8} pairs {row['edges']:>6} edges  "
            f"{row['seconds']:>7.1f} s ({row['cpu_seconds']:.1f} s CPU)  {row['microseconds_per_pair']:>6.0f} us/pair  "
            f"peak RSS {row['peak_rss_mb']:.0f} MB (before {row['rss_before_mb']:.0f})  F1 {row.get('f1')}\n"
            f"          {parts}\n          edges_sha256 {row['edges_sha256']}"
            f"\n          pipeline scoring step {json.dumps(row.get('scoring_step', {}))}")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--workers", type=int, default=2, help="processes that generate and extract the corpora")
    parser.add_argument("--report", default=os.path.join(HERE, "reports", "scoring.json"))
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)  # a size, measured in this process
    args = parser.parse_args(argv)
    if args.one is not None:
        print(json.dumps(_measure_size(args.one, args.workers)))
        return 0
    results = []
    for size in (int(s) for s in args.sizes.split(",") if s.strip()):
        results.append(_in_fresh_process(size, args.workers))
        print(format_row(results[-1]), flush=True)
    report = {
        "benchmark": "scoring",
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "platform": platform.platform(),
                    "load_average": list(os.getloadavg())},
        "code": os.environ.get("PYTHONPATH", "") or ROOT,
        "results": results,
    }
    # Not benchmarks.write_report: this file imports nothing of the checkout it measures (see above).
    os.makedirs(os.path.dirname(os.path.abspath(args.report)), exist_ok=True)
    with open(args.report, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
    print(f"report: {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
