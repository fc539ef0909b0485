"""Hard cases: which projects carry which, and the corpus-wide material they share.

A trait is one class of hard case a project carries (a template it fills in, a
decoy column, a key the detector finds hard). `plan_traits` gives every class
to at least two of the first projects, so even a small corpus holds each one,
and to later projects by chance. `CorpusContext` is what several projects share
without knowing each other: the company, its templates, a few round numbers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Dict, List, Tuple

from beam_pipeline.sample_corpus.vocabulary import (CODE_LISTS, COMPANIES, LOCATION_STANDARDS, MEMO_SERIES,
                                                    MINUTES_CLOSINGS, MINUTES_ITEMS, MINUTES_OPENINGS,
                                                    MINUTES_PREVIOUS, MINUTES_TITLES, PUBLIC_CODES,
                                                    README_CHANGELOGS, README_NOTICES)

# Pairs that look related and are not: listed in truth["hard_negatives"] by class.
NEGATIVE_CLASSES = {
    "template_sibling_minutes": "board minutes filled in from one company template by different projects",
    "template_sibling_memo_series": "one memo series written for two departments or two quarters",
    "template_sibling_readme": "dataset READMEs built from one template for different datasets, and each README "
                               "against the other dataset's file",
    "small_integer_domain": "a small or dense integer column (quantity, line number, constant store_id, "
                            "percentage, surrogate key 1..n) that lies inside another table's integer key range",
    "shared_code_list": "tables of different projects that use one public code list (countries, US states, "
                        "currencies)",
    "standard_readme": "a README explaining a standard's columns against tables that merely use those columns",
    "coincident_numbers": "a narrative and a table, or two narratives, of different projects sharing a few "
                          "small or round numbers",
    "shared_public_code": "two narratives of different projects mentioning one public identifier",
    "trivial_content": "files whose only content is one cell holding 1",
}
# Relationships that hold and are hard to see: truth edges carrying "class".
POSITIVE_CLASSES = {
    "constant_fk": "REFERENCES from a column whose every row holds the same key of the parent",
    "role_named_key": "REFERENCES from a key column named after a role (approved_by) rather than its parent",
    "list_valued_key": "REFERENCES from a column holding several keys separated by spaces or semicolons",
    "name_key": "REFERENCES through people's handles or names used as keys",
    "byte_identical_copy": "VERSION_OF between a file and its byte-identical copy under another name",
}
# Project traits: the classes a project can carry (memo series and the
# standard's README are written once per corpus, outside any project).
PROJECT_TRAITS = ("template_sibling_minutes", "template_sibling_readme", "small_integer_domain",
                  "shared_code_list", "standard_readme", "coincident_numbers", "shared_public_code",
                  "trivial_content", "constant_fk", "role_named_key", "list_valued_key", "name_key",
                  "byte_identical_copy")
GUARANTEED_HEAD = 6  # every trait is given to two of the first projects
TRAIT_RATE = 0.25  # chance of each trait for a later project


def plan_traits(projects: int, seed: int) -> List[Dict[str, str]]:
    """Trait -> variant for every project, in plan order.

    Variants say which shared material a project uses (which code list, which
    public code, whether it shows or holds the round numbers); the two
    guaranteed carriers of a trait use the same variant, so they pair up.
    """
    rng = random.Random(f"traits:{seed}")
    head = min(projects, GUARANTEED_HEAD)
    out: List[Dict[str, str]] = [{} for _ in range(projects)]
    for trait in PROJECT_TRAITS:
        carriers = rng.sample(range(head), min(2, head))
        shared = _variant(trait, rng)
        for rank, i in enumerate(carriers):
            out[i][trait] = ("shows", "holds")[rank] if trait == "coincident_numbers" else shared
        for i in range(head, projects):
            if rng.random() < TRAIT_RATE:
                out[i][trait] = _variant(trait, rng)
    return out


def _variant(trait: str, rng: random.Random) -> str:
    if trait == "shared_code_list":
        return rng.choice(sorted(CODE_LISTS))
    if trait == "shared_public_code":
        return rng.choice(PUBLIC_CODES)
    if trait == "coincident_numbers":
        return rng.choice(("shows", "holds"))
    if trait == "trivial_content":
        return rng.choice(("csv", "xlsx"))
    return "yes"


@dataclass(frozen=True)
class MinutesTemplate:
    title: str
    items: Tuple[str, ...]
    opening: str
    previous: str
    closing: str


@dataclass(frozen=True)
class ReadmeTemplate:
    notice: str
    changelog: str
    name: str  # README.md, readme.txt...


@dataclass(frozen=True)
class CorpusContext:
    """What projects share without knowing each other (picklable, for worker processes)."""

    company: str
    minutes: MinutesTemplate
    readme: ReadmeTemplate
    round_numbers: Tuple[int, ...]  # an amount and two counts
    standard: str  # title of the location-fields standard
    flat_root: str  # the folder flat-layout projects share
    memo_series: Tuple[str, Tuple[str, ...]]


def make_context(seed: int) -> CorpusContext:
    ctx_rng = random.Random(f"context:{seed}")
    company = ctx_rng.choice(COMPANIES)
    minutes = MinutesTemplate(ctx_rng.choice(MINUTES_TITLES), tuple(ctx_rng.sample(MINUTES_ITEMS, 5)),
                              ctx_rng.choice(MINUTES_OPENINGS), ctx_rng.choice(MINUTES_PREVIOUS),
                              ctx_rng.choice(MINUTES_CLOSINGS))
    readme = ReadmeTemplate(ctx_rng.choice(README_NOTICES), ctx_rng.choice(README_CHANGELOGS),
                            ctx_rng.choice(("README.md", "readme.md", "README.txt")))
    numbers = (ctx_rng.choice((50000, 120000, 250000, 400000, 1500000)), ctx_rng.choice((3, 4, 6, 8)),
               ctx_rng.choice((12, 15, 20, 24, 40)))
    return CorpusContext(company, minutes, readme, numbers, ctx_rng.choice(LOCATION_STANDARDS),
                         ctx_rng.choice(("Team Drive", "Common", "Shared Work")), ctx_rng.choice(MEMO_SERIES))
