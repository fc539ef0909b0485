"""The filegraph pipeline graph: read -> extract -> block -> pair -> score -> format -> write."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Any, Dict, Sequence

import apache_beam as beam

from beam_pipeline.options import pipeline_options
from transforms.config import Config
from transforms.detect.relationships import (
    active_strategies,
    needs_embeddings,
    unavailable_strategies,
)
from transforms.extract.matching import input_root, missing_inputs, missing_message
from transforms.index.ptransforms import CachedScores, CheckIndex, UpdateIndex, index_spec, score_cache_spec
from transforms.output import exports, review, writer
from transforms.output.appending import AppendJsonl
from transforms.stream import StreamingGraph, WatchInputs
from transforms.ptransforms import (
    ApplyReview,
    CandidatePairs,
    DeclaredEdges,
    EmbedRecords,
    ExtractFiles,
    FormatTraining,
    JoinPairRecords,
    MatchInputs,
    MergeDeclared,
    ScorePairs,
)


class UsageError(Exception):
    """A problem with how the command was called."""


def run_pipeline(inputs: Sequence[str], output: str, config: Config, beam_args: Sequence[str] = ()) -> Dict[str, Any]:
    """Runs the pipeline to completion and returns run_summary.json's content."""
    missing = missing_inputs(inputs)
    if missing:
        raise UsageError(missing_message(missing[0]))
    if writer.is_file(output):
        raise UsageError(f"--output must name a folder, but {output} is a file")
    writer.clear_outputs(output)
    with beam.Pipeline(options=pipeline_options(beam_args)) as p:
        build_pipeline(p, inputs, output, config)
    exports.write_exports(output, config)
    return writer.read_json(writer.join_path(output, "run_summary.json"))


def run_streaming(inputs: Sequence[str], output: str, config: Config, poll_seconds: float,
                  beam_args: Sequence[str] = ()) -> None:
    """Watches the inputs and appends nodes, edges and errors until stopped (Ctrl-C)."""
    missing = missing_inputs(inputs)
    if missing:
        raise UsageError(f"input not found: {missing[0]}")
    writer.clear_outputs(output)
    with beam.Pipeline(options=pipeline_options(list(beam_args) + ["--streaming"])) as p:
        build_streaming_pipeline(p, inputs, output, config, poll_seconds)


