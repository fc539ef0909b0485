"""The metadata index on its own: storage on SQLite and PostgreSQL, planning, record round trips."""

import os

import pytest

from beam_pipeline.sample_corpus import write_sample_corpus
from transforms.config import Config, ConfigError, config_from_dict
from transforms.extract.local import extract_paths, modified_iso
from transforms.extract.matching import MatchedFile
from transforms.index import plan
from transforms.index.store import (
    ERROR,
    RECORD,
    BackgroundWrites,
    IndexEntry,
    MetadataIndexError,
    decode_payload,
    encode_payload,
    StoredFile,
    index_location,
    open_index,
)
from transforms.model import FileRecord

SHARED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "data")




@pytest.fixture(params=["sqlite", "postgresql"])
def location(request, tmp_path, monkeypatch):
    if request.param == "sqlite":
        return str(tmp_path / "index.sqlite")
    server = request.getfixturevalue("postgres")
    monkeypatch.setenv("PGPASSWORD", server.password)
    return server.url


@pytest.fixture
def index(location):
    store = open_index(location)
    store.ensure_schema()
    yield store
    store.close()


def _row(uri, size=10, mtime="2026-01-01T00:00:00Z", outcome=RECORD, payload=None, keys=("stem:a",)):
    entry = IndexEntry(uri, size, mtime, "h-" + uri if outcome == RECORD else None, "fp", outcome)
    return StoredFile(entry, payload if payload is not None else {"file_path": uri, "n": [1, 2.5, None]}, keys)


def test_rows_round_trip_and_stay_apart_by_scope(index):
    index.put("out/a", [_row("/d/x.csv"), _row("/d/y.md", outcome=ERROR, payload={"file_path": "/d/y.md"})])
    index.put("out/b", [_row("/d/x.csv", size=99)])
    entries = [e for e, _ in index.entries("out/a")]
    assert [(e.uri, e.size, e.outcome) for e in entries] == [("/d/x.csv", 10, RECORD), ("/d/y.md", 10, ERROR)]
    assert entries[1].content_hash is None
    payloads = [decode_payload(p) for _, p in index.entries("out/a")]
    assert payloads == [{"file_path": "/d/x.csv", "n": [1, 2.5, None]}, {"file_path": "/d/y.md"}]
    assert index.blocking_keys("out/a", "/d/x.csv") == ["stem:a"]
    assert [e.size for e, _ in index.entries("out/b")] == [99]


def test_put_replaces_a_row_and_delete_and_touch_change_only_their_scope(index):
    index.put("s", [_row("/d/x.csv")])
    index.put("s", [_row("/d/x.csv", size=11)])
    index.put("t", [_row("/d/x.csv")])
    assert [e.size for e, _ in index.entries("s")] == [11]
    index.touch("s", [("/d/x.csv", "2026-02-02T00:00:00Z")])
    assert [e.modified_at for e, _ in index.entries("s")] == ["2026-02-02T00:00:00Z"]
    assert [e.modified_at for e, _ in index.entries("t")] == ["2026-01-01T00:00:00Z"]
    index.delete("s", ["/d/x.csv"])
    assert list(index.entries("s")) == [] and len(list(index.entries("t"))) == 1


def test_pair_scores_are_cached_and_pruned_by_run(index):
    assert not index.has_scores("s")
    index.put_scores("s", "run1", [("d1", '{"e": 1}'), ("d2", None)])
    assert index.has_scores("s") and not index.has_scores("t")
    assert [index.cached_score("s", d) for d in ("d1", "d2", "d3")] == [(True, '{"e": 1}'), (True, None), (False, None)]
    index.put_scores("s", "run2", [("d1", '{"e": 1}')])
    assert index.prune_scores("s", "run2") == 1
    assert [index.cached_score("s", d) for d in ("d1", "d2")] == [(True, '{"e": 1}'), (False, None)]


