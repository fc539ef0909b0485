"""Real and hostile Office files: every input becomes a node or a specific error, in bounded time.

The samples are Apache POI's public test files in ../shared/data/office-samples
(beside the repository). The crafted-package tests at the end need no samples.
"""

import dataclasses
import io
import threading
import time
import zipfile
from pathlib import Path
from typing import Optional

import pytest

from transforms import extract
from transforms.config import Config, ExtractionConfig
from transforms.extract import extract_file, safety
from transforms.model import ExtractionError, FileRecord

NOT_INPUTS = {"README.md", "LICENSE", "NOTICE"}
TIME_BOUND_SECONDS = 30.0
CONFIG = dataclasses.replace(Config(), extraction=ExtractionConfig(timeout_seconds=20.0))

# The deliberately broken samples and what they must come out as.
EXPECTED_ERRORS = {
    "protected_passtika.xlsx": {"encrypted"},
    "bug53475-password-is-pass.docx": {"encrypted"},
    "bug53475-password-is-solrcell.docx": {"encrypted"},
    "password.xls": {"encrypted"},
    "poc-xmlbomb.xlsx": {"xml_bomb"},
    "poc-xmlbomb-empty.xlsx": {"xml_bomb"},
    "ExternalEntityInText.docx": {"xml_bomb"},  # a DOCTYPE with an external entity
    "truncated62886.docx": {"corrupt_archive", "parse_error"},
    "xlsx-corrupted.xlsx": {"corrupt_archive", "parse_error"},
    "clusterfuzz-testcase-minimized-POIXSSFFuzzer-4828727001088000.xlsx": {"corrupt_archive", "parse_error"},
    # A fuzzed deck whose records hold no slide at all.
    "clusterfuzz-testcase-minimized-POIHSLFFuzzer-5962760801091584.ppt": {"parse_error"},
}


def samples_dir() -> Optional[Path]:
    """../shared/data/office-samples relative to the repository root, if present."""
    path = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "office-samples"
    return path if path.is_dir() else None


def _params(select):
    folder = samples_dir()
    if folder is None:
        reason = "office samples folder ../shared/data/office-samples not found beside the repository"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason))]
    names = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name not in NOT_INPUTS)
    return [name for name in names if select(name)]


def _is_expected_error(name: str) -> bool:
    return name in EXPECTED_ERRORS


def _extract(name: str):
    """extract_file on one sample: (FileRecord or ExtractionError, seconds)."""
    path = samples_dir() / name
    data = path.read_bytes()
    started = time.monotonic()
    try:
        outcome = extract_file(str(path), data, CONFIG)
    except ExtractionError as error:
        outcome = error
    return outcome, time.monotonic() - started


@pytest.mark.parametrize("name", _params(_is_expected_error))
def test_broken_sample_gives_its_specific_error(name):
    outcome, seconds = _extract(name)
    expected = EXPECTED_ERRORS[name]
    assert isinstance(outcome, ExtractionError), f"{name} became a node"
    assert outcome.error_type in expected, f"{name}: {outcome.error_type}: {outcome.message}"
    assert seconds < TIME_BOUND_SECONDS


@pytest.mark.parametrize("name", _params(lambda name: not _is_expected_error(name)))
def test_sample_becomes_a_node(name):
    outcome, seconds = _extract(name)
    assert isinstance(outcome, FileRecord), f"{name}: {getattr(outcome, 'error_type', '')}: {outcome}"
    assert outcome.file_name == name
    assert outcome.file_type == name.rsplit(".", 1)[1].lower()
    assert len(outcome.content_hash) == 64
    assert seconds < TIME_BOUND_SECONDS


