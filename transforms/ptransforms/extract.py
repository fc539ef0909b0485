"""Beam wrappers of matching, extraction and embedding."""

from __future__ import annotations

import logging
from typing import Iterable, Optional, Sequence

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.config import Config
from transforms.extract.encoding import display_path
from transforms.extract.matching import MatchedFile, match_outcomes
from transforms.model import ErrorRecord, FileRecord
from transforms.processes import batch_of
from transforms.telemetry import NAMESPACE, Telemetry

from transforms.ptransforms.common import (
    Counted,
    FAILED,
    OK,
    Timed,
    split_outcomes,
    stage_error,
)

# ---------------------------------------------------------------- match


@beam.typehints.with_input_types(str)
class MatchInputs(beam.PTransform):
    """Input specs (paths, globs, directories, gs:// URIs) -> (distinct matched files, paths no pattern covers).

    Files under `exclude` (the run's output folder, when inside an input) are never read."""

    def __init__(self, patterns: Sequence[str], exclude: Sequence[str] = (), telemetry: Optional[Telemetry] = None,
                 label: Optional[str] = None):
        super().__init__(label)
        self._patterns = tuple(patterns)
        self._exclude = tuple(exclude)
        self._telemetry = telemetry

    def expand(self, specs):
        patterns, exclude = self._patterns, self._exclude
        # A path may hold bytes that are not UTF-8, which Beam's string coder refuses: matched
        # files are keyed by bytes, skipped ones are shown escaped (encoding.display_path).
        outcomes = specs | "Expand" >> beam.FlatMap(
            lambda spec: ((OK, item) if ok else (FAILED, display_path(item))
                          for ok, item in match_outcomes(spec, patterns, exclude)))
        files, skipped = split_outcomes(outcomes, "Split")
        matched = (
            files
            | "KeyByPath" >> beam.Map(lambda m: (m.path.encode("utf-8", "surrogateescape"), m))
            | "DedupePaths" >> beam.CombinePerKey(lambda ms: min(ms, key=lambda m: m.size))
            | "DropKeys" >> beam.Values()
            | "CountMatched" >> beam.ParDo(Counted("files_matched", self._telemetry))
        )
        return matched, skipped | "DistinctSkipped" >> beam.Distinct()


# ---------------------------------------------------------------- extract


class ExtractBatchFn(beam.DoFn):
    """A batch of matched files -> (OK, FileRecord) or (FAILED, ErrorRecord) per file.

    With `extraction.isolation` the batch goes to a pool of parser processes
    owned by this DoFn (started in setup, idle ones stopped after each bundle, all in teardown), up to
    `extraction.workers` files at a time, and every outcome is emitted before
    `process` returns: nothing waits for finish_bundle, whose outputs some
    runners drop. Without isolation each file is extracted in this process
    (for tests and debugging).
    """

    def __init__(self, config: Config):
        self._config = config
        self._processed = Metrics.counter(NAMESPACE, "files_processed")
        self._failed = Metrics.counter(NAMESPACE, "files_failed")
        self._bytes = Metrics.counter(NAMESPACE, "bytes_read")
        self._pool = None

    def setup(self):
        if self._config.extraction.isolation:
            from transforms.extract.isolation import ParserPool, unavailable_reason

            reason = unavailable_reason()
            if reason:
                logging.getLogger(__name__).warning("parser isolation is off: %s", reason)
                Metrics.counter(NAMESPACE, "isolation_unavailable").inc()
            else:
                self._pool = ParserPool(self._config)

    def process(self, batch: Iterable[MatchedFile]):
        from transforms.extract.isolation import extract_one

        files = list(batch)
        if self._pool is None:
            for matched in files:
                yield self._outcome(extract_one(matched.path, matched.size, matched.modified_at, self._config))
            return
        for index, matched in enumerate(files):
            self._pool.submit(index, matched.path, matched.size, matched.modified_at)
        while self._pool.pending:
            for _, result in self._pool.collect(wait=True):
                yield self._outcome(result)

    def finish_bundle(self):
        # The runner keeps this DoFn until the pipeline ends; its parsers' memory need not wait.
        if self._pool is not None:
            self._pool.release()

    def teardown(self):
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def _outcome(self, result):
        if isinstance(result, ErrorRecord):
            self._failed.inc()
            Metrics.counter(NAMESPACE, f"errors_{result.error_type}").inc()
            return FAILED, result
        self._processed.inc()
        self._bytes.inc(result.file_size)
        return OK, result


@beam.typehints.with_input_types(MatchedFile)
class ExtractFiles(beam.PTransform):
    """Matched files -> (records, errors).

    Files are grouped into batches of about 16 per parser process (a
    GroupByKey, which also spreads them over workers), so that each batch
    keeps the parser pool busy.
    """

    def __init__(self, config: Config, telemetry: Optional[Telemetry] = None, label: Optional[str] = None):
        super().__init__(label)
        self._config = config
        self._telemetry = telemetry

    def expand(self, files):
        per_batch = 16 * self._config.extraction.workers
        total = files | "CountFiles" >> beam.combiners.Count.Globally()
        outcomes = (
            files
            | "KeyByBatch" >> beam.Map(lambda m, n: (batch_of(m.path, n, per_batch), m),
                                       n=beam.pvalue.AsSingleton(total))
            | "GroupBatches" >> beam.GroupByKey()
            | "Batches" >> beam.Values()
            | "Extract" >> beam.ParDo(Timed("extract", ExtractBatchFn(self._config), self._telemetry))
        )
        records, errors = split_outcomes(outcomes, "Split")
        return (records | "CountExtracted" >> beam.ParDo(Counted("files_extracted", self._telemetry)),
                errors | "CountFailed" >> beam.ParDo(Counted("files_in_error", self._telemetry)))


class _EmbedFn(beam.DoFn):
    """A record -> (OK, record with its embedding) or (FAILED, ErrorRecord): a record the model
    cannot take (whatever the reason) fails alone, as an "embed" error."""

    # The model loads with the first record (once per worker), not in setup():
    # a rerun that reuses every record from the index never pays for it.
    def process(self, record: FileRecord):
        from transforms.detect.semantic import embed_records

        try:
            embedded = embed_records([record])
        except Exception as exc:  # this record's failure, recorded; the others go on
            yield FAILED, stage_error("embed", exc, record.file_path)
            return
        yield from ((OK, r) for r in embedded)


@beam.typehints.with_input_types(FileRecord)
class EmbedRecords(beam.PTransform):
    """Adds static embeddings to records (semantic_similarity): (records, errors).

    One record at a time: a static embedding costs microseconds, and a batching
    step would emit its last batch from finish_bundle, which Beam's DaskRunner drops.
    Disabled, records pass unchanged and there are no errors.
    """

    def __init__(self, enabled: bool = True, telemetry: Optional[Telemetry] = None, label: Optional[str] = None):
        super().__init__(label)
        self._enabled = enabled
        self._telemetry = telemetry

    def expand(self, records):
        if not self._enabled:
            return records, records.pipeline | "NoErrors" >> beam.Create([])
        outcomes = records | "Embed" >> beam.ParDo(Timed("embed", _EmbedFn(), self._telemetry))
        return split_outcomes(outcomes, "Split")
