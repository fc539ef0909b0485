"""Blocking keys and bucket caps: which files become candidate pairs, and which buckets are hot."""

from hypothesis import example, given
from hypothesis import strategies as st

from tests.records import data_record, text_record
from transforms.config import BlockingConfig, Config
from transforms.detect import blocking

CFG = BlockingConfig()


def _kinds(record):
    return {blocking.key_kind(k) for k in blocking.blocking_keys(record, CFG)}


def test_keys_are_sorted_distinct_and_deterministic():
    record = text_record("/drive/p/notes_v2.md", "Project PRJ-4821 review of orders.csv and unit_price by region.")
    keys = blocking.blocking_keys(record, CFG)
    assert keys == sorted(set(keys)) == blocking.blocking_keys(record, CFG)
    assert {"stem:notes", "code:prj-4821", "dir:/drive/p", "dir:/drive", "hash:" + record.content_hash} <= set(keys)
    # A named file is paired by mention resolution (detect/mentions.py), not by a name key.
    assert not any(k.startswith("file:") for k in keys)


def test_data_files_key_their_values_columns_and_aggregates():
    rows = [[f"C-{1000 + i}", ["North", "South"][i % 2], 100.5 * (i + 1)] for i in range(40)]
    record = data_record("/drive/p/data/sales.csv", {"sales": (["customer_id", "region", "revenue"], rows)})
    assert {"val", "col", "cols", "num", "nums", "stem", "dir"} <= _kinds(record)


def test_a_data_dictionary_and_its_table_share_a_column_pair_key():
    rows = [[i, f"SKU-{i}", i * 2.5] for i in range(30)]
    data = data_record("/a/items.csv", {"items": (["item_id", "sku_code", "unit_price"], rows)})
    memo = text_record("/b/memo.md", "Columns: item_id is the key, sku_code the product, unit_price in EUR.")
    shared = set(blocking.blocking_keys(data, CFG)) & set(blocking.blocking_keys(memo, CFG))
    assert any(k.startswith("cols:") for k in shared)


def test_a_summary_quoting_two_totals_of_a_table_shares_a_number_pair_key_with_it():
    rows = [[f"2024-01-{i + 1:02d}", 1000.5 + 37 * i, 12.5 * (i + 1) + 0.25] for i in range(20)]
    data = data_record("/drive/data/p/campaigns.csv", {"days": (["day", "spend", "discount"], rows)})
    spend, discount = (sum(r[k] for r in rows) for k in (1, 2))
    deck = text_record("/drive/decks/q/review.md", f"Total spend: {spend:,.2f}. Total discount: {discount:,.2f}.")
    shared = set(blocking.blocking_keys(data, CFG)) & set(blocking.blocking_keys(deck, CFG))
    assert {k for k in shared if k.startswith("nums:")} == {"nums:3:2.63e+03|3:2.70e+04"}


def test_weak_keys_have_a_lower_cap_than_strong_keys():
    assert blocking.bucket_cap("term:revenue", CFG) == CFG.max_weak_bucket_size
    assert blocking.bucket_cap("code:prj-1", CFG) == CFG.max_bucket_size
    members = [f"f{i}" for i in range(CFG.max_weak_bucket_size + 1)]
    proposals, hot, size = blocking.bucket_proposals("col:region", members, CFG)
    assert hot and proposals == [] and size == len(members)
    proposals, hot, _ = blocking.bucket_proposals("code:prj-1", members, CFG)  # within the strong cap
    assert not hot and [(first, len(later)) for first, _, later in proposals][:2] == [("f0", len(members) - 1),
                                                                                     ("f1", len(members) - 2)]


def test_candidate_pairs_are_deduplicated_across_keys_and_carry_each_keys_frequency():
    keyed = [("stem:a", "x"), ("stem:a", "y"), ("code:k", "x"), ("code:k", "y"), ("code:k", "y"), ("code:k", "z")]
    pairs, stats, frequent = blocking.candidate_pairs(keyed, Config().relationships.blocking)
    assert pairs == {("x", "y"): {"stem:a": 2, "code:k": 3}, ("x", "z"): {"code:k": 3}, ("y", "z"): {"code:k": 3}}
    assert stats == {"keys": 2, "hot_keys": 0, "proposed_pairs": 3}
    assert frequent == {"code:k": 3}  # carried by three files: in the run's frequent-key table


