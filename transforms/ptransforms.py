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
from transforms.detect import blocking, corpus, declared, families, mentions, parents, strategies
from transforms.detect.corpus import CorpusStats, PairContext
from transforms.detect.pair_view import pair_view
from transforms.detect.scoring import ConfidenceModel, Edge, typed_edge
from transforms.extract.encoding import display_path
from transforms.extract.matching import MatchedFile, match_outcomes, relative_path
from transforms.model import ErrorRecord, FileRecord
from transforms.output import review
from transforms.output.training import dataset as training_dataset
from transforms.output.training import ends, link_from_candidate, link_from_edge, place, record_path, record_settings
from transforms.output.training.reasoner import RELATED
from transforms.output.training.variants import component_records
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


# ---------------------------------------------------------------- block and pair


class _PairsFromBucket(beam.DoFn):
    """(key, members) -> (OK, (pair, (key, bucket size))) per pair, or (FAILED, key) for a hot key."""

    def __init__(self, config):
        self._config = config
        self._hot = Metrics.counter(NAMESPACE, "hot_keys")

    def process(self, element: Tuple[str, Iterable[str]]):
        key, members = element
        pairs, hot, _ = blocking.pairs_of_bucket(key, members, self._config)
        if hot:
            self._hot.inc()
            yield FAILED, key
            return
        for pair_entry in pairs:
            yield OK, pair_entry


def _frequent_entries(bucket) -> list:
    """[[(key, size)]] for a bucket that belongs in the frequent-key table, else []."""
    key, members = bucket
    entry = corpus.frequent_entry(key, len(set(members)))
    return [[entry]] if entry else []


def _bounded_frequent(entries) -> dict:
    """Combines frequent-key entries (lists of (key, size)) into the bounded table (associative)."""
    merged = [kv for part in entries for kv in (part.items() if isinstance(part, dict) else part)]
    return corpus.bounded_frequent(merged)


@beam.typehints.with_input_types(FileRecord)
class CandidatePairs(beam.PTransform):
    """Records -> candidate pairs ((id_a, id_b), {shared key: files carrying it}), hot keys,
    the run's corpus statistics (its size and its frequent keys, one element), and blocking errors."""

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
        buckets = (
            keyed
            | "GroupByKey" >> beam.GroupByKey()
        )
        bucket_pairs, hot_keys = split_outcomes(
            buckets | "PairsInBucket" >> beam.ParDo(Timed("block", _PairsFromBucket(cfg), telemetry)), "Split")
        mention_pairs = (
            records
            | "NamesAndMentions" >> beam.FlatMap(mentions.name_entries)
            | "GroupByName" >> beam.GroupByKey()
            | "ResolveMentions" >> beam.FlatMap(lambda kv: mentions.resolve_entries(kv[1]))
            | "MentionPairs" >> beam.MapTuple(
                lambda source, target: ((min(source, target), max(source, target)),
                                        (corpus.RESOLVED_MENTION + source, 1)))
        )
        pairs = (
            (bucket_pairs, mention_pairs)
            | "AllPairEntries" >> beam.Flatten()
            | "GroupByPair" >> beam.GroupByKey()
            | "SharedKeys" >> beam.MapTuple(lambda pair, entries: (pair, corpus.merge_shared(entries)))
            | "CountPairs" >> beam.ParDo(Counted("pairs", telemetry))
        )
        frequent = (
            buckets
            | "FrequentKeys" >> beam.FlatMap(_frequent_entries)
            | "FrequentTable" >> beam.CombineGlobally(_bounded_frequent)
        )
        n_files = records | "CountFiles" >> beam.combiners.Count.Globally()
        stats = n_files | "CorpusStats" >> beam.Map(
            lambda n, table: corpus.CorpusStats(n_files=n, frequent=table), beam.pvalue.AsSingleton(frequent))
        return pairs, hot_keys, stats, errors


def _keyed_by_blocking_key(cfg):
    return lambda r: [(k, r.file_id) for k in blocking.blocking_keys(r, cfg)]


# ---------------------------------------------------------------- score


