"""Beam wrappers of the metadata index: thin, labelled, typed.

    to_extract, reused_records, reused_errors, deleted = matched | CheckIndex(index)
    ... extract to_extract ...
    (records, errors) | UpdateIndex(index, to_extract)

CheckIndex reads the index once at the start (which files need extracting);
UpdateIndex writes each record as soon as it is extracted, in small
transactions, so a killed run keeps what it finished.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import List, Optional, Tuple

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from transforms.config import Config
from transforms.detect import blocking
from transforms.extract.matching import MatchedFile
from transforms.index import plan
from transforms.index.store import IndexEntry, index_location, open_index
from transforms.model import ErrorRecord, FileRecord
from transforms.index import cache
from transforms.ptransforms import FAILED, NAMESPACE, OK, ScorePairFn, split_outcomes

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


def _of_kind(outcomes, kind: str, label: str):
    return outcomes | label >> beam.FlatMap(lambda o: [o[1]] if o[0] == kind else [])


class _IndexFn(beam.DoFn):
    """Opens the index once per worker."""

    def __init__(self, spec: IndexSpec):
        self._spec = spec
        self._index = None

    def setup(self):
        self._index = open_index(self._spec.location)

    def teardown(self):
        if self._index is not None:
            self._index.close()
            self._index = None


class _ReadEntriesFn(_IndexFn):
    """One element in -> (uri, IndexEntry) for every file the index holds in scope."""

    def process(self, _):
        self._index.ensure_schema()
        for entry in self._index.entries(self._spec.scope):
            yield entry.uri, entry


def _decide(element, spec: IndexSpec):
    uri, grouped = element
    matched = grouped["matched"][0] if grouped["matched"] else None
    entry = grouped["entry"][0] if grouped["entry"] else None
    decision = plan.plan_file(matched, entry, spec.fingerprint, spec.retry_errors)
    if decision == plan.DELETE:
        yield decision, uri
    elif decision == plan.EXTRACT:
        yield decision, matched
    else:
        yield decision, (matched, entry)


class _ConfirmFn(_IndexFn):
    """Size unchanged, mtime moved: reuse when the content hash is unchanged, else extract."""

    def __init__(self, spec: IndexSpec):
        super().__init__(spec)
        self._touched = Metrics.counter(NAMESPACE, "index_hash_confirmed")

    def process(self, element: Tuple[MatchedFile, IndexEntry]):
        matched, entry = element
        try:
            with FileSystems.open(matched.path) as handle:
                same = plan.content_hash(handle.read()) == entry.content_hash
        except Exception:  # unreadable now: extraction records the failure
            same = False
        if not same:
            yield plan.EXTRACT, matched
            return
        self._index.touch(self._spec.scope, [(matched.path, matched.modified_at)])
        self._touched.inc()
        yield plan.REUSE, element


class _LoadFn(_IndexFn):
    """A batch of (matched, entry) -> (OK, FileRecord) / (FAILED, ErrorRecord), or (EXTRACT, matched)."""

    def process(self, batch: List[Tuple[MatchedFile, IndexEntry]]):
        stored = self._index.payloads(self._spec.scope, [m.path for m, _ in batch])
        for matched, entry in batch:
            found = stored.get(matched.path)
            if found is None or not plan.same_extraction(found[0], entry):  # changed under us: extract it
                yield plan.EXTRACT, matched
                continue
            value = plan.reused(found[0], found[1], matched)
            yield (FAILED if isinstance(value, ErrorRecord) else OK), value


class _DeleteFn(_IndexFn):
    def process(self, uris: List[str]):
        self._index.delete(self._spec.scope, uris)
        yield from uris


class CheckIndex(beam.PTransform):
    """Matched files -> (to extract, reused records, reused errors, deleted URIs)."""

    def __init__(self, spec: Optional[IndexSpec], label: Optional[str] = None):
        super().__init__(label)
        self._spec = spec

    def expand(self, matched):
        spec = self._spec
        if spec is None:  # no index: everything is extracted, nothing reused or deleted
            none = lambda name, hint: (matched.pipeline | name >> beam.Create([]).with_output_types(hint))
            return (matched, none("NoReusedRecords", FileRecord), none("NoReusedErrors", ErrorRecord),
                    none("NoDeleted", str))
        entries = (
            matched.pipeline
            | "Start" >> beam.Create([None])
            | "ReadEntries" >> beam.ParDo(_ReadEntriesFn(spec))
        )
        decisions = (
            {"matched": matched | "KeyByPath" >> beam.Map(lambda m: (m.path, m)), "entry": entries}
            | "JoinIndex" >> beam.CoGroupByKey()
            | "Decide" >> beam.FlatMap(_decide, spec)
        )
        confirmed = (
            _of_kind(decisions, plan.CONFIRM, "ToConfirm")
            | "ConfirmByHash" >> beam.ParDo(_ConfirmFn(spec))
        )
        reusable = (
            (_of_kind(decisions, plan.REUSE, "Unchanged"), _of_kind(confirmed, plan.REUSE, "SameContent"))
            | "AllReusable" >> beam.Flatten()
        )
        loaded = (
            reusable
            | "BatchLoads" >> beam.BatchElements(min_batch_size=16, max_batch_size=256)
            | "LoadStored" >> beam.ParDo(_LoadFn(spec))
        )
        records, errors = split_outcomes(loaded, "SplitReused")
        to_extract = (
            (_of_kind(decisions, plan.EXTRACT, "NewOrChanged"), _of_kind(confirmed, plan.EXTRACT, "ContentChanged"),
             _of_kind(loaded, plan.EXTRACT, "GoneFromIndex"))
            | "AllToExtract" >> beam.Flatten()
        )
        deleted = (
            _of_kind(decisions, plan.DELETE, "NoLongerMatched")
            | "BatchDeletes" >> beam.BatchElements(min_batch_size=16, max_batch_size=256)
            | "DeleteStored" >> beam.ParDo(_DeleteFn(spec))
        )
        return to_extract, records, errors, deleted


class _WriteRowsFn(_IndexFn):
    """Stores extracted rows in small transactions, each row complete or absent."""

    def __init__(self, spec: IndexSpec):
        super().__init__(spec)
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


class UpdateIndex(beam.PTransform):
    """(fresh records, fresh errors) -> URIs stored in the index (nothing without an index)."""

    def __init__(self, spec: Optional[IndexSpec], config: Config, to_extract, label: Optional[str] = None):
        super().__init__(label)
        self._spec = spec
        self._blocking = config.relationships.blocking
        self._to_extract = to_extract

    def expand(self, fresh):
        records, errors = fresh
        spec, cfg = self._spec, self._blocking
        if spec is None:
            return records.pipeline | "NothingStored" >> beam.Create([]).with_output_types(str)
        stamps = beam.pvalue.AsDict(self._to_extract | "StampsByPath" >> beam.Map(lambda m: (m.path, m)))
        # Records and errors are stored by two writers, each fused with
        # extraction (a Flatten would make the runner finish extracting first).
        stored_records = (
            records
            | "RecordRows" >> beam.Map(
                lambda r, s: plan.stored_record(r, s.get(r.file_path), spec.fingerprint,
                                                blocking.blocking_keys(r, cfg)), s=stamps)
            | "StorableRecords" >> beam.Filter(lambda row: row is not None)
            | "StoreRecords" >> beam.ParDo(_WriteRowsFn(spec))
        )
        stored_errors = (
            errors
            | "ErrorRows" >> beam.Map(lambda e, s: plan.stored_error(e, s.get(e.file_path), spec.fingerprint), s=stamps)
            | "StorableErrors" >> beam.Filter(lambda row: row is not None)
            | "StoreErrors" >> beam.ParDo(_WriteRowsFn(spec))
        )
        return (stored_records, stored_errors) | "AllStored" >> beam.Flatten()


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


class _CachedScoreFn(beam.DoFn):
    """A batch of joined pairs -> their edges, scoring only pairs whose digest is not cached."""

    def __init__(self, config: Config, spec: ScoreCacheSpec):
        self._score = ScorePairFn(config)
        self._spec = spec
        self._hits = Metrics.counter(NAMESPACE, "pair_scores_reused")
        self._index = None
        self._digests = None

    def setup(self):
        self._score.setup()
        self._index = open_index(self._spec.location)
        self._digests = cache.RecordDigests()

    def teardown(self):
        if self._index is not None:
            self._index.close()
            self._index = None

    def process(self, batch):
        spec = self._spec
        keyed = [(cache.pair_digest(spec.fingerprint, self._digests(a), self._digests(b), context), (a, b, context))
                 for a, b, context in batch]
        cached = self._index.cached_scores(spec.scope, [digest for digest, _ in keyed])
        results = []
        for digest, element in keyed:
            if digest in cached:
                self._hits.inc()
                edge = cache.edge_from_json(cached[digest])
            else:
                edge = next(iter(self._score.process(element)), None)
            results.append((digest, edge))
        self._index.put_scores(spec.scope, spec.run_id, [(d, cache.edge_to_json(e)) for d, e in results])
        yield from (edge for _, edge in results if edge is not None)


class _PruneScoresFn(_IndexFn):
    def __init__(self, spec: ScoreCacheSpec):
        super().__init__(IndexSpec(spec.location, spec.scope, ""))
        self._run_id = spec.run_id

    def process(self, _):
        yield self._index.prune_scores(self._spec.scope, self._run_id)


class CachedScores(beam.PTransform):
    """Joined pairs -> typed edges, reusing cached scores; unused cached scores are pruned after."""

    def __init__(self, config: Config, spec: ScoreCacheSpec, label: Optional[str] = None):
        super().__init__(label)
        self._config = config
        self._spec = spec

    def expand(self, joined):
        typed = (
            joined
            | "BatchPairs" >> beam.BatchElements(min_batch_size=64, max_batch_size=512)
            | "ScoreUncached" >> beam.ParDo(_CachedScoreFn(self._config, self._spec))
        )
        # Counting waits for every batch: only then are the unused scores known.
        (typed
         | "AllScored" >> beam.combiners.Count.Globally()
         | "PruneUnused" >> beam.ParDo(_PruneScoresFn(self._spec)))
        return typed
