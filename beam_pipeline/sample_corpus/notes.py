"""Project narratives not derived from data: plans, meeting notes, status reports."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import List, Sequence

from beam_pipeline.sample_corpus.datafiles import family_names
from beam_pipeline.sample_corpus.negatives import mark_status_report, status_report_extras
from beam_pipeline.sample_corpus.projects import Project, about_paragraph
from beam_pipeline.sample_corpus.reports import contact_line, context_paragraph
from beam_pipeline.sample_corpus.truth import Drive
from beam_pipeline.sample_corpus.values import card_number, iban_number, ip_address, pretty
from beam_pipeline.sample_corpus.vocabulary import AUTHORS, MEETING_AGENDA, NEXT_STEPS, RAG, REVISION_SENTENCES, RISKS
from beam_pipeline.sample_corpus.writers import Block, save_docx, save_narrative


def evolve_blocks(blocks: List[Block], rng: random.Random) -> List[Block]:
    """Next draft: a couple of paragraphs reworded, one bullet added."""
    out = list(blocks)
    # Only prose is reworded: labelled lines (Project:, Attendees:, Contact:)
    # and the corporate boilerplate stay as they were.
    prose = [i for i, b in enumerate(out) if b[0] == "p" and b[1].endswith(".")
             and not b[1].startswith(("Project", "Attendees", "Contact", "About", "Owner"))]
    for i in rng.sample(prose, min(2, len(prose))):
        out[i] = ("p", f"{out[i][1]} {rng.choice(REVISION_SENTENCES)}")
    if not prose:
        first_heading = next((i for i, b in enumerate(out) if b[0] == "h"), len(out))
        out.insert(first_heading, ("p", rng.choice(REVISION_SENTENCES)))
    lists = [i for i, b in enumerate(out) if b[0] in ("bullets", "numbered")]
    if lists:
        i = rng.choice(lists)
        out[i] = (out[i][0], list(out[i][1]) + [rng.choice(NEXT_STEPS + RISKS)])
    return out


def plan_blocks(p: Project) -> List[Block]:
    rng, d = p.rng, p.domain
    start = p.base.date()
    milestones = [f"M{i} - {rng.choice(('Kick-off', 'Data review', 'Pilot', 'Go/no-go', 'Rollout', 'Retrospective'))} "
                  f"- due {start + timedelta(days=21 * i):%d %b %Y}" for i in range(1, rng.randint(3, 6))]
    return [("title", f"{p.name} - {d.plan_name}"), ("p", context_paragraph(p)),
            ("h", "Objectives"), ("bullets", [d.goal.capitalize(), rng.choice(NEXT_STEPS), rng.choice(NEXT_STEPS)]),
            ("h", "Scope"), ("p", f"In scope: {', '.join(p.labels[p.fact_dims[0].name][:3])}. Out of scope: "
                                  f"changes to the {d.system}."),
            ("h", "Milestones"), ("bullets", milestones),
            ("h", "Risks"), ("bullets", rng.sample(RISKS, 3)),
            ("h", "Owners"), ("p", f"Sponsor: {rng.choice(AUTHORS)}. Lead: {p.lead}. {contact_line(p)}"),
            ("p", about_paragraph(p.company))]


def write_doc_family(drive: Drive, p: Project, first: List[Block], words: Sequence[str], scheme: str, k: int,
                     day: float, what: str, area: str = "") -> List[str]:
    names = family_names(p, words, "docx", scheme, k)
    rels, blocks = [], first
    for i, name in enumerate(names):
        if i:
            blocks = evolve_blocks(blocks, p.rng)
        older = i < k - 1
        rel = p.path("archive" if older and p.rng.random() < 0.4 else area, name)
        meta = p.meta(f"{p.name} {what}", day + 12 * i)
        drive.put(rel, lambda path, b=blocks, m=meta, r=i + 1: save_docx(path, b, m, p.footer(), r), meta.modified)
        rels.append(rel)
        p.narratives.append(rel)
    drive.truth.versions(rels, what)
    return rels


def meeting_blocks(p: Project, when: date) -> List[Block]:
    rng, d = p.rng, p.domain
    people = rng.sample(AUTHORS, rng.randint(3, 5))
    actions = [f"{rng.choice(people)} - {rng.choice(NEXT_STEPS).lower()} - by {when + timedelta(days=rng.randint(3, 14)):%d %b}"
               for _ in range(rng.randint(2, 4))]
    blocks: List[Block] = [("title", f"{pretty(d.meeting_name)} - {when:%d %b %Y}"),
                           ("p", f"Project: {p.cite()}"), ("p", f"Attendees: {', '.join(people)}"),
                           ("h", "Agenda"), ("numbered", list(MEETING_AGENDA)),
                           ("h", "Discussion"), ("bullets", rng.sample(d.discussion, rng.randint(2, len(d.discussion)))),
                           ("h", "Actions"), ("bullets", actions)]
    if d.key == "finance" and rng.random() < 0.6:  # realistic PII slip in a finance note
        blocks.append(("p", f"Card {card_number(rng)} was used for the vendor prepayment; request a re-issue."))
    return blocks


def write_meetings(drive: Drive, p: Project, count: int, day: float) -> None:
    """A series of meetings (different content: RELATED_TO), some of which
    exist as draft and final (VERSION_OF)."""
    when = p.base.date() - timedelta(days=40)
    for _ in range(count):
        when += timedelta(days=p.rng.randint(7, 21))
        blocks = meeting_blocks(p, when)
        words = [f"{when:%Y-%m-%d}", p.domain.meeting_name, "notes"]
        if p.rng.random() < 0.5:
            names = [p.fname(words + ["draft"], "docx"), p.fname(words + ["final"], "docx")]
            rels = []
            for i, name in enumerate(names):
                b = blocks if i == 0 else evolve_blocks(blocks, p.rng) + [("h", "Decisions"),
                                                                           ("bullets", [p.rng.choice(NEXT_STEPS)])]
                # Four days apart: the final is always saved after the draft.
                meta = p.meta(f"{p.domain.meeting_name} notes", day + (when - p.base.date()).days + 4 * i)
                rel = p.path("meetings", name)
                drive.put(rel, lambda path, b=b, m=meta, r=i + 1: save_docx(path, b, m, p.footer(), r), meta.modified)
                rels.append(rel)
                p.narratives.append(rel)
            drive.truth.versions(rels, f"draft and final notes of the {when:%d %b %Y} {p.domain.meeting_name}")
        else:
            ext = p.rng.choice(("docx", "md"))
            rel = p.path("meetings", p.fname(words, ext))
            meta = p.meta(f"{p.domain.meeting_name} notes", day + (when - p.base.date()).days)
            drive.put(rel, lambda path: save_narrative(path, blocks, meta, p.footer()), meta.modified)
            p.narratives.append(rel)


def write_status_report(drive: Drive, p: Project, day: float) -> str:
    rng, d = p.rng, p.domain
    week = p.base.date() + timedelta(days=int(day))
    blocks: List[Block] = [("title", f"Status report - {p.name}"), ("p", f"Project code: {p.code}"),
                           ("p", f"Week ending {week:%d %B %Y}. Overall status: {rng.choice(RAG)}."),
                           ("h", "Progress"), ("bullets", rng.sample(NEXT_STEPS, 3)),
                           ("h", "Risks"), ("bullets", rng.sample(RISKS, 2))]
    if d.ops_log:
        stamp = datetime.combine(week, datetime.min.time())
        lines = [f"{stamp + timedelta(minutes=rng.randint(0, 1440)):%Y-%m-%d %H:%M} "
                 f"{rng.choice(('gateway', 'collector', 'sync-job', 'api-edge'))} {ip_address(rng)} "
                 f"{rng.choice(('timeout after 30s', 'reconnected', 'TLS handshake failed', 'queue backlog 1200'))}"
                 for _ in range(rng.randint(2, 4))]
        blocks += [("h", "Ops log excerpt"), ("bullets", sorted(lines))]
    if d.key == "finance":  # realistic PII in a finance note
        blocks.append(("p", f"Corporate card {card_number(rng)} was blocked after the audit finding."))
        if rng.random() < 0.5:
            blocks.append(("p", f"Vendor refund due to IBAN {iban_number(rng)} once the dispute is closed."))
    blocks += status_report_extras(p)
    blocks.append(("p", contact_line(p)))
    ext = rng.choice(("txt", "md"))
    words = rng.choice((["status"], ["status report", f"{week:%Y-%m-%d}"], ["weekly status"]))
    rel = p.path("", p.fname(words, ext))
    meta = p.meta(f"{p.name} status", day)
    drive.put(rel, lambda path: save_narrative(path, blocks, meta, p.footer()), meta.modified)
    mark_status_report(drive, p, rel)
    p.narratives.append(rel)
    return rel


def write_status_report_extra(drive: Drive, p: Project) -> None:
    """Guarantee two narratives per project with a dated weekly status."""
    when = p.base.date() + timedelta(days=37)
    blocks: List[Block] = [("title", f"Weekly status {when:%Y-%m-%d}"), ("p", f"{p.cite()}"),
                           ("bullets", p.rng.sample(NEXT_STEPS, 2)), ("p", contact_line(p))]
    rel = p.path("", p.fname(["weekly status", f"{when:%Y-%m-%d}"], "md"))
    meta = p.meta("weekly status", 37)
    drive.put(rel, lambda path: save_narrative(path, blocks, meta, p.footer()), meta.modified)
    p.narratives.append(rel)
