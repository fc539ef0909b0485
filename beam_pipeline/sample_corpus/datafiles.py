"""Data files on the drive: workbooks, CSV and JSON exports, SQLite marts, version families."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Dict, List, Sequence

from openpyxl.utils import get_column_letter

from beam_pipeline.sample_corpus.projects import Project, styled
from beam_pipeline.sample_corpus.tables import Table
from beam_pipeline.sample_corpus.truth import Drive, Truth
from beam_pipeline.sample_corpus.values import person_name, pretty
from beam_pipeline.sample_corpus.vocabulary import MEASURE_KINDS
from beam_pipeline.sample_corpus.writers import Meta, Sheet, save_csv, save_json, save_sqlite, save_xlsx


@dataclass
class DataFile:
    rel: str
    tables: List[Table]
    kind: str  # workbook | csv | json | sqlite
    notes: Dict[str, Any] = field(default_factory=dict)  # header row, extra sheets, layout

    def register(self, truth: Truth) -> None:
        truth.register_tables(self.rel, self.tables)


def workbook_sheets(p: Project, table: Table, sheet_name: str, layout: Dict[str, Any]) -> List[Sheet]:
    """A data sheet with optional title rows and formula total row, plus an
    optional lookup or notes sheet."""
    rows: List[list] = []
    for i in range(layout["title_rows"]):
        rows.append([(f"{pretty(table.name)} extract - {p.name}", f"Generated {p.base:%Y-%m-%d} from the {p.domain.system}",
                      "Figures are provisional until month-end close")[i]])
    header_row = len(rows) + 1
    rows.append(list(table.columns))
    rows += [list(r) for r in table.rows]
    if layout["total_row"]:
        last = header_row + len(table.rows)
        rows.append(["Total"] + [f"=SUM({get_column_letter(i + 1)}{header_row + 1}:{get_column_letter(i + 1)}{last})"
                                 if table.kinds[c] in MEASURE_KINDS else None for i, c in enumerate(table.columns)][1:])
    sheets = [Sheet(sheet_name, rows)]
    extra = layout["extra_sheet"]
    if extra == "lookup":
        dim = next((c for c in table.columns if table.kinds[c] == "label"), None)
        if dim:
            labels = sorted(set(table.col(dim)))
            sheets.append(Sheet("Lookup", [[dim, "description", "owner"]] +
                                [[lbl, f"{pretty(dim)} {lbl}", person_name(p.rng)] for lbl in labels]))
    elif extra == "notes":
        sheets.append(Sheet("Notes", [["Notes"], [f"Source: {p.domain.system}"],
                                      [f"Owner: {p.lead} ({p.email(p.lead)})"],
                                      ["Do not edit the data sheet by hand."]]))
    return sheets


def write_workbook(drive: Drive, p: Project, rel: str, table: Table, meta: Meta, layout: Dict[str, Any]) -> DataFile:
    sheet_name = p.rng.choice(("Data", pretty(table.name)[:31], "Sheet1", "raw"))
    sheets = workbook_sheets(p, table, sheet_name, layout)
    drive.put(rel, lambda path: save_xlsx(path, sheets, meta), meta.modified)
    lookup = next((s.rows[0] for s in sheets if s.name == "Lookup"), None)
    return DataFile(rel, [table], "workbook", {**layout, "sheets": [s.name for s in sheets], "data_sheet": sheet_name,
                                               "lookup_columns": lookup})


def random_layout(rng: random.Random) -> Dict[str, Any]:
    return {"title_rows": rng.choice((0, 0, 1, 2, 3)), "total_row": rng.random() < 0.3,
            "extra_sheet": rng.choice((None, None, "lookup", "notes"))}


def write_csv_file(drive: Drive, p: Project, rel: str, table: Table, day: float) -> DataFile:
    drive.put(rel, lambda path: save_csv(path, table), p.meta(table.name, day).modified)
    return DataFile(rel, [table], "csv")


def write_json_dump(drive: Drive, p: Project, table: Table, day: float) -> DataFile:
    layout = p.rng.choice(("list", "envelope", "jsonl"))
    ext = "jsonl" if layout == "jsonl" else "json"
    words = p.domain.api_name.split() + [p.rng.choice(("dump", "export", "page 1", "sync"))]
    if p.rng.random() < 0.5:
        words.append(f"{p.base:%Y%m%d}")
    rel = p.path("data", p.fname(words, ext, "snake" if p.rng.random() < 0.6 else p.style))
    drive.put(rel, lambda path: save_json(path, table, layout), p.meta(table.name, day).modified)
    return DataFile(rel, [table], "json", {"layout": layout})


def write_mart(drive: Drive, p: Project, tables: List[Table], day: float) -> DataFile:
    name = p.rng.choice((f"{p.domain.key}_mart.sqlite", "mart.sqlite", "warehouse.db", f"{p.domain.key}.db"))
    rel = p.path("data", name)
    drive.put(rel, lambda path: save_sqlite(path, tables), p.meta("mart", day).modified)
    return DataFile(rel, tables, "sqlite")


# Version naming schemes: tokens oldest -> newest.
def version_tokens(rng: random.Random, scheme: str, k: int, start: datetime) -> List[str]:
    if scheme == "v":
        tokens = [f"v{i}" for i in range(1, k + 1)]
        if rng.random() < 0.5:
            tokens[-1] = "final"
        return tokens
    if scheme == "date":
        day, out = start, []
        for _ in range(k):
            out.append(f"{day:%Y-%m}")
            day += timedelta(days=rng.randint(32, 70))
        return out
    if scheme == "rev":
        return [f"rev {c}" for c in "ABC"[:k]]
    return [""] + [f"({i})" for i in range(2, k + 1)]  # "copy": File.xlsx, File (2).xlsx


def family_names(p: Project, words: Sequence[str], ext: str, scheme: str, k: int) -> List[str]:
    tokens = version_tokens(p.rng, scheme, k, p.base - timedelta(days=60))
    if scheme == "copy":  # the "(2)" copies a desktop sync client makes
        base = styled(words, "title")
        return [f"{base}{' ' + t if t else ''}.{ext}" for t in tokens]
    return [p.fname(list(words) + t.split(), ext) for t in tokens]


def write_versioned_workbooks(drive: Drive, p: Project, tables: List[Table], words: Sequence[str], scheme: str,
                              day: float, what: str) -> List[DataFile]:
    """A data family oldest -> newest; older copies sometimes in archive/."""
    names = family_names(p, words, "xlsx", scheme, len(tables))
    layout = random_layout(p.rng)
    files = []
    for i, (table, name) in enumerate(zip(tables, names)):
        older = i < len(tables) - 1
        rel = p.path("archive" if older and p.rng.random() < 0.6 else "data", name)
        meta = p.meta(f"{pretty(table.name)} ({what})", day + 25 * i)
        files.append(write_workbook(drive, p, rel, table, meta, layout))
    drive.truth.versions([f.rel for f in files], f"{what}, {len(tables)} versions with edited values")
    return files


PLAIN_SHEET = {"title_rows": 0, "total_row": False, "extra_sheet": None}


def write_table(drive: Drive, p: Project, words: Sequence[str], table: Table, day: float) -> DataFile:
    """A table of a hard case as a CSV or a plain workbook, registered with the truth."""
    ext = p.rng.choice(("csv", "csv", "xlsx"))
    rel = p.path("data", p.fname(words, ext, "snake" if p.rng.random() < 0.5 else p.style))
    if ext == "csv":
        data = write_csv_file(drive, p, rel, table, day)
    else:
        data = write_workbook(drive, p, rel, table, p.meta(pretty(table.name), day), PLAIN_SHEET)
    data.register(drive.truth)
    return data
