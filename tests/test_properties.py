"""Property-based tests (hypothesis): parsers, name normalisation and signatures, on inputs nobody wrote by hand.

A reader may turn any bytes into a record or refuse them with an ExtractionError, nothing else;
whatever it returns leaves extraction as valid Unicode. Names and signatures are pure functions
whose invariants (determinism, order, ranges) must hold for every input.
"""

import csv
import dataclasses
import io
import json
import string
import uuid

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from transforms.config import Config, ExtractionConfig
from transforms.extract import extract_file, jsondata, markup, narrative, tabular
from transforms.extract.context import ExtractContext
from transforms.extract.encoding import display_path, valid_text
from transforms.model import ColumnProfile, ExtractionError, FileRecord, TableProfile, plain
from transforms.naming import analyse_name, stem_similarity, version_order
from transforms.signatures import (
    _FILE_ID_PREFIX,
    bottom_k,
    containment,
    file_id_for,
    hash64,
    jaccard_of_sets,
    minhash_jaccard,
    minhash_of,
    normalise_value,
    shingles,
)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CONFIG = Config()
LIMITS = ExtractionConfig(max_rows_per_table=200, max_text_chars=2000, max_table_cells=20_000)
TEXT_READERS = {
    "csv": tabular.read_csv, "tsv": tabular.read_csv, "json": jsondata.read_json, "jsonl": jsondata.read_jsonl,
    "txt": narrative.read_text, "md": narrative.read_markdown, "html": markup.read_html, "rtf": markup.read_rtf,
}
# Text in many scripts, with control characters, NULs and lone surrogates.
ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=()), max_size=400)


def _ctx(extension: str) -> ExtractContext:
    return ExtractContext(uri=f"mem://f.{extension}", file_name=f"f.{extension}", extension=extension, limits=LIMITS)


def _reads_or_refuses(reader, data: bytes, extension: str) -> None:
    try:
        reader(data, _ctx(extension))
    except ExtractionError as error:
        assert error.error_type and error.message


# ---------------------------------------------------------------- parsers


@FAST
@given(st.sampled_from(sorted(TEXT_READERS)), st.binary(max_size=2000))
@example("json", b"[" * 5000)
@example("csv", b'"' + b"x" * 200_000)
@example("jsonl", b'{"a": "\\ud800"}\n\x00\n')
@example("rtf", b"{\\rtf1 " + b"{" * 3000)
def test_text_readers_read_or_refuse_any_bytes(extension, data):
    _reads_or_refuses(TEXT_READERS[extension], data, extension)


@FAST
@given(ANY_TEXT, st.sampled_from(["utf-8", "utf-16", "utf-16-le", "cp1252", "latin-1"]),
       st.sampled_from([",", ";", "\t", "|"]))
def test_csv_reader_reads_any_encoded_table_or_refuses_it(text, codec, delimiter):
    rows = [line.split(" ") for line in text.splitlines()[:20]]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    data = buffer.getvalue().encode(codec, errors="replace") if codec != "utf-8" else buffer.getvalue().encode(
        "utf-8", "surrogatepass")
    _reads_or_refuses(tabular.read_csv, data, "csv")


@FAST
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT,
                    lambda children: st.lists(children, max_size=5) | st.dictionaries(ANY_TEXT, children, max_size=5),
                    max_leaves=40))
def test_json_reader_reads_every_json_document(document):
    data = json.dumps(document).encode("utf-8")
    extracted = jsondata.read_json(data, _ctx("json"))
    assert isinstance(extracted.structure["field_paths"], list)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["csv", "json", "jsonl", "txt", "md", "html", "rtf", "eml", "docx", "xlsx", "pptx", "odt",
                        "ods", "doc", "ppt", "xls", "msg", "pdf", "sqlite"]),
       st.binary(max_size=3000))
