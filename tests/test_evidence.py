"""Evidence weighed against the corpus: one test per class of false edge seen on real data,
and the real links those fixes must keep. Each builds a small run in memory and detects
with the whole corpus in view (frequencies, mention resolution, global steps)."""

import random

from tests.records import data_record, text_record
from transforms.config import Config
from transforms.detect.relationships import typed_edges
from transforms.detect.scoring import ConfidenceModel

CONFIG = Config()
MODEL = ConfidenceModel.load()


def _edges(records):
    """{(source name, target name): type} of every typed edge, no confidence threshold."""
    names = {r.file_id: r.file_path for r in records}
    return {(names[e.source], names[e.target]): e.relationship_type for e in typed_edges(records, CONFIG, MODEL)}


def _pairs(edges):
    return {frozenset(p) for p in edges}


def _table(path, header, rows):
    return data_record(path, {"": (header, rows)})


def _fillers(n=10):
    rng = random.Random(7)
    return [_table(f"/misc/log{i}.csv", ["event", "score"], [[f"ev{rng.randint(0, 999)}", rng.random()]
                                                             for _ in range(20)]) for i in range(n)]


# ---------------------------------------------------------------- REFERENCES by chance


def test_ids_in_a_dense_stretch_of_a_sparse_code_column_are_chance():
    # Department ids 10..110 sit inside a code column that is dense over 1..300 but
    # has a few huge codes: dense where the ids are, so their containment is chance.
    departments = _table("/hr/departments.csv", ["department_id", "name"],
                         [[10 * i, f"dept {i}"] for i in range(1, 12)])
    employees = _table("/hr/employees.csv", ["employee_id", "department_id"],
                       [[100 + i, 10 * (1 + i % 11)] for i in range(60)])
    codes = _table("/geo/codes.csv", ["gaul", "label"],
                   [[i, f"area {i}"] for i in range(1, 301)] + [[40000 + i, f"far {i}"] for i in range(8)])
    edges = _edges([departments, employees, codes, *_fillers()])
    assert ("/hr/employees.csv", "/hr/departments.csv") in edges
    assert frozenset({"/hr/employees.csv", "/geo/codes.csv"}) not in _pairs(edges)
    assert frozenset({"/hr/departments.csv", "/geo/codes.csv"}) not in _pairs(edges)


def test_a_key_column_references_one_parent_not_every_table_whose_ids_contain_it():
    stores = _table("/co/stores.csv", ["store_id", "store_name"], [[i, f"Store {i}"] for i in range(1, 24)])
    products = _table("/co/products.csv", ["product_id", "product_name"], [[i, f"P{i}"] for i in range(1, 47)])
    customers = _table("/co/customers.csv", ["customer_id", "full_name"], [[i, f"C{i}"] for i in range(1, 393)])
    orders = _table("/co/orders.csv", ["order_id", "store_id", "customer_id"],
                    [[i, 1 + i % 23, 1 + (i * 7) % 392] for i in range(1, 500)])
    edges = _edges([stores, products, customers, orders, *_fillers()])
    references = {p for p, t in edges.items() if t == "REFERENCES"}
    assert references == {("/co/orders.csv", "/co/stores.csv"), ("/co/orders.csv", "/co/customers.csv")}


def test_one_code_list_in_two_folders_is_not_a_reference_and_a_key_picks_its_own_folder():
    codes = ["AR", "AU", "BE", "BR", "CA", "CH", "CN", "DE", "DK", "EG", "FR", "HK", "IL", "IN", "IT", "JP",
             "KW", "MX", "NG", "NL", "SG", "UK", "US", "ZM", "ZW"]
    hr_countries = _table("/hr/countries.csv", ["country_id", "country_name"], [[c, f"Country {c}"] for c in codes])
    locations = _table("/hr/locations.csv", ["location_id", "city", "country_id"],
                       [[1000 + i, f"City {i}", codes[i % 14]] for i in range(23)])
    world = _table("/geo/iso/country.csv", ["two_letter", "name", "numeric"],
                   [[c, f"Land {c}", 100 + i] for i, c in enumerate(codes + ["AA", "AB", "AC", "AD", "AE", "AF"])])
    edges = _edges([hr_countries, locations, world, *_fillers()])
    assert edges.get(("/hr/locations.csv", "/hr/countries.csv")) == "REFERENCES"
    assert frozenset({"/hr/locations.csv", "/geo/iso/country.csv"}) not in _pairs(edges)
    # A second list of the same codes is one domain, not a reference.
    assert frozenset({"/hr/countries.csv", "/geo/iso/country.csv"}) not in _pairs(edges)


# ---------------------------------------------------------------- real links the fixes keep


