"""Beam wrappers of the metadata index: thin, labelled, typed.

    to_extract, reused_records, reused_errors, deleted = matched | CheckIndex(index)
    ... extract to_extract ...
    (records, *errors) | UpdateIndex(index, config, to_extract)
    scored, errors = pairs | ScorePairs(records, config, stats, scorer=CachedScoreFn(config, score_cache))
    (scored, errors) | PruneScores(score_cache)

CheckIndex reads the index once at the start (which files need extracting);
UpdateIndex writes each record as soon as it is extracted, in small
transactions, so a killed run keeps what it finished. CachedScoreFn reuses a
pair's score while everything scoring reads is unchanged (cache.py).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Optional, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.config import Config
from transforms.detect import blocking
from transforms.detect.corpus import CorpusStats
from transforms.detect.pair_scoring import PairScorer
from transforms.extract.encoding import display_path
from transforms.extract.matching import MatchedFile
from transforms.index import plan
from transforms.index.cache import PairDigester
from transforms.index.store import BackgroundWrites, IndexEntry, decode_payload, index_location, open_index
from transforms.model import ErrorRecord, FileRecord
from transforms.ptransforms.common import FAILED, OK, Counted, Timed, split_outcomes
from transforms.ptransforms.detect import ScoreBatchFn
from transforms.telemetry import NAMESPACE, Telemetry

# A writer commits when this many rows wait or this many seconds passed,
# whichever first: a killed run loses at most that much finished work.
COMMIT_ROWS = 64
COMMIT_SECONDS = 1.0


@dataclass(frozen=True)
class IndexSpec:
    """Where the index is and what this run's rows are stamped with (picklable, sent to workers)."""

    location: str  # path, sqlite:///path or postgresql://... (no password)
    scope: str  # the run's output location: runs writing elsewhere keep their own rows
    fingerprint: str  # plan.extraction_fingerprint() of this run
    retry_errors: bool = False


def index_spec(config: Config, output: str, embeddings: bool) -> Optional[IndexSpec]:
    """This run's index, or None when it is switched off or cannot be kept for this output."""
    location = index_location(config.index.url, output) if config.index.enabled else None
    if location is None:
        return None
    return IndexSpec(location, output, plan.extraction_fingerprint(config, embeddings), config.index.retry_errors)



def _values_of_kind(outcome, kind: str):
    return [outcome[1]] if outcome[0] == kind else []


def _of_kind(outcomes, kind: str, label: str):
    return outcomes | label >> beam.FlatMap(_values_of_kind, kind)


class _IndexFn(beam.DoFn):
    """Opens the index once per worker."""

    def __init__(self, location: str):
        self._location = location
        self._index = None

    def setup(self):
        self._index = open_index(self._location)

    def teardown(self):
        if self._index is not None:
            self._index.close()
            self._index = None


class _ReadEntriesFn(_IndexFn):
    """One element in -> (uri, (IndexEntry, payload as stored)) for every file the index holds in scope."""

    def __init__(self, spec: IndexSpec):
        super().__init__(spec.location)
        self._spec = spec

    def process(self, _):
        self._index.ensure_schema()
        for entry, payload in self._index.entries(self._spec.scope):
            yield entry.uri, (entry, payload)


def _decide(element, spec: IndexSpec):
    """(uri, {matched, stored}) -> (DELETE, uri) | (EXTRACT, matched) | (REUSE or CONFIRM, (matched, entry, payload))."""
    uri, grouped = element
    matched = grouped["matched"][0] if grouped["matched"] else None
    stored = grouped["stored"][0] if grouped["stored"] else None
    decision = plan.plan_file(matched, stored[0] if stored else None, spec.fingerprint, spec.retry_errors)
    if decision == plan.DELETE:
        yield decision, uri
    elif decision == plan.EXTRACT:
        yield decision, matched
    else:
        yield decision, (matched, *stored)


class _ConfirmFn(_IndexFn):
    """Size unchanged, mtime moved: reuse when the content hash is unchanged, else extract."""

    def __init__(self, spec: IndexSpec):
        super().__init__(spec.location)
        self._spec = spec
        self._touched = Metrics.counter(NAMESPACE, "index_hash_confirmed")

    def process(self, element: Tuple[MatchedFile, IndexEntry, bytes]):
        matched, entry, _ = element
        try:
            same = plan.file_content_hash(matched.path) == entry.content_hash
        except Exception:  # unreadable now: extraction records the failure
            same = False
        if not same:
            yield plan.EXTRACT, matched
            return
        self._index.touch(self._spec.scope, [(entry.uri, matched.modified_at)])
        self._touched.inc()
        yield plan.REUSE, element


def _load_stored(element: Tuple[MatchedFile, IndexEntry, bytes]):
    """(matched, entry, payload) -> [(OK, FileRecord)] or [(FAILED, ErrorRecord)], as stored."""
    matched, entry, payload = element
    value = plan.reused(entry, decode_payload(payload), matched)
    return [((FAILED if isinstance(value, ErrorRecord) else OK), value)]


