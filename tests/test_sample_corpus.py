"""Specification of the labelled sample corpus generator.

The main fixture builds one drive with ten projects (one per domain) at a
reduced row scale; every test reads the real files back from disk with the
ordinary readers (openpyxl, python-pptx, python-docx, sqlite3, json, csv) and
checks one property of the drive or of its truth.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import re
import sqlite3
from collections import defaultdict
from pathlib import Path, PurePosixPath

import docx
import openpyxl
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

PROJECTS = 10  # one project per domain
SCALE = 0.25


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    truth = generate_corpus(str(root), projects=PROJECTS, seed=0, rows_scale=SCALE)
    return root, truth


def ext(rel: str) -> str:
    return PurePosixPath(rel).suffix.lstrip(".").lower()


def project_of(rel: str) -> str:
    return "/".join(PurePosixPath(rel).parts[:2])


def tree(root: Path) -> dict:
    """Relative path -> sha256 of every file under root except truth.json."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != "truth.json"}


# ---- readers used by the checks -------------------------------------------


def read_tables(path: Path) -> dict:
    """Table name -> (header, rows) for a data file, as the file stores it."""
    kind = ext(path.name)
    if kind == "csv":
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        return {path.stem: (rows[0], rows[1:])}
    if kind in ("json", "jsonl"):
        text = path.read_text(encoding="utf-8")
        if kind == "jsonl":
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            data = json.loads(text)
            records = data["data"] if isinstance(data, dict) else data
        header = list(records[0])
        return {path.stem: (header, [[r[c] for c in header] for r in records])}
    if kind in ("sqlite", "db"):
        con = sqlite3.connect(str(path))
        try:
            out = {}
            for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"):
                cur = con.execute(f'SELECT * FROM "{name}"')
                out[name] = ([d[0] for d in cur.description], [list(r) for r in cur.fetchall()])
            return out
        finally:
            con.close()
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        out = {}
        for ws in wb.worksheets:
            values = [list(r) for r in ws.iter_rows(values_only=True)]
            # The header is the first row with two or more cells (title rows have
            # one); a notes sheet has none and is read from its first row.
            start = next((i for i, r in enumerate(values) if sum(v is not None for v in r) >= 2), 0)
            body = []
            for r in values[start + 1:]:
                if r[0] == "Total":  # formula total row
                    break
                body.append(r)
            out[ws.title] = (values[start], body)
        return out
    finally:
        wb.close()


def narrative_text(path: Path) -> str:
    kind = ext(path.name)
    if kind == "docx":
        d = docx.Document(str(path))
        parts = [p.text for p in d.paragraphs]
        parts += [c.text for t in d.tables for row in t.rows for c in row.cells]
        parts += [p.text for s in d.sections for p in s.footer.paragraphs]
        return "\n".join(parts)
    if kind == "pptx":
        parts = []
        for slide in pptx.Presentation(str(path)).slides:
            for shape in slide.shapes:
                if shape.has_text_frame:
                    parts += [p.text for p in shape.text_frame.paragraphs]
                if shape.has_table:
                    parts += [c.text for row in shape.table.rows for c in row.cells]
            if slide.has_notes_slide:
                parts.append(slide.notes_slide.notes_text_frame.text)
        return "\n".join(parts)
    return path.read_text(encoding="utf-8")


def modified_at(path: Path):
    if ext(path.name) == "xlsx":
        wb = openpyxl.load_workbook(path, read_only=True)
        try:
            return wb.properties.modified
        finally:
            wb.close()
    if ext(path.name) == "docx":
        return docx.Document(str(path)).core_properties.modified
    return pptx.Presentation(str(path)).core_properties.modified


def parse_figure(text: str):
    """'$1.23M' / '45.2k' / '1,234.50' -> (value, rounding tolerance)."""
    s = text.strip().lstrip("$").replace(",", "")
    scale = {"k": 1e3, "M": 1e6, "B": 1e9}.get(s[-1], 1.0)
    if scale != 1.0:
        s = s[:-1]
    decimals = len(s.split(".")[1]) if "." in s else 0
    return float(s) * scale, 0.5 * 10 ** -decimals * scale + 1e-6


def edges_of(truth, kind):
    return [e for e in truth["edges"] if e["type"] == kind]


def target_of(edge):
    return edge["b"] if edge["source"] == edge["a"] else edge["a"]


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
        assert project_of(e["a"]) == project_of(e["b"])
        assert not e["a"].startswith("shared/")


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
        assert ext(memo) in ("docx", "md") and ext(data) in DATA_EXTENSIONS
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
        values = {str(r[h.index(fk)]) for h, rows in read_tables(root / source).values() if fk in h for r in rows}
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
        if ext(rel) in NARRATIVE_EXTENSIONS and not rel.startswith("shared/"):
            by_project[project_of(rel)].append(rel)
    for files in by_project.values():
        for a, b in itertools.combinations(files, 2):
            pair = frozenset((a, b))
            assert (pair in typed) != (pair in related), pair
    assert all(ext(f) in NARRATIVE_EXTENSIONS for pair in related for f in pair)


# ---- project identity ------------------------------------------------------------


def test_narratives_mention_their_code_and_name_and_no_other_code(corpus):
    root, truth = corpus
    plans = {p.folder: p for p in plan_projects(truth["projects"], seed=truth["seed"])}
    codes = {p.code for p in plans.values()}
    for rel in truth["files"]:
        if ext(rel) not in NARRATIVE_EXTENSIONS:
            continue
        text = narrative_text(root / rel)
        plan = plans.get(project_of(rel))
        mentioned = {c for c in codes if c in text}
        if plan is None:  # shared/ files belong to no project
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


def test_shared_standalone_files_exist_and_relate_to_nothing(corpus):
    _, truth = corpus
    shared = [f for f in truth["files"] if f.startswith("shared/")]
    assert {ext(f) for f in shared} >= {"docx", "txt", "csv"}
    touched = {f for e in truth["edges"] for f in (e["a"], e["b"])}
    assert not touched & set(shared)


def test_same_file_names_recur_across_unrelated_projects(corpus):
    _, truth = corpus
    projects_by_name = defaultdict(set)
    for rel in truth["files"]:
        if not rel.startswith("shared/"):
            projects_by_name[PurePosixPath(rel).name].add(project_of(rel))
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
        if ext(rel) in DATA_EXTENSIONS and not rel.startswith("shared/"):
            for _, rows in read_tables(tmp_path / rel).values():
                assert 1 <= len(rows) <= 40, rel
