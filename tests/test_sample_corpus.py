"""Specification of the labelled sample corpus generator.

The main fixture builds one drive with ten projects (one per domain) at a
reduced row scale; every test reads the real files back from disk with the
ordinary readers (openpyxl, python-pptx, python-docx, sqlite3, json, csv) and
checks one property of the drive or of its truth: the structure of the truth,
each relationship type, and each hard case (negative classes that must stay
unlabelled, positive classes that must be labelled).
"""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
from collections import defaultdict
from pathlib import PurePosixPath

import pptx
import pytest

from beam_pipeline.sample_corpus import (
    DATA_EXTENSIONS,
    DOMAINS,
    EDGE_TYPES,
    NARRATIVE_EXTENSIONS,
    generate_corpus,
    plan_projects,
)
from beam_pipeline.sample_corpus.domains import DEPARTMENT_CODES, ROLE_KEYS
from beam_pipeline.sample_corpus.traits import (GUARANTEED_HEAD, NEGATIVE_CLASSES, POSITIVE_CLASSES, PROJECT_TRAITS,
                                                make_context)
from beam_pipeline.sample_corpus.vocabulary import CODE_LISTS, PUBLIC_CODES
from tests.corpus_files import (cell_values, classed, edges_of, ext, fk_and_keys, int_columns, lines_of,
                                modified_at, narrative_text, negatives_of, parse_figure, project_of,
                                read_tables, shared_lines, target_of, tree)

ROLE_KEYS_ALL = {role for roles in ROLE_KEYS.values() for role in roles}

PROJECTS = 10  # one project per domain
SCALE = 0.25


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    truth = generate_corpus(str(root), projects=PROJECTS, seed=0, rows_scale=SCALE)
    return root, truth


# ---- determinism ------------------------------------------------------------


def test_same_seed_gives_identical_files_and_truth(tmp_path):
    a = generate_corpus(str(tmp_path / "a"), projects=3, seed=5, rows_scale=0.05)
    b = generate_corpus(str(tmp_path / "b"), projects=3, seed=5, rows_scale=0.05)
    assert a == b
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def test_different_seed_gives_different_corpus(tmp_path):
    a = generate_corpus(str(tmp_path / "a"), projects=3, seed=5, rows_scale=0.05)
    b = generate_corpus(str(tmp_path / "b"), projects=3, seed=6, rows_scale=0.05)
    assert a["files"] != b["files"]
    assert a["edges"] != b["edges"]


def test_parallel_workers_give_the_same_output(tmp_path):
    a = generate_corpus(str(tmp_path / "a"), projects=4, seed=2, rows_scale=0.05)
    b = generate_corpus(str(tmp_path / "b"), projects=4, seed=2, rows_scale=0.05, workers=2)
    assert a == b
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def test_truth_json_on_disk_equals_returned_truth(corpus):
    root, truth = corpus
    assert json.loads((root / "truth.json").read_text()) == truth


# ---- truth structure ----------------------------------------------------------


def test_truth_files_are_exactly_the_files_written(corpus):
    root, truth = corpus
    assert truth["files"] == sorted(tree(root))


def test_every_edge_endpoint_is_a_listed_file(corpus):
    _, truth = corpus
    files = set(truth["files"])
    for e in truth["edges"]:
        assert {e["a"], e["b"], e["source"]} <= files | {e["a"], e["b"]}
        assert e["a"] in files and e["b"] in files
        assert e["source"] in (e["a"], e["b"])


def test_edge_types_come_from_the_fixed_set(corpus):
    _, truth = corpus
    assert {e["type"] for e in truth["edges"]} == set(EDGE_TYPES)


def test_one_sorted_edge_per_unordered_pair(corpus):
    _, truth = corpus
    pairs = [(e["a"], e["b"]) for e in truth["edges"]]
    assert all(a < b for a, b in pairs)
    assert len(pairs) == len(set(pairs))
    assert truth["edges"] == sorted(truth["edges"], key=lambda e: (e["a"], e["b"], e["type"]))


