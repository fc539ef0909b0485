"""Seeded generator of a labelled sample company drive: a test fixture and the
calibration data of the confidence model, not evidence of accuracy.

`generate_corpus(out_dir, projects, seed, rows_scale)` writes a varied drive
(workbooks, CSV/JSON exports, SQLite marts, decks, memos, notes and status
reports per project, plus files of no project) and returns the truth, in the
format of ``../shared/data/chinook/truth.json``; it is also written to
``out_dir/truth.json`` (which is not itself listed in ``files``).
`write_sample_corpus(directory, ...)` puts the drive in ``directory/drive`` and
the truth beside it, so a run over the drive never ingests the answers.

Truth keys: ``files`` (every file), ``edges`` (one per unordered pair, a < b,
typed and directed by ``source``), ``file_projects`` (project code of each
project file; files of no project relate to nothing), ``hard_negatives``
(pairs that look related and are not, each with its ``class``). An edge with a
``class`` is a hard positive. `filegraph evaluate` reads files and edges only.

Relationship types (source -> target):
  SUMMARIZES  deck/doc -> data file whose rows its aggregates come from
  SUPPORTS    data file -> deck/doc quoting a few of its records verbatim
  DOCUMENTS   memo or dataset README -> the data file it names and describes column by column
  REFERENCES  data file -> data file holding the key its FK column points at
  VERSION_OF  newer -> older member of a version family, or a byte-identical copy -> its original
  RELATED_TO  two narrative files of one project with no typed edge

Hard negatives (``hard_negatives[].class``), each a false positive seen on real data:
  template_sibling_minutes      board minutes from one company template, filled in by different
                                projects: most lines equal, another project code and date
  template_sibling_memo_series  one memo series for two departments and two quarters (no project)
  template_sibling_readme       dataset READMEs from one template for different datasets, and a
                                README against the other dataset's file
  small_integer_domain          quantity 1..5, line numbers 1..3, a store_id holding one value,
                                percentages, surrogate keys 1..n in every table of a project: integer
                                columns inside another table's integer key range, within and across
                                projects
  shared_code_list              country, US state or currency codes in tables of different projects
  standard_readme               a README explaining a standard's columns (latitude, longitude,
                                iso_code, region) against tables that merely use them
  coincident_numbers            a status report and another project's targets table (or two reports)
                                sharing a few round numbers
  shared_public_code            two projects' reports mentioning one public identifier (ISO 27001,
                                COVID-19, ICD-10 J45...)
  trivial_content               files whose only content is one cell holding 1

Hard positives (``edges[].class``), relationships the detector misses today:
  constant_fk          REFERENCES from a column holding one parent key on every row
  role_named_key       REFERENCES from a key named after a role (approved_by, reports_to, ship_to)
  list_valued_key      REFERENCES from cells listing several keys, space- or semicolon-separated
  name_key             REFERENCES through people's handles or full names used as keys
  byte_identical_copy  VERSION_OF from a byte-identical copy under another name to its original

Naming conventions and folder layouts are chosen per project (projects.py):
classic words, CamelCase, UPPER_SNAKE or date-prefixed names; nested
(``<Department>/<Project>``), coded (department code and project code), split
(``data/`` and ``reports/`` trees) or flat (several projects in one folder), so
folder locality is no free signal. Every class and convention is given to at
least two of the first projects (traits.plan_traits, projects.LAYOUT_DECK), so
the 8-project demo holds them all.

Determinism: every random draw comes from ``random.Random`` seeded from
``seed`` (one generator per project, so projects are independent, build in any
process and keep memory flat), Office core properties are set from seeded
dates, zip entries get the file's seeded timestamp, and SQLite files are
written in one fixed order, so equal arguments give byte-identical files.

Modules: vocabulary and values (word pools, single values), domains, projects
(plan, conventions), traits (hard-case plan, shared context), tables, writers
(one per format), datafiles, reports (data-derived narratives), notes, negatives,
positives, truth (collector, hard-negative pairing), build (one project),
generator (entry point).
"""

from beam_pipeline.sample_corpus.domains import DOMAINS
from beam_pipeline.sample_corpus.generator import DRIVE_FOLDER, generate_corpus, write_sample_corpus
from beam_pipeline.sample_corpus.projects import ProjectPlan, plan_projects
from beam_pipeline.sample_corpus.traits import NEGATIVE_CLASSES, POSITIVE_CLASSES
from beam_pipeline.sample_corpus.vocabulary import DATA_EXTENSIONS, EDGE_TYPES, NARRATIVE_EXTENSIONS

__all__ = ["generate_corpus", "write_sample_corpus", "plan_projects", "ProjectPlan", "DOMAINS", "EDGE_TYPES",
           "NARRATIVE_EXTENSIONS", "DATA_EXTENSIONS", "DRIVE_FOLDER", "NEGATIVE_CLASSES", "POSITIVE_CLASSES"]
