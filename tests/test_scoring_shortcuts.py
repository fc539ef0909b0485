"""Scoring's shortcuts give exactly what the plain computation gives.

Scoring skips work it can prove useless (a key column holding none of a
child's values), keeps what one file yields for all its pairs (per-file facts,
decoded pair views) and replaces numpy calls on single values with plain
Python. Each shortcut is checked here against the computation it replaces.
(Edges from pair views, whose facts are kept, equal edges from plain records,
whose facts are recomputed each time: tests/test_pair_view.py.)
"""

import glob
import os
import random
from difflib import SequenceMatcher

import numpy as np
import pytest

from beam_pipeline.sample_corpus import write_sample_corpus
from transforms.config import Config
from transforms.detect import inclusion, semantic
from transforms.detect.corpus import PairContext
from transforms.detect.pair_view import PackedViews, ViewCache, packed_view, pair_view, view_bucket, view_weight
from transforms.detect.relationships import candidate_pairs
from transforms.extract.local import extract_paths
from transforms.naming import analyse_name, stem_similarity
from transforms.signatures import minhash_jaccard

CHINOOK_CSV = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "data",
                           "chinook", "csv")


@pytest.fixture(scope="module")
def data_views(tmp_path_factory):
    """Pair views of the data files of a sample corpus and, when present, of Chinook's CSV tables."""
    _, drive = write_sample_corpus(str(tmp_path_factory.mktemp("corpus")), projects=3, seed=1)
    paths = [p for p in glob.glob(os.path.join(drive, "**", "*"), recursive=True) if os.path.isfile(p)]
    paths += glob.glob(os.path.join(CHINOOK_CSV, "*.csv"))
    records, _ = extract_paths(sorted(paths), Config())
    return [pair_view(r) for r in records if r.is_data and r.tables]


def _best_of_every_key(child, parents, target_stem, source_stem, context, near=True):
    """The plain computation: every key column of the other file judged, the strongest kept."""
    best = None
    for d_table, d_col, d_hashes in parents:
        match = inclusion.candidate(child, d_table, d_col, d_hashes, target_stem, source_stem, None, context, near)
        if match and (best is None or match["strength"] > best["strength"]):
            best = match
    return best


def _plain_inclusion_candidates(src, dst, context):
    """inclusion_candidates without a shortcut: every child against every key, own keys judged each time."""
    stem = analyse_name(dst.file_path).stem if len(dst.tables) == 1 else ""
    source_stem = analyse_name(src.file_path).stem if len(src.tables) == 1 else ""
    parents, own_parents = inclusion._parents(dst.tables), inclusion._parents(src.tables)
    found = []
    for child in inclusion._children(src.tables):
        best = _best_of_every_key(child, parents, stem, source_stem, context, context.shares_small_folder())
        if best is None:
            continue
        own = _best_of_every_key(child, [p for p in own_parents if p[1] is not child.column], source_stem,
                                 source_stem, context)
        if own is not None and own["strength"] >= inclusion.MIN_LINK_STRENGTH and own["name_match"] >= best["name_match"]:
            continue
        found.append(best)
    found.sort(key=lambda c: (-c["strength"], c["source_table"], c["source_column"], c["list_items"]))
    return found


def test_inclusion_candidates_equal_the_plain_computation(data_views):
    """Children sharing no value with the other file's keys are skipped, whole files too, and a
    child's own keys are judged once per file: what comes out is what judging everything gives."""
    pairs, _, stats = candidate_pairs(data_views, Config())
    by_id = {v.file_id: v for v in data_views}
    found = skipped = too_many = 0
    for _ in range(2):  # the second time, every per-file memo is warm
        for (a_id, b_id), shared in sorted(pairs.items()):
            context = PairContext(shared=shared, stats=stats)
            for src, dst in ((by_id[a_id], by_id[b_id]), (by_id[b_id], by_id[a_id])):
                expected = _plain_inclusion_candidates(src, dst, context)
                assert inclusion.inclusion_candidates(src, dst, None, context) == expected
                found += len(expected)
                values = inclusion._file_child_values(src)  # None: too many values to keep as a set
                skipped += values is not None and values.isdisjoint(inclusion._file_key_values(dst))
                too_many += values is None
    assert found > 2000 and skipped > 800 and too_many > 50


def test_inclusion_judges_only_key_columns_that_can_contain_the_child(data_views):
    pairs, _, stats = candidate_pairs(data_views, Config())
    by_id = {v.file_id: v for v in data_views}
    compared = found = 0
    for (a_id, b_id), shared in sorted(pairs.items()):
        context = PairContext(shared=shared, stats=stats)
        for src, dst in ((by_id[a_id], by_id[b_id]), (by_id[b_id], by_id[a_id])):
            parents = inclusion._file_parents(dst)
            key_values = inclusion._file_key_values(dst)
            stems = analyse_name(dst.file_path).stem, analyse_name(src.file_path).stem
            for child in inclusion._file_children(src):
                expected = _best_of_every_key(child, parents, *stems, context)
                if key_values.isdisjoint(child.hashes):  # inclusion_candidates skips the child
                    assert expected is None
                    continue
                compared += 1
                assert inclusion._best_parent(child, parents, *stems, None, context) == expected
                found += expected is not None
    assert compared > 2000 and found > 1000


