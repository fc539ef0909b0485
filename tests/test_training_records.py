"""Training records as an ML engineer receives them: every task, valid, loadable, split by component, portable."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

import jsonschema
import pyarrow as pa
import pyarrow.json as pa_json
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beam_pipeline.pipeline import run_pipeline
from beam_pipeline.sample_corpus import write_sample_corpus
from transforms.config import Config, config_from_dict
from transforms.detect.scoring import MIN_RELIABILITY_PAIRS, ConfidenceModel, confidence_for_precision
from transforms.output import writer
from transforms.output.training.dataset import (assign_splits, components, deduplicate, duplicates_in_bucket,
                                                groups, negative_allowed, split_of)
from transforms.extract.matching import input_root
from transforms.output.training.evidence import SUPPORTING_SIGNALS, FileSummary, approx_tokens, record_path
from transforms.output.training import select_negatives, sure_thresholds

REPO = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((REPO / "schemas" / "training.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
TASKS = {"find_related", "explain_link", "workflow", "trajectory"}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    truth, drive = write_sample_corpus(str(tmp_path_factory.mktemp("corpus")), projects=3, seed=5, rows_scale=0.3)
    out = tmp_path_factory.mktemp("out")
    # A level above what the types short of 1.0 reach, below what the others do, so the run
    # teaches related, uncertain and not-related links whatever the fitted model measured.
    best = {t: max(p[1] for p in points if p[2] >= MIN_RELIABILITY_PAIRS)
            for t, points in ConfidenceModel.load().reliability.items()}
    below_one = [v for v in best.values() if v < 1.0]
    level = (max(below_one) + 1.0) / 2 if below_one else 0.999
    config = config_from_dict({"training": {"precision_level": level}})
    summary = run_pipeline([drive], str(out), config)
    shards = sorted((out / "training" / "data").glob("*.jsonl"))
    records = [json.loads(line) for shard in shards for line in shard.read_text().splitlines()]
    return {"truth": truth, "drive": drive, "out": out, "summary": summary, "shards": shards, "records": records,
            "config": config}


def test_every_task_and_label_is_present(run):
    records = run["records"]
    assert {r["task"] for r in records} == TASKS
    assert {r["label"] for r in records if r["task"] == "explain_link"} == {"related", "uncertain", "not_related"}
    assert run["summary"]["counts"]["training_records"] == len(records)


def test_every_record_validates_against_its_task_schema(run):
    for record in run["records"]:
        VALIDATOR.validate(record)


@pytest.mark.parametrize("task, break_it", [
    ("trajectory", lambda r: r.pop("tools")),
    ("find_related", lambda r: r["relationships"][0].update(label="uncertain")),
    ("explain_link", lambda r: r["messages"].append({"role": "user", "content": "more"})),
    ("workflow", lambda r: r["context"]["primary_file"].update(file_path="/home/alice/drive/x.csv")),
])
def test_the_schema_rejects_a_record_that_breaks_its_task_rules(run, task, break_it):
    record = json.loads(json.dumps(next(r for r in run["records"] if r["task"] == task)))
    break_it(record)
    assert not VALIDATOR.is_valid(record)


def test_every_shard_loads_as_a_pyarrow_table(run):
    tables = [pa_json.read_json(shard) for shard in run["shards"]]
    assert sum(t.num_rows for t in tables) == len(run["records"])
    whole = pa.concat_tables(tables, promote_options="default")
    assert {"task", "messages", "context", "relationships", "synthetic_reasoning"} <= set(whole.schema.names)
    assert pa.types.is_list(whole.schema.field("messages").type)


def test_hugging_face_layout_and_card(run):
    out = run["out"]
    names = sorted(p.name for p in run["shards"])
    assert names and all(n.split("-")[0] in ("train", "validation", "test") and n.endswith(".jsonl") for n in names)
    card = (out / "training" / "README.md").read_text()
    assert card.startswith("---\nconfigs:\n")
    for split in {n.split("-")[0] for n in names}:
        assert f"path: data/{split}-*.jsonl" in card
    for field in ("find_related", "explain_link", "workflow", "trajectory", "messages", "tool_calls", "component"):
        assert field in card


def _paths_of(record):
    """Every file path a record mentions: context, relationships, tool arguments and tool results."""
    context = record["context"]
    paths = {context["primary_file"]["file_path"]} | {f["file_path"] for f in context["related_files"]}
    paths |= {p for rel in record["relationships"] for p in (rel["source"], rel["target"])}
    for message in record["messages"]:
        for call in message.get("tool_calls") or []:
            args = json.loads(call["function"]["arguments"])
            paths |= {v for k, v in args.items() if k.startswith("path")}
        if message["role"] == "tool":
            result = json.loads(message["content"])
            paths |= {r["path"] for r in result.get("results", [])}
    return paths


def test_no_file_appears_in_two_splits(run):
    splits_of = defaultdict(set)
    component_splits = defaultdict(set)
    for record in run["records"]:
        component_splits[record["component"]].add(record["split"])
        for path in _paths_of(record):
            splits_of[path].add(record["split"])
    assert len({s for splits in splits_of.values() for s in splits}) >= 2, "one split only: the test means nothing"
    assert {p: s for p, s in splits_of.items() if len(s) > 1} == {}
    assert all(len(s) == 1 for s in component_splits.values())


def test_records_name_files_relative_to_the_input_root(run):
    drive = run["drive"]
    files = set(os.path.relpath(os.path.join(d, f), drive) for d, _, fs in os.walk(drive) for f in fs)
    for record in run["records"]:
        assert _paths_of(record) <= files
    for shard in run["shards"]:
        assert drive not in shard.read_text() and str(Path(drive).parent) not in shard.read_text()


def test_trajectories_are_well_formed_tool_call_conversations(run):
    trajectories = [r for r in run["records"] if r["task"] == "trajectory"]
    assert trajectories
    tool_names = {t["function"]["name"] for t in trajectories[0]["tools"]}
    assert tool_names == {"search_files", "open_file", "compare_files"}
    for record in trajectories:
        messages = record["messages"]
        assert [m["role"] for m in messages[:2]] == ["system", "user"]
        assert messages[-1]["role"] == "assistant" and messages[-1]["content"] == record["training_completion"]
        pending = []
        for message in messages[2:]:
            if message["role"] == "assistant" and message.get("tool_calls"):
                assert not pending
                for call in message["tool_calls"]:
                    assert call["function"]["name"] in tool_names
                    json.loads(call["function"]["arguments"])
                pending = [c["id"] for c in message["tool_calls"]]
            elif message["role"] == "tool":
                assert message["tool_call_id"] == pending.pop(0)
                json.loads(message["content"])
        assert not pending
        used = {c["function"]["name"] for m in messages for c in m.get("tool_calls") or []}
        assert used == tool_names


def test_tool_results_are_the_files_own_content(run):
    nodes = {os.path.relpath(n["file_path"], run["drive"]): n
             for n in writer.read_jsonl(str(run["out"] / "nodes"), "nodes")}
    opened = 0
    for record in (r for r in run["records"] if r["task"] == "trajectory"):
        relationships = {(rel["source"], rel["target"]): rel for rel in record["relationships"]}
        for message in record["messages"]:
            if message["role"] != "tool":
                continue
            result = json.loads(message["content"])
            if "text" in result:  # open_file
                opened += 1
                node = nodes[result["path"]]
                assert result["text"] and node["text_preview"].startswith(result["text"][:1000])
                assert result["columns"] == [str(c) for c in (node["structure"].get("columns") or [])][:16]
            if "signals" in result:  # compare_files
                pair = (result["path_a"], result["path_b"])
                rel = relationships.get(pair) or relationships.get(pair[::-1])
                assert [s["finding"] for s in result["signals"]] == [e["statement"] for e in rel["evidence"]]
    assert opened


def test_taught_edges_reach_the_precision_level_and_evidence_supports_the_type(run):
    """Related means above the confidence where measured precision reaches the level; uncertain means below."""
    sure = sure_thresholds(run["config"], ConfidenceModel.load())
    assert all(sure[t] >= 0.5 for t in sure)
    for record in run["records"]:
        for rel in record["relationships"]:
            if rel["label"] == "related":
                assert rel["confidence"] >= sure[rel["relationship_type"]] or rel["reasoner"].startswith("llm:")
            elif rel["label"] == "uncertain":
                assert rel["confidence"] < sure[rel["relationship_type"]]
            for item in rel["evidence"]:
                assert item["signal"] in SUPPORTING_SIGNALS[rel["relationship_type"]] + ("synthetic_reasoning", "human_review")


def test_not_related_examples_are_rarely_true_links(run):
    """Candidate pairs taught as not related are checked against the corpus truth."""
    truth = {frozenset((e["a"], e["b"])) for e in run["truth"]["edges"]}
    negatives = [frozenset((r["relationships"][0]["source"], r["relationships"][0]["target"]))
                 for r in run["records"] if r["task"] == "explain_link" and r["label"] == "not_related"]
    assert len(negatives) >= 10
    wrong = [n for n in negatives if n in truth]
    assert len(wrong) / len(negatives) <= 0.05, wrong


def test_related_text_is_cut_to_its_token_budget(run):
    budget = Config().training.related_token_budget
    for record in run["records"]:
        if record["task"] == "find_related":
            for related in record["context"]["related_files"]:
                assert approx_tokens(related["text"]) <= budget


# ---------------------------------------------------------------- pieces


def test_near_identical_records_are_dropped_keeping_the_smallest_id():
    def record(i, text):
        return {"id": f"id-{i}", "task": "explain_link", "messages": [
            {"role": "system", "content": "s"}, {"role": "user", "content": text}, {"role": "assistant", "content": "a"}]}

    base = " ".join(f"word{i % 50} token{i % 7}" for i in range(300))
    records = [record(2, base + " 2023"), record(1, base + " 2024"), record(3, "something else entirely " * 20)]
    kept, dropped = deduplicate(records, 0.9)
    assert dropped == 1 and sorted(r["id"] for r in kept) == ["id-1", "id-3"]


def _greedy_duplicates(entries, threshold):
    """The definition: each record against every record kept before it, one pair at a time."""
    from array import array

    from transforms.signatures import minhash_jaccard

    kept, dropped = [], []
    for (_, record_id), packed in sorted(entries):
        signature = array("I", packed)
        if any(minhash_jaccard(signature, other) >= threshold for other in kept):
            dropped.append(record_id)
        else:
            kept.append(signature)
    return dropped


def _family(rng, family: str, most_members: int, most_changed: int):
    """Entries of a family of signatures a few values apart, as template-made records are."""
    from array import array

    base = [rng.randrange(2**32) for _ in range(64)]
    entries = []
    for member in range(rng.randrange(1, most_members)):
        signature = list(base)
        for position in rng.sample(range(64), rng.randrange(0, most_changed)):
            signature[position] = rng.randrange(2**32)
        entries.append((("explain_link", f"id-{family}-{member:02d}"), array("I", signature).tobytes()))
    return entries


@pytest.mark.parametrize("threshold", [0.5, 0.75, 0.9, 1.0])
def test_duplicates_in_a_bucket_are_those_of_the_pairwise_definition(threshold):
    import random

    rng = random.Random(int(threshold * 100))
    entries = [entry for family in range(12) for entry in _family(rng, f"{family:02d}", 30, 24)]
    entries.append((("explain_link", "id-empty"), b""))  # a record without words is never a duplicate
    rng.shuffle(entries)
    expected = _greedy_duplicates(entries, threshold)
    assert duplicates_in_bucket(entries, threshold) == expected
    assert "id-empty" not in expected and (threshold == 1.0 or len(expected) > 10)


@pytest.mark.parametrize("threshold", [0.5, 0.9, 1.0])
def test_small_buckets_compared_at_once_drop_what_the_pairwise_definition_drops(threshold):
    """Buckets of up to SMALL_BUCKET records compare all pairs in one step; the outcome is the greedy one."""
    import random

    from transforms.output.training.dataset import SMALL_BUCKET

    rng = random.Random(int(threshold * 1000))
    dropped = 0
    for _ in range(60):
        entries = [entry for family in range(rng.randrange(1, 4)) for entry in _family(rng, str(family), 12, 16)]
        entries = entries[:SMALL_BUCKET]
        rng.shuffle(entries)
        expected = _greedy_duplicates(entries, threshold)
        assert duplicates_in_bucket(entries, threshold) == expected
        dropped += len(expected)
    assert dropped >= {0.5: 600, 0.9: 100, 1.0: 6}[threshold]  # measured: 642, 112 and 8 (exact copies only)


def test_a_record_dropped_in_a_bucket_does_not_drop_its_own_near_copies():
    from array import array

    a = list(range(64))
    b = [1000 + i for i in range(6)] + a[6:]  # 58 of 64 values with a: a duplicate at 0.9
    c = b[:6] + [2000 + i for i in range(6)] + a[12:]  # 58 with b, 52 with a
    entries = [(("t", name), array("I", values).tobytes()) for name, values in (("a", a), ("b", b), ("c", c))]
    assert duplicates_in_bucket(entries, 0.9) == ["b"]


def test_components_are_whole_and_splits_get_their_share_of_files():
    paths = {"a": "p/a.csv", "b": "p/b.csv", "c": "q/c.csv", "d": "q/d.csv"}
    assert components(paths, [("a", "b"), ("c", "d")]) == {"a": "p/a.csv", "b": "p/a.csv", "c": "q/c.csv",
                                                           "d": "q/c.csv"}
    fractions = Config().training.splits
    sizes = {f"folder{i}/file.csv": 2 + i % 5 for i in range(40)}  # 40 components, 160 files
    splits = assign_splits(sizes, fractions)
    assert splits == assign_splits(dict(reversed(list(sizes.items()))), fractions)
    files = defaultdict(int)
    for key, split in splits.items():
        files[split] += sizes[key]
    assert abs(files["train"] / 160 - 0.8) <= 0.05 and abs(files["validation"] / 160 - 0.1) <= 0.05
    assert files["test"] > 0
    assert split_of("lone.csv", fractions) == assign_splits({"lone.csv": 1}, fractions)["lone.csv"]
    # One component holding most files (a real drive whose README links everything) still leaves
    # files for validation and test.
    lopsided = {"big/a.csv": 42, **{f"small{i}/a.csv": 2 for i in range(10)}}
    placed = assign_splits(lopsided, fractions)
    assert placed["big/a.csv"] == "train" and {"validation", "test"} <= set(placed.values())


def test_records_name_files_relative_to_their_input_root(tmp_path):
    (tmp_path / "drive" / "sub").mkdir(parents=True)
    (tmp_path / "drive" / "sub" / "a.csv").write_text("x\n1\n")
    drive = str(tmp_path / "drive")
    assert record_path(drive + "/sub/a.csv", (input_root(drive),)) == "sub/a.csv"
    assert record_path(drive + "/sub/a.csv", (input_root(drive + "/sub/*.csv"),)) == "a.csv"
    assert record_path("gs://bucket/in/x/y.csv", ("gs://bucket/in/",)) == "x/y.csv"
    assert record_path(drive + "/sub/a.csv", (input_root(drive), "gs://bucket/in/")) == "drive/sub/a.csv"
    assert record_path("/elsewhere/b.csv", (input_root(drive),)) == "b.csv"  # never a host path


def test_confidence_for_precision_reads_reliability_points_or_falls_back():
    model = ConfidenceModel.load()
    plain = ConfidenceModel(models=model.models)
    assert confidence_for_precision(plain, "REFERENCES", 0.9) == 0.9
    curve = {"REFERENCES": [[0.5, 0.7], [0.6, 0.85], [0.7, 0.92], [0.8, 0.95], [0.9, 0.99]],
             "*": [[0.5, 0.95]], "SUPPORTS": [[0.9, 0.6]]}
    measured = ConfidenceModel(models=model.models, reliability=curve)
    assert confidence_for_precision(measured, "REFERENCES", 0.9) == 0.7
    assert confidence_for_precision(measured, "REFERENCES", 0.99) == 0.9
    assert confidence_for_precision(measured, "VERSION_OF", 0.9) == 0.5  # pooled points
    assert confidence_for_precision(measured, "SUPPORTS", 0.9) == float("inf")  # never that precise
    # Cumulative precision: the lowest qualifying threshold wins even past a dip; tiny samples never qualify.
    counted = ConfidenceModel(models=model.models, reliability={
        "REFERENCES": [[0.5, 0.88, 100], [0.7, 0.91, 90], [0.9, 0.76, 25], [0.95, 1.0, 1]]})
    assert confidence_for_precision(counted, "REFERENCES", 0.9) == 0.7
    assert confidence_for_precision(counted, "REFERENCES", 0.95) == float("inf")


def test_tasks_can_be_chosen(run, tmp_path):
    config = config_from_dict({"training": {"tasks": ["explain_link"], "negatives_per_file": 0},
                               "relationships": {"strategies": ["filename_pattern", "content_similarity",
                                                                "aggregate_matching", "structure_matching"]}})
    summary = run_pipeline([run["drive"]], str(tmp_path / "out"), config)
    counts = summary["counts"]["training_by_split_task_label"]
    assert counts and all(key.split("|")[1:] in (["explain_link", "related"], ["explain_link", "uncertain"])
                          for key in counts)


def test_a_file_summary_travels_compressed_and_reads_as_the_summary():
    import pickle

    summary = {"file_id": "f1", "file_path": "q3/report.docx", "file_type": "docx", "title": None,
               "key_terms": ["revenue", "q3"], "text": "Quarterly revenue rose in every region. " * 40,
               "text_truncated": True, "index_words": ["quarterly", "report"]}
    packed = pickle.loads(pickle.dumps(FileSummary(summary)))
    assert packed.fields == {"file_id": "f1", "file_path": "q3/report.docx"}
    assert dict(packed) == summary
    assert len(pickle.dumps(FileSummary(summary))) < len(pickle.dumps(summary)) / 3


def test_links_travel_compressed_and_read_as_the_links(run):
    """Links cross training's groupings packed: ends and label readable as they are, the rest on use."""
    from apache_beam.coders import coders

    from transforms.output.training import link_from_edge
    from transforms.output.training.evidence import PackedLink

    edges = writer.read_jsonl(str(run["out"] / "edges"), "edges")
    links = [link_from_edge(e, {e["source"]: e["source_path"], e["target"]: e["target_path"]}, 0.8, 0.9)
             for e in edges]
    coder = coders.FastPrimitivesCoder()
    for link in links:
        packed = PackedLink(link)
        assert packed.fields == {"source_id": link["source_id"], "target_id": link["target_id"], "label": link["label"]}
        assert packed._record is None  # keying and filtering never decode it
        travelled = coder.decode(coder.encode(packed))
        assert dict(travelled) == json.loads(json.dumps(link))
    plain = sum(len(coder.encode(link)) for link in links)
    packed = sum(len(coder.encode(PackedLink(link))) for link in links)
    assert len(links) > 50 and packed < plain * 0.55  # measured: 0.49 on this drive


