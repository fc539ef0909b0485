"""The generator entry point: every project, the shared files, the truth."""

from __future__ import annotations

import json
import os
import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import List, Optional, Tuple

from beam_pipeline.sample_corpus.datafiles import (DataFile, random_layout, write_csv_file, write_json_dump,
                                                   write_mart, write_versioned_workbooks, write_workbook)
from beam_pipeline.sample_corpus.notes import (plan_blocks, write_doc_family, write_meetings, write_status_report,
                                               write_status_report_extra)
from beam_pipeline.sample_corpus.projects import (Project, ProjectPlan, about_paragraph, boilerplate_footer,
                                                  company_domain, make_project, plan_projects)
from beam_pipeline.sample_corpus.reports import (write_memo, write_summary_deck, write_summary_report,
                                                 write_supporting_file)
from beam_pipeline.sample_corpus.tables import (Table, evolve_table, make_api_table, make_entity_table,
                                                make_events_table, make_fact_table, make_forecast_table,
                                                make_mart_dim, make_mart_fact)
from beam_pipeline.sample_corpus.truth import Drive
from beam_pipeline.sample_corpus.values import email_for, phone_number, pretty
from beam_pipeline.sample_corpus.vocabulary import AUTHORS, COMPANIES, DECK_AGENDA
from beam_pipeline.sample_corpus.writers import Block, Meta, Slide, save_csv, save_docx, save_pptx


@dataclass
class ProjectData:
    """The data files a project wrote, for its narratives to point at."""

    entity: DataFile
    facts: List[DataFile]  # the fact workbook's versions, oldest first
    events: Optional[DataFile]
    api: Optional[DataFile]

    @property
    def fact(self) -> Optional[DataFile]:
        return self.facts[-1] if self.facts else None


def build_data(drive: Drive, p: Project) -> ProjectData:
    rng, d, truth = p.rng, p.domain, drive.truth
    uid = f"{p.plan.index}:"
    data_style = "snake" if rng.random() < 0.5 else p.style

    # The entity (dimension) table lives in a CSV, a workbook or a SQLite mart.
    entity = make_entity_table(p, uid + "entity")
    store = rng.choice(("csv", "csv", "xlsx", "sqlite"))
    if store == "sqlite":
        dim = make_mart_dim(p, uid + "dim")
        tables = [entity, dim] + ([make_mart_fact(p, uid + "martfact", entity, dim)] if rng.random() < 0.6 else [])
        entity_file = write_mart(drive, p, tables, 0)
    elif store == "xlsx":
        rel = p.path("data", p.fname([d.entity.noun, rng.choice(("master", "list", "register"))], "xlsx", data_style))
        entity_file = write_workbook(drive, p, rel, entity, p.meta(f"{d.entity.noun} master", 0),
                                     {"title_rows": 0, "total_row": False, "extra_sheet": None})
    else:
        rel = p.path("data", p.fname([d.entity.table], "csv", data_style))
        entity_file = write_csv_file(drive, p, rel, entity, 0)
    entity_file.register(truth)

    # The fact workbook, sometimes as a version family. Facts point at the
    # entity when it lives in a mart, and often otherwise.
    facts: List[DataFile] = []
    if rng.random() < 0.9:
        fk_col = rng.choice(d.entity.fk_names) if store == "sqlite" or rng.random() < 0.6 else None
        table, factory = make_fact_table(p, uid + "fact", entity, fk_col)
        generic = rng.random() < 0.2
        words = ["data"] if generic else d.fact_names[rng.randrange(len(d.fact_names))].split()
        if rng.random() < 0.3 and not generic:
            chain = [table]
            for _ in range(rng.randint(1, 2)):
                chain.append(evolve_table(chain[-1], rng, factory.row))
            facts = write_versioned_workbooks(drive, p, chain, words, rng.choice(("date", "v", "copy")), 3,
                                              f"{d.row_noun} data")
        else:
            rel = p.path("data", p.fname(words, "xlsx", data_style))
            facts = [write_workbook(drive, p, rel, table, p.meta(f"{pretty(table.name)} extract", 3),
                                    random_layout(rng))]
        for f in facts:
            f.register(truth)

    # Secondary facts: an events CSV and an API dump pointing at the entity
    # (or, for a single-version workbook with coded ids, at the workbook).
    events = None
    if rng.random() < 0.7:
        table = make_events_table(p, uid + "events", entity, rng.choice(d.entity.fk_names))
        rel = p.path("data", p.fname(d.events.table.split("_"), "csv", data_style))
        events = write_csv_file(drive, p, rel, table, 5)
        events.register(truth)
    api = None
    if rng.random() < 0.55:
        target = entity
        coded_ids = len(facts) == 1 and not isinstance(facts[0].tables[0].rows[0][0], int)
        if coded_ids and rng.random() < 0.4:
            target = facts[0].tables[0]
        fk_col = target.key if rng.random() < 0.5 else rng.choice(
            d.entity.fk_names if target is entity else (d.row_noun.replace(" ", "_").replace("-", "_") + "_ref",))
        if rng.random() < 0.3:  # camelCase keys, as APIs often have
            head, *tail = fk_col.split("_")
            fk_col = head + "".join(w.capitalize() for w in tail)
        api = write_json_dump(drive, p, make_api_table(p, uid + "api", target, fk_col), 6)
        api.register(truth)

    # A budget/forecast family: data versions nothing else points at.
    if rng.random() < 0.35:
        chain = [make_forecast_table(p, uid + "forecast")]
        for _ in range(rng.randint(1, 2)):
            chain.append(evolve_table(chain[-1], rng, None))
        words = d.forecast_name.split() if rng.random() < 0.6 else [f"Q{rng.randint(1, 4)}", "forecast"]
        write_versioned_workbooks(drive, p, chain, words, rng.choice(("date", "copy", "rev", "v")), 4,
                                  d.forecast_name)
    return ProjectData(entity_file, facts, events, api)


