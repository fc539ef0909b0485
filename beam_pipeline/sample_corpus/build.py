"""One project: its data files, its narratives, its hard cases, then its truth."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

from beam_pipeline.sample_corpus.datafiles import (PLAIN_SHEET, DataFile, random_layout, write_csv_file,
                                                   write_json_dump, write_mart, write_versioned_workbooks,
                                                   write_workbook)
from beam_pipeline.sample_corpus.negatives import (mark_code_list, write_dataset_readme, write_locations,
                                                   write_targets, write_template_minutes, write_trivial)
from beam_pipeline.sample_corpus.notes import (plan_blocks, write_doc_family, write_meetings, write_status_report,
                                               write_status_report_extra)
from beam_pipeline.sample_corpus.positives import (write_constant_fk, write_copy, write_list_key, write_name_key,
                                                   write_role_key)
from beam_pipeline.sample_corpus.projects import Project
from beam_pipeline.sample_corpus.reports import (write_memo, write_summary_deck, write_summary_report,
                                                 write_supporting_file)
from beam_pipeline.sample_corpus.tables import (evolve_table, make_api_table, make_entity_table, make_events_table,
                                                make_fact_table, make_forecast_table, make_mart_dim, make_mart_fact)
from beam_pipeline.sample_corpus.truth import Drive
from beam_pipeline.sample_corpus.values import pretty


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
                                     PLAIN_SHEET)
    else:
        rel = p.path("data", p.fname([d.entity.table], "csv", data_style))
        entity_file = write_csv_file(drive, p, rel, entity, 0)
    entity_file.register(truth)
    mark_code_list(drive, p, entity_file)

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
    if rng.random() < 0.8 or len(p.narratives) < 2 or d.key == "finance" or p.trait("shared_public_code") \
            or p.trait("coincident_numbers") == "shows":  # finance always reports; traits need the report
        write_status_report(drive, p, 30)
    if len(p.narratives) < 2:  # RELATED_TO needs two narratives
        write_status_report_extra(drive, p)


def build_hard_data(drive: Drive, p: Project, data: ProjectData) -> None:
    """The data files of the project's traits (traits.PROJECT_TRAITS)."""
    uid = f"{p.plan.index}:"
    entity = data.entity.tables[0]
    if p.trait("constant_fk"):
        write_constant_fk(drive, p, entity, uid + "constant")
    if p.trait("role_named_key"):
        write_role_key(drive, p, entity, uid + "role")
    if p.trait("list_valued_key"):
        write_list_key(drive, p, entity, uid + "list")
    if p.trait("name_key"):
        write_name_key(drive, p, uid + "people:")
    if p.trait("standard_readme"):
        write_locations(drive, p, uid + "locations")
    if p.trait("coincident_numbers") == "holds":
        write_targets(drive, p, uid + "targets")
    if p.trait("trivial_content"):
        write_trivial(drive, p)


def build_hard_narratives(drive: Drive, p: Project, data: ProjectData) -> None:
    if p.trait("template_sibling_minutes"):
        write_template_minutes(drive, p, p.rng.randint(14, 60))
    if p.trait("template_sibling_readme"):
        write_dataset_readme(drive, p, data.fact or data.entity, 9)


def build_project(drive: Drive, p: Project) -> None:
    """All files of one project, then its truth (keys resolved, narratives related)."""
    data = build_data(drive, p)
    build_hard_data(drive, p, data)
    build_narratives(drive, p, data)
    build_hard_narratives(drive, p, data)
    if p.trait("byte_identical_copy"):
        write_copy(drive, p)
    drive.truth.finish_project(p)
