"""Beam wrappers: thin, labelled, typed PTransforms around the pure logic.

Each stage of the pipeline is one PTransform here; the work itself lives in
matching, extract, blocking, strategies, scoring and training.
"""

from __future__ import annotations

from typing import Dict, Iterable, Optional, Sequence, Tuple

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from transforms.config import Config
from transforms.detect import blocking, corpus, declared, families, mentions, parents, strategies
from transforms.detect.corpus import CorpusStats, PairContext
from transforms.detect.pair_view import pair_view
from transforms.detect.scoring import ConfidenceModel, Edge, typed_edge
from transforms.extract.matching import MatchedFile, match_outcomes, relative_path
from transforms.model import ErrorRecord, ExtractionError, FileRecord
from transforms.output import review
from transforms.output.training import file_summary, training_record
from transforms.signatures import file_id_for
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
        outcomes = specs | "Expand" >> beam.FlatMap(
            lambda spec: ((OK if ok else FAILED, item) for ok, item in match_outcomes(spec, patterns, exclude)))
        files, skipped = split_outcomes(outcomes, "Split")
        matched = (
            files
            | "KeyByPath" >> beam.Map(lambda m: (m.path, m))
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


class ExtractFileFn(beam.DoFn):
    """Reads one file: (OK, FileRecord) or (FAILED, ErrorRecord)."""

    def __init__(self, config: Config):
        self._config = config
        self._processed = Metrics.counter(NAMESPACE, "files_processed")
        self._failed = Metrics.counter(NAMESPACE, "files_failed")
        self._bytes = Metrics.counter(NAMESPACE, "bytes_read")

    def process(self, matched: MatchedFile):
        # Heavy readers load on workers only.
        from transforms.extract import extract_file

        limits = self._config.extraction
        try:
            if matched.size > limits.max_file_bytes:
                raise ExtractionError(
                    "too_large", f"{matched.size} bytes exceeds max_file_bytes={limits.max_file_bytes}", stage="read"
                )
            try:
                with FileSystems.open(matched.path) as handle:
                    data = handle.read()
            except Exception as exc:  # any filesystem error is this file's failure
                raise ExtractionError("read_error", f"{type(exc).__name__}: {exc}", stage="read") from exc
            self._bytes.inc(len(data))
            record = extract_file(matched.path, data, self._config, size=matched.size, modified_at=matched.modified_at)
        except ExtractionError as exc:
            self._failed.inc()
            yield FAILED, ErrorRecord(matched.path, exc.stage, exc.error_type, exc.message, file_id_for(matched.path))
            return
        except Exception as exc:  # a reader bug must not fail the run; record it
            self._failed.inc()
            yield FAILED, ErrorRecord(matched.path, "extract", "internal_error", f"{type(exc).__name__}: {exc}",
                                      file_id_for(matched.path))
            return
        self._processed.inc()
        yield OK, record


@beam.typehints.with_input_types(MatchedFile)
class ExtractFiles(beam.PTransform):
    """Matched files -> (records, errors)."""

    def __init__(self, config: Config, telemetry: Optional[Telemetry] = None, label: Optional[str] = None):
        super().__init__(label)
        self._config = config
        self._telemetry = telemetry

    def expand(self, files):
        outcomes = (
            files
            | "Reshuffle" >> beam.Reshuffle()  # spread files over workers after a cheap match
            | "Extract" >> beam.ParDo(Timed("extract", ExtractFileFn(self._config), self._telemetry))
        )
        records, errors = split_outcomes(outcomes, "Split")
        return (records | "CountExtracted" >> beam.ParDo(Counted("files_extracted", self._telemetry)),
                errors | "CountFailed" >> beam.ParDo(Counted("files_in_error", self._telemetry)))


class _EmbedFn(beam.DoFn):
    def setup(self):
        from transforms.detect import semantic

        semantic._load_model()  # once per worker, before the first bundle

    def process(self, record: FileRecord):
        from transforms.detect.semantic import embed_records

        yield from embed_records([record])


@beam.typehints.with_input_types(FileRecord)
@beam.typehints.with_output_types(FileRecord)
class EmbedRecords(beam.PTransform):
    """Adds static embeddings to records (semantic_similarity).

    One record at a time: a static embedding costs microseconds, and a batching
    step would emit its last batch from finish_bundle, which Beam's DaskRunner drops.
    """

    def __init__(self, telemetry: Optional[Telemetry] = None, label: Optional[str] = None):
        super().__init__(label)
        self._telemetry = telemetry

    def expand(self, records):
        return records | "Embed" >> beam.ParDo(Timed("embed", _EmbedFn(), self._telemetry))


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
    """Records -> candidate pairs ((id_a, id_b), {shared key: files carrying it}), hot keys, and
    the run's corpus statistics (its size and its frequent keys), one element."""

    def __init__(self, config: Config, telemetry: Optional[Telemetry] = None, label: Optional[str] = None):
        super().__init__(label)
        self._blocking = config.relationships.blocking
        self._telemetry = telemetry

    def expand(self, records):
        cfg, telemetry = self._blocking, self._telemetry
        buckets = (
            records
            | "BlockingKeys" >> beam.ParDo(Timed("block", _keyed_by_blocking_key(cfg), telemetry))
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
        return pairs, hot_keys, stats


def _keyed_by_blocking_key(cfg):
    return lambda r: [(k, r.file_id) for k in blocking.blocking_keys(r, cfg)]


@beam.ptransform_fn
def JoinPairRecords(pairs, records, telemetry: Optional[Telemetry] = None):
    """((a, b), shared keys) -> (view_a, view_b, shared keys) by two keyed joins.

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

    def process(self, element, stats: CorpusStats):
        a, b, shared = element
        self._telemetry.add("pairs_scored", 1)
        context = PairContext(shared=shared, stats=stats)
        results = strategies.run_strategies(a, b, self._strategies, context)
        edge = typed_edge(a, b, results, self._model, self._config.relationships.thresholds)
        if edge is not None:
            yield edge


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


@beam.typehints.with_output_types(Edge)
class ScorePairs(beam.PTransform):
    """Joined pairs -> typed edges; key columns given one parent; version families resolved;
    min_confidence applied."""

    def __init__(self, config: Config, stats, telemetry: Optional[Telemetry] = None, label: Optional[str] = None):
        super().__init__(label)
        self._config = config
        self._stats = stats
        self._telemetry = telemetry

    def expand(self, joined):
        threshold = self._config.relationships.thresholds.min_confidence
        telemetry = self._telemetry
        typed = (
            joined
            | "Score" >> beam.ParDo(Timed("score", ScorePairFn(self._config, telemetry), telemetry),
                                    stats=beam.pvalue.AsSingleton(self._stats))
            | "ResolveParents" >> ResolveParents()
        )
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
        return (
            (scoped, unscoped)
            | "AllEdges" >> beam.Flatten()
            | "MinConfidence" >> beam.Filter(lambda e: e.confidence >= threshold)
        )


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
    """Edges + records -> one training record per file that has related files."""
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
    return (
        {"summary": summaries, "edges": by_file, "neighbours": neighbour_summaries}
        | "GroupPerFile" >> beam.CoGroupByKey()
        | "TrainingRecord" >> beam.FlatMap(_training_for_file)
    )


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
