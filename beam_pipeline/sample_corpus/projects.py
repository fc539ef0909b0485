"""Projects: the plan of codes and names, and one project's seeded choices."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import PurePosixPath
from typing import Dict, List, Optional, Sequence, Tuple

from beam_pipeline.sample_corpus.domains import DOMAIN_BY_KEY, DOMAINS, Col, Domain
from beam_pipeline.sample_corpus.values import email_for
from beam_pipeline.sample_corpus.vocabulary import AUTHORS, CODE_FORMATS, CODENAMES, NAME_QUALIFIERS, NAME_STYLES
from beam_pipeline.sample_corpus.writers import Meta


@dataclass(frozen=True)
class ProjectPlan:
    """What identifies a project across the corpus."""

    index: int
    domain: str
    code: str
    name: str
    folder: str  # relative posix path: <Department>/<Project Name>


def plan_projects(projects: int, seed: int = 0) -> List[ProjectPlan]:
    """Domain, unique code, unique name and folder of every project, in order.

    The first len(DOMAINS) projects use distinct domains; later projects reuse
    domains under new names, codes and label sets.
    """
    rng = random.Random(f"plan:{seed}")
    order = list(range(len(DOMAINS)))
    rng.shuffle(order)
    used_codes: set = set()
    used_names: set = set()
    plans = []
    for i in range(projects):
        domain = DOMAINS[order[i % len(order)]] if i < len(order) else DOMAINS[rng.randrange(len(DOMAINS))]
        code = _draw_code(rng, used_codes)
        name = _draw_name(rng, domain, used_names, i)
        plans.append(ProjectPlan(i, domain.key, code, name, f"{domain.department}/{name}"))
    return plans


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
    company: str
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
    narratives: List[str] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.plan.code

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
        return f"{styled(words, style or self.style)}.{ext}"

    def path(self, area: str, file_name: str) -> str:
        sub = self.subdirs.get(area, "")
        return str(PurePosixPath(self.plan.folder, sub, file_name)) if sub else f"{self.plan.folder}/{file_name}"

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
    text = " ".join(flat)
    return text[:1].upper() + text[1:]


def make_project(plan: ProjectPlan, seed: int, rows_scale: float, company: str) -> Project:
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
    return Project(plan=plan, domain=domain, rng=rng, rows_scale=rows_scale, company=company,
                   lead=rng.choice(AUTHORS), base=base, data_start=(base - timedelta(days=data_days + 20)).date(),
                   data_days=data_days, key_format=rng.choice(("smallint", "bigint", "code", "hex")),
                   labels=labels, fact_dims=dims, fact_measures=measures, style=rng.choice(NAME_STYLES),
                   subdirs=subdirs, cite_style=rng.randrange(3))