def test_template_siblings_numbering_their_rows_alike_do_not_reference_each_other():
    # Change logs of one template in two projects: each numbers its five changes 101..105 under
    # the same key name. Chance-level values far apart in the drive; the name alone is no reference.
    def log(project, name, extra):
        return _table(f"/{project}/ops/{name}", ["change_id", "decision", extra],
                      [[100 + i, f"{project} decision {i}", f"{project}-{i}"] for i in range(1, 6)])

    def folder(project):  # a project's own files, so neither folder is small for the run
        return [_table(f"/{project}/ops/sheet{i}.csv", ["item", "qty"], [[f"{project}{i}-{j}", j]
                                                                          for j in range(12)]) for i in range(6)]

    records = [log("alpha", "change_log.csv", "owner"), log("beta", "changes_backup.csv", "approver"),
               *folder("alpha"), *folder("beta"), *_fillers(30)]
    edges = _edges(records)
    assert "REFERENCES" not in {t for p, t in edges.items()
                                if set(p) == {"/alpha/ops/change_log.csv", "/beta/ops/changes_backup.csv"}}
    # The same small key in one folder is a reference: a change's approvals point at the change.
    approvals = _table("/alpha/ops/change_approvals.csv", ["approval_id", "change_id", "approver"],
                       [[i, 100 + 1 + i % 5, f"A{i}"] for i in range(1, 11)])
    edges = _edges(records + [approvals])
    assert edges.get(("/alpha/ops/change_approvals.csv", "/alpha/ops/change_log.csv")) == "REFERENCES"


def test_a_constant_foreign_key_column_references_its_parent_by_name():
    stores = _table("/co/stores.csv", ["store_id", "store_name"], [[i, f"Store {i}"] for i in range(1, 24)])
    shipments = _table("/co/shipments.csv", ["shipment_id", "store_id", "status"],
                       [[i, 1, "sent"] for i in range(1, 80)])
    edges = _edges([stores, shipments, *_fillers()])
    assert edges.get(("/co/shipments.csv", "/co/stores.csv")) == "REFERENCES"


def test_a_list_valued_column_references_the_key_its_items_come_from():
    codes = ["de", "fr", "it", "es", "pt", "nl", "be", "at", "ch", "pl", "cz", "sk", "hu", "ro", "bg"]
    countries = _table("/ds/countries.csv", ["alpha_2", "name"], [[c.upper(), f"Country {c}"] for c in codes])
    languages = _table("/ds/languages.csv", ["id", "language", "countries"],
                       [[i, f"lang{i}", " ".join(c.upper() for c in codes[i % 12:i % 12 + 1 + i % 3])]
                        for i in range(40)])
    edges = _edges([countries, languages, *_fillers()])
    assert edges.get(("/ds/languages.csv", "/ds/countries.csv")) == "REFERENCES"


def test_a_key_named_after_a_role_references_the_table_of_people():
    employees = _table("/ops/employees.csv", ["employee_id", "first_name", "email"],
                       [[100 + i, f"Name{i}", f"n{i}@example.com"] for i in range(30)])
    invoices = _table("/ops/invoices.csv", ["invoice_id", "approved_by", "amount"],
                      [[i, 100 + i % 6, 10.5 * i] for i in range(1, 90)])
    edges = _edges([employees, invoices, *_fillers()])
    assert edges.get(("/ops/invoices.csv", "/ops/employees.csv")) == "REFERENCES"


# ---------------------------------------------------------------- DOCUMENTS by shared vocabulary


def _languages(folder, seed):
    rng = random.Random(seed)
    rows = [[f"{folder}{i}", f"glot{seed}{i:04d}", round(rng.uniform(-60, 60), 3), round(rng.uniform(-150, 150), 3),
             rng.choice(["Eurasia", "Africa", "Papunesia"])] for i in range(40)]
    return _table(f"/{folder}/cldf/languages.csv", ["ID", "Glottocode", "Latitude", "Longitude", "Macroarea"], rows)


def test_a_readme_explaining_a_standards_columns_documents_only_its_own_dataset():
    readme = text_record("/alpha/cldf/README.md", "# Alpha\n\nThe table languages.csv lists each language with its "
                         "Glottocode, Latitude, Longitude and Macroarea, following the standard.")
    tables = [_languages(folder, seed) for seed, folder in enumerate(("alpha", "beta", "gamma", "delta"))]
    edges = _edges([readme, *tables, *_fillers()])
    documented = {p[1] for p, t in edges.items() if p[0] == "/alpha/cldf/README.md"}
    assert documented == {"/alpha/cldf/languages.csv"}


def test_a_readme_naming_a_file_missing_from_its_folder_documents_no_namesake_elsewhere():
    readme = text_record("/alpha/README.md", "Data: see values.csv and parameters.csv for the coded values.")
    others = [_table(f"/{f}/values.csv", ["ID", "Value"], [[f"{f}{i}", i] for i in range(20)])
              for f in ("beta", "gamma")]
    edges = _edges([readme, *others, *_fillers()])
    assert not any("/alpha/README.md" in p for p in edges)


# ---------------------------------------------------------------- VERSION_OF is one identity


_MINUTES = ("Attendees agreed the rollout order. Actions: confirm the warehouse scanner budget, "
            "publish the revised timeline, book the vendor demo. Risks: supplier lead times, staffing.")


