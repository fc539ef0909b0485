"""Beam wrappers: thin, labelled, typed PTransforms around the pure logic.

Each stage of the pipeline is one PTransform here; the work itself lives in
matching, extract, blocking, strategies, scoring and training.
"""

from __future__ import annotations

import logging
from typing import Callable, Dict, Iterable, Optional, Sequence, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.config import Config
from transforms.detect import blocking, declared, families, strategies
from transforms.detect.pair_view import pair_view
from transforms.detect.scoring import ConfidenceModel, Edge, typed_edge
from transforms.extract.encoding import display_path
from transforms.extract.matching import MatchedFile, match_outcomes, relative_path
from transforms.model import ErrorRecord, FileRecord
from transforms.output import review
from transforms.output.training import file_summary, training_record
from transforms.signatures import file_id_for, hash64
from transforms.telemetry import NAMESPACE, Telemetry

_NO_TELEMETRY = Telemetry()


class Timed(beam.DoFn):
    """A DoFn, or a FlatMap-style function, whose time counts to one stage (transforms/telemetry.py)."""

    def __init__(self, stage: str, inner, telemetry: Optional[Telemetry]):
        self._stage = stage
        self._inner = inner
        self._telemetry = telemetry or _NO_TELEMETRY

    def _is_dofn(self) -> bool:
        return isinstance(self._inner, beam.DoFn)

    def setup(self):
        if self._is_dofn():
            self._inner.setup()

    def start_bundle(self):
        if self._is_dofn():
            self._inner.start_bundle()

    def process(self, element, *args, **kwargs):
        fn = self._inner.process if self._is_dofn() else self._inner
        return self._telemetry.timed(self._stage, lambda: fn(element, *args, **kwargs) or ())

    def finish_bundle(self):
        if self._is_dofn():
            self._inner.finish_bundle()
        self._telemetry.flush()

    def teardown(self):
        if self._is_dofn():
            self._inner.teardown()


class Counted(beam.DoFn):
    """Passes elements on and counts them (a progress counter)."""

    def __init__(self, name: str, telemetry: Optional[Telemetry]):
        self._name = name
        self._telemetry = telemetry or _NO_TELEMETRY

    def process(self, element):
        self._telemetry.add(self._name, 1)
        yield element

    def finish_bundle(self):
        self._telemetry.flush()


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


# Outcomes of a step that can fail per element travel as one PCollection of
# (kind, value) tuples split by two Filters, never as a multi-output ParDo:
# Beam's DaskRunner routes every tagged output to the main one.
OK = "ok"
FAILED = "failed"


def split_outcomes(outcomes, label: str):
    """(kind, value) outcomes -> (values that succeeded, values that failed)."""
    ok = outcomes | f"{label}Ok" >> beam.FlatMap(lambda o: [o[1]] if o[0] == OK else [])
    failed = outcomes | f"{label}Failed" >> beam.FlatMap(lambda o: [o[1]] if o[0] == FAILED else [])
    return ok, failed


def stage_error(stage: str, exc: BaseException, path: str, paired_with: Optional[str] = None) -> ErrorRecord:
    """The error record of one element that failed at a stage after extraction."""
    from transforms.extract import describe

    return ErrorRecord(path, stage, "internal_error", describe(exc), file_id_for(path), paired_with)


def guarded(stage: str, fn: Callable, path_of: Callable, paired_with: Callable = lambda element: None):
    """`fn` (element -> iterable of outputs) as (OK, output) outcomes; an exception on one
    element becomes one (FAILED, ErrorRecord) naming its file (and pair) instead of failing the run."""

    def outcomes(element):
        try:
            return [(OK, output) for output in fn(element)]
        except Exception as exc:  # this element's failure, recorded; the others go on
            _STAGE_ERRORS.inc()
            return [(FAILED, stage_error(stage, exc, path_of(element), paired_with(element)))]

    return outcomes


_STAGE_ERRORS = Metrics.counter(NAMESPACE, "stage_errors")


