"""Blocking keys and bucket caps: which files become candidate pairs, and which buckets are hot."""

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


def test_weak_keys_have_a_lower_cap_than_strong_keys():
    assert blocking.bucket_cap("term:revenue", CFG) == CFG.max_weak_bucket_size
    assert blocking.bucket_cap("code:prj-1", CFG) == CFG.max_bucket_size
    pairs, hot = blocking.bucket_pairs([f"f{i}" for i in range(CFG.max_weak_bucket_size + 1)],
                                       blocking.bucket_cap("col:region", CFG))
    assert hot and pairs == []


def test_candidate_pairs_are_deduplicated_across_keys_and_carry_each_keys_frequency():
    keyed = [("stem:a", "x"), ("stem:a", "y"), ("code:k", "x"), ("code:k", "y"), ("code:k", "y"), ("code:k", "z")]
    pairs, stats, frequent = blocking.candidate_pairs(keyed, Config().relationships.blocking)
    assert pairs == {("x", "y"): {"stem:a": 2, "code:k": 3}, ("x", "z"): {"code:k": 3}, ("y", "z"): {"code:k": 3}}
    assert stats == {"keys": 2, "hot_keys": 0}
    assert frequent == {"code:k": 3}  # carried by three files: in the run's frequent-key table


def test_unique_column_values_are_counted_but_never_paired():
    pairs, stats, frequent = blocking.candidate_pairs(
        [("key:1", "x"), ("key:1", "y"), ("key:1", "z")], Config().relationships.blocking)
    assert pairs == {} and frequent == {"key:1": 3}
