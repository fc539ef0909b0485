"""Narratives built from data files: summary decks and reports (SUMMARIZES), record
lists (SUPPORTS) and data notes (DOCUMENTS)."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import PurePosixPath
from typing import Any, Dict, List, Optional, Tuple

from beam_pipeline.sample_corpus.datafiles import DataFile
from beam_pipeline.sample_corpus.projects import Project, about_paragraph
from beam_pipeline.sample_corpus.tables import Table, fmt_amount, fmt_share, group_sum, total
from beam_pipeline.sample_corpus.truth import Drive, name_of
from beam_pipeline.sample_corpus.values import cell_text, phone_number, pretty, ssn_number
from beam_pipeline.sample_corpus.vocabulary import DECK_AGENDA, MEASURE_KINDS, NEXT_STEPS, NUMBER_STYLES
from beam_pipeline.sample_corpus.writers import Block, Slide, save_narrative, save_pptx


def context_paragraph(p: Project) -> str:
    d = p.domain
    return p.rng.choice((
        f"{p.cite()} is the {d.department} initiative to {d.goal}.",
        f"This work sits under {p.cite()} and supports the {d.department} goal to {d.goal}.",
        f"{p.cite()}: the team's aim this quarter is to {d.goal}.",
    ))


def contact_line(p: Project, person: Optional[str] = None) -> str:
    person = person or p.lead
    return f"Contact: {person} ({p.email(person)}, {phone_number(p.rng)})"


def summary_slides(p: Project, table: Table, source_name: str) -> Tuple[List[Slide], str]:
    """A deck of real aggregates of `table`: totals, average, count, totals
    by dimension with shares, top-N, sometimes a monthly series."""
    rng, d = p.rng, p.domain
    measures = [c for c in table.columns if table.kinds[c] in MEASURE_KINDS]
    dims = [c for c in table.columns if table.kinds[c] == "label"]
    main = measures[0]
    second = measures[1] if len(measures) > 1 else main
    style = rng.choice(NUMBER_STYLES)
    kind = table.kinds[main]
    n = len(table.rows)
    tot = total(table, main)
    figures = [f"Total {pretty(main).lower()}: {fmt_amount(tot, style, kind)}",
               f"Average {pretty(main).lower()} per {d.row_noun}: {tot / n:,.2f}",
               f"{d.row_noun.capitalize()}s in scope: {n:,}"]
    if second != main:
        figures.append(f"Total {pretty(second).lower()}: {fmt_amount(total(table, second), style, table.kinds[second])}")
    content = [Slide("Key figures", figures)]
    used = ["total", "average", "count"]
    options: List[Tuple[str, str, str]] = [("breakdown", dim, rng.choice(measures)) for dim in dims]
    fk = next((c for c in table.columns if table.kinds[c] == "fk"), None)
    top_by = fk if fk and rng.random() < 0.5 else max(dims, key=lambda c: len(set(table.col(c))))
    options.append(("top", top_by, second))
    options.append(("monthly", table.columns[1], main))
    for what, by, m in rng.sample(options, rng.randint(1, min(4, len(options)))):
        mkind = table.kinds[m]
        if what == "monthly":
            months = defaultdict(list)
            for day, v in zip(table.col(by), table.col(m)):
                months[day.strftime("%Y-%m")].append(v)
            series = [f"{k}: {fmt_amount(sum(v) if mkind == 'int' else round(math.fsum(v), 2), style, mkind)}"
                      for k, v in sorted(months.items())][-8:]
            content.append(Slide(f"{pretty(m)} by month", series))
            used.append(f"{m} by month")
            continue
        sums = sorted(group_sum(table, by, m).items(), key=lambda kv: (-kv[1], str(kv[0])))
        if what == "top":
            top = sums[:5]
            content.append(Slide(f"Top {len(top)} {pretty(by).lower()} by {pretty(m).lower()}",
                                 [f"{i}. {k} - {fmt_amount(v, style, mkind)}" for i, (k, v) in enumerate(top, 1)]))
            used.append(f"top {len(top)} {by} by {m}")
            continue
        whole = total(table, m)
        if rng.random() < 0.5:
            body = [[str(k), fmt_amount(v, style, mkind), fmt_share(v, whole)] for k, v in sums]
            content.append(Slide(f"{pretty(m)} by {pretty(by).lower()}",
                                 table=([pretty(by), f"Total {pretty(m).lower()}", "Share"], body)))
        else:
            content.append(Slide(f"{pretty(m)} by {pretty(by).lower()}",
                                 [f"{k}: {fmt_amount(v, style, mkind)} ({fmt_share(v, whole)})" for k, v in sums]))
        used.append(f"{m} by {by}")
    period = f"{min(table.col(table.columns[1])):%b %Y} - {max(table.col(table.columns[1])):%b %Y}"
    slides = [Slide(f"{p.name}: {rng.choice(('review', 'update', 'performance summary', 'readout'))}",
                    subtitle=f"{p.code} | {period} | {p.lead}"),
              Slide("Agenda", DECK_AGENDA), *content,
              Slide("Next steps", rng.sample(NEXT_STEPS, 3)), Slide("Questions?", [f"{p.cite()}", contact_line(p)])]
    if rng.random() < 0.5:
        slides[2].notes = rng.choice((f"Figures computed from {source_name}.",
                                      "Numbers are from the latest extract; talk through the drivers.",
                                      f"Remind the room that {p.code} figures are provisional."))
    return slides, f"aggregates of {source_name}: " + ", ".join(used)


def write_summary_deck(drive: Drive, p: Project, source: DataFile, day: float) -> str:
    slides, note = summary_slides(p, source.tables[0], name_of(source.rel))
    words = p.rng.choice(([p.domain.topics[0], "review"], ["summary"], [p.plan.code.split("/")[0].split("-")[0],
                                                                        "readout"], ["leadership", "update"]))
    if p.rng.random() < 0.3:
        words = words + [f"{p.base:%Y-%m}"]
    rel = p.path("decks", p.fname(words, "pptx"))
    meta = p.meta(f"{p.name} review", day)
    drive.put(rel, lambda path: save_pptx(path, slides, meta, p.footer()), meta.modified)
    drive.truth.edge(rel, source.rel, "SUMMARIZES", f"deck shows {note}")
    p.narratives.append(rel)
    return rel


def write_summary_report(drive: Drive, p: Project, source: DataFile, day: float) -> str:
    """A short doc with headline aggregates of a data file's rows."""
    table = source.tables[0]
    label = next(c for c in table.columns if table.kinds[c] == "label")
    measure = next(c for c in table.columns if table.kinds[c] in MEASURE_KINDS)
    kind = table.kinds[measure]
    style = p.rng.choice(NUMBER_STYLES)
    counts: Dict[Any, int] = defaultdict(int)
    for v in table.col(label):
        counts[v] += 1
    sums = group_sum(table, label, measure)
    tot = total(table, measure)
    noun = p.domain.events.noun if table.name == p.domain.events.table else p.domain.row_noun
    blocks: List[Block] = [
        ("title", f"{p.name} - {noun} summary"),
        ("p", context_paragraph(p)),
        ("h", "Headline figures"),
        ("bullets", [f"{noun.capitalize()}s recorded: {len(table.rows):,}",
                     f"Total {pretty(measure).lower()}: {fmt_amount(tot, style, kind)}",
                     f"Average {pretty(measure).lower()}: {tot / len(table.rows):,.2f}"]),
        ("h", f"By {pretty(label).lower()}"),
        ("table", [pretty(label), "Count", f"Total {pretty(measure).lower()}"],
         [[str(k), str(counts[k]), fmt_amount(v, style, kind)] for k, v in sorted(sums.items(), key=lambda kv: -kv[1])]),
        ("h", "Commentary"),
        ("p", p.rng.choice(("Volumes are in line with the previous period.",
                            "The mix shifted noticeably; see the breakdown above.",
                            "Two categories drive most of the total; we will look at them first."))),
        ("p", about_paragraph(p.company)),
    ]
    ext = p.rng.choice(("docx", "docx", "md"))
    rel = p.path("", p.fname([noun, "summary", f"{p.base:%Y-%m}"], ext))
    meta = p.meta(f"{p.name} {noun} summary", day)
    drive.put(rel, lambda path: save_narrative(path, blocks, meta, p.footer()), meta.modified)
    drive.truth.edge(rel, source.rel, "SUMMARIZES",
                     f"report shows count, total and average of {measure} and totals by {label} of {name_of(source.rel)}")
    p.narratives.append(rel)
    return rel


