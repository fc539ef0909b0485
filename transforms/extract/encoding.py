"""Bytes to text, and text that is safe to leave extraction.

One place for both directions of the text boundary:

- `detect_encoding` / `decode`: BOM, then strict UTF-8, then UTF-16 told by
  its zero bytes, then charset-normalizer (Windows-1252 preferred among
  single-byte code pages: on short Latin text the detector picks look-alikes
  such as mac_latin2 that garble accents).
- `valid_text`: what every string leaving extraction goes through. No lone
  surrogates (a PDF's ToUnicode map or a UTF-16 file cut in half makes them;
  UTF-8 encoders and tokenizers refuse them), no NUL characters.
- `display_path`: the same for file paths whose names hold bytes that are not UTF-8.
"""

from __future__ import annotations

import codecs
import re
from typing import Tuple

import charset_normalizer
from charset_normalizer.utils import is_multi_byte_encoding

SNIFF_BYTES = 64 * 1024  # enough for charset-normalizer to decide
# UTF-32 before UTF-16: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_UNSAFE = re.compile("[\x00\ud800-\udfff]")
# Text in UTF-16 without a BOM: most characters of Latin text have one zero byte.
_UTF16_ZERO_SHARE = 0.3


def detect_encoding(sample: bytes) -> str:
    """The encoding of a file from its first bytes."""
    bom = _bom(sample)
    if bom:
        return bom
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 3:  # a character cut by the sample's end
            return "utf-8"
    return _guess(sample)


def _bom(sample: bytes) -> str:
    return next((codec for mark, codec in _BOMS if sample.startswith(mark)), "")


def _guess(sample: bytes) -> str:
    """The encoding of bytes that are not UTF-8."""
    sample = sample[:SNIFF_BYTES]
    utf16 = _utf16_without_bom(sample)
    if utf16:
        return utf16
    best = charset_normalizer.from_bytes(sample).best()
    if best is None or not is_multi_byte_encoding(best.encoding):
        try:
            sample.decode("cp1252")
            return "cp1252"
        except UnicodeDecodeError:
            pass
    return best.encoding if best else "latin-1"


def _utf16_without_bom(sample: bytes) -> str:
    head = sample[: 4096 & ~1]
    if len(head) < 4:
        return ""
    even, odd = head[0::2], head[1::2]
    share_even = even.count(0) / len(even)
    share_odd = odd.count(0) / len(odd)
    if share_odd >= _UTF16_ZERO_SHARE and share_even < 0.05:
        return "utf-16-le"
    if share_even >= _UTF16_ZERO_SHARE and share_odd < 0.05:
        return "utf-16-be"
    return ""


def decode(data: bytes, encoding: str, final: bool = True) -> str:
    """`data` as text; undecodable bytes become U+FFFD.

    Not final when `data` is a cut of a longer file: a character split at the
    cut is dropped, not an error.
    """
    return codecs.getincrementaldecoder(encoding)("replace").decode(data, final=final)


def decode_text(data: bytes, max_bytes: int) -> Tuple[str, str]:
    """(text, encoding) of at most `max_bytes` of `data`: BOM, else strict UTF-8, else a guess."""
    head, final = data[:max_bytes], len(data) <= max_bytes
    encoding = _bom(head)
    if not encoding:
        try:
            return codecs.getincrementaldecoder("utf-8")("strict").decode(head, final=final), "utf-8"
        except UnicodeDecodeError:
            encoding = _guess(head)
    return decode(head, encoding, final), encoding


def display_path(path: str) -> str:
    """A path as valid Unicode: bytes of the name that are not UTF-8 (kept by Python as lone
    surrogates) written as \\xNN, as `ls -b` shows them. Records and outputs name files this way;
    only reading uses the path as matched."""
    if not _UNSAFE.search(path):
        return path
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def valid_text(text: str) -> str:
    """`text` without NUL characters, with lone surrogates replaced by U+FFFD.

    A surrogate pair that stands for one character (from a UTF-16 source
    decoded piecewise) becomes that character.
    """
    if not _UNSAFE.search(text):
        return text
    text = text.replace("\x00", "")
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