class ExtractBatchFn(beam.DoFn):
    """A batch of matched files -> (OK, FileRecord) or (FAILED, ErrorRecord) per file.

    With `extraction.isolation` the batch goes to a pool of parser processes
    owned by this DoFn (started in setup, stopped in teardown), up to
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


def batch_of(path: str, files: int, batch_files: int) -> int:
    """The batch of a file: a stable hash of its path over about files / batch_files batches."""
    return hash64(path) % max(1, -(-files // batch_files))


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
    def setup(self):
        from transforms.detect import semantic

        semantic._load_model()  # once per worker, before the first bundle

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


# ---------------------------------------------------------------- block and pair


class _PairsFromBucket(beam.DoFn):
    """(key, members) -> (OK, (pair, kind)) per pair, or (FAILED, key) for a hot key."""

    def __init__(self, config):
        self._config = config
        self._hot = Metrics.counter(NAMESPACE, "hot_keys")

    def process(self, element: Tuple[str, Iterable[str]]):
        key, members = element
        pairs, hot = blocking.bucket_pairs(members, blocking.bucket_cap(key, self._config))
        if hot:
            self._hot.inc()
            yield FAILED, key
            return
        kind = blocking.key_kind(key)
        for pair in pairs:
            yield OK, (pair, kind)


@beam.typehints.with_input_types(FileRecord)
class CandidatePairs(beam.PTransform):
    """Records -> (distinct candidate pairs ((id_a, id_b), [key kinds]), hot keys, blocking errors)."""

    def __init__(self, config: Config, telemetry: Optional[Telemetry] = None, label: Optional[str] = None):
        super().__init__(label)
        self._blocking = config.relationships.blocking
        self._telemetry = telemetry

    def expand(self, records):
        cfg, telemetry = self._blocking, self._telemetry
        keyed, errors = split_outcomes(
            records | "BlockingKeys" >> beam.ParDo(Timed(
                "block", guarded("block", _keyed_by_blocking_key(cfg), lambda r: r.file_path), telemetry)),
            "SplitKeys",
        )
        outcomes = (
            keyed
            | "GroupByKey" >> beam.GroupByKey()
            | "PairsInBucket" >> beam.ParDo(Timed("block", _PairsFromBucket(cfg), telemetry))
        )
        bucket_pairs, hot_keys = split_outcomes(outcomes, "Split")
        pairs = (
            bucket_pairs
            | "GroupKinds" >> beam.GroupByKey()
            | "DistinctKinds" >> beam.MapTuple(lambda pair, kinds: (pair, sorted(set(kinds))))
            | "CountPairs" >> beam.ParDo(Counted("pairs", telemetry))
        )
        return pairs, hot_keys, errors


def _keyed_by_blocking_key(cfg):
    return lambda r: [(k, r.file_id) for k in blocking.blocking_keys(r, cfg)]


@beam.ptransform_fn
def JoinPairRecords(pairs, records, telemetry: Optional[Telemetry] = None):
    """((a, b), kinds) -> (view_a, view_b, kinds) by two keyed joins.

    Each record is slimmed once to the PairView that scoring reads
    (transforms/detect/pair_view.py) before it is copied into its pairs.
    """
    by_id = records | "SlimForScoring" >> beam.ParDo(
        Timed("join", lambda r: [(r.file_id, pair_view(r))], telemetry))

    first = (
        {"pairs": pairs | "KeyByFirst" >> beam.MapTuple(lambda pair, kinds: (pair[0], (pair, kinds))),
         "record": by_id}
        | "JoinFirst" >> beam.CoGroupByKey()
        | "AttachFirst" >> beam.FlatMap(
            lambda kv: [(pk[0][1], (kv[1]["record"][0], pk[1])) for pk in kv[1]["pairs"]] if kv[1]["record"] else []
        )
    )
    return (
        {"pairs": first, "record": by_id}
        | "JoinSecond" >> beam.CoGroupByKey()
        | "AttachSecond" >> beam.FlatMap(
            lambda kv: [(ra, kv[1]["record"][0], kinds) for ra, kinds in kv[1]["pairs"]] if kv[1]["record"] else []
        )
    )


# ---------------------------------------------------------------- score


class ScorePairFn(beam.DoFn):
    def __init__(self, config: Config, telemetry: Optional[Telemetry] = None):
        self._config = config
        self._telemetry = telemetry or _NO_TELEMETRY
        self._model: Optional[ConfidenceModel] = None
        self._strategies: Tuple[str, ...] = ()

    def setup(self):
        from transforms.detect.relationships import active_strategies

        self._model = ConfidenceModel.load()
        self._strategies = active_strategies(self._config)

    def process(self, element):
        """(OK, Edge) for a related pair, nothing for an unrelated one, (FAILED, ErrorRecord) for a failure."""
        a, b, _kinds = element
        self._telemetry.add("pairs_scored", 1)
        try:
            results = strategies.run_strategies(a, b, self._strategies)
            edge = typed_edge(a, b, results, self._model, self._config.relationships.thresholds)
        except Exception as exc:  # this pair's failure, recorded; the other pairs go on
            _STAGE_ERRORS.inc()
            yield FAILED, stage_error("score", exc, a.file_path, b.file_path)
            return
        if edge is not None:
            yield OK, edge


class _ResolveFamiliesFn(beam.DoFn):
    def process(self, element, version_families: Dict[str, str]):
        _, edges = element
        yield from families.keep_best_per_family(list(edges), version_families)


class ScorePairs(beam.PTransform):
    """Joined pairs -> (typed edges, scoring errors); version families resolved; min_confidence applied."""

    def __init__(self, config: Config, telemetry: Optional[Telemetry] = None, label: Optional[str] = None):
        super().__init__(label)
        self._config = config
        self._telemetry = telemetry

    def expand(self, joined):
        threshold = self._config.relationships.thresholds.min_confidence
        telemetry = self._telemetry
        typed, errors = split_outcomes(
            joined | "Score" >> beam.ParDo(Timed("score", ScorePairFn(self._config, telemetry), telemetry)),
            "SplitScored")
        version_families = (
            typed
            | "VersionPairs" >> beam.Filter(lambda e: e.relationship_type == "VERSION_OF")
            | "AsPairLists" >> beam.Map(lambda e: [(e.source, e.target)])
            | "AllVersionPairs" >> beam.CombineGlobally(_concat_pair_lists)
            | "Families" >> beam.Map(families.family_of)
        )
        scoped = (
            typed
            | "FamilyScoped" >> beam.Filter(lambda e: families.narrative_key(e) != "")
            | "KeyByNarrative" >> beam.Map(lambda e: (families.narrative_key(e), e))
            | "GroupByNarrative" >> beam.GroupByKey()
            | "KeepBestPerFamily" >> beam.ParDo(
                Timed("score", _ResolveFamiliesFn(), telemetry),
                version_families=beam.pvalue.AsSingleton(version_families))
        )
        unscoped = typed | "NotScoped" >> beam.Filter(lambda e: families.narrative_key(e) == "")
        edges = (
            (scoped, unscoped)
            | "AllEdges" >> beam.Flatten()
            | "MinConfidence" >> beam.Filter(lambda e: e.confidence >= threshold)
        )
        return edges, errors


def _concat_pair_lists(pair_lists) -> list:
    """Combines lists of version pairs (associative: partial results are lists too)."""
    return [pair for pairs in pair_lists for pair in pairs]


# ---------------------------------------------------------------- declared schemas


@beam.typehints.with_input_types(FileRecord)
@beam.typehints.with_output_types(Edge)
class DeclaredEdges(beam.PTransform):
    """Records -> the DOCUMENTS / REFERENCES edges their declared schemas give (no blocking).

    Declarations' table lookups meet data files' paths and names in one
    CoGroupByKey; the found tables meet their declaration in a second.
    """

    def expand(self, records):
        declarations = records | "Declarations" >> beam.Filter(lambda r: bool(r.declared))
        lookups = declarations | "TableLookups" >> beam.FlatMap(declared.table_lookups)
        candidates = records | "Candidates" >> beam.FlatMap(declared.candidate_entries)
        resolutions = (
            {"lookups": lookups, "candidates": candidates}
            | "MeetByKey" >> beam.CoGroupByKey()
            | "Resolve" >> beam.FlatMap(lambda kv: declared.resolve(kv[0], kv[1]["lookups"], kv[1]["candidates"]))
        )
        return (
            {"declaration": declarations | "KeyDeclarations" >> beam.Map(lambda r: (r.file_id, r)),
             "found": resolutions}
            | "PerDeclaration" >> beam.CoGroupByKey()
            | "Edges" >> beam.FlatMap(
                lambda kv: declared.edges_for_declaration(kv[1]["declaration"][0], kv[1]["found"])
                if kv[1]["declaration"] else [])
        )


class _MergePairFn(beam.DoFn):
    def __init__(self, min_confidence: float):
        self._min_confidence = min_confidence
        self._declared = Metrics.counter(NAMESPACE, "declared_edges")
        # Scored edges folded into a declared edge of their pair, or overruled by a declaration.
        self._dropped = Metrics.counter(NAMESPACE, "scored_edges_dropped")

    def process(self, element, scope: declared.DeclaredScope):
        _, grouped = element
        scored, found = list(grouped["scored"]), list(grouped["declared"])
        merged = declared.merge_pair(scored, found, scope, self._min_confidence)
        self._declared.inc(sum(1 for e in merged if declared.EVIDENCE in e.evidence))
        self._dropped.inc(len(scored) - sum(1 for e in merged if declared.EVIDENCE not in e.evidence))
        yield from merged


@beam.typehints.with_input_types(Edge)
@beam.typehints.with_output_types(Edge)
class MergeDeclared(beam.PTransform):
    """Scored edges + declared edges -> one set: a declared edge wins its pair (see declared.merge_pair).

    After ScorePairs: declared edges are facts, so version-family pruning does
    not apply to them; min_confidence does, here.
    """

    def __init__(self, declared_edges, records, config: Config, telemetry: Optional[Telemetry] = None,
                 label: Optional[str] = None):
        super().__init__(label)
        self._telemetry = telemetry
        self._declared = declared_edges
        self._records = records
        self._min_confidence = config.relationships.thresholds.min_confidence

    def expand(self, scored):
        ids = self._records | "DeclarationIds" >> beam.FlatMap(lambda r: [r.file_id] if r.declared else [])
        scope = (
            scored.pipeline
            | "ScopeSeed" >> beam.Create([None])
            | "Scope" >> beam.Map(lambda _, ids, edges: declared.declared_scope(ids, edges),
                                  ids=beam.pvalue.AsList(ids), edges=beam.pvalue.AsList(self._declared))
        )
        return (
            {"scored": scored | "KeyScored" >> beam.Map(lambda e: (declared.pair_key(e), e)),
             "declared": self._declared | "KeyDeclared" >> beam.Map(lambda e: (declared.pair_key(e), e))}
            | "GroupByPair" >> beam.CoGroupByKey()
            | "MergePair" >> beam.ParDo(_MergePairFn(self._min_confidence), scope=beam.pvalue.AsSingleton(scope))
            | "CountEdges" >> beam.ParDo(Counted("edges", self._telemetry))
        )


# ---------------------------------------------------------------- training


@beam.ptransform_fn
def FormatTraining(edges, records):
    """Edges + records -> (one training record per file that has related files, formatting errors)."""
    summaries = records | "Summaries" >> beam.Map(lambda r: (r.file_id, file_summary(r)))
    edge_dicts = edges | "EdgeDicts" >> beam.Map(lambda e: e.to_dict())
    by_file = edge_dicts | "ByEndpoint" >> beam.FlatMap(lambda e: [(e["source"], e), (e["target"], e)])
    neighbour_ids = edge_dicts | "Neighbours" >> beam.FlatMap(
        lambda e: [(e["source"], e["target"]), (e["target"], e["source"])]
    )
    # Summaries of each file's neighbours, keyed by the file.
    neighbour_summaries = (
        {"summary": summaries, "wanted_by": neighbour_ids}
        | "JoinNeighbours" >> beam.CoGroupByKey()
        | "SummaryPerAsker" >> beam.FlatMap(
            lambda kv: [(asker, kv[1]["summary"][0]) for asker in kv[1]["wanted_by"]] if kv[1]["summary"] else []
        )
    )
    outcomes = (
        {"summary": summaries, "edges": by_file, "neighbours": neighbour_summaries}
        | "GroupPerFile" >> beam.CoGroupByKey()
        | "TrainingRecord" >> beam.FlatMap(guarded("train", _training_for_file, _grouped_file_path))
    )
    return split_outcomes(outcomes, "Split")


def _grouped_file_path(element) -> str:
    _, grouped = element
    return grouped["summary"][0]["file_path"] if grouped["summary"] else str(element[0])


def _training_for_file(element):
    _, grouped = element
    if not grouped["summary"] or not grouped["edges"]:
        return
    neighbours = {s["file_id"]: s for s in grouped["neighbours"]}
    yield training_record(grouped["summary"][0], list(grouped["edges"]), neighbours)


# ---------------------------------------------------------------- review


@beam.ptransform_fn
def ApplyReview(edges, records, feedback: review.Feedback, roots: Sequence[str]):
    """Edges -> (reviewed edges, rejected edges): human decisions applied, accepted edges the
    detector missed added back from the decision."""
    decisions = feedback.by_key()
    accepted_keys = {d.key for d in feedback.accepted()}
    wanted_paths = feedback.accepted_paths()
    roots = tuple(roots)
    outcomes = edges | "Decide" >> beam.Map(lambda e: (e, review.review_edge(e, decisions, roots)))
    rejected = outcomes | "Rejected" >> beam.FlatMap(lambda o: [o[0]] if o[1] is None else [])
    kept = outcomes | "Kept" >> beam.FlatMap(lambda o: [o[1]] if o[1] is not None else [])
    found = (
        kept
        | "AcceptedKeys" >> beam.Map(lambda e: review.edge_key(e, roots))
        | "FoundAccepted" >> beam.Filter(lambda k: k in accepted_keys)
    )
    files = records | "ReviewedFiles" >> beam.FlatMap(
        lambda r: [(p, (r.file_id, r.file_path))] if (p := relative_path(r.file_path, roots)) in wanted_paths else [])
    restored = (
        edges.pipeline
        | "Once" >> beam.Create([None])
        | "RestoreAccepted" >> beam.FlatMap(
            lambda _, found, files: review.restored_edges(feedback, found, files),
            found=beam.pvalue.AsList(found), files=beam.pvalue.AsDict(files))
    )
    return (kept, restored) | "ReviewedEdges" >> beam.Flatten(), rejected
