"""Beam wrappers of streaming mode (`filegraph run --streaming`): thin, labelled, typed.

    files = p | WatchInputs(inputs, patterns, poll_seconds)
    records, errors, edges = files | StreamingGraph(config)

Files are extracted as they are matched, blocked into one bounded bucket per
blocking key (a stateful DoFn: transforms/detect/streaming.py), each new pair
is scored once, and edges leave as soon as they are scored. What this does
not do, compared with a batch run, is in README.md ("Streaming").
"""

from __future__ import annotations

from typing import Optional, Sequence

import apache_beam as beam
from apache_beam.coders import BooleanCoder, PickleCoder, VarIntCoder
from apache_beam.io import fileio
from apache_beam.metrics import Metrics
from apache_beam.transforms.userstate import BagStateSpec, ReadModifyWriteStateSpec
from apache_beam.utils.windowed_value import WindowedValue

from transforms.config import BlockingConfig, Config
from transforms.detect import blocking, streaming
from transforms.detect.relationships import needs_embeddings
from transforms.extract.matching import MatchedFile, matched_file, name_matches, watch_pattern
from transforms.model import FileRecord
from transforms.ptransforms import NAMESPACE, ExtractFileFn, ScorePairFn, split_outcomes


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
            patterns = self._patterns
            watched.append(
                pbegin
                | f"Watch{i}" >> fileio.MatchContinuously(pattern, interval=self._poll_seconds)
                | f"Files{i}" >> beam.Filter(lambda m, by_name=by_name: not by_name or name_matches(m.path, patterns))
            )
        files = watched[0] if len(watched) == 1 else tuple(watched) | "AllWatched" >> beam.Flatten()
        return files | "AsMatchedFiles" >> beam.Map(matched_file)


class _EmbedInBundleFn(beam.DoFn):
    """Embeds a bundle's records in one batch, each keeping its own timestamp and window.

    (BatchElements would stamp a whole batch with the end of the global window,
    and edges would lose the time their files arrived.)
    """

    def start_bundle(self):
        self._held = []

    def process(self, record: FileRecord, timestamp=beam.DoFn.TimestampParam, win=beam.DoFn.WindowParam):
        self._held.append((record, timestamp, win))

    def finish_bundle(self):
        from transforms.detect.semantic import embed_records

        held, self._held = self._held, []
        if held:
            embedded = embed_records([record for record, _, _ in held])
            for record, (_, timestamp, win) in zip(embedded, held):
                yield WindowedValue(record, timestamp, [win])


class _BoundedBucketFn(beam.DoFn):
    """(blocking key, record) -> ("a|b", (record_a, record_b)) for each member the key's bucket holds.

    The bucket holds at most the key's cap of records; past it the key is hot
    and holds nothing (streaming.admit).
    """

    MEMBERS = BagStateSpec("members", PickleCoder())
    HELD = ReadModifyWriteStateSpec("held", VarIntCoder())
    HOT = ReadModifyWriteStateSpec("hot", BooleanCoder())

    def __init__(self, config: BlockingConfig):
        self._config = config
        self._hot_keys = Metrics.counter(NAMESPACE, "streaming_hot_keys")

    def process(self, element, members=beam.DoFn.StateParam(MEMBERS), held=beam.DoFn.StateParam(HELD),
                hot=beam.DoFn.StateParam(HOT)):
        key, record = element
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
        held_records = list(members.read())
        if any(other.file_id == record.file_id for other in held_records):
            return  # the same file again: already paired
        for other in held_records:
            a, b = (record, other) if record.file_id < other.file_id else (other, record)
            yield f"{a.file_id}|{b.file_id}", (a, b)
        members.add(record)
        held.write(count + 1)


class _FirstTimeFn(beam.DoFn):
    """("a|b", (a, b)) -> (a, b, kinds) the first time a pair is proposed (files share several keys)."""

    SEEN = ReadModifyWriteStateSpec("seen", BooleanCoder())

    def __init__(self, config: BlockingConfig):
        self._config = config

    def process(self, element, seen=beam.DoFn.StateParam(SEEN)):
        _, (a, b) = element
        if seen.read():
            return
        seen.write(True)
        keys_a, keys_b = blocking.blocking_keys(a, self._config), blocking.blocking_keys(b, self._config)
        yield a, b, streaming.shared_kinds(keys_a, keys_b)


@beam.typehints.with_input_types(FileRecord)
class StreamingPairs(beam.PTransform):
    """Records as they arrive -> (record_a, record_b, shared key kinds), each pair once."""

    def __init__(self, config: BlockingConfig, label: Optional[str] = None):
        super().__init__(label)
        self._config = config

    def expand(self, records):
        cfg = self._config
        return (
            records
            | "BlockingKeys" >> beam.FlatMap(lambda r: [(k, r) for k in blocking.blocking_keys(r, cfg)])
            | "BoundedBuckets" >> beam.ParDo(_BoundedBucketFn(cfg))
            | "FirstTimePairs" >> beam.ParDo(_FirstTimeFn(cfg))
        )


@beam.typehints.with_input_types(MatchedFile)
class StreamingGraph(beam.PTransform):
    """Files as they arrive -> (records, errors, edges), edges as soon as both files are known."""

    def __init__(self, config: Config, label: Optional[str] = None):
        super().__init__(label)
        self._config = config

    def expand(self, files):
        config = self._config
        cfg = config.relationships.blocking
        threshold = config.relationships.thresholds.min_confidence
        # No Reshuffle: a grouping step would wait for the end of an endless input.
        records, errors = split_outcomes(files | "ExtractFiles" >> beam.ParDo(ExtractFileFn(config)), "Split")
        if needs_embeddings(config):
            records = records | "EmbedRecords" >> beam.ParDo(_EmbedInBundleFn())
        edges = (
            records
            | "PairAsTheyArrive" >> StreamingPairs(cfg)
            | "ScorePairs" >> beam.ParDo(ScorePairFn(config))
            | "MinConfidence" >> beam.Filter(lambda e: e.confidence >= threshold)
        )
        return records, errors, edges