def test_edges_never_cross_projects(corpus):
    _, truth = corpus
    for e in truth["edges"]:
        assert project_of(truth, e["a"]) is not None
        assert project_of(truth, e["a"]) == project_of(truth, e["b"])


def test_file_projects_name_planned_codes_and_listed_files(corpus):
    _, truth = corpus
    codes = {p.code for p in plan_projects(truth["projects"], seed=truth["seed"])}
    assert set(truth["file_projects"]) <= set(truth["files"])
    assert set(truth["file_projects"].values()) == codes


# ---- files parse -------------------------------------------------------------


def test_every_file_parses_with_its_reader(corpus):
    root, truth = corpus
    for rel in truth["files"]:
        path = root / rel
        kind = ext(rel)
        if kind in DATA_EXTENSIONS:
            tables = read_tables(path)
            assert tables and all(header for header, _ in tables.values()), rel
        else:
            assert kind in NARRATIVE_EXTENSIONS, rel
            assert narrative_text(path).strip(), rel


def test_sqlite_marts_declare_primary_and_foreign_keys(corpus):
    root, truth = corpus
    marts = [rel for rel in truth["files"] if ext(rel) in ("sqlite", "db")]
    assert marts
    for rel in marts:
        con = sqlite3.connect(str(root / rel))
        try:
            tables = [n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            assert 2 <= len(tables) <= 3
            for name in tables:
                assert any(col[5] for col in con.execute(f'PRAGMA table_info("{name}")')), (rel, name)
            if len(tables) == 3:
                assert any(list(con.execute(f'PRAGMA foreign_key_list("{n}")')) for n in tables)
        finally:
            con.close()


def test_office_metadata_comes_from_seeded_values(corpus):
    root, truth = corpus
    for rel in [r for r in truth["files"] if ext(r) in ("docx", "pptx", "xlsx")][:20]:
        stamp = modified_at(root / rel)
        assert stamp is not None and stamp.year == 2024 or stamp.year == 2023, rel


# ---- directions and consistency of each type -----------------------------------


def test_summarizes_goes_from_narrative_to_data(corpus):
    _, truth = corpus
    edges = edges_of(truth, "SUMMARIZES")
    assert edges
    for e in edges:
        assert ext(e["source"]) in NARRATIVE_EXTENSIONS
        assert ext(target_of(e)) in DATA_EXTENSIONS


def test_deck_figures_equal_aggregates_of_the_summarised_rows(corpus):
    root, truth = corpus
    checked = 0
    for e in edges_of(truth, "SUMMARIZES"):
        if ext(e["source"]) != "pptx":
            continue
        header, rows = next(iter(read_tables(root / target_of(e)).values()))
        text = narrative_text(root / e["source"])
        count = re.search(r"s in scope: ([\d,]+)", text)
        assert int(count.group(1).replace(",", "")) == len(rows)
        for label, shown in re.findall(r"^Total ([a-z0-9 ]+): (\S+)$", text, re.M):
            column = header.index(label.replace(" ", "_"))
            actual = sum(r[column] for r in rows)
            value, tol = parse_figure(shown)
            assert abs(value - actual) <= tol, (e["source"], label, shown, actual)
            checked += 1
    assert checked >= 5


def test_older_versions_of_a_summarised_workbook_do_not_match_the_deck(corpus):
    root, truth = corpus
    older = defaultdict(list)
    for e in edges_of(truth, "VERSION_OF"):
        older[e["source"]].append(target_of(e))
    checked = 0
    for e in edges_of(truth, "SUMMARIZES"):
        data = target_of(e)
        for old in older.get(data, []):
            _, new_rows = next(iter(read_tables(root / data).values()))
            _, old_rows = next(iter(read_tables(root / old).values()))
            assert len(old_rows) != len(new_rows)
            changed = sum(a != b for a, b in zip(old_rows, new_rows))
            assert changed > len(new_rows) // 5
            checked += 1
    assert checked >= 1


def test_supports_goes_from_data_to_a_narrative_quoting_its_records(corpus):
    root, truth = corpus
    edges = edges_of(truth, "SUPPORTS")
    assert edges
    for e in edges:
        data, doc = e["source"], target_of(e)
        assert ext(data) in DATA_EXTENSIONS and ext(doc) in NARRATIVE_EXTENSIONS
        header, rows = next(iter(read_tables(root / data).values()))
        text = narrative_text(root / doc)
        keys = {str(r[0]) for r in rows}
        quoted = [k for k in keys if re.search(rf"(?<![\w-]){re.escape(k)}(?![\w-])", text)]
        assert len(quoted) >= 3, doc
        assert header[0] in text
        assert "Total" not in text and "Average" not in text


def test_documents_goes_from_a_memo_naming_the_file_and_its_columns(corpus):
    root, truth = corpus
    edges = edges_of(truth, "DOCUMENTS")
    assert edges
    for e in edges:
        memo, data = e["source"], target_of(e)
        assert ext(memo) in ("docx", "md", "txt") and ext(data) in DATA_EXTENSIONS
        text = narrative_text(root / memo)
        assert PurePosixPath(data).name in text
        assert "Data dictionary" in text and "Method" in text and "Sources" in text
        for header, _ in read_tables(root / data).values():
            if len(header) >= 3:
                assert all(str(c) in text for c in header), (memo, header)


def test_references_hold_in_the_files(corpus):
    """The FK column's values are mostly contained in the target's key column."""
    root, truth = corpus
    edges = edges_of(truth, "REFERENCES")
    assert edges
    for e in edges:
        source, target = e["source"], target_of(e)
        assert ext(source) in DATA_EXTENSIONS and ext(target) in DATA_EXTENSIONS
        fk, key = e["columns"]
        assert fk in e["note"] and key in e["note"]
        cells = [str(r[h.index(fk)]) for h, rows in read_tables(root / source).values() if fk in h for r in rows]
        if e.get("class") == "list_valued_key":
            cells = [v for cell in cells for v in re.split(r"[;\s]+", cell) if v]
        values = set(cells)
        keys = {str(r[h.index(key)]) for h, rows in read_tables(root / target).values() if key in h for r in rows}
        assert values and keys
        assert len(values & keys) / len(values) >= 0.9, (source, target)


def test_reference_keys_vary_in_format_and_naming(corpus):
    root, truth = corpus
    edges = edges_of(truth, "REFERENCES")
    assert any(fk == key for fk, key in (e["columns"] for e in edges))
    assert any(fk != key for fk, key in (e["columns"] for e in edges))
    shapes = set()
    for e in edges:
        key = e["columns"][1]
        for header, rows in read_tables(root / target_of(e)).values():
            if key in header:
                v = str(rows[0][header.index(key)])
                shapes.add("hex" if re.fullmatch(r"[0-9a-f-]{36}", v) else "code" if "-" in v
                           else "small" if len(v) <= 4 else "large")
    assert len(shapes) >= 3


def test_version_of_points_from_newer_to_older(corpus):
    root, truth = corpus
    edges = edges_of(truth, "VERSION_OF")
    assert edges
    for e in edges:
        newer, older = e["source"], target_of(e)
        assert ext(newer) == ext(older)
        if e.get("class") == "byte_identical_copy":  # same bytes, so same core properties: the copy is saved later
            assert (root / newer).stat().st_mtime > (root / older).stat().st_mtime
        else:
            assert modified_at(root / newer) > modified_at(root / older), (newer, older)


def test_version_families_are_complete_and_cover_docs_and_data(corpus):
    _, truth = corpus
    edges = edges_of(truth, "VERSION_OF")
    linked = defaultdict(set)
    for e in edges:
        linked[e["a"]].add(e["b"])
        linked[e["b"]].add(e["a"])
    for member, others in linked.items():  # every pair of a family is an edge
        for other in others:
            assert others - {other} <= linked[other] | {member}
    assert {ext(e["a"]) for e in edges} >= {"docx", "xlsx"}


def test_related_to_links_every_untyped_narrative_pair_of_a_project(corpus):
    _, truth = corpus
    typed = {frozenset((e["a"], e["b"])) for e in truth["edges"] if e["type"] != "RELATED_TO"}
    related = {frozenset((e["a"], e["b"])) for e in edges_of(truth, "RELATED_TO")}
    by_project = defaultdict(list)
    for rel in truth["files"]:
        if ext(rel) in NARRATIVE_EXTENSIONS and project_of(truth, rel):
            by_project[project_of(truth, rel)].append(rel)
    for files in by_project.values():
        for a, b in itertools.combinations(files, 2):
            pair = frozenset((a, b))
            assert (pair in typed) != (pair in related), pair
    assert all(ext(f) in NARRATIVE_EXTENSIONS for pair in related for f in pair)


# ---- project identity ------------------------------------------------------------


def test_narratives_mention_their_code_and_name_and_no_other_code(corpus):
    root, truth = corpus
    plans = {p.code: p for p in plan_projects(truth["projects"], seed=truth["seed"])}
    codes = set(plans)
    for rel in truth["files"]:
        if ext(rel) not in NARRATIVE_EXTENSIONS:
            continue
        text = narrative_text(root / rel)
        plan = plans.get(project_of(truth, rel))
        mentioned = {c for c in codes if c in text}
        if plan is None:  # files of no project mention none
            assert not mentioned, rel
        else:
            assert plan.name in text and mentioned == {plan.code}, rel


def test_planned_codes_and_names_are_unique_at_benchmark_scale():
    plans = plan_projects(5000, seed=0)
    assert len({p.code for p in plans}) == 5000
    assert len({p.folder for p in plans}) == 5000
    assert all(re.fullmatch(r"[A-Z]+(-\d{4}|-\d{4}-\d{2}|/\d{3}|-\d{6})", p.code) for p in plans)


def test_first_projects_cover_distinct_domains():
    plans = plan_projects(len(DOMAINS), seed=3)
    assert len({p.domain for p in plans}) == len(DOMAINS) >= 8


# ---- distractors -----------------------------------------------------------------


def test_files_of_no_project_exist_outside_shared_and_relate_to_nothing(corpus):
    _, truth = corpus
    standalone = [f for f in truth["files"] if project_of(truth, f) is None]
    assert {ext(f) for f in standalone} >= {"docx", "txt", "csv", "md"}
    assert any(not f.startswith("shared/") for f in standalone)
    touched = {f for e in truth["edges"] for f in (e["a"], e["b"])}
    assert not touched & set(standalone)


def test_same_file_names_recur_across_unrelated_projects(corpus):
    _, truth = corpus
    projects_by_name = defaultdict(set)
    for rel in truth["files"]:
        if project_of(truth, rel):
            projects_by_name[PurePosixPath(rel).name].add(project_of(truth, rel))
    assert any(len(p) > 1 for p in projects_by_name.values())


def test_boilerplate_footer_is_on_every_deck_and_memo(corpus):
    root, truth = corpus
    footers = set()
    for rel in truth["files"]:
        if ext(rel) in ("pptx", "docx"):
            text = narrative_text(root / rel)
            found = re.findall(r"Confidential - .+ - Internal use only", text)
            assert found, rel
            footers.update(found)
            if ext(rel) == "pptx":
                assert text.count(found[0]) == len(pptx.Presentation(str(root / rel)).slides._sldIdLst)
    assert len(footers) == 1


def test_small_integer_id_columns_recur_in_unrelated_tables(corpus):
    root, truth = corpus
    referenced = {(target_of(e), e["columns"][1]) for e in edges_of(truth, "REFERENCES")}
    plain_ids = 0
    for rel in truth["files"]:
        if ext(rel) in ("csv", "xlsx", "sqlite", "db"):
            for header, rows in read_tables(root / rel).values():
                if header and header[0] == "id" and rows and rows[0][0] in (1, "1") and (rel, "id") not in referenced:
                    plain_ids += 1
    assert plain_ids >= 3


def test_pii_appears_in_realistic_places(corpus):
    root, truth = corpus
    text = "\n".join((root / rel).read_text(encoding="utf-8", errors="ignore") if ext(rel) in ("csv", "json", "jsonl", "md", "txt")
                     else narrative_text(root / rel) if ext(rel) in ("docx", "pptx") else ""
                     for rel in truth["files"])
    workbook_text = "\n".join(str(v) for rel in truth["files"] if ext(rel) in ("xlsx", "sqlite", "db")
                              for _, rows in read_tables(root / rel).values() for r in rows for v in r)
    everything = text + workbook_text
    assert re.search(r"[\w.]+@[\w-]+\.\w+", everything)
    assert re.search(r"\+1 \d{3} 555 01\d\d", everything)
    assert re.search(r"\b\d{3}-\d{2}-\d{4}\b", everything)
    assert re.search(r"\b4\d{3} \d{4} \d{4} \d{4}\b", everything)
    assert re.search(r"\bDE\d{2}(?: \d{4}){4} \d{2}\b", everything)
    assert re.search(r"\b10\.\d{1,3}\.\d{1,3}\.\d{1,3}\b", everything)


# ---- scale -------------------------------------------------------------------------


def test_rows_scale_shrinks_data_files(tmp_path):
    truth = generate_corpus(str(tmp_path), projects=2, seed=1, rows_scale=0.02)
    for rel in truth["files"]:
        if ext(rel) in DATA_EXTENSIONS and project_of(truth, rel):
            for header, rows in read_tables(tmp_path / rel).values():
                if len(header) > 1:  # a one-cell file (trivial_content) has no rows to shrink
                    assert 1 <= len(rows) <= 40, rel


# ---- hard negatives: look related, are not -------------------------------------------


def test_every_class_is_present_and_negatives_are_not_edges(corpus):
    _, truth = corpus
    assert {n["class"] for n in truth["hard_negatives"]} == set(NEGATIVE_CLASSES)
    assert {e["class"] for e in truth["edges"] if "class" in e} == set(POSITIVE_CLASSES)
    edges = {(e["a"], e["b"]) for e in truth["edges"]}
    files = set(truth["files"])
    for n in truth["hard_negatives"]:
        assert n["a"] < n["b"] and n["a"] in files and n["b"] in files
        assert (n["a"], n["b"]) not in edges


def test_every_trait_goes_to_two_of_the_first_projects():
    for seed in range(5):
        plans = plan_projects(GUARANTEED_HEAD, seed=seed)
        for trait in PROJECT_TRAITS:
            assert sum(p.trait(trait) is not None for p in plans) >= 2, (seed, trait)


def test_template_sibling_minutes_share_most_lines_but_not_the_project(corpus):
    root, truth = corpus
    pairs = negatives_of(truth, "template_sibling_minutes")
    assert pairs
    for n in pairs:
        assert shared_lines(root, n) >= 0.7, n
        assert project_of(truth, n["a"]) != project_of(truth, n["b"])
        assert project_of(truth, n["a"]) in narrative_text(root / n["a"])
        assert project_of(truth, n["a"]) not in narrative_text(root / n["b"])


def test_memo_series_repeats_one_template_for_other_departments_or_quarters(corpus):
    root, truth = corpus
    pairs = negatives_of(truth, "template_sibling_memo_series")
    assert pairs
    for n in pairs:
        assert shared_lines(root, n) >= 0.6, n
        title_a, title_b = (narrative_text(root / n[k]).splitlines()[0] for k in ("a", "b"))
        assert title_a != title_b  # another department or quarter
        assert project_of(truth, n["a"]) is None and project_of(truth, n["b"]) is None


def test_readme_siblings_share_the_template_and_document_different_files(corpus):
    root, truth = corpus
    documented = {e["source"]: target_of(e) for e in edges_of(truth, "DOCUMENTS")}
    pairs = negatives_of(truth, "template_sibling_readme")
    readme_pairs = [n for n in pairs if n["a"] in documented and n["b"] in documented]
    assert readme_pairs and len(readme_pairs) < len(pairs)  # README/README and README/other dataset
    for n in readme_pairs:
        a, b = lines_of(root / n["a"]), lines_of(root / n["b"])
        assert {"Data dictionary", "Method", "Sources", "Access and licence", "Change log"} <= {
            line.lstrip("#= ").strip() for line in a & b}
        assert PurePosixPath(documented[n["a"]]).name != PurePosixPath(documented[n["b"]]).name or \
            project_of(truth, documented[n["a"]]) != project_of(truth, documented[n["b"]])


def test_small_integer_domains_lie_inside_other_tables_integer_keys(corpus):
    root, truth = corpus
    pairs = negatives_of(truth, "small_integer_domain")
    assert any(project_of(truth, n["a"]) != project_of(truth, n["b"]) for n in pairs)
    assert any(project_of(truth, n["a"]) == project_of(truth, n["b"]) for n in pairs)
    for n in pairs:
        cols_a, cols_b = int_columns(root / n["a"]), int_columns(root / n["b"])
        inside = any(values <= keys for x, y in ((cols_a, cols_b), (cols_b, cols_a))
                     for values in x.values() for keys in y.values())
        assert inside, n
    decoys = defaultdict(set)
    for rel in truth["files"]:
        if ext(rel) in ("xlsx", "csv"):
            for column, values in int_columns(root / rel).items():
                if column in ("quantity", "line_no", "store_id", "pct_complete"):
                    decoys[column] |= {len(values)}
    assert 1 in decoys["store_id"]  # a store_id column holding one value
    assert decoys.keys() >= {"quantity", "line_no"} or decoys.keys() >= {"pct_complete"}


def test_shared_code_lists_hold_one_public_list_in_unrelated_projects(corpus):
    root, truth = corpus
    pairs = negatives_of(truth, "shared_code_list")
    assert pairs
    for n in pairs:
        assert project_of(truth, n["a"]) != project_of(truth, n["b"])
        lists = []
        for rel in (n["a"], n["b"]):
            values = cell_values(root / rel)
            lists.append({name for name, codes in CODE_LISTS.items() if len(values & set(codes)) >= 5})
        assert lists[0] & lists[1], n


def test_standard_readme_explains_the_columns_of_tables_it_does_not_name(corpus):
    root, truth = corpus
    pairs = negatives_of(truth, "standard_readme")
    assert len(pairs) >= 2
    for n in pairs:
        readme, table = (n["a"], n["b"]) if project_of(truth, n["a"]) is None else (n["b"], n["a"])
        text = narrative_text(root / readme)
        header = next(iter(read_tables(root / table).values()))[0]
        assert {"latitude", "longitude", "iso_code", "region"} <= set(header) and all(c in text for c in
                                                                                         ("latitude", "iso_code"))
        assert PurePosixPath(table).name not in text and PurePosixPath(table).stem not in text


def test_coincident_numbers_are_a_few_round_numbers_in_unrelated_files(corpus):
    root, truth = corpus
    pairs = negatives_of(truth, "coincident_numbers")
    assert pairs
    ctx = make_context(truth["seed"])
    amount, phases, sites = ctx.round_numbers
    shown = (f"{amount:,}", f"{amount // 1000}k")
    for n in pairs:
        assert project_of(truth, n["a"]) != project_of(truth, n["b"])
        for rel in (n["a"], n["b"]):
            if ext(rel) in DATA_EXTENSIONS:
                assert {str(amount), str(phases), str(sites)} <= cell_values(root / rel)
            else:
                text = narrative_text(root / rel)
                assert any(s in text for s in shown) and f"{sites} sites" in text and f"{phases} phases" in text


def test_shared_public_codes_appear_in_narratives_of_different_projects(corpus):
    root, truth = corpus
    pairs = negatives_of(truth, "shared_public_code")
    assert pairs
    for n in pairs:
        texts = [narrative_text(root / n[k]) for k in ("a", "b")]
        assert any(code in texts[0] and code in texts[1] for code in PUBLIC_CODES)
        assert project_of(truth, n["a"]) != project_of(truth, n["b"])


def test_trivial_files_hold_one_cell_one(corpus):
    root, truth = corpus
    pairs = negatives_of(truth, "trivial_content")
    assert pairs
    for n in pairs:
        for rel in (n["a"], n["b"]):
            tables = read_tables(root / rel)
            assert list(tables.values()) == [([1] if ext(rel) == "xlsx" else ["1"], [])], rel


# ---- hard positives: related, and hard to see ------------------------------------------


def test_constant_fk_holds_one_parent_key_on_every_row(corpus):
    root, truth = corpus
    edges = classed(truth, "constant_fk")
    assert edges and all(e["type"] == "REFERENCES" for e in edges)
    for e in edges:
        child, keys = fk_and_keys(root, e)
        assert len(child) >= 3 and len(set(child)) == 1 and child[0] in keys


def test_role_named_keys_do_not_name_their_parent(corpus):
    root, truth = corpus
    edges = classed(truth, "role_named_key")
    assert edges
    for e in edges:
        fk, key = e["columns"]
        assert fk in ROLE_KEYS_ALL and not set(fk.split("_")) & set(key.split("_"))
        child, keys = fk_and_keys(root, e)
        assert len(set(child) & keys) >= 0.9 * len(set(child))


def test_list_valued_keys_join_several_parent_keys_in_one_cell(corpus):
    root, truth = corpus
    edges = classed(truth, "list_valued_key")
    assert edges
    for e in edges:
        child, keys = fk_and_keys(root, e)
        assert any(re.search(r"[; ]", cell) for cell in child)
        parts = {v for cell in child for v in re.split(r"[;\s]+", cell) if v}
        assert parts <= keys


def test_name_keys_are_handles_or_names_used_elsewhere(corpus):
    root, truth = corpus
    edges = classed(truth, "name_key")
    assert edges
    for e in edges:
        child, keys = fk_and_keys(root, e)
        assert all(re.fullmatch(r"[A-Za-z][A-Za-z._ ]+", k) for k in keys)
        assert len(set(child) & keys) >= 0.9 * len(set(child))


def test_byte_identical_copies_are_versions_under_another_name(corpus):
    root, truth = corpus
    edges = classed(truth, "byte_identical_copy")
    assert edges and all(e["type"] == "VERSION_OF" for e in edges)
    for e in edges:
        copy, original = e["source"], target_of(e)
        assert PurePosixPath(copy).name != PurePosixPath(original).name
        assert (root / copy).read_bytes() == (root / original).read_bytes()


# ---- naming conventions and folder layouts ------------------------------------------------


def test_projects_use_several_naming_conventions_and_layouts(corpus):
    _, truth = corpus
    files = [f for f in truth["files"] if project_of(truth, f)]
    names = [PurePosixPath(f).stem for f in files]
    assert any(re.fullmatch(r"20\d\d-\d\d_[a-z0-9_-]+", n) for n in names)  # date-prefixed
    assert any(re.fullmatch(r"([A-Z][a-z]+){2,}(_[\w-]+)?", n) for n in names)  # CamelCase
    assert any(re.fullmatch(r"[A-Z0-9]+(_[A-Z0-9-]+)+", n) for n in names)  # UPPER_SNAKE
    folders = defaultdict(set)
    for f in files:
        folders[str(PurePosixPath(f).parent)].add(project_of(truth, f))
    flat = [d for d, owners in folders.items() if len(owners) >= 2]
    assert flat  # one folder holds the data and decks of several projects
    assert any(PurePosixPath(f).parts[0] in DEPARTMENT_CODES.values() for f in files)
    split = defaultdict(set)
    for f in files:
        split[project_of(truth, f)].add(PurePosixPath(f).parts[0])
    assert any({"data", "reports"} <= tops for tops in split.values())  # related files in different trees


def test_related_files_of_split_projects_sit_in_different_trees(corpus):
    _, truth = corpus
    crossing = [e for e in truth["edges"] if e["type"] in ("SUMMARIZES", "SUPPORTS", "DOCUMENTS")
                and PurePosixPath(e["a"]).parts[0] != PurePosixPath(e["b"]).parts[0]]
    assert crossing
