"""Beam wrappers of detection: blocking into candidate pairs, scoring, declared schemas."""

from __future__ import annotations

from typing import Dict, Iterable, Optional, Sequence, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.config import Config
from transforms.detect import blocking, blocking_steps, corpus, declared, families, mentions, parents
from transforms.detect.blocking_codec import pack_pair, unpack_pair
from transforms.detect.corpus import CorpusStats
from transforms.detect.pair_scoring import PairScorer, ScoredPair, chunks_of, file_groups, files_of, score_chunk
from transforms.detect.pair_view import PackedViews, packed_view, view_bucket
from transforms.detect.scoring import Edge
from transforms.model import FileRecord
from transforms.processes import ChunkPool, worker_pool
from transforms.telemetry import NAMESPACE, Telemetry

from transforms.ptransforms.common import (
    BundleSpillFn,
    Counted,
    FAILED,
    NO_TELEMETRY,
    OK,
    STAGE_ERRORS,
    Timed,
    guarded,
    only_kind,
    split_outcomes,
)
from transforms.ptransforms.grouping import GroupedSteps

# ---------------------------------------------------------------- block and pair


class FrequentTableFn(beam.CombineFn):
    """(key, size) entries -> the bounded frequent-key table (corpus.bounded_frequent).

    Entries are gathered and cut back to the table's bound only when they reach twice
    the bound: a combine that cut back every few entries (Beam's wrapper of a plain
    function does) sorts the whole table again each time, quadratic in the keys.
    """

    def __init__(self, limit: int = corpus.MAX_FREQUENT_KEYS):
        self._limit = limit

    def create_accumulator(self) -> list:
        return []

    def add_input(self, entries: list, entry) -> list:
        entries.append(tuple(entry))
        return self._bounded(entries)

    def merge_accumulators(self, accumulators) -> list:
        return self._bounded([entry for entries in accumulators for entry in entries])

    def extract_output(self, entries: list) -> dict:
        return corpus.bounded_frequent(entries, self._limit)

    def _bounded(self, entries: list) -> list:
        # The top `limit` of the whole lie within the top `limit` of any part: cutting back loses none.
        if len(entries) >= 2 * self._limit:
            entries = list(corpus.bounded_frequent(entries, self._limit).items())
        return entries


@beam.typehints.with_input_types(FileRecord)
class CandidatePairs(beam.PTransform):
    """Records -> candidate pairs ((id_a, id_b), {shared key: files carrying it}), hot keys,
    the run's corpus statistics (its size and its frequent keys, one element), and blocking errors."""

    def __init__(self, config: Config, telemetry: Optional[Telemetry] = None, label: Optional[str] = None,
                 spill_dir: Optional[str] = None):
        super().__init__(label)
        self._blocking = config.relationships.blocking
        self._workers = config.batch.worker_processes
        self._telemetry = telemetry
        self._spill_dir = spill_dir

    def expand(self, records):
        cfg, telemetry, top = self._blocking, self._telemetry, self._blocking.top_partners
        entries, errors = split_outcomes(
            records | "BlockingKeys" >> beam.ParDo(Timed(
                "block", guarded("block", _blocking_entries(cfg), lambda r: r.file_path), telemetry)),
            "SplitKeys",
        )
        # One grouping holds blocking's buckets and mention resolution's name groups. Values travel
        # packed (blocking_codec), proposals keyed by their pair's first file (a key per file, not
        # per pair); with a spill folder, the groupings wait on disk and their steps run a
        # partition at a time in worker processes (grouping.GroupedSteps).
        outcomes = entries | "MetaBlocking" >> GroupedSteps([
            ("PairsInBucket", blocking_steps.bucket_step, (cfg,)),
            # Meta-blocking: each file keeps its best partners; a pair kept by both files arrives twice.
            ("WeighPairs", blocking_steps.weigh_step, (top,)),
            ("KeepBestPartners", blocking_steps.keep_step, (top,)),
            ("OncePerPair", blocking_steps.once_step, ()),
        ], self._spill_dir, self._workers, "block", telemetry)
        pairs = (outcomes
                 | "Pairs" >> only_kind(OK)
                 | "CountPairs" >> beam.ParDo(Counted("pairs", telemetry)))
        hot_keys = outcomes | "HotKeys" >> only_kind(blocking_steps.HOT)
        frequent = (
            outcomes
            | "FrequentKeys" >> only_kind(blocking_steps.FREQUENT)
            | "FrequentTable" >> beam.CombineGlobally(FrequentTableFn())
        )
        n_files = records | "CountFiles" >> beam.combiners.Count.Globally()
        stats = n_files | "CorpusStats" >> beam.Map(
            lambda n, table: corpus.CorpusStats(n_files=n, frequent=table), beam.pvalue.AsSingleton(frequent))
        return pairs, hot_keys, stats, errors


