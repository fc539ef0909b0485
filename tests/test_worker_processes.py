"""Work done on worker processes (processes.ChunkPool) equals the same work done in the runner's worker:
pairs scored in chunks, training records built a batch of components at a time, a whole run's shards.
A worker process that dies loses nothing, and a failure inside one is an error record like any other."""

import gc
import glob
import os
import time
import weakref

import pytest

from beam_pipeline.sample_corpus import write_sample_corpus
from transforms.config import Config, ConfigError, with_overrides
from transforms.detect.pair_scoring import (
    PairScorer,
    chunks_of,
    file_groups,
    files_of,
    score_chunk,
)
from transforms import processes
from transforms.processes import ChunkPool, PacedCollector
from transforms.detect.pair_view import packed_view, pair_view, view_bucket
from transforms.detect.relationships import candidate_pairs
from transforms.extract.local import extract_paths


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The records of a small sample corpus."""
    _, drive = write_sample_corpus(str(tmp_path_factory.mktemp("corpus")), projects=3, seed=2)
    paths = sorted(p for p in glob.glob(os.path.join(drive, "**", "*"), recursive=True) if os.path.isfile(p))
    records, _ = extract_paths(paths, Config())
    return records


@pytest.fixture(scope="module")
def scored_corpus(extracted):
    """Pair views of the records, their candidate pairs and corpus statistics."""
    pairs, _, stats = candidate_pairs(extracted, Config())
    return {r.file_id: pair_view(r) for r in extracted}, pairs, stats


def _one_at_a_time(views, pairs, stats):
    scorer = PairScorer(Config(), stats)
    return [scorer.score(views[a], views[b], shared) for (a, b), shared in sorted(pairs.items())]


def _chunks(views, pairs, pairs_per_chunk):
    groups = file_groups((a, b, shared) for (a, b), shared in pairs.items())
    packed = {file_id: packed_view(view) for file_id, view in views.items()}
    return [(chunk, {f: packed[f] for f in files_of(chunk)}) for chunk in chunks_of(groups, pairs_per_chunk)]


def _edges(scored):
    return [(p.edge.to_dict() if p.edge else None, p.error) for p in scored]


def test_file_groups_and_chunks_keep_every_pair_once_in_order_and_whole_groups():
    triples = [("b", "c", {"k": 2}), ("a", "c", {}), ("a", "b", {}), ("c", "d", {}), ("b", "d", {})]
    groups = file_groups(triples)
    assert groups == [("a", [("b", {}), ("c", {})]), ("b", [("c", {"k": 2}), ("d", {})]), ("c", [("d", {})])]
    assert chunks_of(groups, 2) == [[groups[0]], [groups[1]], [groups[2]]]
    assert chunks_of(groups, 3) == [groups[:2], groups[2:]]
    assert chunks_of(groups, 100) == [groups] and chunks_of([], 5) == []
    assert files_of(groups[:2]) == ["a", "b", "c", "d"]


def test_scoring_batches_hold_first_files_in_path_order_a_batch_at_a_time():
    from transforms.ptransforms.detect import SCORE_BATCH_FILES, scoring_batches

    n = 2 * SCORE_BATCH_FILES + 3
    # IDs in the reverse of their paths' order, so a batch by ID would be another batch.
    files = [(f"id-{n - i:05d}", f"/drive/{i // 10:03d}/file-{i:05d}.csv") for i in range(n)]
    batches = scoring_batches(reversed(files))
    assert batches == scoring_batches(files)  # the order they arrive in does not matter
    assert [batches[file_id] for file_id, _ in files] == [i // SCORE_BATCH_FILES for i in range(n)]
    # A folder's files share a batch unless a batch boundary falls inside it.
    assert batches[files[0][0]] == batches[files[9][0]] == 0
    assert batches[files[-1][0]] == 2 and list(batches.values()).count(2) == 3
    # Two files at one path (two inputs' roots) are ordered by ID.
    assert scoring_batches([("b", "/x"), ("a", "/x")]) == {"a": 0, "b": 0}


def test_chunks_scored_on_scoring_processes_equal_pairs_scored_one_at_a_time(scored_corpus):
    views, pairs, stats = scored_corpus
    expected = _one_at_a_time(views, pairs, stats)
    assert sum(1 for p in expected if p.edge) > 20 and not any(p.error for p in expected)
    chunks = _chunks(views, pairs, 50)
    assert len(chunks) > 4
    pooled, here = _scored_on_processes_and_here(chunks, stats)
    assert _edges(pooled) == _edges(expected) and _edges(here) == _edges(expected)


def _scored_on_processes_and_here(chunks, stats):
    """The chunks scored on two scoring processes, and in this process."""
    pool = ChunkPool(2, PairScorer(Config(), stats), score_chunk, "scoring")
    try:
        pooled = [pair for scored in pool.map(chunks) for pair in scored]
    finally:
        pool.close()
    scorer = PairScorer(Config(), stats)
    here = [pair for groups, packed in chunks for pair in scorer.score_chunk(groups, packed)]
    scorer.close()
    return pooled, here


def test_chunks_of_spilled_views_score_as_chunks_of_packed_views(scored_corpus, tmp_path):
    """Views spilled to disk (ScorePairs with a spill folder): the scoring processes read them themselves."""
    from transforms.output.spill import BundleSpill, SpilledLine

    views, pairs, stats = scored_corpus
    expected = _one_at_a_time(views, pairs, stats)
    bundle = BundleSpill(str(tmp_path), "views")
    spilled = {file_id: bundle.add(packed_view(view)) for file_id, view in sorted(views.items())}
    bundle.close()
    chunks = [(groups, {f: spilled[f] for f in packed}) for groups, packed in _chunks(views, pairs, 50)]
    assert all(isinstance(place, SpilledLine) for _, packed in chunks for place in packed.values())
    pooled, here = _scored_on_processes_and_here(chunks, stats)
    assert _edges(pooled) == _edges(expected) and _edges(here) == _edges(expected)


class DyingScorer(PairScorer):
    """Kills its scoring process on the chunk holding `fatal_file` (it scores normally in the test's own)."""

    def __init__(self, config, stats, fatal_file, parent_pid):
        super().__init__(config, stats)
        self.fatal_file, self.parent_pid = fatal_file, parent_pid

    def score_chunk(self, groups, packed):
        if os.getpid() != self.parent_pid and any(first == self.fatal_file for first, _ in groups):
            os._exit(9)
        return super().score_chunk(groups, packed)


def test_a_scoring_process_that_dies_loses_no_pair(scored_corpus, caplog):
    views, pairs, stats = scored_corpus
    expected = _one_at_a_time(views, pairs, stats)
    chunks = _chunks(views, pairs, 50)
    fatal = chunks[len(chunks) // 2][0][0][0]
    pool = ChunkPool(2, DyingScorer(Config(), stats, fatal, os.getpid()), score_chunk, "scoring")
    try:
        pooled = [pair for scored in pool.map(chunks) for pair in scored]
        again = [pair for scored in pool.map(chunks) for pair in scored]  # the pool is gone: scored here
    finally:
        pool.close()
    assert _edges(pooled) == _edges(expected) and _edges(again) == _edges(expected)
    assert "a scoring process stopped" in caplog.text


class FailingScorer(PairScorer):
    """Fails every pair of `fatal_file`, wherever it runs."""

    def __init__(self, config, stats, fatal_file):
        super().__init__(config, stats)
        self.fatal_file = fatal_file

    def _typed_edge(self, a, b, shared):
        if self.fatal_file in (a.file_id, b.file_id):
            raise ValueError("boom")
        return super()._typed_edge(a, b, shared)


def test_a_pair_that_fails_in_a_scoring_process_comes_back_as_its_error_record(scored_corpus):
    views, pairs, stats = scored_corpus
    fatal = sorted(pairs)[0][0]
    pool = ChunkPool(2, FailingScorer(Config(), stats, fatal), score_chunk, "scoring")
    try:
        pooled = [pair for scored in pool.map(_chunks(views, pairs, 50)) for pair in scored]
    finally:
        pool.close()
    failed = [p.error for p in pooled if p.error is not None]
    assert len(failed) == sum(1 for pair in pairs if fatal in pair) and len(pooled) == len(pairs)
    assert {e.message for e in failed} == {"ValueError: boom"} and all(e.stage == "score" for e in failed)
    assert all(views[fatal].file_path in (e.file_path, e.paired_with) for e in failed)


def test_scoring_batches_give_the_same_outcomes_with_and_without_scoring_processes(scored_corpus):
    from transforms.ptransforms.detect import ScoreBatchFn

    views, pairs, stats = scored_corpus
    buckets = {}
    for file_id, view in views.items():
        buckets.setdefault(view_bucket(file_id), []).append((file_id, packed_view(view)))
    batch = (0, [(a, b, shared) for (a, b), shared in sorted(pairs.items())])
    outcomes = {}
    for workers in (0, 2):
        fn = ScoreBatchFn(with_overrides(Config(), **{"batch.worker_processes": workers}))
        fn.setup()
        outcomes[workers] = [(kind, value.to_dict()) for kind, value in fn.process(batch, buckets, stats)]
        assert (fn._pool is not None) == (workers == 2 and (os.cpu_count() or 1) > 1)
        fn.finish_bundle()
        assert fn._pool is None  # stopped with the bundle; the next bundle starts its own
        assert [(kind, value.to_dict()) for kind, value in fn.process(batch, buckets, stats)] == outcomes[workers]
        assert (fn._pool is not None) == (workers == 2 and (os.cpu_count() or 1) > 1)
        fn.finish_bundle()
        fn.teardown()
    assert outcomes[0] == outcomes[2] and len(outcomes[0]) > 20


def test_what_worker_processes_run_imports_no_beam():
    """Spawned workers import only their work's modules: Beam, and pandas with it, would load into each one."""
    import subprocess
    import sys

    code = ("import sys, transforms.detect.pair_scoring, transforms.output.training.components, "
            "transforms.index.cache; print(sorted(m for m in ('apache_beam', 'pandas') if m in sys.modules))")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"


class _Cycle:
    pass


_CYCLES = []


def _leave_a_cycle(state, chunk):
    """Leaves one reference cycle behind; reports (collection thresholds, cycles of this process gone)."""
    cycle = _Cycle()
    cycle.itself = cycle
    _CYCLES.append(weakref.ref(cycle))
    del cycle
    time.sleep(0.02)
    return gc.isenabled(), gc.get_threshold(), sum(ref() is None for ref in _CYCLES)


@pytest.mark.parametrize("young_collections", [True, False])
def test_pool_processes_leave_full_collections_to_the_paced_collector_and_lose_no_garbage(young_collections):
    pool = ChunkPool(2, None, _leave_a_cycle, "test", young_collections)
    try:
        reports = list(pool.map(range(40)))
    finally:
        pool.close()
    young, middle, oldest = gc.get_threshold()
    expected = (True, (young, middle, processes.NEVER)) if young_collections else (False, (young, middle, oldest))
    assert {(enabled, threshold) for enabled, threshold, _ in reports} == {expected}
    assert max(gone for _, _, gone in reports) >= 1  # earlier chunks' cycles were collected


class _MarksItsEnd:
    """Writes `path` when it is freed: at a process's exit only if the interpreter tears down its objects."""

    def __init__(self, path):
        self.path = path

    def __del__(self, _open=os.open, _close=os.close):  # builtins may be gone by then
        _close(_open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))


_KEPT = []


def _keep_an_object(marker_dir, chunk):
    _KEPT.append(_MarksItsEnd(os.path.join(marker_dir, f"{os.getpid()}-{chunk}")))
    return chunk * 2


def test_pool_processes_exit_without_freeing_their_objects_one_by_one(tmp_path):
    """A scoring process's objects took seconds to free at exit; the pool's shutdown waited for it."""
    pool = ChunkPool(2, str(tmp_path), _keep_an_object, "test")
    try:
        assert list(pool.map(range(6))) == [0, 2, 4, 6, 8, 10]  # every result came back first
    finally:
        pool.close()
    assert os.listdir(tmp_path) == []


def test_scoring_pools_run_without_young_collections(scored_corpus, monkeypatch):
    """Scoring leaves little cyclic garbage, and young collections cost its processes a fifth of their time."""
    from transforms.ptransforms import detect

    asked = []
    monkeypatch.setattr(detect, "worker_pool", lambda *args, **kwargs: asked.append(kwargs))  # scores here
    views, pairs, stats = scored_corpus
    buckets = {}
    for file_id, view in views.items():
        buckets.setdefault(view_bucket(file_id), []).append((file_id, packed_view(view)))
    fn = detect.ScoreBatchFn(Config())
    fn.setup()
    list(fn.process((0, [(a, b, shared) for (a, b), shared in sorted(pairs.items())][:5]), buckets, stats))
    fn.teardown()
    assert asked == [{"young_collections": False}]


def test_a_paced_collector_collects_once_the_work_outweighs_the_last_collection(monkeypatch):
    collected = []
    clock = iter([0.0, 0.5, 10.0, 10.5])  # each collection takes 0.5 s
    monkeypatch.setattr(processes.gc, "collect", lambda: collected.append(True))
    monkeypatch.setattr(processes.time, "perf_counter", lambda: next(clock))
    collector = PacedCollector(ratio=20)
    collector.worked(1.0)  # nothing collected yet, so the first chunk's end collects
    assert len(collected) == 1
    collector.worked(9.9)  # less than 20 x 0.5 s of work since
    assert len(collected) == 1
    collector.worked(0.1)
    assert len(collected) == collector.collections == 2


def test_worker_processes_must_not_be_negative():
    with pytest.raises(ConfigError, match="worker_processes"):
        with_overrides(Config(), **{"batch.worker_processes": -1})


# ---------------------------------------------------------------- training records


def _component_tasks(scored_corpus, records):
    from transforms.output.training import edge_links, ends, groups, sure_thresholds
    from transforms.output.training import FileSummary, file_summary
    from transforms.output.training.components import component_tasks
    from transforms.output.training.reasoner import RELATED
    from transforms.detect.scoring import ConfidenceModel

    views, pairs, stats = scored_corpus
    edges = [p.edge.to_dict() for p in _one_at_a_time(views, pairs, stats) if p.edge]
    summaries = {r.file_id: FileSummary(file_summary(r, [], 400)) for r in records}
    paths = {i: s["file_path"] for i, s in summaries.items()}
    links = edge_links(edges, paths, sure_thresholds(Config(), ConfidenceModel.load()), 0.9)
    grouping = groups(paths, [ends(l) for l in links if l["label"] == RELATED], [ends(l) for l in links],
                      Config().training.splits)
    files = [(grouping[i][0], (s, grouping[i][1])) for i, s in summaries.items()]
    files += [(grouping[j][0], (summaries[i], None)) for l in links for i, j in (ends(l), ends(l)[::-1])
              if grouping[i][0] != grouping[j][0]]
    keyed_links = [(c, l) for l in links for c in {grouping[i][0] for i in ends(l)}]
    return component_tasks(files, keyed_links)


def _lines(built):
    return [(r.fields, r.packed, r.signature) if not hasattr(r, "stage") else r for r in built]


def test_training_records_built_on_worker_processes_equal_those_built_here(scored_corpus, extracted):
    from transforms.output.training import record_settings
    from transforms.output.training.components import chunk_records, task_chunks

    tasks = _component_tasks(scored_corpus, extracted)
    chunks = task_chunks(tasks, 8)
    assert len(tasks) > 5 and len(chunks) > 2
    assert [t.component for chunk in chunks for t in chunk] == sorted(t.component for t in tasks)
    settings = record_settings(Config())
    here = [r for chunk in chunks for r in chunk_records(settings, chunk)]
    pool = ChunkPool(2, settings, chunk_records, "training")
    try:
        pooled = [r for built in pool.map(chunks) for r in built]
    finally:
        pool.close()
    assert len(here) > 50 and not any(hasattr(r, "stage") for r in here)
    assert _lines(pooled) == _lines(here)


def test_a_component_that_fails_is_one_error_record_and_the_others_are_built(scored_corpus, extracted):
    from transforms.output.training import record_settings
    from transforms.output.training.components import chunk_records

    tasks = _component_tasks(scored_corpus, extracted)
    broken = tasks[1]._replace(links=[{"source_id": "missing", "target_id": "missing"}])
    built = chunk_records(record_settings(Config()), [tasks[0], broken, tasks[2]])
    errors = [r for r in built if hasattr(r, "stage")]
    assert len(errors) == 1 and errors[0].stage == "train" and errors[0].error_type == "internal_error"
    assert errors[0].file_path == sorted(s["file_path"] for s in broken.files.values())[0]
    assert _lines([r for r in built if not hasattr(r, "stage")]) == _lines(
        chunk_records(record_settings(Config()), [tasks[0], tasks[2]]))


def test_a_large_component_built_in_parts_gives_the_records_it_gives_whole(monkeypatch, scored_corpus, extracted):
    """Parts of a component (components.PART_FILES) each build a share of its records, once each; together
    they are its records. A part that fails is one error naming the part; the other parts are built."""
    from transforms.output.training import components, record_settings
    from transforms.output.training.components import chunk_records, task_chunks

    settings = record_settings(Config())
    whole = _component_tasks(scored_corpus, extracted)
    monkeypatch.setattr(components, "PART_FILES", 4)
    parted = _component_tasks(scored_corpus, extracted)
    largest = max(whole, key=lambda t: len(t.own))
    shares = [t.share for t in parted if t.component == largest.component]
    assert len(largest.own) > 8 and shares == [(i, len(shares)) for i in range(-(-len(largest.own) // 4))]

    def built(tasks):
        lines = _lines(r for chunk in task_chunks(tasks, 8) for r in chunk_records(settings, chunk))
        return sorted(lines, key=lambda line: line[0]["id"])

    assert len(parted) > len(whole) and built(parted) == built(whole)
    broken = [t._replace(links=[{"source_id": "missing", "target_id": "missing"}])
              if t.share == (1, len(shares)) and t.component == largest.component else t for t in parted]
    outcomes = chunk_records(settings, broken)
    errors = [r for r in outcomes if hasattr(r, "stage")]
    second = next(t for t in parted if t.share == (1, len(shares)) and t.component == largest.component)
    assert len(outcomes) - 1 == len(built(parted)) - len(chunk_records(settings, [second])) > 0
    assert [e.message.split(":")[0] for e in errors] == [f"part 2 of {len(shares)} of its component"]


def test_component_batches_spill_the_same_records_they_would_hold(tmp_path, scored_corpus, extracted):
    from transforms.output.training import record_settings
    from transforms.ptransforms.output import ComponentBatchFn

    tasks = _component_tasks(scored_corpus, extracted)
    files = _task_files(tasks)
    links = [(t.component, link) for t in tasks for link in t.links]
    element = (5, {"files": files, "links": links})
    outcomes = {}
    for spill_dir in (None, str(tmp_path / "spill")):
        fn = ComponentBatchFn(record_settings(Config()), 0, spill_dir)
        outcomes[spill_dir] = list(fn.process(element))
        fn.teardown()
    held, spilled = outcomes[None], outcomes[str(tmp_path / "spill")]
    assert len(held) > 50 and [k for k, _ in held] == [k for k, _ in spilled]
    assert all(r.packed is None and r.spilled.path.endswith("batch-5.bin") for _, r in spilled)
    assert [r.compressed() for _, r in spilled] == [r.packed for _, r in held]
    assert [r.signature for _, r in spilled] == [r.signature for _, r in held]


def test_component_batches_read_spilled_summaries_and_links_back_and_build_the_same_records(tmp_path, scored_corpus, extracted):
    """Summaries and links that wait on disk (SpillLinesFn) give a batch the records that those held in
    memory give; a batch reads only what its linked components need."""
    from transforms.output.spill import BundleSpill
    from transforms.output.training import PackedLink, record_settings
    from transforms.ptransforms.output import ComponentBatchFn

    tasks = _component_tasks(scored_corpus, extracted)
    files = _task_files(tasks)
    links = [(t.component, link) for t in tasks for link in t.links]
    spill = BundleSpill(str(tmp_path / "spill"), "lines")
    spilled_files = [(c, (s.spilled_to(spill), split)) for c, (s, split) in files]
    spilled_links = [(c, PackedLink(link).spilled_to(spill)) for c, link in links]
    spill.close()
    assert all(s.packed is None and s.spilled is not None for _, (s, _) in spilled_files)
    built = {}
    for name, entries in (("held", (files, links)), ("spilled", (spilled_files, spilled_links))):
        fn = ComponentBatchFn(record_settings(Config()), 0)
        built[name] = [(k, r.fields, r.packed, r.signature) for k, r in fn.process(
            (3, {"files": entries[0], "links": entries[1]}))]
        fn.teardown()
    assert len(built["held"]) > 50 and built["spilled"] == built["held"]
    from transforms.output.training.components import component_tasks
    unlinked = [(c + "-alone", entry) for c, entry in spilled_files[:3]]
    os.remove(spilled_files[0][1][0].spilled.path)
    assert component_tasks(unlinked, []) == []  # what no linked component needs is never read


def _task_files(tasks):
    """The (component, (summary, split or None)) entries that gave `tasks`."""
    return [(t.component, (s, t.split if i in t.own else None)) for t in tasks for i, s in t.files.items()]


def test_a_run_gives_the_same_shards_with_and_without_worker_processes(tmp_path):
    import filecmp

    from beam_pipeline.pipeline import run_pipeline

    _, drive = write_sample_corpus(str(tmp_path / "corpus"), projects=2, seed=4, rows_scale=0.3)
    outs = {}
    for workers in (0, 2):
        outs[workers] = tmp_path / f"out{workers}"
        run_pipeline([drive], str(outs[workers]), with_overrides(Config(), **{"batch.worker_processes": workers}),
                     progress=False)
    compared = 0
    for folder in ("nodes", "edges", "errors", os.path.join("training", "data")):
        names = sorted(os.listdir(outs[0] / folder))
        assert names == sorted(os.listdir(outs[2] / folder))
        for name in names:
            assert filecmp.cmp(outs[0] / folder / name, outs[2] / folder / name, shallow=False), name
            compared += 1
    assert compared >= 4 and (outs[0] / "training" / "data").exists()
