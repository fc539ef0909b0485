"""Hard negatives: files that look related to files of other projects and are not.

Every class here was seen as a false positive on real data (traits.NEGATIVE_CLASSES).
Builders write real files and leave a mark on the truth; marks of one class
meet across projects in `truth.negatives_from_marks`. Within a project, integer
look-alikes are found from the tables themselves (`Truth.finish_project`).
Small integer decoy columns and public code-list columns are planted in the
project's own tables (`projects.make_project`), so they have no writer here.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import List

from beam_pipeline.sample_corpus.datafiles import DataFile, write_table
from beam_pipeline.sample_corpus.domains import DEPARTMENT_CODES
from beam_pipeline.sample_corpus.projects import Project, about_paragraph, boilerplate_footer, styled
from beam_pipeline.sample_corpus.reports import contact_line, context_paragraph, dictionary_blocks, method_sentences
from beam_pipeline.sample_corpus.tables import Table
from beam_pipeline.sample_corpus.traits import CorpusContext
from beam_pipeline.sample_corpus.truth import Drive, name_of
from beam_pipeline.sample_corpus.values import person_name
from beam_pipeline.sample_corpus.vocabulary import (AUTHORS, CITY_COORDINATES, NAME_STYLES, NEXT_STEPS,
                                                    PUBLIC_CODE_SENTENCES)
from beam_pipeline.sample_corpus.writers import Block, Meta, Sheet, save_docx, save_narrative, save_xlsx

STANDARD_COLUMNS = (("latitude", "decimal", "Latitude in decimal degrees (WGS84), five decimals"),
                    ("longitude", "decimal", "Longitude in decimal degrees (WGS84), five decimals"),
                    ("iso_code", "code", "Country of the location, ISO 3166-1 alpha-2"),
                    ("region", "category", "UN M49 region of the country"))


# ---- template siblings ---------------------------------------------------------


def write_template_minutes(drive: Drive, p: Project, day: float) -> str:
    """Board minutes from the company template: most lines equal across projects."""
    t, rng = p.ctx.minutes, p.rng
    when = p.base.date() + timedelta(days=int(day))
    people = rng.sample(AUTHORS, 4)
    blocks: List[Block] = [
        ("title", t.title), ("p", f"Project: {p.cite()}"), ("p", f"Date: {when:%d %B %Y}"),
        ("p", f"Chair: {people[0]}. Secretary: {people[1]}. Members: {people[2]}, {people[3]}."),
        ("h", "Agenda"), ("numbered", list(t.items)),
        ("h", f"1. {t.items[0]}"), ("p", t.opening),
        ("h", f"2. {t.items[1]}"), ("p", t.previous),
        ("h", "Decisions"), ("bullets", rng.sample(NEXT_STEPS, 2)),
        ("h", "Close"), ("p", t.closing), ("p", about_paragraph(p.company))]
    ext = rng.choice(("docx", "docx", "md"))
    rel = p.path("meetings", p.fname([t.title, f"{when:%Y-%m}"], ext))
    meta = p.meta(t.title, day)
    drive.put(rel, lambda path: save_narrative(path, blocks, meta, p.footer()), meta.modified)
    drive.truth.mark("template_sibling_minutes", t.title, "minutes", rel)
    p.narratives.append(rel)
    return rel


def write_dataset_readme(drive: Drive, p: Project, target: DataFile, day: float) -> str:
    """The company's dataset README template filled in for one data file (DOCUMENTS it)."""
    t = p.ctx.readme
    name = name_of(target.rel)
    blocks: List[Block] = [
        ("title", f"Dataset: {name}"), ("p", context_paragraph(p)),
        ("p", f"This README describes {name} and follows the company dataset README template."),
        ("h", "Data dictionary"), *dictionary_blocks(target),
        ("h", "Method"), ("bullets", method_sentences(p, target)),
        ("h", "Sources"), ("p", f"Source system: {p.domain.system}. Owner: {p.lead}."),
        ("h", "Access and licence"), ("p", t.notice),
        ("h", "Change log"), ("p", t.changelog),
        ("p", contact_line(p))]
    rel = p.path("data", t.name)
    meta = p.meta(f"README {name}", day)
    drive.put(rel, lambda path: save_narrative(path, blocks, meta, p.footer()), meta.modified)
    drive.truth.edge(rel, target.rel, "DOCUMENTS", f"dataset README naming {name} with its data dictionary")
    drive.truth.mark("template_sibling_readme", "readme", "readme", rel)
    drive.truth.mark("template_sibling_readme", "readme", "documented", target.rel)
    p.narratives.append(rel)
    return rel