def build_pipeline(p: beam.Pipeline, inputs: Sequence[str], output: str, config: Config) -> None:
    """Adds the whole filegraph graph to `p`."""
    started = time.time()
    shards = config.batch.num_shards
    index = index_spec(config, output, needs_embeddings(config))
    score_cache = score_cache_spec(index, config, run_id=uuid.uuid4().hex)

    roots = [input_root(spec) for spec in inputs]
    feedback = review.read_feedback(config.review.feedback_file)

    matched, skipped = (p | "Inputs" >> beam.Create(sorted(inputs))
                        | "MatchFiles" >> MatchInputs(config.batch.patterns, exclude=[output]))
    to_extract, reused_records, reused_errors, deleted = matched | "CheckIndex" >> CheckIndex(index)
    fresh_records, fresh_errors = to_extract | "ExtractFiles" >> ExtractFiles(config)
    if needs_embeddings(config):
        fresh_records = fresh_records | "EmbedRecords" >> EmbedRecords()
    (fresh_records, fresh_errors) | "UpdateIndex" >> UpdateIndex(index, config, to_extract)
    records = (fresh_records, reused_records) | "AllRecords" >> beam.Flatten()
    errors = (fresh_errors, reused_errors) | "AllErrors" >> beam.Flatten()
    pairs, hot_keys = records | "CandidatePairs" >> CandidatePairs(config)
    scorer = CachedScores(config, score_cache) if score_cache else None
    scored = pairs | "JoinRecords" >> JoinPairRecords(records) | "ScorePairs" >> ScorePairs(config, scorer)
    declared = records | "DeclaredEdges" >> DeclaredEdges()
    merged = scored | "MergeDeclared" >> MergeDeclared(declared, records, config)
    edges, rejected = merged | "ApplyReview" >> ApplyReview(records, feedback, roots)
    training = edges | "FormatTraining" >> FormatTraining(records)

    nodes = records | "NodeDicts" >> beam.Map(lambda r: r.to_node())
    edge_dicts = edges | "EdgeDicts" >> beam.Map(lambda e: e.to_dict())
    error_dicts = errors | "ErrorDicts" >> beam.Map(lambda e: e.to_dict())
    nodes | "WriteNodes" >> writer.WriteJsonlShards(
        writer.join_path(output, "nodes"), "nodes", lambda n: n["file_id"], shards)
    edge_dicts | "WriteEdges" >> writer.WriteJsonlShards(
        writer.join_path(output, "edges"), "edges", lambda e: f"{e['source']}|{e['target']}", shards)
    training | "WriteTraining" >> writer.WriteJsonlShards(
        writer.join_path(output, "training"), "train", lambda t: t["id"], shards)
    error_dicts | "WriteErrors" >> writer.WriteJsonlShards(
        writer.join_path(output, "errors"), "errors", lambda e: e["file_path"], shards)

    counts = [
        matched | "CountMatched" >> _count("matched"),
        skipped | "CountSkipped" >> _count("skipped_by_patterns"),
        to_extract | "CountExtracted" >> _count("extracted"),
        (reused_records, reused_errors) | "Reused" >> beam.Flatten() | "CountReused" >> _count("reused"),
        deleted | "CountDeleted" >> _count("deleted"),
        records | "CountProcessed" >> _count("processed"),
        errors | "CountFailed" >> _count("failed"),
        pairs | "CountPairs" >> _count("candidate_pairs"),
        hot_keys | "CountHotKeys" >> _count("hot_keys"),
        edge_dicts | "CountEdges" >> _count("edges"),
        training | "CountTraining" >> _count("training_records"),
        rejected | "CountRejected" >> _count("review_rejected"),
        edge_dicts | "Accepted" >> beam.Filter(lambda e: review.HUMAN_REVIEW in e["evidence"])
        | "CountAccepted" >> _count("review_accepted"),
        edge_dicts | "EdgesByType" >> _tally("edges_by_type", lambda e: {e["relationship_type"]: 1}),
        error_dicts | "ErrorsByType" >> _tally("errors_by_type", lambda e: {e["error_type"]: 1}),
        nodes | "Redactions" >> _tally("redactions", lambda n: n["redactions"]),
        nodes | "FilesByType" >> _tally("files_by_type", lambda n: {n["file_type"]: 1}),
    ]
    summary_path = writer.join_path(output, "run_summary.json")
    static = {
        "inputs": list(inputs),
        "output": output,
        "config": config.to_dict(),
        "index": index.location if index else None,
        "strategies_run": list(active_strategies(config)),
        "strategies_unavailable": list(unavailable_strategies(config)),
        "input_roots": roots,
        "review": {"feedback_file": config.review.feedback_file, "decisions": len(feedback.decisions)},
    }
    (
        counts
        | "FlattenCounts" >> beam.Flatten()
        | "CountsToDict" >> beam.combiners.ToDict()
        | "WriteSummary" >> beam.Map(_write_summary, summary_path, static, started)
    )


def build_streaming_pipeline(p: beam.Pipeline, inputs: Sequence[str], output: str, config: Config,
                             poll_seconds: float) -> None:
    """The streaming graph: watch -> extract -> bounded buckets -> score -> append."""
    files = p | "WatchInputs" >> WatchInputs(inputs, config.batch.patterns, poll_seconds)
    records, errors, edges = files | "GraphAsFilesArrive" >> StreamingGraph(config)
    records | "NodeDicts" >> beam.Map(lambda r: r.to_node()) | "AppendNodes" >> AppendJsonl(
        writer.join_path(output, "nodes"), "nodes", lambda n: n["file_id"])
    edges | "EdgeDicts" >> beam.Map(lambda e: e.to_dict()) | "AppendEdges" >> AppendJsonl(
        writer.join_path(output, "edges"), "edges", lambda e: f"{e['source']}|{e['target']}")
    errors | "ErrorDicts" >> beam.Map(lambda e: e.to_dict()) | "AppendErrors" >> AppendJsonl(
        writer.join_path(output, "errors"), "errors", lambda e: e["file_path"])


def _count(name: str) -> beam.PTransform:
    return beam.combiners.Count.Globally() | f"Name{name}" >> beam.Map(lambda n: (name, n))


def _tally(name: str, counts_of) -> beam.PTransform:
    def merge(counters) -> Dict[str, int]:
        total: Counter = Counter()
        for c in counters:
            total.update(c)
        return dict(sorted(total.items()))

    return beam.Map(counts_of) | f"Sum{name}" >> beam.CombineGlobally(merge) | f"Name{name}" >> beam.Map(
        lambda d: (name, d))


def _write_summary(counts: Dict[str, Any], path: str, static: Dict[str, Any], started: float) -> str:
    summary = {
        "counts": {k: counts[k] for k in sorted(counts)},
        "invariant_matched_equals_processed_plus_failed": counts["matched"] == counts["processed"] + counts["failed"],
        "runtime_seconds": round(time.time() - started, 3),
        **static,
    }
    writer.write_json(path, summary)
    return path
