"""The slim PairView that the join ships to scoring scores exactly like the full record."""

import glob
import os
import pickle

import pytest

from beam_pipeline.sample_corpus import write_sample_corpus
from transforms.config import Config
from transforms.detect import relationships, strategies
from transforms.detect.corpus import PairContext
from transforms.detect.pair_view import PairView, pair_view
from transforms.detect.scoring import ConfidenceModel, typed_edge
from transforms.extract.local import extract_paths


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    _, drive = write_sample_corpus(str(tmp_path_factory.mktemp("corpus")), projects=4, seed=0)
    paths = sorted(p for p in glob.glob(os.path.join(drive, "**", "*"), recursive=True) if os.path.isfile(p))
    found, _ = extract_paths(paths, Config())
    relationships.ensure_embeddings(found, Config())
    return found


def _edges(pairs, stats, by_id, config, model):
    names = relationships.active_strategies(config)
    out = []
    for a_id, b_id in sorted(pairs):
        a, b = by_id[a_id], by_id[b_id]
        context = PairContext(shared=pairs[(a_id, b_id)], stats=stats)
        results = strategies.run_strategies(a, b, names, context)
        edge = typed_edge(a, b, results, model, config.relationships.thresholds)
        out.append(edge.to_dict() if edge else None)
    return out


def test_edges_from_pair_views_equal_edges_from_full_records(records):
    config, model = Config(), ConfidenceModel.load()
    pairs, _, stats = relationships.candidate_pairs(records, config)
    full = _edges(pairs, stats, {r.file_id: r for r in records}, config, model)
    slim = _edges(pairs, stats, {r.file_id: pair_view(r) for r in records}, config, model)
    assert len(pairs) > 200 and sum(e is not None for e in full) > 30
    assert slim == full


def test_pair_view_is_smaller_and_carries_facts_not_text(records):
    narrative = next(r for r in records if r.is_narrative and len(r.text) > 500)
    view = pair_view(narrative)
    assert isinstance(view, PairView) and view.text == "" and view.properties == {} and view.facts
    assert pair_view(view) is view
    sizes = [(len(pickle.dumps(pair_view(r))), len(pickle.dumps(r))) for r in records]
    # Value sketches and column samples, which scoring reads, dominate a data file's record.
    assert sum(s for s, _ in sizes) < 0.995 * sum(f for _, f in sizes)