def write_supporting_file(drive: Drive, p: Project, source: DataFile, day: float) -> str:
    """A doc or deck quoting a few records verbatim (ids, labels, values and
    column names) with no aggregates: the data SUPPORTS it."""
    rng = p.rng
    table = source.tables[0]
    others = [c for c in table.columns if c != table.key and table.kinds[c] not in ("ssn",)]
    cols = [table.key] + [c for c in table.columns if c in rng.sample(others, min(len(others), rng.randint(2, 4)))]
    picked = sorted(rng.sample(range(len(table.rows)), min(len(table.rows), rng.randint(3, 6))))
    idx = [table.columns.index(c) for c in cols]
    body = [[cell_text(table.rows[r][i], table.kinds[table.columns[i]]) for i in idx] for r in picked]
    noun = {p.domain.entity.table: p.domain.entity.noun, p.domain.events.table: p.domain.events.noun}.get(
        table.name, p.domain.row_noun)
    purpose = rng.choice(("flagged for follow-up", "selected for the case review", "to be checked with the owners",
                          "quoted in the escalation"))
    ids = [row[0] for row in body]
    prose = [f"{row[0]}: " + ", ".join(f"{c} = {v}" for c, v in zip(cols[1:], row[1:])) for row in body]
    source_line = f"Records taken from {name_of(source.rel)}." if rng.random() < 0.5 else "Records taken from the latest export."
    if rng.random() < 0.35:
        ext = "pptx"
        slides = [Slide(f"{p.name}: {noun} review", subtitle=f"{p.code} | {p.lead}"),
                  Slide(f"{noun.capitalize()}s {purpose}", table=(cols, body), notes=source_line),
                  Slide("Details", prose[:5]), Slide("Questions?", [p.cite(), contact_line(p)])]
    else:
        ext = rng.choice(("docx", "docx", "md"))
        blocks: List[Block] = [("title", f"{pretty(noun)}s {purpose}"), ("p", context_paragraph(p)),
                               ("p", f"The {noun}s below were {purpose}. {source_line}"),
                               ("table", cols, body), ("h", "Notes per record"), ("bullets", prose),
                               ("p", contact_line(p)), ("p", about_paragraph(p.company))]
    rel = p.path("decks" if ext == "pptx" else "", p.fname([noun, rng.choice(("follow up", "review", "cases", "list"))], ext))
    meta = p.meta(f"{noun} {purpose}", day)
    if ext == "pptx":
        drive.put(rel, lambda path: save_pptx(path, slides, meta, p.footer()), meta.modified)
    else:
        drive.put(rel, lambda path: save_narrative(path, blocks, meta, p.footer()), meta.modified)
    drive.truth.edge(source.rel, rel, "SUPPORTS",
                     f"quotes {len(ids)} records of {name_of(source.rel)} ({', '.join(map(str, ids[:3]))}...) "
                     f"with columns {', '.join(cols)}")
    p.narratives.append(rel)
    return rel