def write_memo_series(drive: Drive, ctx: CorpusContext, rng: random.Random) -> List[str]:
    """One memo series written for two departments and two quarters; belongs to no project."""
    series, controls = ctx.memo_series
    departments = rng.sample(sorted(DEPARTMENT_CODES), 2)
    first = rng.randint(1, 3)
    issues = [(departments[0], first), (departments[0], first + 1), (departments[1], first)]
    if rng.random() < 0.5:
        issues.append((departments[1], first + 1))
    style = rng.choice(NAME_STYLES)
    folder = rng.choice(("Memos", "Compliance", "Governance"))
    dept_folders = {d: d if rng.random() < 0.5 else DEPARTMENT_CODES[d] for d in departments}
    rels = []
    for department, quarter in issues:
        head = person_name(rng)
        blocks: List[Block] = [
            ("title", f"{series} - {department} - Q{quarter} 2024"),
            ("p", f"To: {department} leadership. From: {rng.choice(AUTHORS)}. Period: Q{quarter} 2024."),
            ("h", "Summary"),
            ("p", "This memo confirms that the controls listed below operated during the period, with the "
                  "exceptions noted."),
            ("h", "Controls"), ("numbered", list(controls)),
            ("h", "Figures for the period"),
            ("bullets", [f"Staff in scope: {rng.randint(12, 240)}", f"Completion: {rng.randint(70, 100)}%",
                         f"Exceptions raised: {rng.randint(0, 6)}"]),
            ("h", "Exceptions"),
            ("p", rng.choice(("None.", "One exception is open and tracked in the risk register.",
                              "Two late completions were followed up with the managers."))),
            ("h", "Sign-off"), ("p", f"Signed: {head}, head of {department}."),
            ("p", about_paragraph(ctx.company))]
        rel = f"{dept_folders[department]}/{folder}/{styled([f'2024-Q{quarter}', series], style)}.docx"
        when = datetime(2024, 3 * quarter, 8, 9, 0) + timedelta(days=rng.randint(0, 20))
        meta = Meta(f"{series} Q{quarter}", head, when, when + timedelta(hours=rng.randint(1, 48)))
        drive.put(rel, lambda path, b=blocks, m=meta: save_docx(path, b, m, boilerplate_footer(ctx.company)),
                  meta.modified)
        drive.truth.mark("template_sibling_memo_series", series, "memo", rel)
        rels.append(rel)
    return rels


# ---- a standard's README and the tables that use its columns ------------------------


def write_standard_readme(drive: Drive, ctx: CorpusContext, rng: random.Random) -> str:
    """A README explaining a standard's columns; it names no file and documents none."""
    blocks: List[Block] = [
        ("title", ctx.standard),
        ("p", "Every dataset that records a place uses the columns below, with these names and formats, so "
              "that maps and joins work across teams."),
        ("h", "Data dictionary"),
        ("table", ["Column", "Type", "Description"], [list(c) for c in STANDARD_COLUMNS]),
        ("h", "Method"),
        ("bullets", ["Coordinates are rounded to five decimals (about one metre).",
                     "Codes are upper case; unknown values stay empty rather than guessed.",
                     "Regions follow the UN M49 list of the year of collection."]),
        ("h", "Sources"), ("p", "ISO 3166 Maintenance Agency; UN Statistics Division, M49 standard."),
        ("p", about_paragraph(ctx.company))]
    folder = rng.choice(("shared/Standards", "Data Governance/Standards", "Data Governance"))
    rel = f"{folder}/{rng.choice(('README.md', styled([ctx.standard], rng.choice(NAME_STYLES)) + '.md'))}"
    when = datetime(2024, 1, 15, 10, 0) + timedelta(days=rng.randint(0, 60))
    meta = Meta(ctx.standard, rng.choice(AUTHORS), when, when + timedelta(days=1))
    drive.put(rel, lambda path: save_narrative(path, blocks, meta, boilerplate_footer(ctx.company)), meta.modified)
    drive.truth.mark("standard_readme", "location", "standard", rel)
    return rel