def _blocking_entries(cfg):
    """A record's (blocking key, file id) entries and its name entries for mention resolution, as one list."""
    return lambda r: [[(k, r.file_id) for k in blocking.blocking_keys(r, cfg)] + mentions.grouped_name_entries(r)]


# ---------------------------------------------------------------- score

# First files per scoring batch: a batch's chunks keep the scoring processes busy (about
# 9,000 pairs at 10k files), and a run has few enough batches that each one's last,
# unshared chunk costs little.
SCORE_BATCH_FILES = 512


class ScoreBatchFn(beam.DoFn):
    """Scores a batch of candidate pairs, (batch, [packed (first id, second id, shared keys)]), with every
    file's PairView at hand: (OK, Edge) per related pair, (FAILED, ErrorRecord) per failure.

    Views come from a side input keyed by bucket (pair_view.view_bucket), so each
    view is shipped once per worker rather than copied into each of its pairs,
    and stay packed (pair_view.PackedViews), or are where they were spilled,
    which the scoring processes read. The batch is cut into chunks of whole
    file groups (pair_scoring.chunks_of) that `batch.worker_processes`
    scoring processes score (processes.ChunkPool), each decoding a view about
    once; with 0, or where this worker may not start processes, they are scored here.
    Every outcome is emitted before `process` returns.
    """

    def __init__(self, config: Config, telemetry: Optional[Telemetry] = None):
        self._config = config
        self._telemetry = telemetry or NO_TELEMETRY
        self._stats: Optional[CorpusStats] = None
        self._scorer: Optional[PairScorer] = None
        self._pool: Optional[ChunkPool] = None
        self._packed: Optional[PackedViews] = None

    def setup(self):
        self._packed = PackedViews()

    def finish_bundle(self):
        # Views and scoring processes are kept for a bundle (the whole stage on the local runners),
        # not for the rest of the run; the next bundle starts them again.
        self._close()
        self._scorer = None
        self._packed = PackedViews()

    def teardown(self):
        self._close()

    def pair_scorer(self, stats: CorpusStats) -> PairScorer:
        """The scorer of this worker's pairs (a subclass may cache scores: transforms/index/ptransforms.py)."""
        return PairScorer(self._config, stats)

    def keep(self, scored: Sequence[ScoredPair]) -> None:
        """Called with each chunk's outcomes (a subclass stores their cache rows)."""

    def process(self, element, views, stats: CorpusStats):
        _, pairs = element
        # The pipeline's batches hold pairs packed (blocking_codec.pack_pair); a direct caller may pass triples.
        pairs = (unpack_pair(pair) if isinstance(pair, bytes) else pair for pair in pairs)
        if self._scorer is None or stats is not self._stats:
            self._close()
            self._stats, self._scorer = stats, self.pair_scorer(stats)
            # Lookups go to this worker's index, so a scorer that looks up scores here.
            self._pool = None if self._scorer.looks_up else worker_pool(
                self._config.batch.worker_processes, self._scorer, score_chunk, "scoring",
                young_collections=False)  # processes.PacedCollector: scoring leaves little cyclic garbage
        load_bucket = lambda bucket: views[bucket]  # noqa: E731
        chunks = ((groups, {f: self._packed.get(f, load_bucket) for f in files_of(groups)})
                  for groups in chunks_of(file_groups(pairs)))
        scored_chunks = (self._pool.map(chunks) if self._pool is not None
                         else (score_chunk(self._scorer, chunk) for chunk in chunks))
        for scored in scored_chunks:
            self.keep(scored)
            self._telemetry.add("pairs_scored", len(scored))
            yield from outcomes_of(scored)

    def _close(self):
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self._scorer is not None:
            self._scorer.close()  # the spill files it read views from here