def test_unique_column_values_are_counted_but_never_paired():
    pairs, stats, frequent = blocking.candidate_pairs(
        [("key:1", "x"), ("key:1", "y"), ("key:1", "z")], Config().relationships.blocking)
    assert pairs == {} and frequent == {"key:1": 3}


def test_file_names_sharing_a_code_share_a_name_key():
    a = text_record("/drive/team/PRJ-5288 Warehouse list.md", "Sites and their capacity.")
    b = text_record("/drive/other/PRJ-5288_warehouse_bundles.md", "Bundles of sites.")
    shared = set(blocking.blocking_keys(a, CFG)) & set(blocking.blocking_keys(b, CFG))
    assert {"name:5288", "name:prj", "name:warehouse"} <= shared
    assert "name:list" not in shared


def test_a_pairs_weight_counts_each_kind_of_key_once_at_its_rarest():
    proposals = [("val", 10, None), ("val", 4, None), ("val", 20, None), ("dir", 8, ("dir:/a", 8)),
                 ("dir", 30, ("dir:/", 30))]
    shared, weight = blocking.merge_proposals(proposals)
    assert shared == {"dir:/a": 8, "dir:/": 30}
    assert weight == 1 / 4 + 1 / 8
    assert blocking.merge_proposals(reversed(proposals)) == (shared, weight)
    _, mention = blocking.mention_proposal("b", "a")
    assert mention == ("ref", 1, ("ref:b", 1))
    assert blocking.merge_proposals([mention])[1] == 1.0


def test_each_file_keeps_its_heaviest_partners_and_a_pair_stays_when_either_file_keeps_it():
    # "hub" has five partners; each partner has only the hub.
    weighted = {("hub", f"p{i}"): ({}, w) for i, w in enumerate((0.5, 0.1, 0.3, 0.1, 0.05))}
    weighted[("p1", "p2")] = ({"code:x": 2}, 0.5)
    kept_by_hub = blocking.kept_pairs("hub", [(b, w, s) for (_, b), (s, w) in weighted.items() if _ == "hub"], 2)
    assert [pair for pair, _ in kept_by_hub] == [("hub", "p0"), ("hub", "p2")]
    # Ties go to the smaller partner id, so the choice does not depend on the order in.
    tied = blocking.kept_pairs("hub", [("p3", 0.1, {}), ("p1", 0.1, {})], 1)
    assert tied == [(("hub", "p1"), {})]
    pruned = blocking.prune_pairs(weighted, 1)
    # p1 keeps p2 (0.5 beats its 0.1 to the hub); p3 and p4 keep the hub, their only partner.
    assert set(pruned) == {("hub", "p0"), ("p1", "p2"), ("hub", "p3"), ("hub", "p4")}
    assert pruned[("p1", "p2")] == {"code:x": 2}
    assert set(blocking.prune_pairs(weighted, 0)) == set(weighted)


def test_meta_blocking_keeps_a_rare_code_pair_and_drops_folder_only_pairs():
    """Forty notes in one folder pair through the folder key; two of them also share a code."""
    notes = [text_record(f"/drive/big/note_{i:02d}.md", f"Weekly status {i}.") for i in range(40)]
    notes[3] = text_record("/drive/big/note_03.md", "Weekly status for PRJ-7321.")
    notes[17] = text_record("/drive/big/note_17.md", "PRJ-7321 budget line.")
    keyed = [(k, r.file_id) for r in notes for k in blocking.blocking_keys(r, CFG)]
    every, stats, _ = blocking.candidate_pairs(keyed, BlockingConfig(top_partners=0))
    assert stats["proposed_pairs"] == len(every) == 40 * 39 // 2
    pruned, _, _ = blocking.candidate_pairs(keyed, BlockingConfig(top_partners=3))
    code_pair = tuple(sorted((notes[3].file_id, notes[17].file_id)))
    assert code_pair in pruned and "code:prj-7321" in pruned[code_pair]
    assert len(pruned) <= 3 * 40 and len(pruned) < len(every) / 5


