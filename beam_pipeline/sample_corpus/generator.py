"""The generator entry point: the corpus context, every project, the files of no project, the truth."""

from __future__ import annotations

import json
import os
import random
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import List, Tuple

from beam_pipeline.sample_corpus.build import build_project
from beam_pipeline.sample_corpus.negatives import write_memo_series, write_standard_readme
from beam_pipeline.sample_corpus.projects import (ProjectPlan, about_paragraph, boilerplate_footer, company_domain,
                                                  make_project, plan_projects)
from beam_pipeline.sample_corpus.tables import Table
from beam_pipeline.sample_corpus.traits import NEGATIVE_CLASSES, POSITIVE_CLASSES, CorpusContext, make_context
from beam_pipeline.sample_corpus.truth import Drive, Truth
from beam_pipeline.sample_corpus.values import email_for, phone_number
from beam_pipeline.sample_corpus.vocabulary import AUTHORS, DECK_AGENDA
from beam_pipeline.sample_corpus.writers import Block, Meta, Slide, save_csv, save_docx, save_pptx


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
         "file with 'columns' [fk, key], VERSION_OF newer -> older, RELATED_TO undirected with source = a); an edge "
         "with 'class' is a hard positive: {positives}. Pairs not listed are unrelated. file_projects: the project "
         "code of every project file; files of no project relate to nothing. hard_negatives: pairs that look related "
         "and are not, by 'class': {negatives}.")


def _build_one(job: Tuple[str, ProjectPlan, int, float, CorpusContext]) -> Truth:
    """Build one project into its own Drive; return its truth.

    Projects share nothing but the output root and the context, so they can be
    built in any process and merged in plan order with identical results."""
    root, plan, seed, rows_scale, ctx = job
    drive = Drive(Path(root), owner=plan.code)
    build_project(drive, make_project(plan, seed, rows_scale, ctx))
    return drive.truth.project_state()


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
    ctx = make_context(seed)
    rng = random.Random(f"corpus:{seed}")
    write_shared_files(drive, rng, ctx.company)
    write_memo_series(drive, ctx, rng)
    write_standard_readme(drive, ctx, rng)
    jobs = ((str(root), plan, seed, rows_scale, ctx) for plan in plan_projects(projects, seed))
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for result in pool.map(_build_one, jobs, chunksize=8):
                drive.truth.merge(result)
    else:
        for result in map(_build_one, jobs):
            drive.truth.merge(result)
    drive.truth.pair_marks()
    about = ABOUT.format(scale=rows_scale, positives=", ".join(POSITIVE_CLASSES), negatives=", ".join(NEGATIVE_CLASSES))
    truth = drive.truth.to_dict(seed, projects, about)
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
