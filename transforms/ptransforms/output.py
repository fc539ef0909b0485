"""Beam wrappers of the output stages: LLM review of borderline edges, training records, human review."""

from __future__ import annotations

import json
import struct
from typing import Dict, Optional, Sequence

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.config import Config
from transforms.extract.matching import relative_path
from transforms.output import review
from transforms.output.training import dataset as training_dataset
from transforms.output.training import (
    PackedLink,
    ends,
    link_from_candidate,
    link_from_edge,
    record_path,
    record_settings,
)
from transforms.output.spill import SpilledLine, spill_file, spill_writer
from transforms.output.training.components import (
    TrainingRecord,
    chunk_records,
    component_batch,
    component_tasks,
    task_chunks,
    training_record,
)
from transforms.output.training.reasoner import RELATED
from transforms.telemetry import NAMESPACE, Telemetry

from transforms.model import ErrorRecord
from transforms.processes import ChunkPool, worker_pool
from transforms.ptransforms.common import FAILED, OK, STAGE_ERRORS, BundleSpillFn, Timed, split_outcomes
from transforms.ptransforms.grouping import SpilledGroupByKey


class TrainingRecordCoder(beam.coders.Coder):
    """The fields as JSON, the de-duplication signature, then the compressed line as it is (filters
    and counts pass a record on without encoding its text again), or where the line was spilled."""

    def encode(self, value) -> bytes:
        record = value if isinstance(value, TrainingRecord) else TrainingRecord(value)
        fields = json.dumps(record.fields, sort_keys=True, ensure_ascii=False).encode("utf-8")
        head = fields + record.signature
        if record.spilled is None:
            return struct.pack(">III", len(fields), len(record.signature), 0) + head + record.packed
        path = record.spilled.path.encode("utf-8")
        return (struct.pack(">III", len(fields), len(record.signature), len(path)) + head + path
                + struct.pack(">QQ", record.spilled.offset, record.spilled.length))

    def decode(self, encoded: bytes) -> TrainingRecord:
        size, signed, spilled = struct.unpack_from(">III", encoded)
        start = 12 + size
        end = start + signed
        fields, signature = json.loads(encoded[12:start]), encoded[start:end]
        if not spilled:
            return training_record(fields, encoded[end:], signature)
        offset, length = struct.unpack_from(">QQ", encoded, end + spilled)
        return training_record(fields, None, signature,
                               SpilledLine(encoded[end:end + spilled].decode("utf-8"), offset, length))

    def is_deterministic(self) -> bool:
        return True

    def to_type_hint(self):
        return TrainingRecord


beam.coders.registry.register_coder(TrainingRecord, TrainingRecordCoder)

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
def NotRelatedPairs(pairs, grouping, per_file: int):
    """Candidate pairs without an edge, across components of one split, at most `per_file` picked per file.

    negative_allowed refuses two files that any chain of edges joins, so a pair with an edge never
    passes it: the candidates need no join with the edges (at 100k files, a grouping of two million).
    """
    unlinked = pairs | "Unlinked" >> beam.FlatMap(
        lambda pk, g: [(pk[0], sorted(pk[1]))] if training_dataset.negative_allowed(*pk[0], g) else [], g=grouping)
    return (
        unlinked
        | "ByEnd" >> beam.FlatMap(lambda pk: [(end, (training_dataset.sampled(pk[0], end), pk[0], pk[1]))
                                              for end in pk[0]])
        | "PickPerFile" >> beam.combiners.Top.SmallestPerKey(per_file)
        | "Picked" >> beam.FlatMap(lambda kv: [(pair, kinds) for _, pair, kinds in kv[1]])
        | "DistinctPairs" >> beam.CombinePerKey(lambda kinds: min(kinds))
        | "NotRelatedLinks" >> beam.Map(
            lambda pk, g: PackedLink(link_from_candidate(pk[0][0], pk[0][1], pk[1], {i: g[i][2] for i in pk[0]})),
            g=grouping)
    )


