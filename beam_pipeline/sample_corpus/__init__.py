"""Seeded generator of a labelled sample company drive.

`generate_corpus(out_dir, projects, seed, rows_scale)` writes a varied drive
(``<Department>/<Project Name>/...`` with workbooks, CSV/JSON exports, SQLite
marts, decks, memos, notes and status reports, plus a ``shared/`` folder of
unrelated files) and returns the truth: every file written and every typed
relationship between two files, in the format of
``../shared/data/chinook/truth.json``. The truth is also written to
``out_dir/truth.json`` (which is not itself listed in ``files``).

Relationship types (source -> target):
  SUMMARIZES  deck/doc -> data file whose rows its aggregates come from
  SUPPORTS    data file -> deck/doc quoting a few of its records verbatim
  DOCUMENTS   memo -> the data file it names and describes column by column
  REFERENCES  data file -> data file holding the key its FK column points at
  VERSION_OF  newer -> older member of a version family
  RELATED_TO  two narrative files of one project with no typed edge

Determinism: every random draw comes from ``random.Random`` seeded from
``seed`` (one generator per project, so projects are independent and memory
stays flat), Office core properties are set from seeded dates, zip entries get
the file's seeded timestamp, and SQLite files are written in one fixed order,
so equal arguments give byte-identical files.
"""

from beam_pipeline.sample_corpus.domains import DOMAINS
from beam_pipeline.sample_corpus.generator import DRIVE_FOLDER, generate_corpus, write_sample_corpus
from beam_pipeline.sample_corpus.projects import ProjectPlan, plan_projects
from beam_pipeline.sample_corpus.truth import DATA_EXTENSIONS, EDGE_TYPES, NARRATIVE_EXTENSIONS

__all__ = ["generate_corpus", "write_sample_corpus", "plan_projects", "ProjectPlan", "DOMAINS", "EDGE_TYPES",
           "NARRATIVE_EXTENSIONS", "DATA_EXTENSIONS", "DRIVE_FOLDER"]
