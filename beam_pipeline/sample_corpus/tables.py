"""Tables and their keys: entity, fact, events, API, forecast and mart tables, versions, aggregates."""

from __future__ import annotations

import math
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from beam_pipeline.sample_corpus.domains import Col
from beam_pipeline.sample_corpus.projects import Project, company_domain, styled
from beam_pipeline.sample_corpus.values import (company_name, email_for, iban_number, ip_address, measure_value,
                                                person_name, phone_number, round_to_kind, ssn_number)
from beam_pipeline.sample_corpus.vocabulary import BUDGET_LINES, CITIES, MAIL_DOMAINS, MEASURE_KINDS


@dataclass(frozen=True)
class ForeignKey:
    column: str
    target_uid: str  # logical table it points at (versions share a uid)
    target_table: str
    target_column: str
    separator: Optional[str] = None  # list-valued cells: several keys joined by this
    hard_class: Optional[str] = None  # the positive class it exemplifies (traits.POSITIVE_CLASSES)

    def values(self, cells: Sequence[Any]) -> set:
        """The distinct keys a column of cells holds."""
        if self.separator is None:
            return set(cells)
        sep = self.separator.strip() or None  # None: any run of whitespace
        return {part.strip() for cell in cells for part in str(cell).split(sep) if part.strip()}


@dataclass
class Table:
    """Rows plus what the truth needs: key, foreign keys, per-column kinds."""

    uid: str
    name: str
    columns: List[str]
    kinds: Dict[str, str]
    descs: Dict[str, str]
    rows: List[list]
    key: Optional[str] = None
    fks: List[ForeignKey] = field(default_factory=list)

    def col(self, name: str) -> List[Any]:
        i = self.columns.index(name)
        return [r[i] for r in self.rows]



def make_keys(fmt: str, n: int, prefix: str, rng: random.Random, avoid: frozenset = frozenset()) -> list:
    """n distinct key values in one of the drive's key formats."""
    out: list = []
    seen = set(avoid)
    if fmt == "smallint":
        start = max((v for v in avoid if isinstance(v, int)), default=0) + 1
        return list(range(start, start + n))
    while len(out) < n:
        if fmt == "bigint":
            v: Any = rng.randint(10 ** 6, 10 ** 9)
        elif fmt == "code":
            v = f"{prefix}-{rng.randint(10000, 99999)}"
        else:
            h = f"{rng.getrandbits(128):032x}"
            v = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        if v not in seen:
            seen.add(v)
            out.append(v)
    return out


def column_value(p: Project, col: Col) -> Any:
    rng = p.rng
    kind = col.kind
    if kind == "label":
        return rng.choice(p.labels.get(col.name) or col.arg)
    if kind in MEASURE_KINDS:
        return measure_value(rng, col)
    if kind == "smallint":
        return rng.randint(*col.arg)
    if kind == "constant":
        return col.arg
    if kind == "pct":
        return 5 * rng.randint(1, 20)
    if kind == "code":
        return rng.choice(col.arg)
    if kind == "date":
        return p.data_start + timedelta(days=rng.randint(0, p.data_days))
    if kind == "person":
        return person_name(rng)
    if kind == "company":
        return company_name(rng)
    generators: Dict[str, Callable[[random.Random], Any]] = {
        "phone": phone_number, "ssn": ssn_number, "iban": iban_number, "ip": ip_address,
        "city": lambda r: r.choice(CITIES),
        "serial": lambda r: f"{r.choice('ABCDEFGHKLMNPRSTXZ')}{r.choice('ABCDEFGHKLMNPRSTXZ')}{r.randint(100000, 999999)}",
        "campaign": lambda r: f"{r.choice(('Spring', 'Summer', 'Autumn', 'Winter', 'Holiday', 'Back to School'))} "
                              f"{r.choice(('Launch', 'Promo', 'Push', 'Drive', 'Boost'))} {r.randint(2023, 2025)}",
    }
    return generators[kind](rng)


def make_record(p: Project, cols: Sequence[Col], fixed: Dict[str, Any]) -> Dict[str, Any]:
    """One record; an email column is derived from the person or company before it."""
    row = dict(fixed)
    who = None
    for col in cols:
        if col.kind == "email":
            domain_name = company_domain(p.company) if col.desc.startswith("Work") else p.rng.choice(MAIL_DOMAINS)
            value = email_for(who or person_name(p.rng), domain_name)
        else:
            value = column_value(p, col)
        if col.kind in ("person", "company"):
            who = value
        row[col.name] = value
    return row