class _DeleteFn(_IndexFn):
    def __init__(self, spec: IndexSpec):
        super().__init__(spec.location)
        self._spec = spec

    def process(self, uri: str):
        self._index.delete(self._spec.scope, [uri])
        yield uri


def _index_key(matched: MatchedFile) -> str:
    """A file's row in the index: its path as records name it (valid Unicode, encoding.display_path)."""
    return display_path(matched.path)


class CheckIndex(beam.PTransform):
    """Matched files -> (to extract, reused records, reused errors, deleted URIs).

    The index is read in one scan, payloads included, and joined with the
    matched files by path: a reused file's record travels with its entry, so
    what is reused is exactly what was planned on.
    """

    def __init__(self, spec: Optional[IndexSpec], telemetry: Optional[Telemetry] = None,
                 label: Optional[str] = None):
        super().__init__(label)
        self._spec = spec
        self._telemetry = telemetry

    def expand(self, matched):
        spec, telemetry = self._spec, self._telemetry
        if spec is None:  # no index: everything is extracted, nothing reused or deleted
            none = lambda name, hint: (matched.pipeline | name >> beam.Create([]).with_output_types(hint))
            return (matched, none("NoReusedRecords", FileRecord), none("NoReusedErrors", ErrorRecord),
                    none("NoDeleted", str))
        stored = (
            matched.pipeline
            | "Start" >> beam.Create([None])
            | "ReadEntries" >> beam.ParDo(_ReadEntriesFn(spec))
        )
        decisions = (
            {"matched": matched | "KeyByPath" >> beam.Map(lambda m: (_index_key(m), m)), "stored": stored}
            | "JoinIndex" >> beam.CoGroupByKey()
            | "Decide" >> beam.FlatMap(_decide, spec)
        )
        confirmed = (
            _of_kind(decisions, plan.CONFIRM, "ToConfirm")
            | "ConfirmByHash" >> beam.ParDo(_ConfirmFn(spec))
        )
        loaded = (
            (_of_kind(decisions, plan.REUSE, "Unchanged"), _of_kind(confirmed, plan.REUSE, "SameContent"))
            | "AllReusable" >> beam.Flatten()
            | "LoadStored" >> beam.ParDo(Timed("index", _load_stored, telemetry))
            | "CountReused" >> beam.ParDo(Counted("files_reused", telemetry))
        )
        records, errors = split_outcomes(loaded, "SplitReused")
        to_extract = (
            (_of_kind(decisions, plan.EXTRACT, "NewOrChanged"), _of_kind(confirmed, plan.EXTRACT, "ContentChanged"))
            | "AllToExtract" >> beam.Flatten()
        )
        deleted = _of_kind(decisions, plan.DELETE, "NoLongerMatched") | "DeleteStored" >> beam.ParDo(_DeleteFn(spec))
        return to_extract, records, errors, deleted


class _WriteRowsFn(_IndexFn):
    """Stores extracted rows in small transactions, each row complete or absent.

    A row is committed within COMMIT_ROWS rows or COMMIT_SECONDS; the last ones
    at the end of the bundle (a side effect only: no output waits for it).
    """

    def __init__(self, spec: IndexSpec):
        super().__init__(spec.location)
        self._spec = spec
        self._stored = Metrics.counter(NAMESPACE, "index_rows_written")
        self._pending: list = []
        self._last = 0.0

    def start_bundle(self):
        self._pending = []
        self._last = time.monotonic()

    def process(self, row):
        self._pending.append(row)
        if len(self._pending) >= COMMIT_ROWS or time.monotonic() - self._last >= COMMIT_SECONDS:
            self._flush()
        yield row.entry.uri

    def finish_bundle(self):
        self._flush()

    def _flush(self):
        self._stored.inc(self._index.put(self._spec.scope, self._pending))
        self._pending = []
        self._last = time.monotonic()


def _stored_keys(record: FileRecord, config) -> Tuple[str, ...]:
    """The record's blocking keys to store; none when they cannot be computed (CandidatePairs
    records that failure as a "block" error, and the index never holds what it did not get)."""
    try:
        return tuple(blocking.blocking_keys(record, config))
    except Exception:
        return ()


