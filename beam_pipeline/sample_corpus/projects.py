"""Projects: the plan (code, name, naming convention, folder layout, traits) and one
project's seeded choices.

Naming conventions: classic (snake, kebab, Title or Sentence case words),
CamelCase, UPPER_SNAKE, or date-prefixed (``2024-03_budget-review.docx``).
Folder layouts: nested (``<Department>/<Project Name>/[data|decks|...]``),
coded (``<DEPT CODE>/<project code>/01_Data...``), split (data in a ``data/``
tree, narratives in a ``reports/`` tree) and flat (the files of several
projects side by side in one folder, told apart by a code prefix). Folder
locality is therefore no free signal of relatedness.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import PurePosixPath
from typing import Dict, List, Optional, Sequence, Tuple

from beam_pipeline.sample_corpus.domains import DEPARTMENT_CODES, DOMAIN_BY_KEY, DOMAINS, Col, Domain
from beam_pipeline.sample_corpus.traits import CorpusContext, plan_traits
from beam_pipeline.sample_corpus.values import email_for
from beam_pipeline.sample_corpus.vocabulary import (AUTHORS, CODE_FORMATS, CODE_LIST_COLUMNS, CODE_LIST_DESCS,
                                                    CODE_LISTS, CODENAMES, DATA_EXTENSIONS, NAME_QUALIFIERS,
                                                    NAME_STYLES)
from beam_pipeline.sample_corpus.writers import Meta

LAYOUTS = ("nested", "coded", "split", "flat")
NAMINGS = ("classic", "camel", "upper", "dated")
# The first projects draw from these decks, so a small corpus holds every convention.
LAYOUT_DECK = ("nested", "nested", "coded", "split", "flat", "flat", "nested", "split")
NAMING_DECK = ("classic", "classic", "classic", "camel", "upper", "dated", "dated", "classic")
LAYOUT_WEIGHTS = (0.4, 0.2, 0.2, 0.2)
NAMING_WEIGHTS = (0.5, 0.15, 0.15, 0.2)
DATE_TOKEN = re.compile(r"(?<!\d)20\d\d-\d\d(?!\d)")
CODED_SUBDIRS = {"data": "01_Data", "decks": "02_Presentations", "meetings": "03_Minutes", "archive": "99_Archive"}


@dataclass(frozen=True)
class ProjectPlan:
    """What identifies a project across the corpus."""

    index: int
    domain: str
    code: str
    name: str
    folder: str  # <Department>/<Project Name>: the project's home in the nested layout
    layout: str = "nested"  # one of LAYOUTS
    naming: str = "classic"  # one of NAMINGS
    traits: Tuple[Tuple[str, str], ...] = ()  # (trait, variant), see traits.PROJECT_TRAITS

    def trait(self, name: str) -> Optional[str]:
        return dict(self.traits).get(name)


def plan_projects(projects: int, seed: int = 0) -> List[ProjectPlan]:
    """Domain, unique code, unique name and folder of every project, in order.

    The first len(DOMAINS) projects use distinct domains; later projects reuse
    domains under new names, codes and label sets. Conventions and traits come
    from their own seeded streams, so codes and names do not depend on them.
    """
    rng = random.Random(f"plan:{seed}")
    order = list(range(len(DOMAINS)))
    rng.shuffle(order)
    used_codes: set = set()
    used_names: set = set()
    conventions = _plan_conventions(projects, seed)
    traits = plan_traits(projects, seed)
    plans = []
    for i in range(projects):
        domain = DOMAINS[order[i % len(order)]] if i < len(order) else DOMAINS[rng.randrange(len(DOMAINS))]
        code = _draw_code(rng, used_codes)
        name = _draw_name(rng, domain, used_names, i)
        layout, naming = conventions[i]
        plans.append(ProjectPlan(i, domain.key, code, name, f"{domain.department}/{name}", layout, naming,
                                 tuple(sorted(traits[i].items()))))
    return plans


def _plan_conventions(projects: int, seed: int) -> List[Tuple[str, str]]:
    rng = random.Random(f"conventions:{seed}")
    layouts, namings = list(LAYOUT_DECK), list(NAMING_DECK)
    rng.shuffle(layouts)
    rng.shuffle(namings)
    out = []
    for i in range(projects):
        layout = layouts[i] if i < len(layouts) else rng.choices(LAYOUTS, LAYOUT_WEIGHTS)[0]
        naming = namings[i] if i < len(namings) else rng.choices(NAMINGS, NAMING_WEIGHTS)[0]
        out.append((layout, naming))
    return out


def _draw_code(rng: random.Random, used: set) -> str:
    for _ in range(40):
        prefixes, make = CODE_FORMATS[rng.randrange(len(CODE_FORMATS))]
        code = make(rng, rng.choice(prefixes))
        if code not in used:
            used.add(code)
            return code
    while True:  # only reached when the formats above are nearly exhausted
        code = f"PX-{rng.randint(100000, 999999)}"
        if code not in used:
            used.add(code)
            return code


def _draw_name(rng: random.Random, domain: Domain, used: set, index: int) -> str:
    for attempt in range(12):
        name = f"{rng.choice(CODENAMES)} {rng.choice(domain.topics)}"
        if attempt >= 3:
            name = f"{name} {rng.choice(NAME_QUALIFIERS)}"
        if name not in used:
            used.add(name)
            return name
    name = f"{rng.choice(CODENAMES)} {rng.choice(domain.topics)} No {index}"
    used.add(name)
    return name


@dataclass
class Project:
    """One project's seeded choices; everything it writes draws from `rng`."""

    plan: ProjectPlan
    domain: Domain
    rng: random.Random
    rows_scale: float
    ctx: CorpusContext
    lead: str
    base: datetime
    data_start: date
    data_days: int
    key_format: str  # smallint | bigint | code | hex
    labels: Dict[str, Tuple[str, ...]]
    fact_dims: Tuple[Col, ...]
    fact_measures: Tuple[Col, ...]
    style: str
    subdirs: Dict[str, str]
    cite_style: int
    fact_decoys: Tuple[Col, ...] = ()  # small integer columns of the fact table (small_integer_domain)
    entity_extra: Tuple[Col, ...] = ()  # public code-list column of the entity table (shared_code_list)
    narratives: List[str] = field(default_factory=list)

    @property
    def company(self) -> str:
        return self.ctx.company

    @property
    def code(self) -> str:
        return self.plan.code

    @property
    def code_slug(self) -> str:
        return self.plan.code.replace("/", "-")

    @property
    def surrogate_ids(self) -> bool:
        """Every table of the project numbers its rows 1..n."""
        return self.plan.trait("small_integer_domain") is not None

    def trait(self, name: str) -> Optional[str]:
        return self.plan.trait(name)

    @property
    def name(self) -> str:
        return self.plan.name

    def rows(self, lo: int, hi: int) -> int:
        return max(5, int(round(self.rng.randint(lo, hi) * self.rows_scale)))

    def cite(self) -> str:
        """How this project's narratives name it: always code and name."""
        return (f"{self.name} ({self.code})", f"{self.code} - {self.name}",
                f"Project {self.code}: {self.name}")[self.cite_style]

    def fname(self, words: Sequence[str], ext: str, style: Optional[str] = None) -> str:
        name = styled(words, style or self.style)
        if self.plan.naming == "dated" and not DATE_TOKEN.search(name):  # a date in the name already: no prefix
            name = f"{self.base + timedelta(days=self.rng.randint(0, 50)):%Y-%m}_{name}"
        return f"{name}.{ext}"

    def path(self, area: str, file_name: str) -> str:
        """Where a file of `area` (data, decks, meetings, archive or "") goes in this project's layout."""
        layout, dept = self.plan.layout, self.domain.department
        if layout == "flat":  # several projects side by side: the code prefix keeps names apart
            return f"{self.ctx.flat_root}/{self.code_slug}{' ' if ' ' in file_name else '_'}{file_name}"
        sub = self.subdirs.get(area, "")
        if layout == "coded":
            base, sub = f"{DEPARTMENT_CODES[dept]}/{self.code_slug}", CODED_SUBDIRS[area] if sub else ""
        elif layout == "split":
            is_data = PurePosixPath(file_name).suffix.lstrip(".").lower() in DATA_EXTENSIONS
            base = f"{'data' if is_data else 'reports'}/{dept}/{self.name}"
            sub = "archive" if area == "archive" and sub else ""
        else:
            base = self.plan.folder
        return str(PurePosixPath(base, sub, file_name)) if sub else f"{base}/{file_name}"

    def meta(self, title: str, day: float, author: Optional[str] = None) -> Meta:
        created = self.base + timedelta(days=day, minutes=self.rng.randint(0, 600))
        modified = created + timedelta(hours=self.rng.randint(1, 72))
        return Meta(title, author or (self.lead if self.rng.random() < 0.6 else self.rng.choice(AUTHORS)),
                    created, modified)

    def email(self, person: str) -> str:
        return email_for(person, company_domain(self.company))

    def footer(self) -> str:
        return boilerplate_footer(self.company)


