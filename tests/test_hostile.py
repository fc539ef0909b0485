"""The hostile-input suite: every case ends as a node or its specific error, in bounded time, and runs complete.

The files come from tests/hostile_corpus.py (generated here, no downloads).
Cases that need a live condition rather than a file are at the end.
"""

import os
import sqlite3
import subprocess
import sys
import time

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from beam_pipeline.pipeline import run_pipeline
from tests.hostile_corpus import CASES, SECRET, secret_leaks, write_hostile_corpus
from transforms.config import DEFAULT_PATTERNS, Config, config_from_dict
from transforms.extract import extract_file
from transforms.extract.encoding import display_path
from transforms.extract.isolation import ParserPool, extract_one
from transforms.extract.mail import MAX_PARTS
from transforms.extract.matching import MatchedFile, expand_input
from transforms.model import FILE_STAGES, ErrorRecord, FileRecord
from transforms.output import writer
from transforms.ptransforms import ExtractFiles

# Generous for a loaded 2-core machine; a parser that hangs or a pool that leaks stops far later.
CORPUS_SECONDS = 240


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile") / "drive"
    return str(root), write_hostile_corpus(root)


@pytest.fixture(scope="module")
def outcomes(corpus):
    """Every matched file of the corpus through the parser pool: {file name: outcome}, and the seconds taken."""
    root, _ = corpus
    matched = list(expand_input(root, DEFAULT_PATTERNS))
    started = time.monotonic()
    with ParserPool(Config()) as pool:
        for m in matched:
            pool.submit(m.path, m.path, m.size, m.modified_at)
        done = dict(pool.drain())
    return {os.path.basename(path): outcome for path, outcome in done.items()}, time.monotonic() - started


def _kind(outcome) -> str:
    return outcome.error_type if isinstance(outcome, ErrorRecord) else "node"


def test_the_suite_has_at_least_thirty_cases(corpus):
    _, cases = corpus
    assert len(cases) >= 30


def test_every_file_of_the_corpus_is_matched(corpus, outcomes):
    _, cases = corpus
    assert set(outcomes[0]) == set(cases)


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_case_ends_as_a_node_or_its_specific_error(outcomes, name):
    outcome = outcomes[0][name]
    assert _kind(outcome) in CASES[name].expected, f"{name}: {_kind(outcome)}: {getattr(outcome, 'message', '')}"
    if isinstance(outcome, ErrorRecord):
        assert outcome.message and outcome.file_path.endswith(name)


def test_the_corpus_is_extracted_in_bounded_time(outcomes):
    assert outcomes[1] < CORPUS_SECONDS


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def test_every_string_leaving_extraction_is_valid_unicode_without_nul(outcomes):
    for name, outcome in outcomes[0].items():
        if isinstance(outcome, FileRecord):
            for string in _strings(outcome.to_dict()):
                string.encode("utf-8")  # strict: raises on a lone surrogate
                assert "\x00" not in string, name


def test_text_from_a_pdf_with_lone_surrogates_keeps_its_valid_characters(outcomes):
    record = outcomes[0]["lone-surrogates.pdf"]
    assert "Budget" in record.text
    assert "\ufffd" in record.text  # the lone surrogates, replaced


def test_utf16_and_latin1_csvs_decode_their_header(outcomes):
    for name in ("utf16le-bom.csv", "utf16le-nobom.csv", "utf16be-bom.csv", "utf16be-nobom.csv", "utf8-bom.csv",
                 "latin1.csv"):
        assert outcomes[0][name].structure["columns"] == ["città", "größe", "prix"], name


def test_wide_and_long_inputs_stay_within_their_budgets(outcomes):
    wide = outcomes[0]["5000-columns.csv"]
    assert len(wide.structure["columns"]) == 5000 and wide.tables[0].row_count == 200
    assert len(outcomes[0]["one-line-20mb.csv"].structure["columns"]) <= 16_384
    assert len(outcomes[0]["one-line-20mb.txt"].text) <= Config().extraction.max_text_chars
    repeated = outcomes[0]["odf-repeat-bomb.ods"]
    assert repeated.structure["sheets"][0]["rows"] == 6  # the repeated blank row is not expanded
    mail = outcomes[0]["10000-attachments.eml"]
    assert mail.structure["attachment_count"] < MAX_PARTS and len(mail.structure["attachments"]) == 100
    assert any(f"more than {MAX_PARTS} parts" in warning for warning in mail.warnings)


def test_a_native_abort_in_a_real_parser_is_one_files_error(outcomes):
    outcome = outcomes[0]["far-cell-lying.xlsx"]
    assert outcome.error_type in ("memory_limit", "crash")
    assert "parser process" in outcome.message


def test_no_external_entity_content_reaches_any_output(outcomes):
    for outcome in outcomes[0].values():
        assert SECRET not in writer.dumps(outcome.to_dict())


def test_zip_member_paths_are_never_unpacked(outcomes):
    assert _kind(outcomes[0]["zip-slip.docx"]) == "node"
    assert not os.path.exists("/tmp/filegraph-zip-slip.txt")


