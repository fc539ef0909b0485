"""Declared edges: finding a declaration's tables, DOCUMENTS / REFERENCES, and merging with scored edges."""

from transforms.detect.declared import (
    EVIDENCE,
    MISSING_COLUMN_FACTOR,
    declared_edges,
    declared_scope,
    merge_declared,
)
from transforms.detect.scoring import Edge

from tests.records import data_record, text_record

IDS = [str(i) for i in range(1, 21)]


def _table(path=None, name=None, columns=(), primary_key=()):
    return {"name": name or path, "path": path, "columns": list(columns), "primary_key": list(primary_key)}


def _key(table, column, ref_table, ref_column, basis="declared key"):
    return {"table": table, "columns": [column], "ref_table": ref_table, "ref_columns": [ref_column], "basis": basis}


def _declaration(path, fmt, tables, keys=()):
    return text_record(path, "", declared={"format": fmt, "tables": tables, "foreign_keys": list(keys)})


def _csv(path, header, rows):
    return data_record(path, {path.rsplit("/", 1)[-1][:-4]: (header, rows)})


def _found(edges):
    return {(e.source_path, e.target_path, e.relationship_type) for e in edges}


LANGUAGES = ["ID", "Name"], [[f"l{i}", f"Language {i}"] for i in range(30)]
VALUES = ["ID", "Language_ID", "Value"], [[str(i), f"l{i % 30}", str(i % 3)] for i in range(90)]


def test_listed_tables_are_found_by_path_relative_to_the_metadata_file():
    meta = _declaration("/d/ds/cldf/meta.json", "csvw", [_table("languages.csv"), _table("values.csv")],
                        [_key("values.csv", "Language_ID", "languages.csv", "ID")])
    files = [_csv("/d/ds/cldf/languages.csv", *LANGUAGES), _csv("/d/ds/cldf/values.csv", *VALUES),
             _csv("/d/other/cldf/languages.csv", *LANGUAGES)]  # same name, another folder: never related
    edges = declared_edges([meta] + files)
    assert _found(edges) == {
        ("/d/ds/cldf/meta.json", "/d/ds/cldf/languages.csv", "DOCUMENTS"),
        ("/d/ds/cldf/meta.json", "/d/ds/cldf/values.csv", "DOCUMENTS"),
        ("/d/ds/cldf/values.csv", "/d/ds/cldf/languages.csv", "REFERENCES"),
    }
    reference = next(e for e in edges if e.relationship_type == "REFERENCES")
    assert reference.evidence == [EVIDENCE] and reference.confidence == 0.99
    assert reference.evidence_details["declared"]["basis"] == "declared key"


def test_a_listed_file_that_is_absent_gives_nothing():
    meta = _declaration("/d/ds/meta.json", "csvw", [_table("data/values.csv"), _table("languages.csv")],
                        [_key("data/values.csv", "Language_ID", "languages.csv", "ID")])
    files = [_csv("/d/ds/languages.csv", *LANGUAGES), _csv("/d/ds/values.csv", *VALUES)]  # not under data/
    assert _found(declared_edges([meta] + files)) == {("/d/ds/meta.json", "/d/ds/languages.csv", "DOCUMENTS")}


DEPARTMENTS = ["department_id", "manager_id"], [[str(10 * i), str(100 + i)] for i in range(1, 12)]
EMPLOYEES = ["employee_id", "department_id"], [[str(100 + i), str(10 * (i % 11 + 1))] for i in range(40)]
HR_DDL = [_table(name="departments", columns=DEPARTMENTS[0]), _table(name="employees", columns=EMPLOYEES[0])]
HR_KEYS = [_key("employees", "department_id", "departments", "department_id", "FK emp->dept"),
           _key("departments", "manager_id", "employees", "employee_id", "FK dept->emp")]