def company_domain(company: str) -> str:
    return "".join(ch for ch in company.lower().replace("&", "and") if ch.isalnum() or ch == " ").replace(" ", "-") + ".com"


def boilerplate_footer(company: str) -> str:
    return f"Confidential - {company} - Internal use only"


def about_paragraph(company: str) -> str:
    return (f"About {company}: {company} is a privately held group serving customers in 14 countries. "
            f"This document is for internal use only and must not be shared outside {company}.")


def styled(words: Sequence[str], style: str) -> str:
    """Join name words in one of the drive's naming styles."""
    flat = " ".join(words).split()
    if style == "snake":
        return "_".join(w.lower() for w in flat)
    if style == "kebab":
        return "-".join(w.lower() for w in flat)
    if style == "title":
        return " ".join(w if any(c.isdigit() for c in w) or w.isupper() else w.capitalize() for w in flat)
    if style == "upper":
        return "_".join(w.upper() for w in flat)
    if style == "camel":  # BudgetReview_2024-03: words run together, numbers set apart
        parts: List[str] = []
        for w in flat:
            if any(c.isdigit() for c in w) or not w.isalpha():
                parts += ["_", w]
            else:
                parts.append(w if w.isupper() else w.capitalize())
        return "".join(parts).strip("_")
    text = " ".join(flat)
    return text[:1].upper() + text[1:]