class ComponentBatchFn(beam.DoFn):
    """A batch of components, (batch, {"files": [(component, (summary, split or None))], "links":
    [(component, link)]}) -> (OK, TrainingRecord) per record and (FAILED, ErrorRecord) per component
    that failed (components.component_tasks).

    Components are built in chunks (components.task_chunks) on `batch.worker_processes`
    processes (processes.ChunkPool), or here with 0 or where this worker may not start
    processes. Every outcome is emitted before `process` returns.

    With `spill_dir`, a batch's lines go to one spill file there (spill.py), and its records
    carry only where their lines are.
    """

    def __init__(self, settings, workers: int, spill_dir: Optional[str] = None):
        self._settings = settings
        self._workers = workers
        self._spill_dir = spill_dir
        self._pool: Optional[ChunkPool] = None
        self._started = False

    def process(self, element):
        batch, grouped = element
        if not self._started:
            self._started, self._pool = True, worker_pool(self._workers, self._settings, chunk_records, "training")
        chunks = task_chunks(component_tasks(grouped["files"], grouped["links"]))
        built = self._pool.map(chunks) if self._pool is not None else (
            chunk_records(self._settings, chunk) for chunk in chunks)
        if self._spill_dir is None:
            yield from self._outcomes(built, None)
        else:
            with spill_writer(spill_file(self._spill_dir, batch)) as spill:
                yield from self._outcomes(built, spill)

    @staticmethod
    def _outcomes(built, spill):
        for outcomes in built:
            for outcome in outcomes:
                if isinstance(outcome, ErrorRecord):
                    STAGE_ERRORS.inc()
                    yield FAILED, outcome
                else:
                    yield OK, outcome if spill is None else outcome.spilled_to(spill)

    def finish_bundle(self):
        self.teardown()  # the processes' memory need not wait for the end of the run

    def teardown(self):
        if self._pool is not None:
            self._pool.close()
        self._pool, self._started = None, False


class SpillLinesFn(BundleSpillFn):
    """SpillableRecords, or (key, SpillableRecord) pairs -> the same, their lines written to one spill
    file a bundle and no longer held: training's joins hold every file summary and link, some twice,
    until the component batches read them back (components.component_tasks)."""

    def process(self, element):
        if isinstance(element, tuple):
            key, record = element
            yield key, record.spilled_to(self.bundle_spill())
        else:
            yield element.spilled_to(self.bundle_spill())


def Spilled(spill_dir: Optional[str], prefix: str) -> beam.PTransform:
    """SpillLinesFn into `spill_dir`; without one, the records stay as they are."""
    if spill_dir is None:
        return beam.Map(lambda element: element)
    return beam.ParDo(SpillLinesFn(spill_dir, prefix))


@beam.ptransform_fn
def TrainingRecords(edges, summaries, pairs, config: Config, roots: Sequence[str], thresholds: Dict[str, float],
                    telemetry: Optional[Telemetry] = None, spill_dir: Optional[str] = None,
                    grouping_spill_dir: Optional[str] = None):
    """Edges + file summaries + candidate pairs -> (records of every task, placed in splits by component,
    errors of components whose records failed). With `spill_dir`, links wait there for their
    component batches and the records' lines for their shards (spill.remove_spill deletes it after);
    summaries are best spilled there too (Spilled). With `grouping_spill_dir`, the grouping of
    files and links into component batches waits there too (grouping.SpilledGroupByKey)."""
    level = config.training.precision_level
    links = edges | "Links" >> beam.Map(lambda e: PackedLink(link_from_edge(
        e.to_dict(), {e.source: record_path(e.source_path, roots), e.target: record_path(e.target_path, roots)},
        thresholds[e.relationship_type], level))) | "SpillLinks" >> Spilled(spill_dir, "links")
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
        negatives = (pairs | "NotRelatedPairs" >> NotRelatedPairs(grouping, config.training.negatives_per_file)
                     | "SpillNegatives" >> Spilled(spill_dir, "links"))
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
            lambda kv: [(c, (kv[1]["summary"][0], None)) for c in set(kv[1]["wanted"])] if kv[1]["summary"] else [])
    )
    # A component's own files carry its split, so the batches need no grouping beside them.
    own = summaries | "OwnFiles" >> beam.Map(lambda kv, g: (g[kv[0]][0], (kv[1], g[kv[0]][1])), g=grouping)
    keyed_links = taught | "LinksByComponent" >> beam.FlatMap(
        lambda l, g: [(c, l) for c in {g[i][0] for i in ends(l)}], g=grouping)
    # Components travel in batches (keyed by component_batch), so that worker processes build them side by side.
    n_files = beam.pvalue.AsSingleton(summaries | "CountFiles" >> beam.combiners.Count.Globally())
    outcomes = (
        ((own, external) | "Files" >> beam.Flatten() | "FilesByBatch" >> beam.Map(_by_batch, n_files, "files"),
         keyed_links | "LinksByBatch" >> beam.Map(_by_batch, n_files, "links"))
        | "BatchEntries" >> beam.Flatten()
        | "GroupBatches" >> SpilledGroupByKey(grouping_spill_dir, "batches")
        | "BatchParts" >> beam.Map(_batch_parts)
        | "ComponentRecords" >> beam.ParDo(Timed(
            "train", ComponentBatchFn(record_settings(config), config.batch.worker_processes, spill_dir), telemetry))
    )
    return split_outcomes(outcomes, "SplitRecords", TrainingRecord)