def test_extraction_of_any_bytes_is_a_record_in_valid_unicode_or_an_extraction_error(extension, data):
    try:
        record = extract_file(f"/drive/f.{extension}", data, CONFIG)
    except ExtractionError as error:
        assert error.error_type and error.message
        return
    line = json.dumps(record.to_dict(), ensure_ascii=False)
    line.encode("utf-8")  # strict: no lone surrogate anywhere
    assert "\\u0000" not in json.dumps(record.text)


@FAST
@given(ANY_TEXT)
def test_valid_text_leaves_valid_unicode_and_keeps_valid_text(text):
    cleaned = valid_text(text)
    cleaned.encode("utf-8")
    assert "\x00" not in cleaned
    if "\x00" not in text:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return
        assert cleaned == text


@FAST
@given(st.binary(min_size=1, max_size=40).filter(lambda b: b"/" not in b and b"\0" not in b))
def test_display_path_is_valid_unicode_and_distinguishes_raw_names(raw):
    import os

    name = os.fsdecode(raw)
    shown = display_path(name)
    shown.encode("utf-8")
    other = os.fsdecode(raw + b"x")
    assert display_path(other) != shown


# ---------------------------------------------------------------- names

NAME_WORDS = st.sampled_from(["q3", "forecast", "budget", "sales", "Meeting", "Notes", "plan", "north", "report"])
MARKERS = st.sampled_from(["", "_v2", " v1.10", "_final", " (2)", "_draft", " 2024-03", " Rev B", "_FY24", " copy"])
EXTENSIONS = st.sampled_from([".xlsx", ".docx", ".csv", ".pptx", ""])


@FAST
@given(st.lists(NAME_WORDS, min_size=1, max_size=4), MARKERS, EXTENSIONS,
       st.sampled_from(["", "drive/", "gs://bucket/a/", "C:\\Users\\x\\"]))
def test_a_name_with_a_marker_has_the_stem_of_the_name_without_it(words, marker, extension, folder):
    plain = analyse_name(folder + "_".join(words) + extension)
    marked = analyse_name(folder + "_".join(words) + marker + extension)
    assert marked.stem == plain.stem
    assert marked.stem == marked.stem.lower() and "  " not in marked.stem


@FAST
@given(ANY_TEXT, ANY_TEXT)
def test_name_analysis_is_total_and_version_order_antisymmetric(a, b):
    first, second = analyse_name(a), analyse_name(b)
    order, reverse = version_order(first, second), version_order(second, first)
    assert order in (None, -1, 1)
    assert (order is None) == (reverse is None) and (order is None or order == -reverse)
    assert 0.0 <= stem_similarity(first, second) <= 1.0
    assert stem_similarity(first, second) == stem_similarity(second, first)
    assert analyse_name(a) == first  # deterministic


@FAST
@given(st.lists(NAME_WORDS, min_size=1, max_size=3), st.integers(1, 20), st.integers(1, 20))
def test_higher_version_numbers_are_newer(words, low, high):
    assume(low != high)
    stem = "_".join(words)
    newer, older = (high, low) if high > low else (low, high)
    assert version_order(analyse_name(f"{stem}_v{newer}.xlsx"), analyse_name(f"{stem}_v{older}.xlsx")) == 1


# ---------------------------------------------------------------- signatures


@FAST
@given(ANY_TEXT)
def test_file_ids_are_stable_uuid5_and_hashes_64_bit(uri):
    file_id = file_id_for(uri)
    assert file_id == file_id_for(uri) and uuid.UUID(file_id).version == 5
    try:
        expected = str(uuid.uuid5(uuid.NAMESPACE_URL, _FILE_ID_PREFIX + uri))
    except UnicodeEncodeError:  # lone surrogates: uuid5 itself cannot, file_id_for still does
        expected = file_id
    assert file_id == expected
    assert 0 <= hash64(uri) < 2 ** 64 and hash64(uri) == hash64(uri)