TYPE_WORDS = {"key": "identifier", "fk": "reference", "date": "date", "label": "category", "money": "amount (USD)",
              "int": "integer", "float": "decimal", "text": "text", "smallint": "integer", "constant": "identifier",
              "pct": "percentage", "code": "code", "fk_list": "list of references", "number": "decimal"}


def dictionary_blocks(target: DataFile) -> List[Block]:
    blocks: List[Block] = []
    for t in target.tables:
        if len(target.tables) > 1 or target.kind == "workbook":
            where = "Table" if target.kind == "sqlite" else "Sheet" if target.kind == "workbook" else "Records"
            label = target.notes.get("data_sheet", t.name) if target.kind == "workbook" else t.name
            blocks.append(("p", f"{where} `{label}`:"))
        rows = [[c, TYPE_WORDS.get(t.kinds.get(c, ""), "text"), t.descs.get(c, "")] for c in t.columns]
        blocks.append(("table", ["Column", "Type", "Description"], rows))
    lookup = target.notes.get("lookup_columns")
    if lookup:  # a workbook's second sheet is part of its structure too
        dim = lookup[0]
        blocks += [("p", "Sheet `Lookup`:"),
                   ("table", ["Column", "Type", "Description"],
                    [[dim, "category", f"Distinct {pretty(dim).lower()} values used on the data sheet"],
                     [lookup[1], "text", "Plain-language description of the value"],
                     [lookup[2], "text", "Person accountable for the value"]])]
    return blocks