class ScoreFileGroupFn(beam.DoFn):
    """Scores one file's candidate pairs: (a, [(b, shared keys)]) with every file's PairView at hand.

    Views come from a side input keyed by file id, so each view is shipped once
    per worker rather than copied into each of its pairs (memory follows the
    files, not the pairs).
    """

    def __init__(self, config: Config, telemetry: Optional[Telemetry] = None):
        self._config = config
        self._telemetry = telemetry or _NO_TELEMETRY
        self._model: Optional[ConfidenceModel] = None
        self._strategies: Tuple[str, ...] = ()

    def setup(self):
        from transforms.detect.relationships import active_strategies

        self._model = ConfidenceModel.load()
        self._strategies = active_strategies(self._config)

    def process(self, element, views, stats: CorpusStats):
        """(OK, Edge) per related pair, nothing for an unrelated one, (FAILED, ErrorRecord) per failure."""
        first_id, partners = element
        a = _view(views, first_id)
        for second_id, shared in sorted(partners, key=lambda partner: partner[0]):
            b = _view(views, second_id)
            if a is None or b is None:  # a file without a record (it failed) has no pairs to score
                continue
            yield from self.score(a, b, shared, stats)

    def score(self, a, b, shared, stats: CorpusStats):
        self._telemetry.add("pairs_scored", 1)
        try:
            context = PairContext(shared=shared, stats=stats)
            results = strategies.run_strategies(a, b, self._strategies, context)
            edge = typed_edge(a, b, results, self._model, self._config.relationships.thresholds)
        except Exception as exc:  # this pair's failure, recorded; the other pairs go on
            _STAGE_ERRORS.inc()
            yield FAILED, stage_error("score", exc, a.file_path, b.file_path)
            return
        if edge is not None:
            yield OK, edge


def _view(views, file_id: str):
    """The PairView of `file_id` from the multimap side input (empty there when the file has no record)."""
    return next(iter(views[file_id]), None)


class _ResolveFamiliesFn(beam.DoFn):
    def process(self, element, version_families: Dict[str, str]):
        _, edges = element
        yield from families.resolve_narrative_links(list(edges), version_families)


@beam.ptransform_fn
def ResolveParents(edges):
    """One parent per key column: candidates grouped by child file choose, edges keep what won."""
    winners = (
        edges
        | "CandidatesByChild" >> beam.FlatMap(parents.candidate_entries)
        | "GroupByChild" >> beam.GroupByKey()
        | "ChooseParents" >> beam.FlatMap(lambda kv: parents.choose_parents(kv[1]))
    )
    inclusion = edges | "InclusionEdges" >> beam.Filter(parents.is_inclusion_edge)
    others = edges | "OtherEdges" >> beam.Filter(lambda e: not parents.is_inclusion_edge(e))
    kept = (
        {"edge": inclusion | "KeyByPair" >> beam.Map(lambda e: (parents.pair_of(e), e)), "winner": winners}
        | "JoinWinners" >> beam.CoGroupByKey()
        | "KeepChosen" >> beam.FlatMap(
            lambda kv: [e for e in (parents.apply_winners(edge, list(kv[1]["winner"])) for edge in kv[1]["edge"])
                        if e is not None])
    )
    return (kept, others) | "AllResolved" >> beam.Flatten()


class ScorePairs(beam.PTransform):
    """Candidate pairs ((a, b), shared keys) -> (typed edges, scoring errors); key columns given one
    parent; version families resolved; min_confidence applied.

    Pairs are grouped by their first file and scored against the PairViews of
    `records` (transforms/detect/pair_view.py), read as a side input keyed by
    file id: a view travels once per worker, never once per pair. `scorer`
    replaces the plain ScoreFileGroupFn (a subclass, e.g. one reusing cached scores).
    """

    def __init__(self, records, config: Config, stats, telemetry: Optional[Telemetry] = None,
                 scorer: Optional["ScoreFileGroupFn"] = None, label: Optional[str] = None):
        super().__init__(label)
        self._records = records
        self._config = config
        self._stats = stats
        self._telemetry = telemetry
        self._scorer = scorer

    def expand(self, pairs):
        threshold = self._config.relationships.thresholds.min_confidence
        telemetry = self._telemetry
        views = self._records | "SlimForScoring" >> beam.ParDo(
            Timed("join", lambda r: [(r.file_id, pair_view(r))], telemetry))
        by_first = (
            pairs
            | "KeyByFirst" >> beam.MapTuple(lambda pair, shared: (pair[0], (pair[1], shared)))
            | "GroupByFirst" >> beam.GroupByKey()
        )
        scorer = self._scorer or ScoreFileGroupFn(self._config, telemetry)
        scored, errors = split_outcomes(
            by_first | "Score" >> beam.ParDo(Timed("score", scorer, telemetry),
                                             views=beam.pvalue.AsMultiMap(views),
                                             stats=beam.pvalue.AsSingleton(self._stats)),
            "SplitScored")
        typed = scored | "ResolveParents" >> ResolveParents()
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


# ---------------------------------------------------------------- borderline review