def make_entity_table(p: Project, uid: str) -> Table:
    spec = p.domain.entity
    attrs = spec.attrs + p.entity_extra
    n = p.rows(20, 300)
    keys = make_keys(p.key_format, n, spec.prefix, p.rng)
    if p.key_format != "smallint" and p.rng.random() < 0.5:
        keys.sort(key=str)  # some exports come sorted, some in insertion order
    columns = [spec.key] + [c.name for c in attrs]
    rows = []
    for k in keys:
        row = make_record(p, attrs, {spec.key: k})
        rows.append([row[c] for c in columns])
    kinds = {spec.key: "key", **{c.name: c.kind for c in attrs}}
    descs = {spec.key: f"Unique {spec.noun} identifier (primary key)", **{c.name: c.desc for c in attrs}}
    return Table(uid, spec.table, columns, kinds, descs, rows, key=spec.key)


def orphan_keys(keys: list, k: int, rng: random.Random) -> list:
    """k values shaped like `keys` but absent from them (dangling references)."""
    present = set(keys)
    out: list = []
    while len(out) < k:
        sample = rng.choice(keys)
        if isinstance(sample, int):
            v: Any = max(keys) + 1 + len(out) if max(keys) <= 10 * len(keys) else rng.randint(10 ** 6, 10 ** 9)
        elif re.fullmatch(r"[A-Z]+-\d+", sample):
            prefix, digits = sample.split("-")
            v = f"{prefix}-{rng.randint(10 ** (len(digits) - 1), 10 ** len(digits) - 1)}"
        else:
            v = make_keys("hex", 1, "", rng)[0]
        if v not in present and v not in out:
            out.append(v)
    return out