def test_sql_tables_map_to_data_files_by_name_within_the_folder_tree():
    ddl = _declaration("/d/hr/schema.sql", "sql_ddl", HR_DDL, HR_KEYS)
    files = [_csv("/d/hr/export/Departments.csv", *DEPARTMENTS), _csv("/d/hr/export/employees.csv", *EMPLOYEES),
             _csv("/d/sales/employees.csv", *EMPLOYEES)]  # outside the DDL's folder
    edges = declared_edges([ddl] + files)
    assert _found(edges) == {
        ("/d/hr/schema.sql", "/d/hr/export/Departments.csv", "DOCUMENTS"),
        ("/d/hr/schema.sql", "/d/hr/export/employees.csv", "DOCUMENTS"),
        # a cycle: both directions are declared, both are edges
        ("/d/hr/export/employees.csv", "/d/hr/export/Departments.csv", "REFERENCES"),
        ("/d/hr/export/Departments.csv", "/d/hr/export/employees.csv", "REFERENCES"),
    }
    assert {e.confidence for e in edges} == {0.95}  # found by name, not by path
    merged = merge_declared([], edges, declared_scope([ddl.file_id], edges))
    assert len(merged) == 4


def test_a_declaration_at_the_root_sees_the_whole_drive():
    ddl = _declaration("/schema.sql", "sql_ddl", HR_DDL[:1])
    assert _found(declared_edges([ddl, _csv("/hr/departments.csv", *DEPARTMENTS)])) == {
        ("/schema.sql", "/hr/departments.csv", "DOCUMENTS")}


def test_a_table_name_matching_two_files_in_the_tree_is_not_resolved():
    ddl = _declaration("/d/hr/schema.sql", "sql_ddl", HR_DDL, HR_KEYS)
    files = [_csv("/d/hr/departments.csv", *DEPARTMENTS), _csv("/d/hr/employees.csv", *EMPLOYEES),
             data_record("/d/hr/backup/employees.json", {"employees": EMPLOYEES})]
    assert _found(declared_edges([ddl] + files)) == {("/d/hr/schema.sql", "/d/hr/departments.csv", "DOCUMENTS")}


def test_tables_of_one_workbook_are_documented_once_and_never_reference_themselves():
    ddl = _declaration("/d/hr/schema.sql", "sql_ddl", HR_DDL, HR_KEYS)
    book = data_record("/d/hr/hr.xlsx", {"departments": DEPARTMENTS, "employees": EMPLOYEES})
    edges = declared_edges([ddl, book])
    assert _found(edges) == {("/d/hr/schema.sql", "/d/hr/hr.xlsx", "DOCUMENTS")}
    assert edges[0].evidence_details["declared"]["tables"] == ["departments", "employees"]


def test_a_key_column_that_is_empty_everywhere_references_nothing():
    meta = _declaration("/d/ds/meta.json", "csvw", [_table("languages.csv"), _table("examples.csv")],
                        [_key("examples.csv", "Meta_Language_ID", "languages.csv", "ID")])
    examples = _csv("/d/ds/examples.csv", ["ID", "Meta_Language_ID"], [[str(i), ""] for i in range(20)])
    edges = declared_edges([meta, examples, _csv("/d/ds/languages.csv", *LANGUAGES)])
    assert {e.relationship_type for e in edges} == {"DOCUMENTS"}


def test_a_key_column_missing_from_the_file_lowers_confidence_and_titles_count_as_headers():
    tables = [_table("languages.csv"), dict(_table("values.csv"), titles={"Lang": ["Language_ID"]})]
    meta = _declaration("/d/ds/meta.json", "csvw", tables, [_key("values.csv", "Lang", "languages.csv", "ID"),
                                                            _key("values.csv", "Gone", "languages.csv", "ID")])
    files = [_csv("/d/ds/languages.csv", *LANGUAGES), _csv("/d/ds/values.csv", *VALUES)]
    reference = next(e for e in declared_edges([meta] + files) if e.relationship_type == "REFERENCES")
    assert reference.confidence == 0.99  # "Lang" is found through its title; the best key sets confidence
    meta.declared["foreign_keys"] = meta.declared["foreign_keys"][1:]
    reference = next(e for e in declared_edges([meta] + files) if e.relationship_type == "REFERENCES")
    assert reference.confidence == round(0.99 * MISSING_COLUMN_FACTOR, 4)