class _ReviewFn(beam.DoFn):
    """Batches of (edge, summary of source, summary of target) -> (edge or None, usage), requests in parallel."""

    def __init__(self, llm, cache_dir: str):
        self._llm = llm
        self._cache_dir = cache_dir
        self._reviewed = Metrics.counter(NAMESPACE, "llm_pairs_reviewed")

    def setup(self):
        from transforms.output.training.llm_clients import make_client
        from transforms.output.training.review import ResponseCache

        self._client = make_client(self._llm)
        self._cache = ResponseCache(self._cache_dir)

    def process(self, batch):
        from concurrent.futures import ThreadPoolExecutor

        from transforms.output.training.review import review_edge

        with ThreadPoolExecutor(max_workers=self._llm.max_concurrency) as pool:
            results = list(pool.map(lambda t: review_edge(*t, self._client, self._cache, self._llm), batch))
        self._reviewed.inc(len(results))
        yield from results


@beam.ptransform_fn
def ReviewBorderline(edges, summaries, llm, cache_dir: str):
    """Edges -> (edges after an LLM reviewed those in the borderline band, usage per reviewed pair)."""
    from transforms.output.training.review import in_band

    borderline = edges | "Borderline" >> beam.Filter(lambda e: in_band(e.confidence, llm))
    others = edges | "OutsideBand" >> beam.Filter(lambda e: not in_band(e.confidence, llm))
    with_source = (
        {"edges": borderline | "BySource" >> beam.Map(lambda e: (e.source, e)), "summary": summaries}
        | "JoinSource" >> beam.CoGroupByKey()
        | "AttachSource" >> beam.FlatMap(
            lambda kv: [(e.target, (e, kv[1]["summary"][0])) for e in kv[1]["edges"]] if kv[1]["summary"] else [])
    )
    outcomes = (
        {"edges": with_source, "summary": summaries}
        | "JoinTarget" >> beam.CoGroupByKey()
        | "AttachTarget" >> beam.FlatMap(
            lambda kv: [(e, a, kv[1]["summary"][0]) for e, a in kv[1]["edges"]] if kv[1]["summary"] else [])
        | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=4 * llm.max_concurrency)
        | "Review" >> beam.ParDo(_ReviewFn(llm, cache_dir))
    )
    reviewed = outcomes | "Kept" >> beam.FlatMap(lambda o: [o[0]] if o[0] is not None else [])
    usage = outcomes | "Usage" >> beam.Map(lambda o: o[1])
    return (others, reviewed) | "ReviewedEdges" >> beam.Flatten(), usage


# ---------------------------------------------------------------- training


class _GroupsFn(beam.CombineFn):
    """("file", id, path), ("related" | "linked", id_a, id_b) -> dataset.groups() for every file."""

    def __init__(self, fractions):
        self._fractions = fractions

    def create_accumulator(self):
        return {}, [], []

    def add_input(self, accumulator, element):
        kind, a, b = element
        if kind == "file":
            accumulator[0][a] = b
        else:
            accumulator[1 if kind == "related" else 2].append((a, b))
        return accumulator

    def merge_accumulators(self, accumulators):
        paths, related, linked = {}, [], []
        for more_paths, more_related, more_linked in accumulators:
            paths.update(more_paths)
            related.extend(more_related)
            linked.extend(more_linked)
        return paths, related, linked

    def extract_output(self, accumulator):
        paths, related, linked = accumulator
        return training_dataset.groups(paths, related, linked, self._fractions)


@beam.ptransform_fn
def NotRelatedPairs(pairs, links, grouping, per_file: int):
    """Candidate pairs without an edge, across components of one split, at most `per_file` picked per file."""
    linked = links | "LinkedPairs" >> beam.Map(lambda l: (tuple(sorted(ends(l))), True))
    unlinked = (
        {"candidates": pairs, "linked": linked}
        | "JoinLinked" >> beam.CoGroupByKey()
        | "Unlinked" >> beam.FlatMap(
            lambda kv, g: [(kv[0], sorted(kv[1]["candidates"][0]))]
            if kv[1]["candidates"] and not kv[1]["linked"] and training_dataset.negative_allowed(*kv[0], g) else [],
            g=grouping)
    )
    return (
        unlinked
        | "ByEnd" >> beam.FlatMap(lambda pk: [(end, (training_dataset.sampled(pk[0], end), pk[0], pk[1]))
                                              for end in pk[0]])
        | "PickPerFile" >> beam.combiners.Top.SmallestPerKey(per_file)
        | "Picked" >> beam.FlatMap(lambda kv: [(pair, kinds) for _, pair, kinds in kv[1]])
        | "DistinctPairs" >> beam.CombinePerKey(lambda kinds: min(kinds))
        | "NotRelatedLinks" >> beam.Map(
            lambda pk, g: link_from_candidate(pk[0][0], pk[0][1], pk[1], {i: g[i][2] for i in pk[0]}), g=grouping)
    )