def fk_values(p: Project, target_keys: list, n: int) -> list:
    """FK values drawn from the target's keys; sometimes 1-2 distinct orphans
    on ~2% of rows, as real exports have, keeping containment high."""
    rng = p.rng
    values = [rng.choice(target_keys) for _ in range(n)]
    if len(target_keys) >= 30 and n >= 40 and rng.random() < 0.4:
        orphans = orphan_keys(target_keys, rng.randint(1, 2), rng)
        for i in rng.sample(range(n), max(1, n // 50)):
            values[i] = rng.choice(orphans)
    return values


@dataclass
class FactFactory:
    """Makes fact rows for one project; versions reuse it to add rows."""

    p: Project
    id_col: str
    id_prefix: Optional[str]  # None: plain 1..n ids
    fk: Optional[Tuple[str, list]]  # (column, target keys)

    def ident(self, i: int) -> Any:
        return i if self.id_prefix is None else f"{self.id_prefix}-{i:06d}"

    def row(self, i: int, day: Optional[date] = None) -> list:
        p = self.p
        day = day or p.data_start + timedelta(days=p.rng.randint(0, p.data_days))
        out = [self.ident(i), day]
        if self.fk:
            out.append(p.rng.choice(self.fk[1]))
        out += [column_value(p, c) for c in p.fact_dims + p.fact_decoys]
        out += [measure_value(p.rng, c) for c in p.fact_measures]
        return out


def make_fact_table(p: Project, uid: str, entity: Optional[Table], fk_col: Optional[str]) -> Tuple[Table, FactFactory]:
    d = p.domain
    generic = p.rng.random() < 0.4 or p.surrogate_ids  # plain `id` 1..n, the classic false-overlap trap
    id_col = "id" if generic else d.fact_id[0]
    start = 1 if generic else p.rng.randint(1000, 90000)
    keys = entity.col(entity.key) if entity is not None and fk_col else None
    factory = FactFactory(p, id_col, None if generic else d.fact_id[1], (fk_col, keys) if keys else None)
    n = p.rows(100, 1500)
    days = sorted(p.data_start + timedelta(days=p.rng.randint(0, p.data_days)) for _ in range(n))
    rows = [factory.row(start + i, day) for i, day in enumerate(days)]
    cols = p.fact_dims + p.fact_decoys + p.fact_measures
    columns = [id_col, d.date_col] + ([fk_col] if keys else []) + [c.name for c in cols]
    kinds = {id_col: "key", d.date_col: "date", **{c.name: c.kind for c in cols}}
    descs = {id_col: f"Unique {d.row_noun} identifier", d.date_col: f"Date of the {d.row_noun} (YYYY-MM-DD)",
             **{c.name: c.desc for c in cols}}
    fks = []
    if keys:
        vals = fk_values(p, keys, n)
        for r, v in zip(rows, vals):
            r[2] = v
        kinds[fk_col] = "fk"
        descs[fk_col] = f"{d.entity.noun.capitalize()} reference; matches {d.entity.key} in {entity.name}"
        fks.append(ForeignKey(fk_col, entity.uid, entity.name, entity.key))
    table = Table(uid, styled(d.fact_names[0].split(), "snake"), columns, kinds, descs, rows, key=id_col, fks=fks)
    return table, factory


def make_events_table(p: Project, uid: str, entity: Table, fk_col: str) -> Table:
    spec = p.domain.events
    n = p.rows(60, 600)
    id_col = "id" if p.rng.random() < 0.35 or p.surrogate_ids else spec.id_col
    ids = make_keys("smallint" if id_col == "id" or p.rng.random() < 0.5 else "code", n,
                    spec.id_col.split("_")[0][:3].upper(), p.rng)
    fk_vals = fk_values(p, entity.col(entity.key), n)
    columns = [id_col, fk_col, spec.date_col] + [c.name for c in spec.cols]
    rows = []
    for ident, fk in sorted(zip(ids, fk_vals), key=lambda t: t[0]):
        row = make_record(p, spec.cols, {id_col: ident, fk_col: fk,
                                  spec.date_col: p.data_start + timedelta(days=p.rng.randint(0, p.data_days))})
        rows.append([row[c] for c in columns])
    kinds = {id_col: "key", fk_col: "fk", spec.date_col: "date", **{c.name: c.kind for c in spec.cols}}
    descs = {id_col: f"Unique {spec.noun} identifier", spec.date_col: f"Date of the {spec.noun}",
             fk_col: f"{p.domain.entity.noun.capitalize()} reference; matches {entity.key} in {entity.name}",
             **{c.name: c.desc for c in spec.cols}}
    return Table(uid, spec.table, columns, kinds, descs, rows, key=id_col,
                 fks=[ForeignKey(fk_col, entity.uid, entity.name, entity.key)])


def make_api_table(p: Project, uid: str, target: Table, fk_col: str) -> Table:
    """Records of an API dump: own hex/large ids, a pointer to `target`'s key."""
    spec = p.domain.events
    n = p.rows(40, 400)
    id_col = p.rng.choice(("event_id", "uuid", "record_id"))
    ids = make_keys(p.rng.choice(("hex", "bigint")), n, "", p.rng)
    fk_vals = fk_values(p, target.col(target.key), n)
    label = spec.cols[0]
    measure = next(c for c in spec.cols if c.kind in MEASURE_KINDS)
    columns = [id_col, fk_col, "timestamp", label.name, measure.name]
    rows = []
    for ident, fk in zip(ids, fk_vals):
        ts = datetime.combine(p.data_start, datetime.min.time()) + timedelta(minutes=p.rng.randint(0, p.data_days * 1440))
        rows.append([ident, fk, ts.strftime("%Y-%m-%dT%H:%M:%SZ"), column_value(p, label), measure_value(p.rng, measure)])
    kinds = {id_col: "key", fk_col: "fk", "timestamp": "text", label.name: "label", measure.name: measure.kind}
    descs = {id_col: "Record identifier assigned by the API", fk_col: f"Points at {target.key} in {target.name}",
             "timestamp": "Event time (UTC, ISO 8601)", label.name: label.desc, measure.name: measure.desc}
    return Table(uid, styled(p.domain.api_name.split(), "snake"), columns, kinds, descs, rows, key=id_col,
                 fks=[ForeignKey(fk_col, target.uid, target.name, target.key)])


def make_forecast_table(p: Project, uid: str) -> Table:
    """Budget/forecast lines. Line items, not fact dimensions, so a forecast
    never looks like it points at a mart's dimension labels."""
    n = p.rows(24, 160)
    items = p.rng.sample(BUDGET_LINES, p.rng.randint(4, len(BUDGET_LINES)))
    columns = ["line", "line_item", "month", "planned", "forecast"]
    rows = []
    for i in range(1, n + 1):
        month = (p.data_start + timedelta(days=30 * p.rng.randint(0, 11))).strftime("%Y-%m")
        plan = round(p.rng.uniform(1000, 90000), 2)
        rows.append([i, p.rng.choice(items), month, plan, round(plan * p.rng.uniform(0.8, 1.2), 2)])
    kinds = {"line": "key", "line_item": "label", "month": "text", "planned": "money", "forecast": "money"}
    descs = {"line": "Line number", "line_item": "Budget line item", "month": "Month (YYYY-MM)",
             "planned": "Planned amount in USD", "forecast": "Latest forecast in USD"}
    return Table(uid, styled(p.domain.forecast_name.split(), "snake"), columns, kinds, descs, rows, key="line")


def make_mart_dim(p: Project, uid: str) -> Table:
    """A mart dimension keyed by small integers, for the mart's own fact table."""
    dim = p.fact_dims[0]
    labels = p.labels[dim.name]
    rows = [[i + 1, lbl, person_name(p.rng)] for i, lbl in enumerate(labels)]
    key = f"{dim.name}_key"
    return Table(uid, f"dim_{dim.name}", [key, f"{dim.name}_name", "manager"],
                 {key: "key", f"{dim.name}_name": "label", "manager": "person"},
                 {key: "Surrogate key", f"{dim.name}_name": dim.desc, "manager": "Accountable manager"}, rows, key=key)


def make_mart_fact(p: Project, uid: str, entity: Table, dim: Table) -> Table:
    n = p.rows(30, 300)
    measure = p.fact_measures[0]
    ekeys, dkeys = entity.col(entity.key), dim.col(dim.key)
    rows = [[i + 1, p.rng.choice(ekeys), p.rng.choice(dkeys),
             (p.data_start + timedelta(days=30 * p.rng.randint(0, 11))).strftime("%Y-%m"),
             measure_value(p.rng, measure)] for i in range(n)]
    cols = ["id", entity.key, dim.key, "month", measure.name]
    return Table(uid, f"fact_{p.domain.row_noun.replace(' ', '_').replace('-', '_')}_monthly", cols,
                 {"id": "key", entity.key: "fk", dim.key: "fk", "month": "text", measure.name: measure.kind},
                 {"id": "Row id", entity.key: f"References {entity.name}", dim.key: f"References {dim.name}",
                  "month": "Month (YYYY-MM)", measure.name: measure.desc}, rows, key="id",
                 fks=[ForeignKey(entity.key, entity.uid, entity.name, entity.key),
                      ForeignKey(dim.key, dim.uid, dim.name, dim.key)])


def evolve_table(table: Table, rng: random.Random, new_row: Optional[Callable[[int], list]]) -> Table:
    """A realistic next version: ~35% of rows get an edited measure, a few
    rows are dropped and a different number appended, so group totals,
    overall totals and the row count all move."""
    measures = [i for i, c in enumerate(table.columns) if table.kinds[c] in MEASURE_KINDS]
    rows = [list(r) for r in table.rows]
    for r in rows:
        if rng.random() < 0.35:
            i = rng.choice(measures)
            kind = table.kinds[table.columns[i]]
            old = r[i]
            new = round_to_kind(kind, old * rng.uniform(0.75, 1.3))
            r[i] = new if new != old else round_to_kind(kind, old + 1)
    dropped = max(1, len(rows) // 50)
    for i in sorted(rng.sample(range(len(rows)), max(0, min(dropped, len(rows) - 3))), reverse=True):
        del rows[i]
    if new_row is not None:
        last = max(r[0] if isinstance(r[0], int) else int(str(r[0]).rsplit("-", 1)[-1]) for r in table.rows)
        for k in range(dropped + rng.randint(1, 3)):
            rows.append(new_row(last + 1 + k))
    return replace(table, rows=rows)


# --------------------------------------------------------------------------
# Aggregates and number formats (shared by decks and summary reports)
# --------------------------------------------------------------------------


def group_sum(table: Table, by: str, measure: str) -> Dict[Any, float]:
    kind = table.kinds[measure]
    keys, vals = table.col(by), table.col(measure)
    acc: Dict[Any, List[float]] = defaultdict(list)
    for k, v in zip(keys, vals):
        acc[k].append(v)
    return {k: round_to_kind(kind, math.fsum(v)) if kind != "int" else sum(v) for k, v in acc.items()}


def total(table: Table, measure: str) -> float:
    vals = table.col(measure)
    return sum(vals) if table.kinds[measure] == "int" else round(math.fsum(vals), 2)


def fmt_amount(x: float, style: str, kind: str) -> str:
    """One number in a deck's chosen style: 1,234,567 / 1,234,567.89 / $1.23M / 45.2k / 1234567.89."""
    if style == "short":
        a = abs(x)
        s = (f"{x / 1e9:.2f}B" if a >= 1e9 else f"{x / 1e6:.2f}M" if a >= 1e6 else f"{x / 1e3:.1f}k" if a >= 1e4
             else f"{x / 1e3:.2f}k" if a >= 1e3 else str(int(x)) if kind == "int" else f"{x:.1f}")
    elif style == "comma2" and kind != "int":
        s = f"{x:,.2f}"
    elif style == "plain":
        s = f"{x:.2f}" if kind != "int" else str(int(x))
    else:
        s = f"{x:,.0f}"
    return f"${s}" if kind == "money" and style in ("short", "comma") else s


def fmt_share(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "0.0%"