# ---------------------------------------------------------------- merging


def _edge(source, target, kind, confidence=0.8, evidence=("content_similarity",)):
    return Edge(source, target, kind, confidence, list(evidence), {}, f"{source} {kind} {target}")


def test_a_declared_edge_wins_its_pair_and_keeps_the_scored_evidence():
    declared = [_edge(IDS[0], IDS[1], "DOCUMENTS", 0.99, [EVIDENCE])]
    declared[0].evidence_details["declared"] = {"by": "m.json", "foreign_keys_declared": 0}
    scored = [_edge(IDS[1], IDS[0], "REFERENCES", 0.9)]  # the metadata's values "contain" the table's
    merged = merge_declared(scored, declared, declared_scope([IDS[0]], declared))
    assert len(merged) == 1
    edge = merged[0]
    assert (edge.source, edge.target, edge.relationship_type, edge.confidence) == (IDS[0], IDS[1], "DOCUMENTS", 0.99)
    assert edge.evidence == ["content_similarity", EVIDENCE]
    assert edge.evidence_details["scored"]["relationship_type"] == "REFERENCES"


def test_a_declaration_overrules_guesses_about_what_it_describes():
    meta, languages, values, other, readme = IDS[:5]
    docs = []
    for table in (languages, values):
        docs.append(_edge(meta, table, "DOCUMENTS", 0.99, [EVIDENCE]))
        docs[-1].evidence_details["declared"] = {"by": "meta.json", "foreign_keys_declared": 1}
    scope = declared_scope([meta], docs)
    scored = [
        _edge(meta, other, "REFERENCES"),  # the metadata names a same-named file elsewhere
        _edge(languages, values, "REFERENCES"),  # an undeclared key between two of its tables
        _edge(values, other, "REFERENCES"),  # outside what it declares: stands
        _edge(readme, meta, "DOCUMENTS"),  # about the metadata file: stands
    ]
    merged = merge_declared(scored, docs, scope)
    assert {(e.source, e.target) for e in merged} == {(meta, languages), (meta, values), (values, other),
                                                      (readme, meta)}


def test_undeclared_references_stand_when_the_declaration_declares_no_keys():
    meta, a, b = IDS[:3]
    docs = [_edge(meta, a, "DOCUMENTS", 0.99, [EVIDENCE]), _edge(meta, b, "DOCUMENTS", 0.99, [EVIDENCE])]
    for doc in docs:
        doc.evidence_details["declared"] = {"by": "datapackage.json", "foreign_keys_declared": 0}
    merged = merge_declared([_edge(a, b, "REFERENCES")], docs, declared_scope([meta], docs))
    assert (a, b) in {(e.source, e.target) for e in merged}


def test_one_key_declared_by_two_files_is_one_edge_naming_both():
    child, parent = IDS[:2]
    first = _edge(child, parent, "REFERENCES", 0.99, [EVIDENCE])
    first.evidence_details["declared"] = {"by": "a.sql", "basis": "FK one"}
    second = _edge(child, parent, "REFERENCES", 0.95, [EVIDENCE])
    second.evidence_details["declared"] = {"by": "b.yml", "basis": "FK two"}
    (edge,) = merge_declared([], [first, second], declared_scope([], []))
    assert edge.confidence == 0.99 and edge.evidence_details["declared"]["basis"] == "FK one; FK two"
    assert edge.evidence_details["declared_also_by"] == ["b.yml"]


def test_min_confidence_applies_to_declared_edges():
    edge = _edge(IDS[0], IDS[1], "REFERENCES", 0.95, [EVIDENCE])
    edge.evidence_details["declared"] = {"by": "a.sql"}
    assert merge_declared([], [edge], declared_scope([], []), min_confidence=0.97) == []
