"""List-valued columns: a cell holding several references ("ann;bob", "12|40|7") is profiled by item."""

from __future__ import annotations

import pytest

from transforms.config import ExtractionConfig
from transforms.extract.context import ExtractContext
from transforms.extract.lists import list_separator
from transforms.extract.profile import is_text_cell, profile_table
from transforms.signatures import containment

HANDLES = ["saareva", "heinsooheinike", "runklamihkel", "ivasulev", "pajusalukarl", "norvikmiina"]


def _profile(header, rows):
    ctx = ExtractContext(uri="t.csv", file_name="t.csv", extension="csv", limits=ExtractionConfig())
    return profile_table("t", header, rows, ctx)


@pytest.mark.parametrize("separator", [";", "|"])
def test_a_list_of_handles_is_profiled_by_item(separator):
    cells = [separator.join(HANDLES[i % 6:i % 6 + 1 + i % 3]) for i in range(20)]
    table = _profile(["id", "experts"], [[str(i), cell] for i, cell in enumerate(cells)])
    experts = table.column("experts")
    assert experts.separator == separator
    assert experts.distinct == 6 and not experts.unique and experts.dtype == "string"
    people = _profile(["handle"], [[h] for h in HANDLES]).column("handle")
    assert people.unique and containment(experts.value_hashes, experts.exact, people.value_hashes, people.exact) == 1.0


def test_a_list_of_ids_is_profiled_as_integers():
    cells = ["|".join(str(n) for n in range(i, i + 1 + i % 4)) for i in range(1, 30)]
    column = _profile(["Example_ID"], [[c] for c in cells]).column("Example_ID")
    assert column.separator == "|" and column.dtype == "integer" and column.distinct == 30


@pytest.mark.parametrize("cells", [
    ["North Region", "South Region", "North Region", "East", "West Region"],  # labels of several words
    ["Doe, Jane", "Roe, Richard", "Doe, John", "Poe, Anna", "Roe, Jane"],  # one name each
    ["Titin, Nurgram, Nuristan", "Kabul, Kabul, Kabul", "Nurgram, Nuristan", "Titin, Nuristan", "Kabul"],
    ["2024-02-01 00:00:00", "2024-02-02 00:00:00", "2024-02-03 00:00:00", "2024-02-04 00:00:00"],
    ['{"a": 1; "b": 2}', '{"a": 3; "b": 2}', '{"a": 1; "c": 2}', '{"a": 5}'],  # structured text
    ["AF PK", "US", "BR AR", "PK IN", "US CA"],  # space-separated codes stay whole (see list_separator)
    ["a", "b", "c"],  # too few values to tell
])
def test_single_values_are_not_lists(cells):
    assert list_separator(cells, is_text_cell) == ""