class UpdateIndex(beam.PTransform):
    """(fresh records, *fresh error collections) -> URIs stored in the index (nothing without an index)."""

    def __init__(self, spec: Optional[IndexSpec], config: Config, to_extract, telemetry: Optional[Telemetry] = None,
                 label: Optional[str] = None):
        super().__init__(label)
        self._spec = spec
        self._blocking = config.relationships.blocking
        self._to_extract = to_extract
        self._telemetry = telemetry

    def expand(self, fresh):
        records, *error_collections = fresh
        spec, cfg, telemetry = self._spec, self._blocking, self._telemetry
        if spec is None:
            return records.pipeline | "NothingStored" >> beam.Create([]).with_output_types(str)
        stamps = beam.pvalue.AsDict(self._to_extract | "StampsByPath" >> beam.Map(lambda m: (_index_key(m), m)))
        # Records and each kind of error are stored by writers of their own, each fused with the
        # step that made them (a Flatten first would make the runner finish that step first).
        stored = [
            records
            | "RecordRows" >> beam.Map(
                lambda r, s: plan.stored_record(r, s.get(r.file_path), spec.fingerprint, _stored_keys(r, cfg)),
                s=stamps)
            | "StorableRecords" >> beam.Filter(lambda row: row is not None)
            | "StoreRecords" >> beam.ParDo(Timed("index", _WriteRowsFn(spec), telemetry))
        ]
        for i, errors in enumerate(error_collections):
            stored.append(
                errors
                | f"ErrorRows{i}" >> beam.Map(
                    lambda e, s: plan.stored_error(e, s.get(e.file_path), spec.fingerprint), s=stamps)
                | f"StorableErrors{i}" >> beam.Filter(lambda row: row is not None)
                | f"StoreErrors{i}" >> beam.ParDo(Timed("index", _WriteRowsFn(spec), telemetry))
            )
        return tuple(stored) | "AllStored" >> beam.Flatten()


# ---------------------------------------------------------------- pair score cache


@dataclass(frozen=True)
class ScoreCacheSpec:
    location: str
    scope: str
    fingerprint: str  # plan.scoring_fingerprint() of this run
    run_id: str  # marks the scores this run used; the others are pruned at its end


def score_cache_spec(index: Optional[IndexSpec], config: Config, run_id: str) -> Optional[ScoreCacheSpec]:
    if index is None or not config.index.cache_scores:
        return None
    return ScoreCacheSpec(index.location, index.scope, plan.scoring_fingerprint(config), run_id)


class CachedScoreFn(ScoreBatchFn):
    """ScoreBatchFn whose pairs reuse a cached score when their digest is in the index.

    Each scored pair carries its digest and edge (cache.PairDigester),
    stored in small transactions (cached ones marked as used by this run) on a
    thread of their own (store.BackgroundWrites), all committed before the bundle
    ends; a failure is never cached, so the next run scores it again. Lookups run
    in this worker, against its own connection, so a run that may reuse scores
    scores here too.
    """

    def __init__(self, config: Config, spec: ScoreCacheSpec, telemetry: Optional[Telemetry] = None):
        super().__init__(config, telemetry)
        self._spec = spec
        self._index = None
        self._writes: Optional[BackgroundWrites] = None
        self._pending: list = []
        self._last = 0.0
        self._lookups = True

    def setup(self):
        super().setup()
        self._index = open_index(self._spec.location)
        self._writes = BackgroundWrites(self._spec.location)
        # A scope without stored scores (a first run) has nothing to look up; scores this run stores
        # meanwhile are of other pairs, each scored once.
        self._lookups = self._index.has_scores(self._spec.scope)

    def teardown(self):
        super().teardown()
        if self._writes is not None:
            self._writes.close()
            self._writes = None
        if self._index is not None:
            self._index.close()
            self._index = None

    def start_bundle(self):
        self._pending = []
        self._last = time.monotonic()

    def pair_scorer(self, stats: CorpusStats) -> PairScorer:
        lookup = functools.partial(self._index.cached_score, self._spec.scope) if self._lookups else None
        return PairScorer(self._config, stats, PairDigester(self._spec.fingerprint), lookup)

    def keep(self, scored):
        reused = sum(1 for pair in scored if pair.reused)
        if reused:
            self._telemetry.add("pair_scores_reused", reused)
        self._pending.extend(pair.cache_row for pair in scored if pair.cache_row is not None)
        if len(self._pending) >= COMMIT_ROWS * 8 or time.monotonic() - self._last >= COMMIT_SECONDS:
            self._flush()

    def finish_bundle(self):
        self._flush()
        self._writes.wait()  # the bundle's scores are stored before its outputs count as done
        super().finish_bundle()  # releases the bundle's views and scoring processes

    def _flush(self):
        if self._pending:
            rows, scope, run_id = self._pending, self._spec.scope, self._spec.run_id
            self._writes.submit(lambda index: index.put_scores(scope, run_id, rows))
        self._pending = []
        self._last = time.monotonic()


class _PruneScoresFn(_IndexFn):
    def __init__(self, spec: ScoreCacheSpec):
        super().__init__(spec.location)
        self._spec = spec

    def process(self, _):
        yield self._index.prune_scores(self._spec.scope, self._spec.run_id)


class PruneScores(beam.PTransform):
    """(scored edges, scoring errors) -> how many cached scores this run did not use, now dropped.

    Counting waits for every scored pair: only then are the unused scores known.
    """

    def __init__(self, spec: Optional[ScoreCacheSpec], label: Optional[str] = None):
        super().__init__(label)
        self._spec = spec

    def expand(self, scored):
        if self._spec is None:
            return scored[0].pipeline | "NothingPruned" >> beam.Create([]).with_output_types(int)
        return (scored
                | "AllScored" >> beam.Flatten()
                | "CountScored" >> beam.combiners.Count.Globally()
                | "PruneUnused" >> beam.ParDo(_PruneScoresFn(self._spec)))