def test_background_writes_commit_in_order_and_a_failed_one_raises_at_the_next_wait(index, location):
    writes = BackgroundWrites(location)
    for n in range(5):  # each write replaces the last one's score: only order makes the final one win
        writes.submit(lambda store, n=n: store.put_scores("s", "run1", [("d", f'{{"n": {n}}}'), (f"d{n}", None)]))
    writes.wait()
    assert index.cached_score("s", "d") == (True, '{"n": 4}')
    assert [index.cached_score("s", f"d{n}")[0] for n in range(5)] == [True] * 5

    def fails(store):
        raise RuntimeError("disk full")

    writes.submit(fails)
    with pytest.raises(RuntimeError, match="disk full"):
        writes.wait()
    writes.submit(lambda store: store.put_scores("s", "run1", [("after", None)]))  # the writer goes on
    writes.close()
    assert index.cached_score("s", "after") == (True, None)


def test_an_index_of_another_layout_is_refused(tmp_path):
    store = open_index(str(tmp_path / "i.sqlite"))
    store.ensure_schema()
    store._conn.execute("UPDATE filegraph_meta SET value = '0'")
    store._conn.commit()
    with pytest.raises(MetadataIndexError, match="layout 0"):
        store.ensure_schema()


def test_index_location_defaults_beside_local_outputs_only():
    assert index_location("", "/runs/out") == "/runs/out/index.sqlite"
    assert index_location("", "gs://bucket/out") is None
    assert index_location("postgresql://u@h/db", "gs://bucket/out") == "postgresql://u@h/db"


def test_index_url_with_a_password_or_unknown_scheme_is_a_config_error():
    with pytest.raises(ConfigError, match="PGPASSWORD"):
        config_from_dict({"index": {"url": "postgresql://u:secret@h/db"}})
    with pytest.raises(ConfigError, match="scheme 'mysql'"):
        config_from_dict({"index": {"url": "mysql://u@h/db"}})
    with pytest.raises(ConfigError, match="batch.resume"):
        config_from_dict({"batch": {"resume": True}})


# ---------------------------------------------------------------- planning

M = MatchedFile("/d/x.csv", 10, "2026-01-01T00:00:00Z")


@pytest.mark.parametrize("matched, entry, retry, expected", [
    (None, _row("/d/x.csv").entry, False, plan.DELETE),
    (M, None, False, plan.EXTRACT),
    (M, _row("/d/x.csv").entry, False, plan.REUSE),
    (M, _row("/d/x.csv", size=11).entry, False, plan.EXTRACT),
    (M, _row("/d/x.csv", mtime="2026-03-03T00:00:00Z").entry, False, plan.CONFIRM),
    (M, _row("/d/x.csv", outcome=ERROR).entry, False, plan.REUSE),
    (M, _row("/d/x.csv", outcome=ERROR).entry, True, plan.EXTRACT),
    (M, _row("/d/x.csv", outcome=ERROR, mtime="2026-03-03T00:00:00Z").entry, False, plan.EXTRACT),
])
def test_plan_file(matched, entry, retry, expected):
    assert plan.plan_file(matched, entry, "fp", retry) == expected


def test_an_entry_from_another_extraction_fingerprint_is_extracted_again():
    assert plan.plan_file(M, _row("/d/x.csv").entry, "other-fp", False) == plan.EXTRACT


def test_fingerprint_follows_extraction_settings_but_not_scoring_settings():
    base = plan.extraction_fingerprint(Config(), embeddings=True)
    assert plan.extraction_fingerprint(Config(), embeddings=True) == base
    assert plan.extraction_fingerprint(config_from_dict({"extraction": {"max_text_chars": 10}}), True) != base
    assert plan.extraction_fingerprint(config_from_dict({"privacy": {"policy": "hash"}}), True) != base
    assert plan.extraction_fingerprint(Config(), embeddings=False) != base
    how_read = {"extraction": {"workers": 1, "isolation": False, "timeout_seconds": 5.0}}
    assert plan.extraction_fingerprint(config_from_dict(how_read), True) == base
    scored = config_from_dict({"relationships": {"thresholds": {"min_confidence": 0.9}}})
    assert plan.extraction_fingerprint(scored, True) == base
    assert plan.scoring_fingerprint(scored) != plan.scoring_fingerprint(Config())
    elsewhere = config_from_dict({"training": {"dedup_threshold": 0.5}, "index": {"reuse_outputs": False}})
    assert plan.scoring_fingerprint(elsewhere) == plan.scoring_fingerprint(Config())