def build_narratives(drive: Drive, p: Project, data: ProjectData) -> None:
    rng, d = p.rng, p.domain
    fact = data.fact
    if fact is not None and rng.random() < 0.85:
        write_summary_deck(drive, p, fact, 20)
    if rng.random() < 0.3 and (data.events or fact):
        write_summary_report(drive, p, data.events or fact, 22)
    # SUPPORTS sources never have versions, so quoted records match one file.
    single_fact = fact if len(data.facts) == 1 else None
    quotable = [f for f in (data.entity, data.events, single_fact) if f and f.kind != "sqlite"]
    if quotable and rng.random() < 0.7:
        write_supporting_file(drive, p, rng.choice(quotable), 24)
    documentable = [f for f in (fact, data.events, data.api, data.entity) if f]
    if rng.random() < 0.75:
        write_memo(drive, p, rng.choice(documentable), 8)
    if rng.random() < 0.5:
        write_doc_family(drive, p, plan_blocks(p), d.plan_name.split(), rng.choice(("v", "date", "copy")),
                         rng.randint(2, 3), 10, d.plan_name)
    write_meetings(drive, p, rng.choice((0, 1, 1, 2, 3)), 0)
    if rng.random() < 0.8 or len(p.narratives) < 2 or d.key == "finance":  # finance always reports
        write_status_report(drive, p, 30)
    if len(p.narratives) < 2:  # RELATED_TO needs two narratives
        write_status_report_extra(drive, p)


def build_project(drive: Drive, p: Project) -> None:
    """All files of one project, then its truth (keys resolved, narratives related)."""
    build_narratives(drive, p, build_data(drive, p))
    drive.truth.finish_project(p)


