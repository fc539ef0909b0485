"""Blocking benchmark: candidate pairs per file, reduction ratio, pairs completeness, time per file.

    python -m benchmarks.blocking [--sizes 1000,10000,100000] [--workers 2]
                                  [--report benchmarks/reports/blocking.json]
                                  [--drop-kinds dir] [--top-partners N] [--run OUTPUT]

For each size, a labelled sample corpus of about that many (small) files is
generated (rows_scale 0.02) and extracted once, in parallel, and cached under
benchmarks/.cache. Blocking itself (key generation, bucketing, pair
generation with the hot-key cap, resolved mentions, meta-blocking's pruning)
is then timed on the extracted records with the same functions the Beam
pipeline runs (transforms/detect/blocking.py, mentions.py). Pairs completeness
is the share of labelled pairs that blocking proposes; `proposed` figures are
before pruning. Its ceiling leaves out the missed pairs that no blocking on the
same keys could propose (`indistinguishable`: more files than a file keeps
partners hold every key the pair shares). Peak RSS is the process's, records loaded included.

`--run OUTPUT` takes the records of a finished run instead (its metadata index,
as the run extracted them; no corpus generated): a run of `benchmarks.scale`,
whose corpus keeps its truth beside it (scale-SIZE.truth.json).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import platform
import resource
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from typing import Dict, List, Sequence, Tuple

from beam_pipeline.sample_corpus import generate_corpus
from benchmarks import write_report
from transforms.config import Config, config_from_dict
from transforms.detect import blocking, mentions
from transforms.model import FileRecord

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(HERE, ".cache")
ROWS_SCALE = 0.02
FILES_PER_PROJECT = 11.0  # measured on generated corpora; sizes are approximate


def _extract(path: str):
    from transforms.extract import extract_file
    from transforms.model import ExtractionError

    with open(path, "rb") as handle:
        data = handle.read()
    try:
        return extract_file(path, data, Config(), size=len(data))
    except ExtractionError:
        return None


def corpus_records(size: int, workers: int) -> Tuple[List[FileRecord], dict, str]:
    """Generates (or reuses) the corpus of about `size` files and its extracted records."""
    projects = max(1, round(size / FILES_PER_PROJECT))
    root = os.path.join(CACHE, f"corpus-{size}")
    cache = os.path.join(CACHE, f"records-{size}.pickle")
    if os.path.exists(cache):
        with open(cache, "rb") as handle:
            return pickle.load(handle)
    truth = generate_corpus(root, projects=projects, seed=size, rows_scale=ROWS_SCALE, workers=workers)
    paths = [os.path.join(root, p) for p in truth["files"]]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        records = [r for r in pool.map(_extract, paths, chunksize=64) if r is not None]
    result = (records, truth, root)
    with open(cache, "wb") as handle:
        pickle.dump(result, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return result


def placement(folder_a: str, folder_b: str) -> str:
    """Where two files of a labelled pair sit: one folder, sibling folders or a folder and its
    parent (what folder keys join), or apart in the drive."""
    if folder_a == folder_b:
        return "same folder"
    parent_a, parent_b = os.path.dirname(folder_a), os.path.dirname(folder_b)
    if parent_a == parent_b or parent_a == folder_b or parent_b == folder_a:
        return "sibling or parent folder"
    return "apart"


def run_records(output: str) -> Tuple[List[FileRecord], dict, str]:
    """The records a finished run extracted (its metadata index), the truth beside its input, its input."""
    from transforms.index.store import ERROR, decode_payload, open_index

    with open(os.path.join(output, "run_summary.json"), encoding="utf-8") as handle:
        summary = json.load(handle)
    root = summary["inputs"][0].rstrip("/")
    with open(root + ".truth.json", encoding="utf-8") as handle:
        truth = json.load(handle)
    index = open_index(summary["index"])
    try:
        records = [FileRecord.from_dict(decode_payload(payload))
                   for entry, payload in index.entries(summary["output"]) if entry.outcome != ERROR]
    finally:
        index.close()
    return records, truth, root


def indistinguishable(missed: Sequence[Tuple[str, str]], keyed: Sequence[Tuple[str, str]], budget: int,
                      resolved: Sequence[Tuple[str, str]] = ()) -> List[Tuple[str, str]]:
    """The missed pairs that no blocking on these keys could propose within a file's budget of
    partners: more than `budget` other files hold every key the pair shares, so nothing in the
    keys ranks the partner above them. A resolved mention tells its pair apart, whichever way round."""
    members: Dict[str, set] = {}
    keys_of: Dict[str, set] = {}
    for key, file_id in keyed:
        members.setdefault(key, set()).add(file_id)
        keys_of.setdefault(file_id, set()).add(key)
    named = {tuple(sorted(p)) for p in resolved}
    alike = []
    for a, b in missed:
        if (min(a, b), max(a, b)) in named:
            continue
        holders = None
        for key in sorted(keys_of.get(a, set()) & keys_of.get(b, set()), key=lambda k: len(members[k])):
            holders = set(members[key]) if holders is None else holders & members[key]
            if len(holders) <= budget + 2:
                break
        if holders is None or len(holders) > budget + 2:  # no shared key at all, or too many alike
            alike.append((a, b))
    return alike


def measure(records: Sequence[FileRecord], truth: dict, root: str, config: Config,
            drop_kinds: Sequence[str] = ()) -> Dict[str, object]:
    """Times blocking on the records and scores its candidate pairs against the truth.

    `drop_kinds` leaves out key kinds (e.g. "dir", to see what content alone proposes).
    """
    cfg = config.relationships.blocking
    dropped = set(drop_kinds)
    gc.collect()
    started = time.perf_counter()
    keyed = [(key, r.file_id) for r in records for key in blocking.blocking_keys(r, cfg)
             if blocking.key_kind(key) not in dropped]
    keys_done = time.perf_counter()
    resolved = mentions.resolve_all(records)
    pairs, stats, _ = blocking.candidate_pairs(keyed, cfg, resolved)
    finished = time.perf_counter()

    by_path = {os.path.relpath(r.file_path, root): r.file_id for r in records}
    labelled = []
    for edge in truth["edges"]:
        a, b = by_path.get(edge["a"]), by_path.get(edge["b"])
        if a and b:
            labelled.append((tuple(sorted((a, b))), edge["type"]))
    found = [p for p, _ in labelled if p in pairs]
    alike = indistinguishable([p for p, _ in labelled if p not in pairs], keyed, cfg.top_partners, resolved)
    by_type = Counter(t for _, t in labelled)
    found_by_type = Counter(t for p, t in labelled if p in pairs)
    folder_of = {r.file_id: os.path.dirname(r.file_path) for r in records}
    placed = Counter(placement(folder_of[a], folder_of[b]) for (a, b), _ in labelled)
    found_placed = Counter(placement(folder_of[a], folder_of[b]) for a, b in found)
    n = len(records)
    all_pairs = n * (n - 1) / 2
    kinds = Counter(kind for k in pairs.values() for kind in k)
    return {
        "files": n,
        "blocking_keys": len(keyed),
        "distinct_keys": stats["keys"],
        "hot_keys": stats["hot_keys"],
        "candidate_pairs": len(pairs),
        "candidate_pairs_per_file": round(len(pairs) / n, 3),
        "proposed_pairs_per_file": round(stats["proposed_pairs"] / n, 3),
        "top_partners": cfg.top_partners,
        "reduction_ratio": round(1 - len(pairs) / all_pairs, 6) if all_pairs else 0.0,
        "labelled_pairs": len(labelled),
        "pairs_completeness": round(len(found) / len(labelled), 4) if labelled else None,
        "pairs_completeness_by_type": {t: round(found_by_type[t] / c, 4) for t, c in sorted(by_type.items())},
        "pairs_completeness_by_placement": {k: {"labelled": c, "completeness": round(found_placed[k] / c, 4)}
                                            for k, c in sorted(placed.items())},
        "missed_pairs_indistinguishable": len(alike),
        "pairs_completeness_ceiling": round(1 - len(alike) / len(labelled), 4) if labelled else None,
        "pairs_by_key_kind": dict(sorted(kinds.items())),
        "seconds_keys": round(keys_done - started, 3),
        "seconds_pairs": round(finished - keys_done, 3),
        "microseconds_per_file": round(1e6 * (finished - started) / n, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--report", default=os.path.join(HERE, "reports", "blocking.json"))
    parser.add_argument("--drop-kinds", default="", help="Comma-separated key kinds to leave out, e.g. dir.")
    parser.add_argument("--run", default=None, help="A finished run's output: measure on its records, not --sizes.")
    parser.add_argument("--top-partners", type=int, default=None,
                        help="relationships.blocking.top_partners (default: the config's; 0 keeps every pair).")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    overrides = {} if args.top_partners is None else {"top_partners": args.top_partners}
    config = config_from_dict({"relationships": {"blocking": overrides}})
    results = []
    for size in ([None] if args.run else sizes):
        records, truth, root = run_records(args.run) if args.run else corpus_records(size, args.workers)
        drop = [k for k in args.drop_kinds.split(",") if k]
        result = {"target_size": size, "run": args.run, "dropped_key_kinds": drop, **measure(records, truth, root, config, drop)}
        results.append(result)
        print(f"{result['files']:>7} files  {result['candidate_pairs_per_file']:>7.2f} pairs/file "
              f"(proposed {result['proposed_pairs_per_file']:.2f})  "
              f"reduction {result['reduction_ratio']:.6f}  completeness {result['pairs_completeness']}  "
              f"{result['microseconds_per_file']:>8.1f} us/file  hot keys {result['hot_keys']}  "
              f"peak RSS {result['peak_rss_mb']:.0f} MB", flush=True)
        print("         by placement: " + ", ".join(f"{k} {v['completeness']} of {v['labelled']}"
                                                  for k, v in result["pairs_completeness_by_placement"].items()))
        print(f"         missed pairs no key tells apart: {result['missed_pairs_indistinguishable']} "
              f"(completeness ceiling {result['pairs_completeness_ceiling']})")
    if len(results) > 1:
        ratio = results[-1]["microseconds_per_file"] / results[0]["microseconds_per_file"]
        print(f"time per file, largest / smallest: {ratio:.2f}x")
    report = {
        "benchmark": "blocking",
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "platform": platform.platform()},
        "settings": {"rows_scale": ROWS_SCALE, "blocking": config.to_dict()["relationships"]["blocking"]},
        "targets": {"pairs_completeness": ">= 0.98", "candidate_pairs_per_file": "<= 50",
                    "time_per_file_largest_vs_smallest": "<= 1.5x"},
        "results": results,
    }
    write_report(args.report, report)
    print(f"report: {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