def test_packed_band_blobs_find_the_same_crowded_buckets_as_band_keys():
    """De-duplication's grouping of packed band entries gives exactly the buckets that band keys share,
    however the records fall into batches."""
    from transforms.output.training.dataset import (band_blobs, crowded_buckets, dedup_buckets, dedup_signature,
                                                    record_key)

    def record(i, task, text):
        return {"id": f"id-{i:03d}", "task": task, "messages": [{"role": "user", "content": text}]}

    bases = [" ".join(f"{word}{i % 40} w{i % 9}" for i in range(200)) for word in ("alpha", "bravo", "delta", "echo")]
    records = [record(n, task, f"{base} {year}") for n, (task, base, year) in enumerate(
        (t, b, y) for t in ("explain_link", "find_related") for b in bases for y in range(2019, 2025))]
    records += [record(500 + i, "explain_link", f"unrelated note {i} " * (10 + i)) for i in range(20)]
    signed = [(record_key(r["id"]), (r["id"], r["task"], dedup_signature(r))) for r in records]
    expected = sorted((bucket, sorted(record_key(i) for (_, i), _ in entries))
                      for bucket, entries in dedup_buckets(((t, i), s) for _, (i, t, s) in signed).items()
                      if len(entries) > 1)
    assert len(expected) > 20
    for batch in (7, 50, len(signed)):
        shards = defaultdict(list)
        for start in range(0, len(signed), batch):
            for shard, blob in band_blobs(signed[start:start + batch]):
                shards[shard].append(blob)
        found = sorted(bucket for blobs in shards.values() for bucket in crowded_buckets(blobs))
        assert found == expected
    assert crowded_buckets([]) == [] and band_blobs([]) == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 29), st.integers(0, 29), st.booleans()), max_size=40))
def test_a_pair_with_an_edge_is_never_a_negative(links):
    """NotRelatedPairs and select_negatives rely on this instead of joining candidates with the edges."""
    paths = {f"f{i}": f"d{i % 4}/f{i}.csv" for i in range(30)}
    related = [(f"f{a}", f"f{b}") for a, b, sure in links if sure]
    linked = [(f"f{a}", f"f{b}") for a, b, _ in links]
    grouping = groups(paths, related, linked, Config().training.splits)
    assert not any(negative_allowed(a, b, grouping) or negative_allowed(b, a, grouping) for a, b in linked)
    candidates = [((f"f{a}", f"f{b}"), ["name"]) for a in range(30) for b in range(a + 1, 30)]
    chosen = {pair for pair, _ in select_negatives(candidates, grouping, per_file=30)}
    assert not chosen & {tuple(sorted(p)) for p in linked}