@FAST
@given(st.one_of(st.integers(-10 ** 12, 10 ** 12), st.floats(allow_nan=False, allow_infinity=False, width=32)))
def test_a_number_normalises_alike_as_a_number_and_as_text(number):
    as_number = normalise_value(number)
    assert normalise_value(str(number)) == as_number
    if isinstance(number, int) or (float(number).is_integer() and abs(number) < 1e15):
        assert as_number == str(int(number))


@FAST
@given(st.sets(st.integers(0, 2 ** 64 - 1), max_size=300), st.integers(1, 100))
def test_bottom_k_is_the_k_smallest_distinct_hashes_sorted(hashes, k):
    assert bottom_k(hashes, k) == sorted(hashes)[:k]


@FAST
@given(st.sets(st.integers(0, 2 ** 40), max_size=200), st.sets(st.integers(0, 2 ** 40), max_size=200))
def test_exact_containment_and_jaccard_are_set_ratios(a, b):
    a_sorted, b_sorted = sorted(a), sorted(b)
    if a:
        assert containment(a_sorted, True, b_sorted, True) == len(a & b) / len(a)
    if a and b:
        assert jaccard_of_sets(a_sorted, b_sorted) == len(a & b) / len(a | b)
        assert jaccard_of_sets(a_sorted, b_sorted) == jaccard_of_sets(b_sorted, a_sorted)


@FAST
@given(st.lists(st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=8), min_size=1, max_size=60))
def test_minhash_of_a_set_matches_itself_and_is_order_free(words):
    text = " ".join(words)
    signature = minhash_of(shingles(text), 64)
    assert len(signature) == 64
    assert minhash_of(list(reversed(shingles(text))), 64) == signature
    assert minhash_jaccard(signature, signature) == 1.0


@FAST
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8),
                min_size=1, max_size=40), st.sampled_from([16, 64, 128]))
def test_minhash_of_equals_a_fresh_datasketch_minhash(tokens, num_perm):
    """Permutations are drawn once and shared; the signature is datasketch's own for the same seed."""
    from datasketch import MinHash

    from transforms.signatures import MINHASH_SEED

    fresh = MinHash(num_perm=num_perm, seed=MINHASH_SEED)
    fresh.update_batch([t.encode("utf-8") for t in set(tokens)])
    assert minhash_of(tokens, num_perm) == [int(v) for v in fresh.hashvalues]


@FAST
@given(ANY_TEXT, st.integers(1, 8))
@example("Stra\u00dfe caf\u00e9 \u0130stanbul K\u212aLVIN a\udce9b 12x 12x", 2)
def test_shingle_hashes_hash_each_distinct_shingle_once(text, size):
    """Words split from UTF-8 bytes are the words `shingles` finds in the text, non-ASCII letters,
    lone surrogates and all (32-bit hashes of a few hundred shingles do not collide here)."""
    from transforms.signatures import shingle_hashes

    assert len(shingle_hashes(text, size)) == len(set(shingles(text, size)))


def test_shingle_minhash_estimates_jaccard_and_is_stable():
    import hashlib

    from transforms.signatures import shingle_minhash

    words = [f"w{i}" for i in range(400)]
    shared, a_only, b_only = words[:300], words[300:350], words[350:]
    a, b = shingle_minhash(" ".join(shared + a_only), 3, 256), shingle_minhash(" ".join(shared + b_only), 3, 256)
    exact = len(set(shingles(" ".join(shared + a_only), 3)) & set(shingles(" ".join(shared + b_only), 3))) / (
        len(set(shingles(" ".join(shared + a_only), 3)) | set(shingles(" ".join(shared + b_only), 3))))
    assert abs(minhash_jaccard(list(a), list(b)) - exact) < 0.06  # 3 standard errors at 256 values
    assert len(shingle_minhash("", 5, 64)) == 0 and len(shingle_minhash("!? \u00e9", 5, 64)) == 0
    # Fixed constants, no salted hash: the same text signs alike on every machine and run.
    assert hashlib.sha256(shingle_minhash("the quick brown fox jumps over the lazy dog", 5, 64).tobytes()).hexdigest()[
        :16] == "c9e2b809c6def847"