def write_locations(drive: Drive, p: Project, uid: str) -> DataFile:
    """The project's sites, in the standard's columns; unrelated to the standard's README."""
    rng = p.rng
    cities = rng.sample(CITY_COORDINATES, rng.randint(4, min(12, len(CITY_COORDINATES))))
    key = rng.choice(("site_code", "location_id"))
    rows = []
    codes = rng.sample(range(1000, 10000), len(cities))  # project-specific codes, not S001.. everywhere
    for code, (city, lat, lon, iso, region) in zip(codes, cities):
        rows.append([f"S{code}" if key == "site_code" else f"LOC-{code}",
                     f"{city} {rng.choice(('site', 'office', 'depot', 'hub'))}",
                     round(lat + rng.uniform(-0.05, 0.05), 5), round(lon + rng.uniform(-0.05, 0.05), 5), iso, region])
    columns = [key, "site_name", "latitude", "longitude", "iso_code", "region"]
    descs = {key: "Site identifier", "site_name": "Site name", **{c: d for c, _, d in STANDARD_COLUMNS}}
    table = Table(uid, "locations", columns,
                  {key: "key", "site_name": "text", "latitude": "number", "longitude": "number", "iso_code": "code",
                   "region": "label"}, descs, rows, key=key)
    data = write_table(drive, p, rng.choice((["locations"], ["sites"], ["site", "coordinates"])), table, 1)
    drive.truth.mark("standard_readme", "location", "table", data.rel)
    drive.truth.mark("shared_code_list", "country", "table", data.rel)  # iso_code is a public code list too
    return data


# ---- coincident numbers and shared public codes -------------------------------------


def status_report_extras(p: Project) -> List[Block]:
    """Paragraphs a status report gains from the project's traits (round numbers, a public code)."""
    blocks: List[Block] = []
    if p.trait("coincident_numbers") == "shows":
        amount, phases, sites = p.ctx.round_numbers
        shown = p.rng.choice((f"${amount:,}", f"USD {amount:,}", f"{amount // 1000}k"))
        blocks += [("h", "Budget and scope"),
                   ("p", f"Approved budget {shown} across {sites} sites in {phases} phases.")]
    code = p.trait("shared_public_code")
    if code:
        blocks += [("h", "Compliance"), ("p", p.rng.choice(PUBLIC_CODE_SENTENCES).format(cite=p.cite(), code=code))]
    return blocks


def mark_status_report(drive: Drive, p: Project, rel: str) -> None:
    if p.trait("coincident_numbers") == "shows":
        drive.truth.mark("coincident_numbers", "round", "shows", rel)
    code = p.trait("shared_public_code")
    if code:
        drive.truth.mark("shared_public_code", code, "memo", rel)


def write_targets(drive: Drive, p: Project, uid: str) -> DataFile:
    """A KPI targets table that happens to hold the corpus's round numbers."""
    rng = p.rng
    amount, phases, sites = p.ctx.round_numbers
    rows = [["Budget envelope", amount, "USD"], ["Sites in scope", sites, "count"], ["Phases", phases, "count"]]
    extra = [["Response time", round(rng.uniform(1, 9), 1), "hours"], ["Satisfaction", round(rng.uniform(3, 5), 1), "score"],
             ["Error rate", round(rng.uniform(0.1, 4), 2), "percent"], ["Coverage", rng.randint(55, 99), "percent"]]
    rows += rng.sample(extra, rng.randint(2, len(extra)))
    rng.shuffle(rows)
    for row in rows:
        row.append(person_name(rng))
    table = Table(uid, "targets", ["kpi", "target", "unit", "owner"],
                  {"kpi": "label", "target": "number", "unit": "label", "owner": "person"},
                  {"kpi": "Indicator", "target": "Target value", "unit": "Unit", "owner": "Accountable owner"},
                  rows, key=None)
    data = write_table(drive, p, rng.choice((["kpi", "targets"], ["targets"], ["scorecard"])), table, 9)
    drive.truth.mark("coincident_numbers", "round", "holds", data.rel)
    return data


# ---- trivial content -------------------------------------------------------------


def write_trivial(drive: Drive, p: Project) -> str:
    """A file whose only content is one cell holding 1 (a flag, a count, a version)."""
    words = [p.rng.choice(("export ok", "row count", "flag", "done", "version"))]
    meta = p.meta("", 7)
    if p.trait("trivial_content") == "xlsx":
        rel = p.path("data", p.fname(words, "xlsx"))
        drive.put(rel, lambda path: save_xlsx(path, [Sheet("Sheet1", [[1]])], meta), meta.modified)
    else:
        rel = p.path("data", p.fname(words, "csv"))
        drive.put(rel, lambda path: path.write_text("1\n", encoding="utf-8"), meta.modified)
    drive.truth.mark("trivial_content", "one cell 1", "file", rel)
    return rel


def mark_code_list(drive: Drive, p: Project, entity: DataFile) -> None:
    code_list = p.trait("shared_code_list")
    if code_list:
        drive.truth.mark("shared_code_list", code_list, "table", entity.rel)