def _by_batch(entry, n_files: int, kind: str):
    """(component, value) -> (its batch, (kind, (component, value)))."""
    return component_batch(entry[0], n_files), (kind, entry)


def _batch_parts(batch):
    """(batch, [(kind, entry)]) -> (batch, {"files": [entries], "links": [entries]})."""
    key, tagged = batch
    parts = {"files": [], "links": []}
    for kind, entry in tagged:
        parts[kind].append(entry)
    return key, parts


def OnlySplit(split: str) -> beam.PTransform:
    """Training records -> those of one split, still compressed in transit (a plain Filter's
    output would be pickled whole: at 1k files the largest buffer of the run)."""
    return beam.Filter(training_dataset.in_split, split).with_output_types(TrainingRecord)


def _duplicates_in_crowded(bucket, signed, threshold: float):
    _, keys = bucket
    return training_dataset.duplicates_in_bucket([((task, i), signature) for i, task, signature in
                                                  (signed[key] for key in keys)], threshold)


@beam.ptransform_fn
def DropNearDuplicates(records, threshold: float, telemetry: Optional[Telemetry] = None):
    """Records -> (records without near-duplicates, IDs dropped); the smallest (task, id) of each group is kept.

    Each TrainingRecord carries its MinHash, made when it was built. Bands are grouped on record keys
    (16 bytes, dataset.record_key) alone, packed a batch of records at a time (dataset.band_blobs) and
    keyed by shard of buckets, so the grouping holds arrays, not an object per band entry. The buckets
    holding two or more records read the signatures from a side input: one copy of each, where
    joining them into their buckets made one per bucket (5.8 per record on the 12,413-file scale
    corpus). The records wait for the IDs dropped without their signatures.
    """
    signed = records | "Signatures" >> beam.Map(
        lambda r: (training_dataset.record_key(r["id"]), (r["id"], r["task"], r.signature)))
    dropped = (
        signed
        | "BatchSigned" >> beam.BatchElements(min_batch_size=256, max_batch_size=8192)
        | "Bands" >> beam.FlatMap(training_dataset.band_blobs)
        | "GroupBands" >> beam.GroupByKey()
        | "Crowded" >> beam.FlatMap(lambda shard: training_dataset.crowded_buckets(shard[1]))
        | "Duplicates" >> beam.ParDo(Timed("train", _duplicates_in_crowded, telemetry),
                                     signed=beam.pvalue.AsDict(signed), threshold=threshold)
        | "DistinctDropped" >> beam.Distinct()
    )
    # Unsigned where the records are made: they wait for `dropped` without their signatures.
    unsigned = records | "Unsigned" >> beam.Map(lambda r: r.unsigned()).with_output_types(TrainingRecord)
    kept = unsigned | "Kept" >> beam.FlatMap(
        lambda r, gone: [] if r["id"] in gone else [r], gone=beam.pvalue.AsDict(
            dropped | "MarkDropped" >> beam.Map(lambda i: (i, True)))).with_output_types(TrainingRecord)
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
