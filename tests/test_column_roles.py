"""A column's role, key or measure (transforms/column_roles.py), as extraction and detection read it."""

from tests.records import data_record
from transforms.column_roles import is_key_name, is_measure, range_density


def _columns(header, rows):
    record = data_record("/drive/p/daily.csv", {"daily": (header, rows)})
    return {c.name: c for c in record.tables[0].columns}, record.tables[0]


def test_unique_whole_numbers_that_fill_their_range_are_keys_and_scattered_ones_are_counts():
    clicks = [1904, 2461, 877, 3120, 1558, 990, 2706, 1333, 4012, 1187, 2250, 3377]
    rows = [[2001 + i, 2013 + i, f"2024-01-{i + 1:02d}", ["Email", "Video", "Search"][i % 3], c, 3 + i % 4]
            for i, c in enumerate(clicks)]
    cols, table = _columns(["order_number", "year", "day", "channel", "clicks", "units"], rows)
    assert all(cols[n].unique for n in ("order_number", "year", "clicks"))
    assert range_density(cols["order_number"]) == range_density(cols["year"]) == 1.0
    assert range_density(cols["clicks"]) < 0.01
    assert not is_measure(cols["order_number"]) and not is_measure(cols["year"])
    assert is_measure(cols["clicks"]) and is_measure(cols["units"])
    # Extraction sums the counts by the table's dimensions, as it does any measure.
    assert sum(table.grouped_sums["channel"]["clicks"].values()) == sum(clicks)


def test_key_names_are_never_measures_whatever_their_values():
    rows = [[i, 7 * i + 3, 10.5 * i] for i in range(1, 13)]
    cols, _ = _columns(["id", "CustomerId", "amount"], rows)
    assert is_key_name("CustomerId") and is_key_name("sku_key") and not is_key_name("paid")
    assert not is_measure(cols["id"]) and not is_measure(cols["CustomerId"])
    assert is_measure(cols["amount"])