def test_meeting_notes_of_one_template_for_two_project_codes_are_not_versions():
    a = text_record("/notes/prj-101 weekly notes.docx", f"Weekly notes - PRJ-101\n\n{_MINUTES}")
    b = text_record("/notes/prj-202 weekly notes.docx", f"Weekly notes - PRJ-202\n\n{_MINUTES}")
    assert _edges([a, b, *_fillers()]).get(("/notes/prj-202 weekly notes.docx", "/notes/prj-101 weekly notes.docx")) \
        != "VERSION_OF"
    assert "VERSION_OF" not in _edges([a, b, *_fillers()]).values()


def test_one_memo_series_for_two_quarters_is_not_a_version_family():
    a = text_record("/fin/budget review q1.docx", f"Budget review Q1 2024\n\n{_MINUTES}")
    b = text_record("/fin/budget review q2.docx", f"Budget review Q2 2024\n\n{_MINUTES}")
    assert "VERSION_OF" not in _edges([a, b, *_fillers()]).values()


def test_draft_and_final_of_one_memo_are_versions():
    a = text_record("/fin/budget review draft.docx", f"Budget review Q1 2024\n\n{_MINUTES}")
    b = text_record("/fin/budget review final.docx", f"Budget review Q1 2024\n\n{_MINUTES} Approved.")
    assert _edges([a, b, *_fillers()]).get(("/fin/budget review final.docx", "/fin/budget review draft.docx")) \
        == "VERSION_OF"


def test_a_byte_identical_copy_under_another_name_is_a_version():
    a = text_record("/a/handbook.docx", f"Staff handbook\n\n{_MINUTES}")
    b = text_record("/b/onboarding pack.docx", f"Staff handbook\n\n{_MINUTES}")
    assert a.content_hash == b.content_hash
    assert set(_edges([a, b, *_fillers()]).values()) == {"VERSION_OF"}


def test_files_whose_only_content_is_one_cell_are_not_versions():
    a = _table("/x/flag.csv", ["value"], [[1]])
    b = _table("/y/flag.csv", ["value"], [[1]])
    assert "VERSION_OF" not in _edges([a, b, *_fillers()]).values()


# ---------------------------------------------------------------- numbers and codes by chance


def test_a_couple_of_coincident_numbers_do_not_make_a_summary():
    rng = random.Random(3)
    header = ["id", "region", "channel"] + [f"m{j}" for j in range(12)]
    regions, channels = ["North", "South", "East", "West", "Central"], ["web", "store", "phone"]
    rows = [[i, regions[i % 5], channels[i % 3]] + [rng.randint(100, 999) for _ in range(12)] for i in range(200)]
    table = _table("/data/metrics.csv", header, rows)
    totals = {}
    for row in rows:
        totals[row[1]] = totals.get(row[1], 0) + row[3]
    # A memo about something else that happens to show two of the many sums among its own numbers.
    shown = sorted(totals.values())[:2]
    memo_numbers = [rng.randint(1000, 99999) for _ in range(25)] + shown
    memo = text_record("/notes/facilities.md", "Facilities figures: " + ", ".join(f"{n:,}" for n in memo_numbers))
    edges = _edges([table, memo, *_fillers()])
    assert edges.get(("/notes/facilities.md", "/data/metrics.csv")) != "SUMMARIZES"


def test_notes_of_one_template_filled_in_for_another_project_and_date_are_not_versions():
    body = "Meeting notes\n\nHeld on {date} for {code}. " + _MINUTES + " Next review {date}, owner team {code}."
    a = text_record("/notes/weekly notes.docx", body.format(date="2024-03-12", code="PRJ-310"))
    b = text_record("/archive/weekly notes.docx", body.format(date="2024-05-07", code="OPS-118"))
    assert "VERSION_OF" not in _edges([a, b, *_fillers()]).values()


def test_key_names_point_at_tables_by_qualifier_role_and_abbreviation():
    from transforms.detect.inclusion import (
        NAME_ABBREVIATION,
        NAME_QUALIFIED,
        NAME_ROLE,
        NAME_SAME_KEY,
        NAME_TABLE,
        name_grade,
    )
    from transforms.model import ColumnProfile, TableProfile

    key = ColumnProfile("ID", "string", unique=True)
    languages = TableProfile("languages", [key])
    assert name_grade("Language_ID", languages, key, "languages") == NAME_TABLE
    assert name_grade("Meta_Language_ID", languages, key, "languages") == NAME_QUALIFIED
    customers = TableProfile("customers", [ColumnProfile("customer_id", "integer", unique=True)])
    assert name_grade("cust_id", customers, customers.columns[0], "customers") == NAME_ABBREVIATION
    assert name_grade("customer_id", customers, customers.columns[0], "customers") == NAME_SAME_KEY
    staff = TableProfile("employees", [ColumnProfile("employee_id", "integer", unique=True)])
    assert name_grade("approved_by", staff, staff.columns[0], "employees") == NAME_ROLE
    assert name_grade("quantity", customers, customers.columns[0], "customers") == 0.0
