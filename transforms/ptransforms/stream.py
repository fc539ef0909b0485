"""Beam wrappers of streaming mode (`filegraph run --streaming`): thin, labelled, typed.

    files = p | WatchInputs(inputs, patterns, poll_seconds)
    records, errors, edges = files | StreamingGraph(config)

Files are extracted as they are matched (each in a parser process, as in a
batch run), blocked into one bounded bucket per blocking key (a stateful DoFn:
transforms/detect/streaming.py), each new pair is scored once, without corpus
statistics, and edges leave as soon as they are scored. What this does not do,
compared with a batch run, is in README.md ("Streaming").
"""

from __future__ import annotations

from typing import Optional, Sequence

import apache_beam as beam
from apache_beam.coders import BooleanCoder, PickleCoder, VarIntCoder
from apache_beam.io import fileio
from apache_beam.metrics import Metrics
from apache_beam.transforms.userstate import BagStateSpec, ReadModifyWriteStateSpec

from transforms.config import BlockingConfig, Config
from transforms.detect import blocking, streaming
from transforms.detect.corpus import EMPTY_STATS
from transforms.detect.pair_scoring import PairScorer
from transforms.detect.pair_view import pair_view
from transforms.detect.relationships import needs_embeddings
from transforms.extract.matching import MatchedFile, matched_file, name_matches, watch_pattern
from transforms.ptransforms.common import guarded, split_outcomes
from transforms.ptransforms.detect import outcomes_of
from transforms.ptransforms.extract import EmbedRecords, ExtractBatchFn
from transforms.telemetry import NAMESPACE


@beam.typehints.with_output_types(MatchedFile)
class WatchInputs(beam.PTransform):
    """Input specs -> every file matched now and every file that appears later (fileio.MatchContinuously)."""

    def __init__(self, inputs: Sequence[str], patterns: Sequence[str], poll_seconds: float,
                 label: Optional[str] = None):
        super().__init__(label)
        self._inputs = tuple(inputs)
        self._patterns = tuple(patterns)
        self._poll_seconds = poll_seconds

    def expand(self, pbegin):
        watched = []
        for i, spec in enumerate(self._inputs):
            pattern, by_name = watch_pattern(spec)
            watched.append(
                pbegin
                | f"Watch{i}" >> fileio.MatchContinuously(pattern, interval=self._poll_seconds)
                | f"Files{i}" >> beam.Filter(_wanted, by_name, self._patterns)
            )
        files = watched[0] if len(watched) == 1 else tuple(watched) | "AllWatched" >> beam.Flatten()
        return files | "AsMatchedFiles" >> beam.Map(matched_file)


def _wanted(metadata, by_name: bool, patterns: Sequence[str]) -> bool:
    return not by_name or name_matches(metadata.path, patterns)


class _BoundedBucketFn(beam.DoFn):
    """(blocking key, view) -> ("a|b", (view_a, view_b)) for each member the key's bucket holds.

    The bucket holds at most the key's cap of pair views; past it the key is
    hot and holds nothing (streaming.admit).
    """

    MEMBERS = BagStateSpec("members", PickleCoder())
    HELD = ReadModifyWriteStateSpec("held", VarIntCoder())
    HOT = ReadModifyWriteStateSpec("hot", BooleanCoder())

    def __init__(self, config: BlockingConfig):
        self._config = config
        self._hot_keys = Metrics.counter(NAMESPACE, "streaming_hot_keys")

    def process(self, element, members=beam.DoFn.StateParam(MEMBERS), held=beam.DoFn.StateParam(HELD),
                hot=beam.DoFn.StateParam(HOT)):
        key, view = element
        count = held.read() or 0
        decision = streaming.admit(count, bool(hot.read()), blocking.bucket_cap(key, self._config))
        if decision == streaming.HOT:
            return
        if decision == streaming.TURNED_HOT:
            members.clear()
            held.clear()
            hot.write(True)
            self._hot_keys.inc()
            return
        held_views = list(members.read())
        if any(other.file_id == view.file_id for other in held_views):
            return  # the same file again: already paired
        for other in held_views:
            a, b = (view, other) if view.file_id < other.file_id else (other, view)
            yield f"{a.file_id}|{b.file_id}", (a, b)
        members.add(view)
        held.write(count + 1)


class _FirstTimeFn(beam.DoFn):
    """("a|b", (a, b)) -> (a, b, shared keys) the first time a pair is proposed (files share several keys).

    The stream keeps no corpus statistics, so no shared key's frequency is passed on.
    """

    SEEN = ReadModifyWriteStateSpec("seen", BooleanCoder())

    def process(self, element, seen=beam.DoFn.StateParam(SEEN)):
        _, (a, b) = element
        if seen.read():
            return
        seen.write(True)
        yield a, b, {}


class _ScorePairFn(beam.DoFn):
    """(view_a, view_b, shared keys) -> outcomes, each pair scored as a batch run scores it."""

    def __init__(self, config: Config):
        self._scorer = PairScorer(config, EMPTY_STATS)

    def process(self, element):
        a, b, shared = element
        return outcomes_of([self._scorer.score(a, b, shared)])


def _keyed_views(record, cfg: BlockingConfig):
    view = pair_view(record)
    return [(key, view) for key in blocking.blocking_keys(record, cfg)]


class StreamingPairs(beam.PTransform):
    """Records as they arrive -> ((view_a, view_b, shared keys) each pair once, blocking errors)."""

    def __init__(self, config: BlockingConfig, label: Optional[str] = None):
        super().__init__(label)
        self._config = config

    def expand(self, records):
        cfg = self._config
        keyed, errors = split_outcomes(
            records | "BlockingKeys" >> beam.FlatMap(
                guarded("block", lambda r: _keyed_views(r, cfg), lambda r: r.file_path)),
            "SplitKeys")
        pairs = (
            keyed
            | "BoundedBuckets" >> beam.ParDo(_BoundedBucketFn(cfg))
            | "FirstTimePairs" >> beam.ParDo(_FirstTimeFn())
        )
        return pairs, errors


@beam.typehints.with_input_types(MatchedFile)
class StreamingGraph(beam.PTransform):
    """Files as they arrive -> (records, errors, edges), edges as soon as both files are known."""

    def __init__(self, config: Config, label: Optional[str] = None):
        super().__init__(label)
        self._config = config

    def expand(self, files):
        config = self._config
        threshold = config.relationships.thresholds.min_confidence
        # One file per batch and no grouping step: a GroupByKey would wait for the end of an endless input.
        extracted = (
            files
            | "OneFileBatches" >> beam.Map(lambda m: [m])
            | "ExtractFiles" >> beam.ParDo(ExtractBatchFn(config))
        )
        records, extract_errors = split_outcomes(extracted, "SplitExtracted")
        records, embed_errors = records | "EmbedRecords" >> EmbedRecords(needs_embeddings(config))
        pairs, block_errors = records | "PairAsTheyArrive" >> StreamingPairs(config.relationships.blocking)
        scored, score_errors = split_outcomes(
            pairs | "ScorePairs" >> beam.ParDo(_ScorePairFn(config)), "SplitScored")
        edges = scored | "MinConfidence" >> beam.Filter(lambda e: e.confidence >= threshold)
        errors = (extract_errors, embed_errors, block_errors, score_errors) | "AllErrors" >> beam.Flatten()
        return records, errors, edges