# Pair scoring is left to strategies whose work does not grow with the columns of a pair (the bounds on
# per-pair scoring belong to detect/, and are measured by benchmarks.robustness with every strategy).
RUN_CONFIG = config_from_dict({"relationships": {"strategies": ["filename_pattern", "metadata_matching"]}})


def test_a_run_over_the_hostile_corpus_completes_with_every_file_accounted_for(corpus, tmp_path):
    root, cases = corpus
    out = str(tmp_path / "out")
    started = time.monotonic()
    summary = run_pipeline([root], out, RUN_CONFIG)
    assert time.monotonic() - started < CORPUS_SECONDS
    counts = summary["counts"]
    assert counts["matched"] == len(cases)
    assert counts["matched"] == counts["processed"] + counts["failed"]
    errors = [e for e in writer.read_jsonl(os.path.join(out, "errors"), "errors") if e["stage"] in FILE_STAGES]
    nodes = writer.read_jsonl(os.path.join(out, "nodes"), "nodes")
    kinds = {os.path.basename(e["file_path"]): e["error_type"] for e in errors}
    kinds.update({os.path.basename(n["file_path"]): "node" for n in nodes})
    shown = {display_path(name): case for name, case in cases.items()}  # names that are not UTF-8, escaped
    assert set(kinds) == set(shown)
    assert all(kinds[name] in shown[name].expected for name in shown), kinds
    assert secret_leaks(out) == []


# ---------------------------------------------------------------- live conditions


def test_a_file_that_vanishes_between_match_and_read_is_a_read_error(tmp_path):
    path = tmp_path / "gone.csv"
    path.write_text("a,b\n1,2\n")
    matched = MatchedFile(str(path), path.stat().st_size, None)
    path.unlink()
    with TestPipeline(runner="FnApiRunner") as p:
        _, errors = p | beam.Create([matched]) | ExtractFiles(Config())
        assert_that(errors | beam.Map(lambda e: (e.stage, e.error_type, "No such file" in e.message)),
                    equal_to([("read", "read_error", True)]))


def test_an_unreadable_file_is_a_read_error(tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    path = folder / "payroll.csv"
    path.write_text("id,salary\n1,100\n")
    path.chmod(0)
    for parent in (folder, *folder.parents):
        if str(parent) == "/":
            break
        parent.chmod(parent.stat().st_mode | 0o005)  # others may traverse down to the file
    if os.geteuid() == 0:  # root reads anything: read as nobody in a child process
        script = ("import os, sys; import transforms.extract.preload; "
                  "from transforms.extract.isolation import extract_one; from transforms.config import Config; "
                  "os.setgid(65534); os.setuid(65534); "  # after every import: nobody cannot read root's site-packages
                  "e = extract_one(sys.argv[1], None, None, Config()); print(e.stage, e.error_type, e.message)")
        result = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True,
                                cwd=os.path.dirname(os.path.dirname(__file__)), timeout=120,
                                env={**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(__file__))})
        stage, error_type, message = result.stdout.split(" ", 2)
    else:
        error = extract_one(str(path), None, None, Config())
        stage, error_type, message = error.stage, error.error_type, error.message
    assert (stage, error_type) == ("read", "read_error")
    assert "Permission denied" in message


def test_a_database_locked_by_a_writer_is_read_from_its_last_commit(tmp_path):
    path = tmp_path / "orders.sqlite"
    writer_connection = sqlite3.connect(path)
    writer_connection.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, amount REAL)")
    writer_connection.executemany("INSERT INTO orders VALUES (?, ?)", [(i, i * 2.5) for i in range(50)])
    writer_connection.commit()
    writer_connection.execute("BEGIN EXCLUSIVE")
    writer_connection.execute("INSERT INTO orders VALUES (1000, 1.0)")
    try:
        record = extract_one(str(path), None, None, Config())
    finally:
        writer_connection.rollback()
        writer_connection.close()
    assert isinstance(record, FileRecord)
    assert record.tables[0].row_count == 50


def test_an_excluded_path_is_never_opened(tmp_path):
    path = tmp_path / "legal" / "fifo.csv"
    path.parent.mkdir()
    os.mkfifo(path)  # opening it without O_NONBLOCK would block: exclusion must come first
    config = config_from_dict({"privacy": {"exclude_paths": ["*/legal/*"]}, "extraction": {"isolation": False}})
    error = extract_one(str(path), None, None, config)
    assert (error.stage, error.error_type) == ("compliance", "excluded")


def test_in_memory_extraction_of_every_file_case_matches_the_isolated_outcome(corpus, outcomes):
    """The in-process path (tests, debugging) agrees with the pool on every case it can survive."""
    root, cases = corpus
    for name, case in cases.items():
        if case.isolated_only or not os.path.isfile(os.path.join(root, name)):
            continue
        path = os.path.join(root, name)
        if os.path.getsize(path) > Config().extraction.max_file_bytes:
            continue
        with open(path, "rb") as handle:
            data = handle.read()
        try:
            kind = "node" if extract_file(path, data, Config()) else "?"
        except Exception as exc:  # ExtractionError
            kind = getattr(exc, "error_type", type(exc).__name__)
        assert kind == _kind(outcomes[0][name]), name