def test_view_cache_decodes_a_view_once_and_keeps_its_facts(data_views):
    loads = []
    by_id = {v.file_id: v for v in data_views}

    def load(file_id):
        loads.append(file_id)
        return pair_view(by_id[file_id]) if file_id in by_id else None

    cache = ViewCache()
    first, second = data_views[0].file_id, data_views[1].file_id
    view = cache.get(first, load)
    parents = inclusion._file_parents(view)
    assert cache.get(first, load) is view and inclusion._file_parents(cache.get(first, load)) is parents
    assert cache.get(second, load) is by_id[second]
    assert cache.get("no-record", load) is None and cache.get("no-record", load) is None
    assert loads == [first, second, "no-record"] and cache.decoded == 3


def test_view_cache_drops_the_least_recently_used_view_past_its_budget():
    loads = []
    cache = ViewCache(budget_bytes=25, weigh=lambda view: 10)
    for file_id in ("a", "b", "a", "c", "a", "b"):
        cache.get(file_id, lambda f: loads.append(f) or f.upper())
    # "b" went when "c" came ("a" had just been read); "c" went when "b" came back.
    assert loads == ["a", "b", "c", "b"]


def test_packed_views_load_a_bucket_once_and_drop_the_least_recent_past_the_budget():
    ids = [f"file-{i}" for i in range(400)]
    by_bucket = {}
    for file_id in ids:
        by_bucket.setdefault(view_bucket(file_id), []).append((file_id, file_id.encode() * 10))
    loads = []
    packed = PackedViews()
    for file_id in ids + ids:
        assert packed.get(file_id, lambda bucket: loads.append(bucket) or by_bucket[bucket]) == file_id.encode() * 10
    assert sorted(loads) == sorted(by_bucket) and packed.loaded == len(by_bucket)
    assert packed.get("never-seen", lambda bucket: by_bucket.get(bucket, [])) is None
    small = PackedViews(budget_bytes=1)  # only the bucket just read is kept
    loads.clear()
    for file_id in (ids[0], ids[1], ids[0]):
        small.get(file_id, lambda bucket: loads.append(bucket) or by_bucket[bucket])
    assert len(loads) == 3 if view_bucket(ids[0]) != view_bucket(ids[1]) else len(loads) == 1


def test_view_weight_follows_the_value_hashes(data_views):
    small, large = sorted(data_views, key=view_weight)[0], sorted(data_views, key=view_weight)[-1]
    hashes = sum(len(c.value_hashes) for t in large.tables for c in t.columns)
    assert view_weight(large) > view_weight(small) and view_weight(large) >= 100 * hashes


def test_minhash_jaccard_is_numpys_share_of_equal_slots():
    rng = random.Random(7)
    for size in (1, 2, 3, 64, 127, 128):
        for _ in range(50):
            a = [rng.getrandbits(64) for _ in range(size)]
            b = [x if rng.random() < rng.random() else rng.getrandbits(64) for x in a]
            assert minhash_jaccard(a, b) == float(np.mean(np.asarray(a, np.uint64) == np.asarray(b, np.uint64)))


def test_cosine_scale_is_np_interp_to_the_last_bit():
    model = semantic._load_model()
    knots_x, knots_y = model.knots[:, 0], model.knots[:, 1]
    rng = random.Random(11)
    values = [rng.uniform(-1.2, 1.2) for _ in range(20000)] + list(knots_x) + [-1.0, 0.0, 1.0]
    values += [float(np.nextafter(x, s)) for x in knots_x for s in (-2.0, 2.0)]
    for value in values:
        assert model.on_sentence_scale(value) == float(np.interp(value, knots_x, knots_y)), value


def test_stem_similarity_cached_by_stem_is_difflibs_ratio():
    names = ["q3 forecast v2.xlsx", "Q3_Forecast_final.xlsx", "forecast q3.xlsx", "sales report.docx",
             "Sales Reports (2).docx", "hr.xlsx", "readme.md", "notes.txt"]
    for x in names:
        for y in names:
            a, b = analyse_name(x), analyse_name(y)
            expected = 1.0 if a.stem == b.stem else SequenceMatcher(None, *sorted((a.stem, b.stem))).ratio()
            assert stem_similarity(a, b) == stem_similarity(b, a) == expected


class _CountingViews(dict):
    """A multimap side input ({bucket: [(file id, packed view)]}) that counts its reads."""

    def __init__(self, views):
        super().__init__()
        for v in views:
            self.setdefault(view_bucket(v.file_id), []).append((v.file_id, packed_view(v)))
        self.reads = []

    def __getitem__(self, bucket):
        self.reads.append(bucket)
        return self.get(bucket, [])


def test_scoring_reads_each_bucket_of_views_once_per_bundle(data_views):
    from transforms.ptransforms.detect import ScoreBatchFn

    pairs, _, stats = candidate_pairs(data_views, Config())
    batches = {}
    for (a_id, b_id), shared in sorted(pairs.items()):
        batches.setdefault(sum(map(ord, a_id)) % 3, []).append((a_id, b_id, shared))
    views = _CountingViews(data_views)
    scorer = ScoreBatchFn(Config())
    scorer.setup()
    first = [o for element in sorted(batches.items()) for o in scorer.process(element, views, stats)]
    files = {f for pair in pairs for f in pair}
    buckets = {view_bucket(f) for f in files}
    assert sorted(views.reads) == sorted(buckets) and len(pairs) > 2 * len(files)
    scorer.finish_bundle()  # the next bundle reads its views again, and scores alike
    views.reads.clear()
    again = [o for element in sorted(batches.items()) for o in scorer.process(element, views, stats)]
    assert sorted(views.reads) == sorted(buckets)
    assert [(k, e.to_dict()) for k, e in again] == [(k, e.to_dict()) for k, e in first] and len(first) > 20