def write_shared_files(drive: Drive, rng: random.Random, company: str) -> None:
    """Standalone files that reference nothing and mention no project."""
    when = datetime(2024, 2, 1, 10, 0) + timedelta(days=rng.randint(0, 200))
    meta = Meta("Remote work policy", rng.choice(AUTHORS), when, when + timedelta(days=2))
    hr_contact = rng.choice(AUTHORS)
    policy: List[Block] = [("title", "Remote work policy"),
                           ("p", "This policy applies to all employees and contractors."),
                           ("h", "Eligibility"), ("bullets", ["Roles approved by the line manager",
                                                              "Completion of the security training"]),
                           ("h", "Equipment"), ("p", "Laptops are issued by IT; home office allowance is paid monthly."),
                           ("h", "Contact"), ("p", f"People team: {hr_contact} ({email_for(hr_contact, company_domain(company))}, "
                                                   f"{phone_number(rng)})"),
                           ("p", about_paragraph(company))]
    drive.put("shared/HR/Remote work policy.docx",
              lambda path: save_docx(path, policy, meta, boilerplate_footer(company)), meta.modified)

    dishes = ("Lentil soup", "Chicken curry", "Falafel wrap", "Caesar salad", "Mushroom risotto", "Fish tacos",
              "Vegetable lasagne", "Beef chili", "Tofu stir-fry")
    menu = [f"{day}: {', '.join(rng.sample(dishes, 2))}" for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")]
    drive.put(f"shared/Facilities/lunch_menu_week_{rng.randint(10, 40)}.txt",
              lambda path: path.write_text("CANTEEN MENU\n\n" + "\n".join(menu) + "\n", encoding="utf-8"), when)

    inv = Table("shared:inventory", "office_inventory", ["id", "name", "status", "date", "amount"],
                {"id": "key", "name": "text", "status": "label", "date": "date", "amount": "money"}, {},
                [[i, rng.choice(("Monitor", "Desk chair", "Headset", "Dock", "Projector", "Whiteboard")),
                  rng.choice(("in use", "spare", "broken")), date(2023, 1, 1) + timedelta(days=rng.randint(0, 500)),
                  round(rng.uniform(20, 900), 2)] for i in range(1, 41)])
    drive.put("shared/Facilities/office_inventory.csv", lambda path: save_csv(path, inv), when)

    tmpl_meta = Meta("Quarterly review template", rng.choice(AUTHORS), when, when + timedelta(days=1))
    slides = [Slide("Quarterly review", subtitle="Template"), Slide("Agenda", DECK_AGENDA),
              Slide("Key figures", ["Replace with your figures"]), Slide("Questions?", ["Thank you"])]
    drive.put("shared/Templates/Quarterly review template.pptx",
              lambda path: save_pptx(path, slides, tmpl_meta, boilerplate_footer(company)), tmpl_meta.modified)


# --------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------

ABOUT = ("Generated company drive (filegraph.beam_pipeline.sample_corpus, rows_scale={scale}). files: every file "
         "written except this truth.json. edges: one per unordered pair, a < b; 'source' is the source end "
         "(SUMMARIZES deck/doc -> data, SUPPORTS data -> deck/doc, DOCUMENTS memo -> data, REFERENCES fk file -> key "
         "file with 'columns' [fk, key], VERSION_OF newer -> older, RELATED_TO undirected with source = a). Pairs "
         "not listed are unrelated; files under shared/ relate to nothing.")


def _build_one(job: Tuple[str, ProjectPlan, int, float, str]) -> Tuple[List[str], List[dict]]:
    """Build one project into its own Drive; return its files and edges.

    Projects share nothing but the output root, so they can be built in any
    process and merged in plan order with identical results."""
    root, plan, seed, rows_scale, company = job
    drive = Drive(Path(root))
    build_project(drive, make_project(plan, seed, rows_scale, company))
    return drive.truth.files, list(drive.truth.edges.values())


def generate_corpus(out_dir: str, projects: int = 8, seed: int = 0, rows_scale: float = 1.0, *,
                    workers: int = 1) -> dict:
    """Write a seeded company drive into `out_dir`; return (and write to
    out_dir/truth.json) the truth dict. Same arguments, same bytes.

    Cost is linear in `projects` (about 0.2 s per project at rows_scale=0.02
    on one core); `workers` > 1 builds projects in that many processes and
    gives the same output."""
    if projects < 1:
        raise ValueError("projects must be at least 1")
    if rows_scale <= 0:
        raise ValueError("rows_scale must be positive")
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    drive = Drive(root)
    rng = random.Random(f"corpus:{seed}")
    company = rng.choice(COMPANIES)
    write_shared_files(drive, rng, company)
    jobs = ((str(root), plan, seed, rows_scale, company) for plan in plan_projects(projects, seed))
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = pool.map(_build_one, jobs, chunksize=8)
            for files, edges in results:
                drive.truth.merge(files, edges)
    else:
        for files, edges in map(_build_one, jobs):
            drive.truth.merge(files, edges)
    truth = drive.truth.to_dict(seed, projects, ABOUT.format(scale=rows_scale))
    (root / "truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return truth


DRIVE_FOLDER = "drive"


def write_sample_corpus(directory: str, projects: int = 8, seed: int = 0, rows_scale: float = 1.0) -> Tuple[dict, str]:
    """The CLI layout: the drive in DIRECTORY/drive, its truth in DIRECTORY/truth.json.

    Keeping truth.json outside the drive means a run over the drive never
    ingests the answers. The truth's "root" names the drive folder.
    """
    drive = os.path.join(directory, DRIVE_FOLDER)
    truth = generate_corpus(drive, projects=projects, seed=seed, rows_scale=rows_scale)
    os.remove(os.path.join(drive, "truth.json"))
    truth = {**truth, "root": DRIVE_FOLDER}
    with open(os.path.join(directory, "truth.json"), "w", encoding="utf-8") as handle:
        handle.write(json.dumps(truth, indent=1) + "\n")
    return truth, drive
