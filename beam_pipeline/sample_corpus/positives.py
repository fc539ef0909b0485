"""Hard positives: relationships that hold and that are hard to see.

Each writes real files and labels the edge with its class (traits.POSITIVE_CLASSES):
a foreign-key column holding one parent key on every row; a key column named
after a role (``approved_by`` -> employees); a column of several keys joined by
spaces or semicolons; people's handles or names used as keys; a byte-identical
copy of a file under another name.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import PurePosixPath
from typing import Any, List, Optional

from beam_pipeline.sample_corpus.datafiles import DataFile, write_table
from beam_pipeline.sample_corpus.domains import ROLE_KEYS
from beam_pipeline.sample_corpus.projects import Project, company_domain
from beam_pipeline.sample_corpus.tables import ForeignKey, Table, fk_values, make_keys
from beam_pipeline.sample_corpus.truth import Drive
from beam_pipeline.sample_corpus.values import email_for, measure_value
from beam_pipeline.sample_corpus.vocabulary import FIRST_NAMES, LAST_NAMES, MEASURE_KINDS


def _event_columns(p: Project) -> tuple:
    """A label and a measure of the domain's secondary facts, for rows that need content."""
    spec = p.domain.events
    label = spec.cols[0]
    measure = next(c for c in spec.cols if c.kind in MEASURE_KINDS)
    return label, measure


def _day(p: Project) -> Any:
    return p.data_start + timedelta(days=p.rng.randint(0, p.data_days))


def _ids(p: Project, n: int, prefix: str) -> list:
    return make_keys("smallint" if p.surrogate_ids or p.rng.random() < 0.4 else "code", n, prefix, p.rng)


def write_constant_fk(drive: Drive, p: Project, entity: Table, uid: str) -> DataFile:
    """An extract for one parent: every row's foreign key holds the same key of the entity."""
    rng, spec = p.rng, p.domain.entity
    parent = rng.choice(entity.col(entity.key))
    fk_col = rng.choice(spec.fk_names)
    label, measure = _event_columns(p)
    n = p.rows(12, 90)
    id_col = p.domain.events.id_col
    rows = [[i, parent, _day(p), rng.choice(p.labels.get(label.name) or label.arg), measure_value(rng, measure)]
            for i in _ids(p, n, id_col[:3].upper())]
    table = Table(uid, f"{spec.noun}_{p.domain.events.table}", [id_col, fk_col, p.domain.events.date_col,
                                                                 label.name, measure.name],
                  {id_col: "key", fk_col: "fk", p.domain.events.date_col: "date", label.name: "label",
                   measure.name: measure.kind},
                  {id_col: f"Unique {p.domain.events.noun} identifier", fk_col: f"The {spec.noun} of this extract",
                   p.domain.events.date_col: "Date", label.name: label.desc, measure.name: measure.desc},
                  rows, key=id_col,
                  fks=[ForeignKey(fk_col, entity.uid, entity.name, entity.key, hard_class="constant_fk")])
    words = [spec.noun, str(parent), p.domain.events.noun, "history"] if rng.random() < 0.5 else \
        ["single", spec.noun, "extract"]
    return write_table(drive, p, words, table, 12)


def write_role_key(drive: Drive, p: Project, entity: Table, uid: str) -> DataFile:
    """Rows that point at the entity through a column named after a role (approved_by, ship_to...)."""
    rng = p.rng
    role = rng.choice(ROLE_KEYS[p.domain.key])
    noun = rng.choice(("approval", "assignment", "handover", "allocation"))
    n = p.rows(20, 160)
    id_col = f"{noun}_id"
    keys = entity.col(entity.key)
    pool = rng.sample(keys, min(len(keys), rng.randint(4, 12)))  # a few parents play the role
    values = fk_values(p, pool, n)
    _, measure = _event_columns(p)
    rows = [[i, v, _day(p), rng.choice(("approved", "pending", "rejected", "withdrawn")),
             measure_value(rng, measure)] for i, v in zip(_ids(p, n, noun[:3].upper()), values)]
    columns = [id_col, role, "decided_on", "decision", measure.name]
    table = Table(uid, f"{noun}s", columns,
                  {id_col: "key", role: "fk", "decided_on": "date", "decision": "label", measure.name: measure.kind},
                  {id_col: f"Unique {noun} identifier", role: f"The {p.domain.entity.noun} in this role",
                   "decided_on": "Decision date", "decision": "Outcome", measure.name: measure.desc},
                  rows, key=id_col,
                  fks=[ForeignKey(role, entity.uid, entity.name, entity.key, hard_class="role_named_key")])
    return write_table(drive, p, [f"{noun}s"] if rng.random() < 0.5 else [noun, "log"], table, 14)