def test_fingerprint_follows_the_pii_key_without_holding_it(monkeypatch):
    monkeypatch.setenv("FILEGRAPH_PII_KEY", "first-secret")
    first = plan.extraction_fingerprint(Config(), True)
    monkeypatch.setenv("FILEGRAPH_PII_KEY", "second-secret")
    assert plan.extraction_fingerprint(Config(), True) != first
    assert "first-secret" not in plan._pii_key_digest()


def test_read_errors_and_killed_parsers_are_not_stored_so_the_next_run_retries_them():
    from transforms.model import ErrorRecord

    read = ErrorRecord("/d/x.csv", "read", "read_error", "permission denied")
    killed = [ErrorRecord("/d/x.csv", "extract", kind, "the parser process was killed")
              for kind in ("timeout", "memory_limit", "crash")]
    parse = ErrorRecord("/d/x.csv", "extract", "parse_error", "bad header")
    assert [plan.stored_error(e, M, "fp") for e in [read] + killed] == [None] * 4
    assert plan.stored_error(parse, M, "fp").entry.outcome == ERROR


# ---------------------------------------------------------------- records survive the index


@pytest.fixture(scope="module")
def real_records(tmp_path_factory):
    _, drive = write_sample_corpus(str(tmp_path_factory.mktemp("corpus")), projects=2, seed=5, rows_scale=0.3)
    paths = [os.path.join(folder, name) for folder, _, names in os.walk(drive) for name in names]
    office = os.path.join(SHARED, "office-samples")
    if os.path.isdir(office):
        paths += [os.path.join(folder, name) for folder, _, names in os.walk(office) for name in names][:60]
    records, _ = extract_paths(sorted(paths), Config())
    return records


def test_every_extracted_record_reads_back_from_the_index_unchanged(real_records, tmp_path):
    store = open_index(str(tmp_path / "index.sqlite"))
    store.ensure_schema()
    rows = [plan.stored_record(r, MatchedFile(r.file_path, r.file_size, modified_iso(r.file_path)), "fp", ())
            for r in real_records]
    store.put("s", rows)
    loaded = {entry.uri: (entry, decode_payload(payload)) for entry, payload in store.entries("s")}
    assert len(loaded) == len(real_records) > 20
    for record in real_records:
        entry, payload = loaded[record.file_path]
        matched = MatchedFile(record.file_path, record.file_size, entry.modified_at)
        assert plan.reused(entry, payload, matched) == record, record.file_path


def test_a_reused_record_takes_the_files_new_mtime_unless_the_document_dates_itself(real_records):
    undated = next(r for r in real_records if not r.properties.get("modified_at"))
    entry = plan.stored_record(undated, MatchedFile(undated.file_path, undated.file_size, "x"), "fp", ()).entry
    moved = MatchedFile(undated.file_path, undated.file_size, "2030-01-01T00:00:00Z")
    assert plan.reused(entry, undated.to_dict(), moved).modified_at == "2030-01-01T00:00:00Z"
    dated = [r for r in real_records if r.properties.get("modified_at")]
    assert dated, "office documents carry their own modified date"
    for record in dated:
        again = plan.reused(entry, record.to_dict(), moved)
        assert again.modified_at == record.properties["modified_at"] == record.modified_at
    assert isinstance(plan.reused(entry, undated.to_dict(), moved), FileRecord)