def test_legacy_file_cut_to_its_header_is_a_parse_error_naming_the_container():
    with pytest.raises(ExtractionError) as error:
        extract_file("old/report.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), CONFIG)
    assert error.value.error_type == "parse_error"
    assert "OLE container" in error.value.message


# ---------------------------------------------------------------- crafted packages


def _package(parts: dict) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        for name, body in parts.items():
            package.writestr(name, body)
    return out.getvalue()


def _error_type(uri: str, data: bytes, config: Config = CONFIG, **kwargs) -> str:
    with pytest.raises(ExtractionError) as error:
        extract_file(uri, data, config, **kwargs)
    return error.value.error_type


def _with_limits(**limits) -> Config:
    return dataclasses.replace(CONFIG, extraction=ExtractionConfig(**limits))


def test_highly_compressed_part_is_a_zip_bomb():
    assert _error_type("bomb.docx", _package({"word/document.xml": b"\0" * (4 * 1024 * 1024)})) == "zip_bomb"


def test_total_uncompressed_size_over_the_limit_is_a_zip_bomb():
    data = _package({"word/document.xml": b"<w:document/>" * 100})
    assert _error_type("big.docx", data, _with_limits(max_uncompressed_bytes=1000)) == "zip_bomb"


def test_file_over_the_size_limit_is_too_large():
    assert _error_type("notes.txt", b"x" * 2000, _with_limits(max_file_bytes=1000)) == "too_large"


def test_declared_size_over_the_limit_is_too_large():
    assert _error_type("notes.txt", b"x", _with_limits(max_file_bytes=1000), size=5000) == "too_large"


def test_cut_off_zip_is_a_corrupt_archive():
    data = _package({"word/document.xml": "<w:document>" + "text " * 5000 + "</w:document>"})
    assert _error_type("cut.docx", data[: len(data) // 2]) == "corrupt_archive"


def test_zip_without_content_types_is_a_corrupt_archive():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("hello.txt", "hi")
    assert _error_type("fake.xlsx", out.getvalue()) == "corrupt_archive"


def test_doctype_in_any_part_is_an_xml_bomb():
    data = _package({"ppt/slides/slide1.xml": '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>'})
    assert _error_type("deck.pptx", data) == "xml_bomb"


def test_unknown_extension_is_unsupported_and_named():
    with pytest.raises(ExtractionError) as error:
        extract_file("archive/data.parquet", b"PAR1", CONFIG)
    assert error.value.error_type == "unsupported_format"
    assert "'.parquet'" in error.value.message


def test_db_file_that_is_not_sqlite_is_unsupported():
    assert _error_type("photos/Thumbs.db", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)) == "unsupported_format"


def test_reader_exception_becomes_a_parse_error(monkeypatch):
    def broken(data, ctx):
        raise KeyError("slideLayout9")

    monkeypatch.setattr(extract, "reader_for", lambda extension: broken)
    with pytest.raises(ExtractionError) as error:
        extract_file("deck/a.txt", b"text", CONFIG)
    assert (error.value.error_type, error.value.message) == ("parse_error", "KeyError: 'slideLayout9'")


def test_slow_reader_is_reported_as_timeout(monkeypatch):
    release = threading.Event()

    def stuck(data, ctx):
        release.wait(10)

    monkeypatch.setattr(extract, "reader_for", lambda extension: stuck)
    started = time.monotonic()
    try:
        assert _error_type("slow.txt", b"text", _with_limits(timeout_seconds=0.2)) == "timeout"
    finally:
        release.set()
    assert time.monotonic() - started < 2


def test_run_with_timeout_returns_the_result_and_reraises_errors():
    assert safety.run_with_timeout(lambda: 42, 1.0) == 42
    with pytest.raises(ZeroDivisionError):
        safety.run_with_timeout(lambda: 1 / 0, 1.0)


def test_run_with_timeout_works_off_the_main_thread():
    outcome = {}

    def worker():
        try:
            safety.run_with_timeout(lambda: time.sleep(1), 0.1)
        except ExtractionError as error:
            outcome["error_type"] = error.error_type

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(5)
    assert outcome == {"error_type": "timeout"}