def write_list_key(drive: Drive, p: Project, entity: Table, uid: str) -> DataFile:
    """Groups whose members column lists several entity keys in one cell."""
    rng, spec = p.rng, p.domain.entity
    separator = rng.choice((";", "; ", " "))
    column = rng.choice((f"{spec.noun}_ids", spec.table, "members"))
    group = rng.choice(("group", "batch", "bundle", "cohort"))
    n = p.rows(10, 80)
    keys = entity.col(entity.key)
    rows = []
    for i in _ids(p, n, group[:3].upper()):
        members = rng.sample(keys, min(len(keys), rng.randint(1, 4)))
        rows.append([i, f"{group.capitalize()} {i}", separator.join(str(k) for k in members), _day(p)])
    id_col = f"{group}_id"
    table = Table(uid, f"{spec.noun}_{group}s", [id_col, f"{group}_name", column, "created_on"],
                  {id_col: "key", f"{group}_name": "text", column: "fk_list", "created_on": "date"},
                  {id_col: f"Unique {group} identifier", f"{group}_name": "Display name",
                   column: f"{spec.noun.capitalize()} keys, separated by '{separator.strip() or 'space'}'",
                   "created_on": "Creation date"},
                  rows, key=id_col,
                  fks=[ForeignKey(column, entity.uid, entity.name, entity.key, separator=separator,
                                  hard_class="list_valued_key")])
    return write_table(drive, p, [spec.noun, f"{group}s"], table, 16)


def _handle(first: str, last: str, style: int) -> str:
    return (f"{first[0]}{last}".lower(), f"{first}.{last}".lower(), f"{first.lower()}_{last[0].lower()}")[style]


def write_name_key(drive: Drive, p: Project, uid: str) -> List[DataFile]:
    """A roster keyed by people's handles (or full names) and a log that cites them."""
    rng = p.rng
    by_name = rng.random() < 0.35
    style = rng.randrange(3)
    people, seen, size = [], set(), rng.randint(6, 16)
    while len(people) < size:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        key = f"{first} {last}" if by_name else _handle(first, last, style)
        if key not in seen:
            seen.add(key)
            people.append((key, first, last))
    key_col = "name" if by_name else rng.choice(("handle", "login", "username"))
    domain_name = company_domain(p.company)
    roster_rows = [[key, f"{first} {last}", email_for(f"{first} {last}", domain_name),
                    rng.choice(("Analytics", "Platform", "Reporting", "Operations")), _day(p)]
                   for key, first, last in people]
    roster = Table(uid + "roster", "contributors", [key_col, "full_name", "email", "team", "joined_on"],
                   {key_col: "key", "full_name": "person", "email": "email", "team": "label", "joined_on": "date"},
                   {key_col: "Contributor key" if not by_name else "Contributor name (unique)",
                    "full_name": "Full name", "email": "Work email", "team": "Team", "joined_on": "Joined"},
                   roster_rows, key=key_col)
    child_col = rng.choice(("owner", "reviewed_by", "author") if by_name else ("author", "edited_by", "committer"))
    n = p.rows(20, 200)
    values = fk_values(p, [k for k, _, _ in people], n)
    log_rows = [[i, _day(p), v, rng.choice(("created", "edited", "reviewed", "published")), rng.randint(1, 40)]
                for i, v in zip(_ids(p, n, "CHG"), values)]
    log = Table(uid + "log", "change_log", ["change_id", "changed_on", child_col, "action", "items"],
                {"change_id": "key", "changed_on": "date", child_col: "fk", "action": "label", "items": "int"},
                {"change_id": "Change identifier", "changed_on": "Date", child_col: "Who made the change",
                 "action": "What was done", "items": "Items touched"},
                log_rows, key="change_id",
                fks=[ForeignKey(child_col, roster.uid, roster.name, key_col, hard_class="name_key")])
    roster_words = rng.choice((["contributors"], ["team", "roster"], ["dashboard", "users"]))
    log_words = rng.choice((["changelog"], ["edit", "log"], ["review", "log"]))
    return [write_table(drive, p, roster_words, roster, 2), write_table(drive, p, log_words, log, 18)]


def write_copy(drive: Drive, p: Project) -> Optional[str]:
    """A byte-identical copy of a file that has no typed edge yet, under another name.

    Only such files are copied, so the copy's relations are exactly the
    original's (REFERENCES out of a data file, RELATED_TO among narratives) plus
    VERSION_OF to the original. The copy is saved later than the original.
    """
    truth, rng = drive.truth, p.rng
    touched = {f for pair in truth.edges for f in pair}
    targeted = {fk.target_uid for tables in truth.tables_by_file.values() for t in tables for fk in t.fks}
    data = [rel for rel, tables in sorted(truth.tables_by_file.items())
            if rel not in touched and all(t.uid not in targeted and t.rows for t in tables)]
    narratives = [rel for rel in sorted(p.narratives) if rel not in touched]
    pool = data if data and (not narratives or rng.random() < 0.6) else narratives
    if not pool:
        return None
    original = rng.choice(pool)
    path = PurePosixPath(original)
    stem, ext = path.stem, path.suffix
    name = rng.choice((f"Copy of {path.name}", f"{stem} (1){ext}", f"{stem}_backup{ext}", f"{stem} - Copy{ext}"))
    rel = str(path.with_name(name)) if rng.random() < 0.7 else p.path("archive", name)
    if rel == original or rel in truth.files:
        rel = str(path.with_name(f"backup_{path.name}"))
    when = drive.modified(original) + timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 8))
    drive.put(rel, lambda target: shutil.copyfile(drive.root / original, target), when)
    truth.edge(rel, original, "VERSION_OF", f"byte-identical copy of {path.name} saved later as {name}",
               **{"class": "byte_identical_copy"})
    if original in truth.tables_by_file:
        truth.register_tables(rel, truth.tables_by_file[original])
    else:
        p.narratives.append(rel)
    return rel