def test_a_records_digest_survives_the_index_and_changes_with_any_field(real_records):
    from transforms.index.cache import pair_digest, record_digest

    record = real_records[0]
    read_back = FileRecord.from_dict(decode_payload(encode_payload(record.to_dict())))
    assert record_digest(read_back) == record_digest(record)
    changed = FileRecord.from_dict(record.to_dict())
    changed.minhash = changed.minhash[:-1] + [changed.minhash[-1] + 1]
    assert record_digest(changed) != record_digest(record)
    a, b = record_digest(record), record_digest(real_records[1])
    shared = {"stem:report": 2}
    assert pair_digest("fp", "c", a, b, shared) != pair_digest("fp", "c", a, b, {**shared, "dir:/d": 5})
    assert pair_digest("fp", "c", a, b, shared) != pair_digest("fp", "c", a, b, {"stem:report": 3})
    assert pair_digest("fp", "c", a, b, shared) != pair_digest("fp2", "c", a, b, shared)
    assert pair_digest("fp", "c", a, b, shared) != pair_digest("fp", "c2", a, b, shared)


# ---------------------------------------------------------------- pair score cache


def _scored_with_cache(spec, config, pairs, views, stats):
    """Outcomes per pair of CachedScoreFn over one batch of every pair (as the pipeline calls it), bundle
    flushed. A first run scores on scoring processes, a rerun in this one: both must agree with a fresh score."""
    from transforms.detect.pair_view import view_bucket, packed_view
    from transforms.index.ptransforms import CachedScoreFn

    buckets = {}
    for view in views.values():
        buckets.setdefault(view_bucket(view.file_id), []).append((view.file_id, packed_view(view)))
    scorer = CachedScoreFn(config, spec)
    scorer.setup()
    scorer.start_bundle()
    batch = [(a, b, shared) for (a, b), shared in sorted(pairs.items())]
    edges = {}
    for kind, edge in scorer.process((0, batch), buckets, stats):
        assert kind == "ok"
        pair = (edge.source, edge.target)
        edges[pair if pair in pairs else pair[::-1]] = edge
    scorer.finish_bundle()
    scorer.teardown()
    return {pair: edges[pair].to_dict() if pair in edges else None for pair in sorted(pairs)}


def test_a_cached_score_equals_a_fresh_one_and_is_used_only_for_the_same_corpus(real_records, tmp_path, monkeypatch):
    from transforms.detect.corpus import CorpusStats
    from transforms.index.store import MetadataIndex
    from transforms.detect.pair_view import pair_view
    from transforms.detect.relationships import candidate_pairs
    from transforms.detect.pair_scoring import PairScorer
    from transforms.index.ptransforms import ScoreCacheSpec

    config = Config()
    pairs, _, stats = candidate_pairs(real_records, config)
    views = {r.file_id: pair_view(r) for r in real_records}

    def fresh_outcomes(corpus):
        fresh = PairScorer(config, corpus)
        scored = {pair: fresh.score(views[pair[0]], views[pair[1]], shared) for pair, shared in sorted(pairs.items())}
        assert not any(s.error for s in scored.values())
        return {pair: s.edge.to_dict() if s.edge is not None else None for pair, s in scored.items()}

    location = str(tmp_path / "index.sqlite")
    store = open_index(location)
    store.ensure_schema()

    def cached_digests():
        return {row[0] for row in store._conn.execute("SELECT digest FROM filegraph_pair_scores")}

    lookups = []
    looked_up = MetadataIndex.cached_score
    monkeypatch.setattr(MetadataIndex, "cached_score",
                        lambda self, scope, digest: lookups.append(digest) or looked_up(self, scope, digest))
    spec = ScoreCacheSpec(location, "out", plan.scoring_fingerprint(config), "run1")
    first = _scored_with_cache(spec, config, pairs, views, stats)
    assert first == fresh_outcomes(stats) and sum(1 for o in first.values() if o) > 5
    assert lookups == []  # a first run: nothing stored for the scope, so nothing looked up
    stored = cached_digests()
    assert len(stored) == len(pairs)
    # Read back from the cache: the same outcomes, and no new digest.
    again = ScoreCacheSpec(location, "out", spec.fingerprint, "run2")
    assert _scored_with_cache(again, config, pairs, views, stats) == first
    assert cached_digests() == stored and sorted(lookups) == sorted(stored)
    # One more file in the corpus, or another count of a frequent key: every pair is scored anew.
    for other in (CorpusStats(stats.n_files + 1, stats.frequent),
                  CorpusStats(stats.n_files, {**stats.frequent, next(iter(stats.frequent)): 999})):
        rescored = _scored_with_cache(ScoreCacheSpec(location, "out", spec.fingerprint, "run3"),
                                      config, pairs, views, other)
        assert rescored == fresh_outcomes(other)
    assert fresh_outcomes(CorpusStats(stats.n_files * 20, stats.frequent)) != fresh_outcomes(stats), \
        "scores depend on the corpus size: the cache must tell corpora apart"
    assert len(cached_digests()) == 3 * len(pairs)
    store.close()