@FAST
@given(st.text(alphabet=st.sampled_from("aAzZ09_ -.\u0130\u03a3\u03c3\u03c2\u00e9\u00c9\u0307\u2028\u01c5"), max_size=16)
       | ANY_TEXT)
def test_split_identifier_splits_in_one_pass_as_part_by_part(name):
    """The one-pass splitter gives the words of splitting at separators, then each part at its camel
    boundaries (the definition): Unicode letters, marks and title-case letters included."""
    from transforms.words import _CAMEL_BOUNDARY, _NON_WORD, split_identifier

    by_part = [w.lower() for part in _NON_WORD.split(name) for w in _CAMEL_BOUNDARY.split(part) if w]
    assert split_identifier(name) == by_part


@FAST
@given(st.lists(st.lists(st.integers(0, 3), min_size=9, max_size=9), min_size=1, max_size=30),
       st.sampled_from(["explain_link", "find_related"]))
def test_band_buckets_group_records_as_band_keys_do(rows, family):
    """Records share a band's bucket exactly when they share its string band key (`lsh_bands`): the
    numpy buckets change how fast, never which records meet. Values from 0-3 make shared bands common."""
    import numpy as np

    from transforms.signatures import band_buckets, lsh_bands

    buckets = band_buckets(np.array(rows, dtype=np.uint32), 4, 2, family)
    assert buckets.shape == (len(rows), 4) and buckets.dtype == np.uint64
    keys = [lsh_bands(row, 4, 2) for row in rows]

    def grouping(labels):
        groups = {}
        for record, row in enumerate(labels):
            for band, label in enumerate(row):
                groups.setdefault((band, label), set()).add(record)
        return sorted(sorted(g) for g in groups.values())

    assert grouping(buckets.tolist()) == grouping(keys)
    other = band_buckets(np.array(rows, dtype=np.uint32), 4, 2, family + "-other")
    assert not set(other.ravel().tolist()) & set(buckets.ravel().tolist())  # another family meets no bucket
    assert band_buckets(np.empty((3, 0), dtype=np.uint32), 4, 2, family).shape == (3, 0)


@FAST
@given(ANY_TEXT, st.integers(min_value=-2, max_value=120))
def test_cut_to_tokens_keeps_the_longest_prefix_within_the_budget(text, budget):
    from transforms.output.training.evidence import _TOKEN_RE, approx_tokens, cut_to_tokens

    tokens = list(_TOKEN_RE.finditer(text))
    cut, was_cut = cut_to_tokens(text, budget)
    assert was_cut == (len(tokens) > max(budget, 0))
    assert text.startswith(cut) and approx_tokens(cut) <= max(budget, 0)
    if was_cut:
        assert cut == text[: tokens[max(budget, 0)].start()].rstrip()
    else:
        assert cut == text


@dataclasses.dataclass
class _Holder:
    value: object
    table: TableProfile


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT,
    lambda inner: (st.lists(inner, max_size=5) | st.tuples(inner, inner) | st.dictionaries(ANY_TEXT, inner, max_size=5)
                   | st.builds(_Holder, inner, st.just(TableProfile("t")))),
    max_leaves=25)


@FAST
@given(JSONISH, st.lists(st.integers(), max_size=50))
def test_plain_is_asdict_value_for_value_and_type_for_type(value, hashes):
    holder = _Holder(value, TableProfile("sheet", [ColumnProfile("id", "integer", value_hashes=hashes)]))
    assert repr(plain(holder)) == repr(dataclasses.asdict(holder))
    record = FileRecord("f", "a/b.csv", "b.csv", "csv", 1, "h", token_hashes=hashes, structure={"x": value},
                        tables=[holder.table])
    assert repr(record.to_dict()) == repr(dataclasses.asdict(record))