def make_project(plan: ProjectPlan, seed: int, rows_scale: float, ctx: CorpusContext) -> Project:
    rng = random.Random(f"project:{seed}:{plan.index}")
    domain = DOMAIN_BY_KEY[plan.domain]
    # Close timestamps across projects: every project lives in one year.
    base = datetime(2024, 1, 8, 9, 0) + timedelta(days=rng.randint(0, 300), minutes=rng.randint(0, 480))
    data_days = rng.randint(90, 365)
    labels = {}
    for col in domain.dims:
        pool = col.arg
        labels[col.name] = tuple(rng.sample(pool, rng.randint(min(3, len(pool)), len(pool))))
    chosen = rng.sample(domain.dims, rng.randint(1, len(domain.dims)))
    dims = tuple(c for c in domain.dims if c in chosen)  # keep the domain's column order
    measures = tuple(rng.sample(domain.measures, rng.randint(2, min(4, len(domain.measures)))))
    subdirs = {area: name for area, name in (("data", "data"), ("decks", "decks"), ("archive", "archive"),
                                             ("meetings", "meetings")) if rng.random() < 0.5}
    key_format = rng.choice(("smallint", "bigint", "code", "hex"))
    style = rng.choice(NAME_STYLES)
    if plan.naming in ("camel", "upper"):
        style = plan.naming
    elif plan.naming == "dated":
        style = rng.choice(("kebab", "snake"))
    decoys: Tuple[Col, ...] = ()
    if plan.trait("small_integer_domain"):
        key_format = "smallint"
        decoys = tuple(rng.sample(_small_int_decoys(rng), rng.randint(2, 3)))
    extra: Tuple[Col, ...] = ()
    code_list = plan.trait("shared_code_list")
    if code_list:
        taken = {c.name for c in domain.entity.attrs}
        name = next(n for n in CODE_LIST_COLUMNS[code_list] if n not in taken)
        pool = CODE_LISTS[code_list]
        extra = (Col(name, "code", tuple(rng.sample(pool, rng.randint(6, len(pool) // 2))), CODE_LIST_DESCS[code_list]),)
    return Project(plan=plan, domain=domain, rng=rng, rows_scale=rows_scale, ctx=ctx,
                   lead=rng.choice(AUTHORS), base=base, data_start=(base - timedelta(days=data_days + 20)).date(),
                   data_days=data_days, key_format=key_format, labels=labels, fact_dims=dims, fact_measures=measures,
                   style=style, subdirs=subdirs, cite_style=rng.randrange(3), fact_decoys=decoys, entity_extra=extra)


def _small_int_decoys(rng: random.Random) -> List[Col]:
    """Integer columns whose few values fit inside any 1..n key range."""
    return [Col("quantity", "smallint", (1, 5), "Quantity ordered (1-5)"),
            Col("line_no", "smallint", (1, 3), "Line number within the document"),
            Col("store_id", "constant", rng.choice((1, 2, 3)), "Store the row was recorded in"),
            Col("pct_complete", "pct", None, "Percent complete (0-100)")]