def outcomes_of(scored: Iterable[ScoredPair]):
    """(OK, Edge) per related pair and (FAILED, ErrorRecord) per failed one; unrelated pairs give nothing."""
    for pair in scored:
        if pair.error is not None:
            STAGE_ERRORS.inc()
            yield FAILED, pair.error
        elif pair.edge is not None:
            yield OK, pair.edge


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


class SpillViewsFn(BundleSpillFn):
    """A record -> (its view bucket, (file id, where its packed view was spilled)): one spill file a
    bundle, closed when the bundle ends, before any scoring step reads it."""

    def __init__(self, spill_dir: str):
        super().__init__(spill_dir, "views")

    def process(self, record: FileRecord):
        yield view_bucket(record.file_id), (record.file_id, self.bundle_spill().add(packed_view(record)))


class ScorePairs(beam.PTransform):
    """Candidate pairs ((a, b), shared keys) -> (typed edges, scoring errors); key columns given one
    parent; version families resolved; min_confidence applied.

    Pairs are grouped in batches of their first files' pairs, in path order (scoring_batches), and
    scored against the PairViews of `records` (transforms/detect/pair_view.py), read
    as a side input keyed by bucket of file ids: a view travels once per worker,
    never once per pair. `scorer` replaces the plain ScoreBatchFn (a subclass, e.g.
    one reusing cached scores).

    With `spill_dir`, the packed views wait there (SpillViewsFn) and the side input
    holds where each one is: the runner keeps a side input until the run ends, and
    the scoring processes read the views they need from the files themselves.
    spill.remove_spill deletes the folder once scoring is done.
    """

    def __init__(self, records, config: Config, stats, telemetry: Optional[Telemetry] = None,
                 scorer: Optional["ScoreBatchFn"] = None, spill_dir: Optional[str] = None,
                 label: Optional[str] = None):
        super().__init__(label)
        self._records = records
        self._config = config
        self._stats = stats
        self._telemetry = telemetry
        self._scorer = scorer
        self._spill_dir = spill_dir

    def expand(self, pairs):
        threshold = self._config.relationships.thresholds.min_confidence
        telemetry = self._telemetry
        slim = (SpillViewsFn(self._spill_dir) if self._spill_dir
                else lambda r: [(view_bucket(r.file_id), (r.file_id, packed_view(r)))])
        views = self._records | "SlimForScoring" >> beam.ParDo(Timed("join", slim, telemetry))
        batch_of_file = beam.pvalue.AsSingleton(
            self._records
            | "FilePaths" >> beam.Map(lambda r: (r.file_id, r.file_path))
            | "AllFilePaths" >> beam.combiners.ToList()
            | "BatchesInPathOrder" >> beam.Map(scoring_batches))
        batches = (
            pairs
            | "KeyByBatch" >> beam.Map(_keyed_by_batch, batch_of_file=batch_of_file)
            | "GroupBatches" >> beam.GroupByKey()
        )
        scorer = self._scorer or ScoreBatchFn(self._config, telemetry)
        scored, errors = split_outcomes(
            batches | "Score" >> beam.ParDo(Timed("score", scorer, telemetry),
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


def scoring_batches(files: Iterable[Tuple[str, str]]) -> Dict[str, int]:
    """(file id, path) of every file -> the scoring batch of the pairs whose first file it is:
    SCORE_BATCH_FILES first files a batch, in path order. Files near each other in a tree meet the
    same partners, so a scoring process decodes each view fewer times than with batches at random
    (a dev simulation at 12,413 files, caches of a fifth of the views: about half the decodes)."""
    ordered = sorted(files, key=lambda file: (file[1], file[0]))
    return {file_id: index // SCORE_BATCH_FILES for index, (file_id, _) in enumerate(ordered)}


def _keyed_by_batch(pair_shared, batch_of_file: Dict[str, int]):
    (first_id, second_id), shared = pair_shared
    return batch_of_file[first_id], pack_pair(first_id, second_id, shared)


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