# ---------------------------------------------------------------- the last complete run


def test_a_run_fingerprint_changes_with_any_input_file_the_config_the_extraction_or_the_feedback(tmp_path):
    from transforms.index import runs

    drive = tmp_path / "drive"
    drive.mkdir()
    (drive / "a.csv").write_text("id,name\n1,x\n")
    (drive / "b.md").write_text("# notes\n")
    out = str(drive / "out")  # inside the input: never part of it
    seen = set()

    def fingerprint(config=Config(), extraction="fp"):
        value = runs.run_fingerprint([str(drive)], out, config, extraction)
        assert value == runs.run_fingerprint([str(drive)], out, config, extraction)
        return value

    seen.add(fingerprint())
    os.makedirs(out)
    (drive / "out" / "run_summary.json").write_text("{}")
    assert fingerprint() in seen
    os.utime(drive / "a.csv", (1_700_000_000, 1_700_000_000))  # a new mtime, same bytes
    seen.add(fingerprint())
    (drive / "c.csv").write_text("id\n2\n")
    seen.add(fingerprint())
    (drive / "d.unknown").write_text("a file no pattern reads")
    seen.add(fingerprint())
    (drive / "b.md").unlink()
    seen.add(fingerprint())
    seen.add(fingerprint(config_from_dict({"relationships": {"thresholds": {"min_confidence": 0.9}}})))
    seen.add(fingerprint(extraction="another extraction"))
    feedback = tmp_path / "feedback.csv"
    feedback.write_text("source,target,decision\n")
    with_feedback = config_from_dict({"review": {"feedback_file": str(feedback)}})
    seen.add(fingerprint(with_feedback))
    feedback.write_text("source,target,decision\na,b,reject\n")
    seen.add(fingerprint(with_feedback))
    assert len(seen) == 9


def test_the_last_runs_outputs_are_kept_only_while_intact_and_remembered(tmp_path):
    from transforms.index import runs

    out = tmp_path / "out"
    (out / "edges").mkdir(parents=True)
    (out / "edges" / "edges-00000-of-00001.jsonl").write_text('{"source": "a"}\n')
    (out / "run_summary.json").write_text('{"counts": {"matched": 3, "extracted": 3, "reused": 0, "deleted": 0}}')
    location = str(out / "index.sqlite")
    assert runs.kept_summary(location, str(out), "fp") is None
    runs.remember(location, str(out), "fp")
    assert set(runs.output_stamps(str(out), location)) == {"edges/edges-00000-of-00001.jsonl"}
    kept = runs.kept_summary(location, str(out), "fp")
    assert kept["counts"]["extracted"] == 3
    assert runs.unchanged_summary(kept, 0.5)["counts"] == {"matched": 3, "extracted": 0, "reused": 3, "deleted": 0}
    assert runs.kept_summary(location, str(out), "another fingerprint") is None
    (out / "run_summary.json").write_text('{"counts": {"matched": 3}, "runtime_seconds": 1}')  # rewritten by each run
    assert runs.kept_summary(location, str(out), "fp") is not None
    (out / "edges" / "edges-00000-of-00001.jsonl").write_text('{"source": "b2"}\n')  # edited since
    assert runs.kept_summary(location, str(out), "fp") is None
    runs.remember(location, str(out), "fp")
    (out / "stray.txt").write_text("added since")
    assert runs.kept_summary(location, str(out), "fp") is None
    runs.remember(location, str(out), "fp")
    runs.forget(location, str(out))
    assert runs.kept_summary(location, str(out), "fp") is None
