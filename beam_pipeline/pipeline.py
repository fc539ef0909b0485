"""The filegraph pipeline graph: read -> extract -> block -> pair -> score -> format -> write."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
import uuid
from collections import Counter
from typing import Any, Dict, Optional, Sequence

import apache_beam as beam

from beam_pipeline.memory import ReturnedMemory
from beam_pipeline.options import pipeline_options, runs_locally
from beam_pipeline.progress import ProgressDisplay
from transforms.config import Config
from transforms.detect.relationships import (
    active_strategies,
    needs_embeddings,
    unavailable_strategies,
)
from transforms.detect.scoring import ConfidenceModel
from transforms.extract.matching import input_root, missing_inputs, missing_message
from transforms.index import runs
from transforms.index.ptransforms import (
    CachedScoreFn,
    CheckIndex,
    PruneScores,
    UpdateIndex,
    index_spec,
    score_cache_spec,
)
from transforms.output import exports, review, writer
from transforms.output.appending import AppendJsonl
from transforms.output.spill import remove_spill
from transforms.ptransforms.stream import StreamingGraph, WatchInputs
from transforms.output.training import dataset as training_dataset
from transforms.output.training import FileSummary, file_summary, summary_budget, sure_thresholds
from transforms.output.training.review import empty_usage as llm_usage_template
from transforms.processes import stop_fork_server
from transforms.ptransforms import (
    ApplyReview,
    CandidatePairs,
    DeclaredEdges,
    DropNearDuplicates,
    EmbedRecords,
    ExtractFiles,
    MatchInputs,
    MergeDeclared,
    OnlySplit,
    ReviewBorderline,
    ScorePairs,
    Spilled,
    Timed,
    TrainingRecords,
)
from transforms.telemetry import Telemetry, figures_from_metrics, read_channel, stage_report


class UsageError(Exception):
    """A problem with how the command was called."""


def run_pipeline(inputs: Sequence[str], output: str, config: Config, beam_args: Sequence[str] = (),
                 progress: Optional[bool] = None) -> Dict[str, Any]:
    """Runs the pipeline to completion and returns run_summary.json's content.

    On runners whose workers share this machine, the steps report to a side
    channel that feeds the progress display (`progress`: None shows it on local
    runners, False never) and, where the runner reports no Beam metrics, the
    stage times. run_summary.json gets a `stages` section after the run.
    A rerun with nothing changed keeps the last run's outputs (transforms/index/runs.py).
    """
    missing = missing_inputs(inputs)
    if missing:
        raise UsageError(missing_message(missing[0]))
    if writer.is_file(output):
        raise UsageError(f"--output must name a folder, but {output} is a file")
    if config.reasoning.llm.enabled:
        from transforms.output.training.llm_clients import LlmSetupError, make_client

        try:
            make_client(config.reasoning.llm)
        except LlmSetupError as exc:
            raise UsageError(str(exc)) from None
    started = time.time()
    summary_path = writer.join_path(output, writer.SUMMARY)
    index = index_spec(config, output, needs_embeddings(config))
    fingerprint = runs.run_fingerprint(inputs, output, config, index.fingerprint) if runs.reusable(
        index, output, config) else None
    kept = runs.kept_summary(index.location, output, fingerprint) if fingerprint else None
    if kept is not None:  # nothing changed since the last complete run: its outputs stand
        summary = {**runs.unchanged_summary(kept, time.time() - started),
                   "stages": {**stage_report({}, "none"), "wall_seconds": round(time.time() - started, 3)}}
        writer.write_json(summary_path, summary)
        return summary
    if index:
        runs.forget(index.location, output)  # until this run completes
    writer.clear_outputs(output)
    options = pipeline_options(beam_args, config)
    channel = tempfile.mkdtemp(prefix="filegraph-telemetry-") if runs_locally(options) else None
    try:
        p = beam.Pipeline(options=options)
        build_pipeline(p, inputs, output, config, Telemetry(channel))
        with contextlib.ExitStack() as local:
            if channel:  # a local runner frees each stage's buffers as it goes: hand them back to the system
                local.enter_context(ReturnedMemory())
                if progress is not False:
                    local.enter_context(ProgressDisplay(channel))
            result = p.run()
            result.wait_until_finish()
        if getattr(result, "client", None) is not None:
            result.client.close()  # the Dask client, before its cluster goes away
        figures, source = figures_from_metrics(result), "beam_metrics"
        if figures is None and channel:
            figures, source = read_channel(channel), "side_channel"
    finally:
        if channel:
            shutil.rmtree(channel, ignore_errors=True)
    exports.write_exports(output, config)
    summary = writer.read_json(summary_path)
    summary["stages"] = {**stage_report(figures or {}, source if figures else "none"),
                         "wall_seconds": round(time.time() - started, 3)}
    writer.write_json(summary_path, summary)
    if fingerprint:
        runs.remember(index.location, output, fingerprint)
    return summary


def run_streaming(inputs: Sequence[str], output: str, config: Config, poll_seconds: float,
                  beam_args: Sequence[str] = ()) -> None:
    """Watches the inputs and appends nodes, edges and errors until stopped (Ctrl-C)."""
    missing = missing_inputs(inputs)
    if missing:
        raise UsageError(f"input not found: {missing[0]}")
    writer.clear_outputs(output)
    with beam.Pipeline(options=pipeline_options(list(beam_args) + ["--streaming"])) as p:
        build_streaming_pipeline(p, inputs, output, config, poll_seconds)


def build_pipeline(p: beam.Pipeline, inputs: Sequence[str], output: str, config: Config,
                   telemetry: Optional[Telemetry] = None) -> None:
    """Adds the whole filegraph graph to `p`; `telemetry` times its stages (transforms/telemetry.py)."""
    started = time.time()
    shards = config.batch.num_shards
    t = telemetry or Telemetry()
    index = index_spec(config, output, needs_embeddings(config))
    score_cache = score_cache_spec(index, config, run_id=uuid.uuid4().hex)

    roots = [input_root(spec) for spec in inputs]
    feedback = review.read_feedback(config.review.feedback_file)

    matched, skipped = (p | "Inputs" >> beam.Create(sorted(inputs))
                        | "MatchFiles" >> MatchInputs(config.batch.patterns, exclude=[output], telemetry=t))
    # Only new or changed files are extracted; unchanged ones come back from the metadata index.
    to_extract, reused_records, reused_errors, deleted = matched | "CheckIndex" >> CheckIndex(index, t)
    fresh_records, extract_errors = to_extract | "ExtractFiles" >> ExtractFiles(config, t)
    fresh_records, embed_errors = fresh_records | "EmbedRecords" >> EmbedRecords(needs_embeddings(config), t)
    (fresh_records, extract_errors, embed_errors) | "UpdateIndex" >> UpdateIndex(index, config, to_extract, t)
    records = (fresh_records, reused_records) | "AllRecords" >> beam.Flatten()
    local = runs_locally(p.options)  # workers share this machine: no cluster shuffle, one fork server
    if local:  # the parsers' fork server would hold its readers to the end of the run
        _once_done(p, "StopForkServer", stop_fork_server, None, fresh_records)
    # Where workers share this machine, blocking's groupings wait on disk; a cluster's shuffle holds them itself.
    blocking_dir = writer.join_path(output, *writer.BLOCKING_SPILL) if local else None
    pairs, hot_keys, corpus_stats, block_errors = records | "CandidatePairs" >> CandidatePairs(
        config, t, spill_dir=blocking_dir)
    pair_count = pairs | "CountPairs" >> _count("candidate_pairs")
    # The blocking spill goes once the pairs are counted: millions of pairs need not be counted twice.
    blocking_removed = [_spill_removed(p, "Blocking", blocking_dir, pair_count)] if blocking_dir else []
    scorer = CachedScoreFn(config, score_cache, t) if score_cache else None  # reuses unchanged pairs' scores
    views_dir = writer.join_path(output, *writer.VIEW_SPILL)  # scoring's views wait on disk, not in the runner
    scored, score_errors = pairs | "ScorePairs" >> ScorePairs(records, config, corpus_stats, t, scorer, views_dir)
    views_removed = _spill_removed(p, "View", views_dir, scored)
    (scored, score_errors) | "PruneScores" >> PruneScores(score_cache)
    declared = records | "DeclaredEdges" >> DeclaredEdges()
    merged = scored | "MergeDeclared" >> MergeDeclared(declared, records, config, t)
    budget, llm = summary_budget(config), config.reasoning.llm
    if llm.enabled:  # an LLM judges borderline edges; a person's decisions below still have the last word
        review_views = records | "ReviewViews" >> beam.Map(
            lambda r: (r.file_id, file_summary(r, roots, llm.text_token_budget)))
        merged, llm_usage = merged | "ReviewBorderline" >> ReviewBorderline(
            review_views, llm, llm.cache_dir or writer.join_path(output, "llm_cache"))
    edges, rejected = merged | "ApplyReview" >> ApplyReview(records, feedback, roots)
    spill_dir = writer.join_path(output, *writer.TRAINING_SPILL)  # summaries and records wait on disk, not in memory
    summaries = (records | "Summaries" >> beam.ParDo(Timed(
        "train", lambda r: [(r.file_id, FileSummary(file_summary(r, roots, budget)))], t))
                 | "SpillSummaries" >> Spilled(spill_dir, "summaries"))
    thresholds = sure_thresholds(config, ConfidenceModel.load())
    training, train_errors = (
        edges | "TrainingRecords" >> TrainingRecords(summaries, pairs, config, roots, thresholds, t, spill_dir,
                                                     spill_dir if local else None))
    training, duplicates = training | "DropNearDuplicates" >> DropNearDuplicates(config.training.dedup_threshold, t)
    # A file fails (no node) at extraction or embedding; later a failure loses a pair or a record, not a node.
    file_errors = (extract_errors, embed_errors, reused_errors) | "FileErrors" >> beam.Flatten()
    stage_errors = (block_errors, score_errors, train_errors) | "StageErrors" >> beam.Flatten()

    nodes = records | "NodeDicts" >> beam.Map(lambda r: r.to_node())
    edge_dicts = edges | "EdgeDicts" >> beam.Map(lambda e: e.to_dict())
    error_dicts = (file_errors, stage_errors) | "AllErrors" >> beam.Flatten() | "ErrorDicts" >> beam.Map(
        lambda e: e.to_dict())
    written = [
        nodes | "WriteNodes" >> writer.WriteJsonlShards(
            writer.join_path(output, "nodes"), "nodes", lambda n: n["file_id"], shards, t),
        edge_dicts | "WriteEdges" >> writer.WriteJsonlShards(
            writer.join_path(output, "edges"), "edges", lambda e: f"{e['source']}|{e['target']}", shards, t),
        error_dicts | "WriteErrors" >> writer.WriteJsonlShards(
            writer.join_path(output, "errors"), "errors", writer.error_sort_key, shards, t),
    ]
    training_written = [
        training
        | f"Only{split.title()}" >> OnlySplit(split)
        | f"Write{split.title()}" >> writer.WriteJsonlShards(
            writer.join_path(output, *writer.TRAINING_DATA), split, training_dataset.sort_key,
            records_per_shard=config.training.records_per_shard, write_empty=False, telemetry=t)
        for split in training_dataset.SPLITS
    ]
    spill_removed = p | "SpillRead" >> beam.Create([spill_dir]) | "RemoveSpill" >> beam.Map(
        remove_spill, *[beam.pvalue.AsList(paths) for paths in training_written])
    written += training_written

    counts = [
        matched | "CountMatched" >> _count("matched"),
        skipped | "CountSkipped" >> _count("skipped_by_patterns"),
        to_extract | "CountExtracted" >> _count("extracted"),
        (reused_records, reused_errors) | "Reused" >> beam.Flatten() | "CountReused" >> _count("reused"),
        deleted | "CountDeleted" >> _count("deleted"),
        records | "CountProcessed" >> _count("processed"),
        file_errors | "CountFailed" >> _count("failed"),
        stage_errors | "CountStageErrors" >> _count("stage_errors"),
        pair_count,
        hot_keys | "CountHotKeys" >> _count("hot_keys"),
        edge_dicts | "CountEdges" >> _count("edges"),
        training | "CountTraining" >> _count("training_records"),
        duplicates | "CountDuplicates" >> _count("training_duplicates_dropped"),
        training | "TrainingBySplit" >> _tally("training_by_split_task_label", training_dataset.record_counts),
        rejected | "CountRejected" >> _count("review_rejected"),
        edge_dicts | "Accepted" >> beam.Filter(lambda e: review.HUMAN_REVIEW in e["evidence"])
        | "CountAccepted" >> _count("review_accepted"),
        edge_dicts | "EdgesByType" >> _tally("edges_by_type", lambda e: {e["relationship_type"]: 1}),
        error_dicts | "ErrorsByType" >> _tally("errors_by_type", lambda e: {e["error_type"]: 1}),
        error_dicts | "ErrorsByStage" >> _tally("errors_by_stage", lambda e: {e["stage"]: 1}),
        nodes | "Redactions" >> _tally("redactions", lambda n: n["redactions"]),
        nodes | "FilesByType" >> _tally("files_by_type", lambda n: {n["file_type"]: 1}),
    ]
    if llm.enabled:
        counts.append(llm_usage | "LlmUsage" >> _tally("llm", lambda u: u))
    summary_path = writer.join_path(output, writer.SUMMARY)
    static = {
        "inputs": list(inputs),
        "output": output,
        "config": config.to_dict(),
        "index": index.location if index else None,
        "unchanged_rerun": False,
        "strategies_run": list(active_strategies(config)),
        "strategies_unavailable": list(unavailable_strategies(config)),
        "input_roots": roots,
        "review": {"feedback_file": config.review.feedback_file, "decisions": len(feedback.decisions)},
        "training": {"precision_level": config.training.precision_level,
                     "sure_thresholds": {t: (None if v == float("inf") else v) for t, v in thresholds.items()}},
    }
    counted = counts | "FlattenCounts" >> beam.Flatten() | "CountsToDict" >> beam.combiners.ToDict()
    card = counted | "WriteDatasetCard" >> beam.Map(
        lambda c: writer.write_text(writer.join_path(output, "training", "README.md"), training_dataset.card(
            c["training_by_split_task_label"], config.training, static["training"]["sure_thresholds"],
            c["training_duplicates_dropped"])))
    # Last: the summary waits for every shard and the card (side inputs), so it never describes unwritten outputs.
    waited_for = written + [card, spill_removed, views_removed] + blocking_removed
    counted | "WriteSummary" >> beam.Map(_write_summary, summary_path, static, started,
                                         *[beam.pvalue.AsList(paths) for paths in waited_for])


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


def _spill_removed(p: beam.Pipeline, name: str, folder: str, done) -> beam.PCollection:
    """Deletes a spill folder once every element of `done` exists."""
    return _once_done(p, f"Remove{name}Spill", remove_spill, folder, done)


def _once_done(p: beam.Pipeline, label: str, fn, value, done) -> beam.PCollection:
    """A step `label` calling fn(value, count) once every element of `done` exists (the count
    of `done` is its side input)."""
    return p | f"{label}Input" >> beam.Create([value]) | label >> beam.Map(
        fn, beam.pvalue.AsSingleton(done | f"{label}Waits" >> beam.combiners.Count.Globally()))


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


def _write_summary(counts: Dict[str, Any], path: str, static: Dict[str, Any], started: float, *_written) -> str:
    counts = dict(counts)
    llm = counts.pop("llm", None)
    if llm is not None:
        static = {**static, "llm": {**dict(llm_usage_template(), **llm), "cost_usd": round(llm.get("cost_usd", 0.0), 6),
                                    "model": static["config"]["reasoning"]["llm"]["model"]}}
    summary = {
        "counts": {k: counts[k] for k in sorted(counts)},
        "invariant_matched_equals_processed_plus_failed": counts["matched"] == counts["processed"] + counts["failed"],
        "runtime_seconds": round(time.time() - started, 3),
        **static,
    }
    writer.write_json(path, summary)
    return path