def test_resolved_mentions_are_proposed_beside_the_buckets():
    pairs, stats, _ = blocking.candidate_pairs([("val:1", "a"), ("val:1", "b")], CFG, [("c", "a")])
    assert pairs == {("a", "b"): {}, ("a", "c"): {"ref:c": 1}}
    assert stats["proposed_pairs"] == 2


def test_the_frequent_table_combine_keeps_the_top_keys_whatever_the_split():
    """Cut back only at twice the bound, merged in any grouping: the table bounded_frequent gives."""
    import random

    from transforms.detect.corpus import bounded_frequent
    from transforms.ptransforms.detect import FrequentTableFn

    rng = random.Random(7)
    entries = [(f"code:{i}", rng.randint(3, 60)) for i in range(1_000)]
    expected = bounded_frequent(entries, 50)
    combine = FrequentTableFn(limit=50)
    parts = []
    for start in range(0, len(entries), 137):
        accumulator = combine.create_accumulator()
        for entry in entries[start:start + 137]:
            accumulator = combine.add_input(accumulator, entry)
        assert len(accumulator) < 100
        parts.append(accumulator)
    rng.shuffle(parts)
    assert combine.extract_output(combine.merge_accumulators(parts)) == expected
    assert len(expected) == 50


def test_the_frequent_table_of_a_run_is_the_in_memory_one():
    import apache_beam as beam
    from apache_beam.testing.test_pipeline import TestPipeline
    from apache_beam.testing.util import assert_that, equal_to

    from transforms.detect.corpus import bounded_frequent
    from transforms.ptransforms.detect import FrequentTableFn

    entries = [(f"code:{i % 300}", 3 + i % 41) for i in range(300)]
    with TestPipeline(runner="FnApiRunner") as p:
        table = p | beam.Create(entries) | beam.CombineGlobally(FrequentTableFn(limit=20))
        assert_that(table, equal_to([bounded_frequent(entries, 20)]))


@given(st.dictionaries(st.tuples(st.sampled_from("abcdefgh"), st.sampled_from("abcdefgh")).filter(lambda p: p[0] < p[1]),
                       st.sampled_from([0.5, 0.25, 0.1, 1 / 3, 1.0]), max_size=28),
       st.integers(0, 4))
@example({("a", "b"): 0.5, ("a", "c"): 0.5, ("b", "c"): 0.25}, 1)
def test_weighing_by_first_file_and_cutting_its_own_side_keeps_what_pruning_all_pairs_keeps(weights, limit):
    """The pipeline weighs pairs per first file and sends a first file only its best of those
    (first_file_entries); each file's best partners over all its pairs are the same as
    prune_pairs finds with every pair at hand, ties between partners included."""
    weighed = {pair: ({f"dir:{pair[0]}": 2}, weight) for pair, weight in weights.items()}
    by_file = {}
    for first in sorted({a for a, _ in weighed}):
        own = [(pair, found) for pair, found in sorted(weighed.items()) if pair[0] == first]
        for file_id, partner in blocking.first_file_entries(first, own, limit):
            by_file.setdefault(file_id, []).append(partner)
    kept = {}
    for file_id in sorted(by_file):
        kept.update(blocking.kept_pairs(file_id, by_file[file_id], limit))
    assert dict(sorted(kept.items())) == blocking.prune_pairs(weighed, limit)


def test_a_first_files_pairs_are_weighed_from_every_bucket_that_proposed_them():
    proposals = [(("dir", 40, ("dir:/d", 40)), ["b", "c"]), (("code", 2, ("code:k", 2)), ["b"]),
                 (("dir", 10, ("dir:/d/e", 10)), ["b"])]
    assert blocking.weighed_pairs_of_first("a", proposals) == [
        (("a", "b"), blocking.merge_proposals([p for p, later in proposals if "b" in later])),
        (("a", "c"), ({"dir:/d": 40}, 1 / 40)),
    ]
    assert blocking.weighed_pairs_of_first("a", proposals)[0][1][1] == 1 / 10 + 1 / 2