def _component_path(element) -> str:
    """The file a failing component's error record names: its first file."""
    component, grouped = element
    paths = sorted(s["file_path"] for s in grouped["files"])
    return paths[0] if paths else str(component)


def _component_records(element, grouping, settings):
    component, grouped = element
    if not grouped["links"]:
        return
    files = {s["file_id"]: s for s in grouped["files"]}
    own = [i for i in files if grouping[i][0] == component]
    split = grouping[own[0]][1]
    yield from place(component_records(files, own, list(grouped["links"]), settings), component, split)


@beam.ptransform_fn
def TrainingRecords(edges, summaries, pairs, config: Config, roots: Sequence[str], thresholds: Dict[str, float]):
    """Edges + file summaries + candidate pairs -> (records of every task, placed in splits by component,
    errors of components whose records failed)."""
    level = config.training.precision_level
    links = edges | "Links" >> beam.Map(lambda e: link_from_edge(
        e.to_dict(), {e.source: record_path(e.source_path, roots), e.target: record_path(e.target_path, roots)},
        thresholds[e.relationship_type], level))
    grouping = beam.pvalue.AsSingleton(
        (
            summaries | "FileEntries" >> beam.Map(lambda kv: ("file", kv[0], kv[1]["file_path"])),
            links | "LinkEntries" >> beam.FlatMap(
                lambda l: [("linked",) + ends(l)] + ([("related",) + ends(l)] if l["label"] == RELATED else [])),
        )
        | "Entries" >> beam.Flatten()
        | "Components" >> beam.CombineGlobally(_GroupsFn(config.training.splits))
    )
    if config.training.negatives_per_file:
        negatives = pairs | "NotRelatedPairs" >> NotRelatedPairs(links, grouping, config.training.negatives_per_file)
    else:
        negatives = links | "NoNegatives" >> beam.Filter(lambda _: False)
    # A link between two components (uncertain, not related) belongs to both: each needs the other end's summary.
    taught = (
        (links, negatives)
        | "AllLinks" >> beam.Flatten()
        | "SameSplit" >> beam.Filter(lambda l, g: training_dataset.same_split(*ends(l), g), g=grouping)
    )
    wanted = taught | "WantedEnds" >> beam.FlatMap(
        lambda l, g: [(i, g[j][0]) for i, j in (ends(l), ends(l)[::-1]) if g[i][0] != g[j][0]], g=grouping)
    external = (
        {"summary": summaries, "wanted": wanted}
        | "JoinWanted" >> beam.CoGroupByKey()
        | "ExternalFiles" >> beam.FlatMap(
            lambda kv: [(c, kv[1]["summary"][0]) for c in set(kv[1]["wanted"])] if kv[1]["summary"] else [])
    )
    own = summaries | "OwnFiles" >> beam.Map(lambda kv, g: (g[kv[0]][0], kv[1]), g=grouping)
    keyed_links = taught | "LinksByComponent" >> beam.FlatMap(
        lambda l, g: [(c, l) for c in {g[i][0] for i in ends(l)}], g=grouping)
    settings = record_settings(config)
    outcomes = (
        {"files": (own, external) | "Files" >> beam.Flatten(), "links": keyed_links}
        | "GroupComponents" >> beam.CoGroupByKey()
        | "ComponentRecords" >> beam.FlatMap(
            lambda element, g: guarded("train", lambda e: _component_records(e, g, settings), _component_path)(element),
            grouping)
    )
    return split_outcomes(outcomes, "SplitRecords")


@beam.ptransform_fn
def DropNearDuplicates(records, threshold: float):
    """Records -> (records without near-duplicates, IDs dropped); the smallest (task, id) of each group is kept."""
    signed = records | "Sign" >> beam.Map(lambda r: (r, training_dataset.dedup_signature(r)))
    dropped = (
        signed
        | "Bands" >> beam.FlatMap(lambda rs: [(key, ((rs[0]["task"], rs[0]["id"]), rs[1]))
                                              for key in training_dataset.dedup_keys(*rs)])
        | "GroupBands" >> beam.GroupByKey()
        | "Duplicates" >> beam.FlatMap(lambda kv: training_dataset.duplicates_in_bucket(kv[1], threshold))
        | "DistinctDropped" >> beam.Distinct()
    )
    kept = (
        {"record": records | "KeyById" >> beam.Map(lambda r: (r["id"], r)),
         "dropped": dropped | "MarkDropped" >> beam.Map(lambda i: (i, True))}
        | "JoinDropped" >> beam.CoGroupByKey()
        | "Kept" >> beam.FlatMap(lambda kv: [] if kv[1]["dropped"] else kv[1]["record"])
    )
    return kept, dropped


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
