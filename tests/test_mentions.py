"""Which file a mentioned file name means (transforms/detect/mentions.py)."""

from tests.records import text_record
from transforms.detect import mentions


def _holders(*paths):
    return [(f"id:{p}", p) for p in paths]


def test_a_bare_name_means_the_only_file_of_that_name_in_the_mentioning_files_tree():
    holders = _holders("/d/sales/q3/orders.csv", "/d/hr/orders.csv")
    assert mentions.resolve("/d/sales/memo.docx", "orders.csv", holders) == "id:/d/sales/q3/orders.csv"
    # Two in the tree and none beside the memo: ambiguous, however many files of that name lie outside it.
    two = _holders("/d/sales/q3/orders.csv", "/d/sales/q4/orders.csv", "/d/hr/orders.csv")
    assert mentions.resolve("/d/sales/memo.docx", "orders.csv", two) is None


def test_a_relative_path_is_resolved_from_the_mentioning_files_folder():
    holders = _holders("/d/ds1/cldf/languages.csv", "/d/ds2/cldf/languages.csv")
    assert mentions.resolve("/d/ds2/README.md", "cldf/languages.csv", holders) == "id:/d/ds2/cldf/languages.csv"
    assert mentions.resolve("/d/ds2/README.md", "./cldf/languages.csv", holders) == "id:/d/ds2/cldf/languages.csv"


def test_a_name_outside_the_tree_means_the_only_file_of_that_name_in_the_run():
    assert mentions.resolve("/d/a/memo.md", "x.csv", _holders("/d/b/x.csv")) == "id:/d/b/x.csv"
    assert mentions.resolve("/d/a/memo.md", "x.csv", []) is None
    # A file does not mention itself.
    assert mentions.resolve("/d/a/x.csv", "x.csv", _holders("/d/a/x.csv")) is None


def test_a_name_in_a_parallel_tree_means_the_file_in_the_folder_named_as_the_mentioners():
    """reports/<area>/<project>/ beside data/<area>/<project>/: the memo's own folder name, and
    the most folder names shared, pick one of the files of that name across the drive."""
    holders = _holders(
        "/drive/data/Facilities/Granite Decarbonisation/ENERGY_USAGE.xlsx",
        "/drive/data/Facilities/Cedar Metering/ENERGY_USAGE.xlsx",
        "/drive/data/Sales/Granite Decarbonisation/ENERGY_USAGE.xlsx",
    )
    memo = "/drive/reports/Facilities/Granite Decarbonisation/notes.docx"
    assert mentions.resolve(memo, "ENERGY_USAGE.xlsx", holders) == holders[0][0]
    # Two files in a folder of the memo's folder name, sharing as many names with it: nothing.
    assert mentions.resolve("/drive/reports/Granite Decarbonisation/notes.docx", "ENERGY_USAGE.xlsx", holders) is None
    # No file in a folder named as the memo's: nothing, however many other names are shared.
    assert mentions.resolve("/drive/reports/Facilities/Other/notes.docx", "ENERGY_USAGE.xlsx", holders) is None
    # A memo at the top of a relative drive has no folder name to mirror.
    assert mentions.resolve("notes.docx", "ENERGY_USAGE.xlsx", _holders("a/ENERGY_USAGE.xlsx", "b/ENERGY_USAGE.xlsx")) is None


def test_resolution_over_records_names_the_mirrored_file_and_never_guesses_between_equals():
    memo = text_record("/drive/reports/Ops/Cedar Review/note.md", "This note describes warehouses.csv and sites.csv.")
    named = [text_record(p, "x") for p in ("/drive/data/Ops/Cedar Review/warehouses.csv",
                                            "/drive/data/Ops/Birch Review/warehouses.csv",
                                            "/drive/data/Ops/Cedar Review/2023/sites.csv",
                                            "/drive/data/Ops/Cedar Review/2024/sites.csv")]
    found = mentions.resolve_all([memo, *named])
    assert found == [(memo.file_id, named[0].file_id)]


def test_a_sentence_cased_name_resolves_through_the_reading_a_file_is_named():
    memo = text_record("/drive/reports/Ops/Lumen/readme.md", "This note describes Leave requests.csv: what each column holds.")
    named = text_record("/drive/data/Ops/Lumen/Leave requests.csv", "x")
    other = text_record("/drive/data/Ops/Birch/Leave requests.csv", "x")
    assert mentions.resolve_all([memo, named, other]) == [(memo.file_id, named.file_id)]