def method_sentences(p: Project, target: DataFile) -> List[str]:
    d = p.domain
    out = [f"Rows are extracted from the {d.system} on a {p.rng.choice(('nightly', 'weekly', 'monthly'))} schedule "
           f"and loaded without manual edits."]
    notes = target.notes
    if target.kind == "workbook":
        out.append(f"The workbook has the sheets {', '.join(notes['sheets'])}; the header is on row "
                   f"{notes['title_rows'] + 1} of {notes['data_sheet']}.")
        if notes["total_row"]:
            out.append("The last row holds SUM formulas over the measure columns.")
    elif target.kind == "json":
        out.append({"list": "The file is one JSON array of records.",
                    "envelope": 'Records are nested under the "data" key of the response.',
                    "jsonl": "The file holds one JSON record per line."}[notes["layout"]])
    elif target.kind == "sqlite":
        out.append("Primary and foreign keys are declared in the schema; the fact table joins to the dimensions.")
    for t in target.tables:
        for fk in t.fks:
            out.append(f"{fk.column} in {t.name} points at {fk.target_column} in {fk.target_table}.")
    out.append("Amounts are in USD and dates are ISO 8601.")
    return out


def write_memo(drive: Drive, p: Project, target: DataFile, day: float) -> str:
    """A data note that DOCUMENTS one file: names it, data dictionary, method, sources."""
    rng = p.rng
    name = name_of(target.rel)
    blocks: List[Block] = [("title", rng.choice((f"Data note: {name}", f"About the {name} file", f"{name} - documentation"))),
                           ("p", context_paragraph(p)),
                           ("p", f"This note describes {name}: what each column holds and how the file is produced."),
                           ("h", "Data dictionary"), *dictionary_blocks(target),
                           ("h", "Method"), ("bullets", method_sentences(p, target)),
                           ("h", "Sources"),
                           ("p", f"Owner: {p.lead}. Source system: {p.domain.system}. Refreshed before each review."),
                           ("p", contact_line(p))]
    if p.domain.key == "hr" and rng.random() < 0.7:  # realistic PII slip in an HR memo
        blocks.append(("p", f"Note: one record in the raw export carried an unmasked SSN ({ssn_number(rng)}); "
                            f"it must be removed before sharing."))
    blocks.append(("p", about_paragraph(p.company)))
    ext = "docx" if rng.random() < 0.7 else "md"
    words = rng.choice((["data", "note", PurePosixPath(name).stem], ["notes"], ["readme", PurePosixPath(name).stem],
                        ["data dictionary"]))
    rel = p.path("", p.fname(words, ext) if words != ["notes"] else f"notes.{ext}")
    meta = p.meta(f"Data note {name}", day)
    drive.put(rel, lambda path: save_narrative(path, blocks, meta, p.footer()), meta.modified)
    cols = sum(len(t.columns) for t in target.tables)
    drive.truth.edge(rel, target.rel, "DOCUMENTS",
                     f"names {name}; data dictionary of its {cols} columns, method and sources sections")
    p.narratives.append(rel)
    return rel
