"""Beam wrappers: thin, labelled, typed PTransforms around the pure logic.

Each stage of the pipeline is one PTransform here; the work itself lives in
matching, extract, blocking, strategies, scoring and training.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from transforms.config import Config
from transforms.detect import blocking, declared, families, strategies
from transforms.detect.scoring import ConfidenceModel, Edge, typed_edge
from transforms.extract.matching import MatchedFile, match_outcomes, relative_path
from transforms.model import ErrorRecord, ExtractionError, FileRecord
from transforms.output import review
from transforms.output.training import file_summary, training_record
from transforms.signatures import file_id_for

NAMESPACE = "filegraph"


# ---------------------------------------------------------------- match


@beam.typehints.with_input_types(str)
class MatchInputs(beam.PTransform):
    """Input specs (paths, globs, directories, gs:// URIs) -> (distinct matched files, paths no pattern covers).

    Files under `exclude` (the run's output folder, when inside an input) are never read."""

    def __init__(self, patterns: Sequence[str], exclude: Sequence[str] = (), label: Optional[str] = None):
        super().__init__(label)
        self._patterns = tuple(patterns)
        self._exclude = tuple(exclude)

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

    def __init__(self, config: Config, label: Optional[str] = None):
        super().__init__(label)
        self._config = config

    def expand(self, files):
        outcomes = (
            files
            | "Reshuffle" >> beam.Reshuffle()  # spread files over workers after a cheap match
            | "Extract" >> beam.ParDo(ExtractFileFn(self._config))
        )
        return split_outcomes(outcomes, "Split")


class _EmbedBatchFn(beam.DoFn):
    # The model loads on the first batch (once per worker), not in setup():
    # a rerun that reuses every record from the index never pays for it.
    def process(self, batch: List[FileRecord]):
        from transforms.detect.semantic import embed_records

        yield from embed_records(batch)


@beam.typehints.with_input_types(FileRecord)
@beam.typehints.with_output_types(FileRecord)
class EmbedRecords(beam.PTransform):
    """Adds sentence embeddings to records, in batches (semantic_similarity)."""

    def expand(self, records):
        return (
            records
            | "Batch" >> beam.BatchElements(min_batch_size=8, max_batch_size=64)
            | "Embed" >> beam.ParDo(_EmbedBatchFn())
        )


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
    """Records -> distinct candidate pairs ((id_a, id_b), [key kinds]) and hot keys."""

    def __init__(self, config: Config, label: Optional[str] = None):
        super().__init__(label)
        self._blocking = config.relationships.blocking

    def expand(self, records):
        cfg = self._blocking
        outcomes = (
            records
            | "BlockingKeys" >> beam.FlatMap(lambda r: [(k, r.file_id) for k in blocking.blocking_keys(r, cfg)])
            | "GroupByKey" >> beam.GroupByKey()
            | "PairsInBucket" >> beam.ParDo(_PairsFromBucket(cfg))
        )
        bucket_pairs, hot_keys = split_outcomes(outcomes, "Split")
        pairs = (
            bucket_pairs
            | "GroupKinds" >> beam.GroupByKey()
            | "DistinctKinds" >> beam.MapTuple(lambda pair, kinds: (pair, sorted(set(kinds))))
        )
        return pairs, hot_keys


@beam.ptransform_fn
def JoinPairRecords(pairs, records):
    """((a, b), kinds) -> (record_a, record_b, kinds) by two keyed joins."""
    by_id = records | "KeyRecords" >> beam.Map(lambda r: (r.file_id, r))

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
    def __init__(self, config: Config):
        self._config = config
        self._scored = Metrics.counter(NAMESPACE, "pairs_scored")
        self._model: Optional[ConfidenceModel] = None
        self._strategies: Tuple[str, ...] = ()

    def setup(self):
        from transforms.detect.relationships import active_strategies

        self._model = ConfidenceModel.load()
        self._strategies = active_strategies(self._config)

    def process(self, element):
        a, b, _kinds = element
        self._scored.inc()
        results = strategies.run_strategies(a, b, self._strategies)
        edge = typed_edge(a, b, results, self._model, self._config.relationships.thresholds)
        if edge is not None:
            yield edge


class _ResolveFamiliesFn(beam.DoFn):
    def process(self, element, version_families: Dict[str, str]):
        _, edges = element
        yield from families.keep_best_per_family(list(edges), version_families)


@beam.typehints.with_output_types(Edge)
class ScorePairs(beam.PTransform):
    """Joined pairs -> typed edges; version families resolved; min_confidence applied."""

    def __init__(self, config: Config, scorer: Optional[beam.PTransform] = None, label: Optional[str] = None):
        super().__init__(label)
        self._config = config
        self._scorer = scorer  # replaces the plain ParDo(ScorePairFn), e.g. by cached scores

    def expand(self, joined):
        threshold = self._config.relationships.thresholds.min_confidence
        typed = joined | "Score" >> (self._scorer or beam.ParDo(ScorePairFn(self._config)))
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
                _ResolveFamiliesFn(), version_families=beam.pvalue.AsSingleton(version_families))
        )
        unscoped = typed | "NotScoped" >> beam.Filter(lambda e: families.narrative_key(e) == "")
        return (
            (scoped, unscoped)
            | "AllEdges" >> beam.Flatten()
            | "MinConfidence" >> beam.Filter(lambda e: e.confidence >= threshold)
            | "CountEdges" >> beam.Map(_count_edge)
        )


_EDGES = Metrics.counter(NAMESPACE, "edges")


def _count_edge(edge: Edge) -> Edge:
    _EDGES.inc()
    return edge


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

    def __init__(self, declared_edges, records, config: Config, label: Optional[str] = None):
        super().__init__(label)
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
