"""Content signatures: stable IDs, value hashes, bottom-k sets and MinHash.

Everything here is deterministic across processes and runs (no use of
Python's salted `hash()`), and every signature kept on a record is a list of
ints so it serialises as JSON and pickles cheaply.
"""

from __future__ import annotations

import hashlib
import math
import operator
import re
import struct
import uuid
import zlib
from functools import lru_cache
from typing import Callable, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from transforms.pii.pseudonyms import DEFAULT_KEY, pii_key

# Namespace for file IDs: uuid5(NAMESPACE_URL, "filegraph:" + uri) is stable
# across runs for the same URI.
_FILE_ID_PREFIX = "filegraph:"
_NUMBER_RE = re.compile(r"^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$")
_WORD_RE = re.compile(r"[a-z0-9]+")
MINHASH_SEED = 1


def file_id_for(uri: str) -> str:
    """The stable ID of a file: a UUIDv5 of its URI as matched.

    uuid.uuid5 itself, except that a path holding bytes that are not UTF-8
    (kept by Python as lone surrogates) still gets an ID.
    """
    name = _utf8(_FILE_ID_PREFIX + uri)
    return str(uuid.UUID(bytes=hashlib.sha1(uuid.NAMESPACE_URL.bytes + name).digest()[:16], version=5))


def hash64(text: str) -> int:
    """A stable unsigned 64-bit hash of a string."""
    return struct.unpack("<Q", hashlib.blake2b(_utf8(text), digest_size=8).digest())[0]


def _utf8(text: str) -> bytes:
    # surrogatepass: identical to UTF-8 for every valid string; lone surrogates still encode.
    return text.encode("utf-8", "surrogatepass")


@lru_cache(maxsize=8)
def _keyed_blake2b(key: Optional[bytes]):
    if key is None:  # the public default key protects nothing: plain BLAKE2b, as `hash64`
        return hashlib.blake2b(digest_size=8)
    # A key of its own for signatures, derived from the PII key: pseudonyms and
    # signatures never share a MAC.
    return hashlib.blake2b(digest_size=8, key=hashlib.sha256(b"filegraph value signature\x00" + key).digest())


def value_hasher() -> Callable[[str], int]:
    """The hash of normalised values under the PII key (keyed BLAKE2b, 64 bits).

    Column value sets, text value tokens and value blocking keys all use it, so
    they meet one another. With a key of one's own, a signature of a value (an
    e-mail, a name) cannot be found by hashing guessed values without the key;
    without one it is the plain hash (`hash64`), since a public key protects
    nothing. Either way a value has one signature in every file whether or not
    redaction judged it PII, so joins on redacted columns still hold.
    """
    key = pii_key(warn=False)
    base = _keyed_blake2b(None if key == DEFAULT_KEY else key)

    def value_hash(text: str) -> int:
        h = base.copy()
        h.update(_utf8(text))  # lone surrogates (from JSON escapes) hash as hash64 hashes them
        return int.from_bytes(h.digest(), "little")

    return value_hash


def normalise_value(value) -> Optional[str]:
    """Canonical text of a cell value so that 7, 7.0 and "7" compare equal."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        if float(value).is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(round(float(value), 6))
    text = str(value).strip()
    if not text:
        return None
    if _NUMBER_RE.match(text):
        try:
            return normalise_value(float(text)) if ("." in text or "e" in text.lower()) else str(int(text))
        except ValueError:
            pass
    return text.casefold()


def bottom_k(hashes: Iterable[int], k: int) -> List[int]:
    """The k smallest distinct hashes, sorted."""
    unique = set(hashes)
    if len(unique) <= k:
        return sorted(unique)
    return sorted(np.partition(np.fromiter(unique, dtype=np.uint64), k - 1)[:k].tolist())


def containment(a: Sequence[int], a_exact: bool, b: Sequence[int], b_exact: bool) -> float:
    """Estimated share of set A's values that are in set B, from bottom-k hashes.

    Exact when both sketches hold their whole sets. Otherwise only A's hashes
    at or below B's largest kept hash can be checked, which is an unbiased
    sample of A under a random hash.
    """
    if not a:
        return 0.0
    b_set = set(b)
    if b_exact:
        pool = a
    else:
        limit = b[-1] if b else 0
        pool = [h for h in a if h <= limit]
        if not pool:
            return 0.0
    del a_exact  # A's own sketch is always a uniform sample of A
    return len(b_set.intersection(pool)) / len(pool)  # pool holds distinct hashes


def jaccard_of_sets(a: Sequence[int], b: Sequence[int]) -> float:
    if not a or not b:
        return 0.0
    sa = a if isinstance(a, (set, frozenset)) else set(a)
    sb = b if isinstance(b, (set, frozenset)) else set(b)
    shared = len(sa & sb)
    return shared / (len(sa) + len(sb) - shared)


def shingles(text: str, size: int = 3) -> List[str]:
    """Word n-gram shingles of lower-cased text (whole words if shorter)."""
    words = _WORD_RE.findall(text.lower())
    if len(words) < size:
        return [" ".join(words)] if words else []
    return [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]


# _WORD_RE on UTF-8 bytes: every byte it does not match becomes a space (other letters' bytes are >= 0x80), then split.
_NOT_WORD_TO_SPACE = bytes(b if _WORD_RE.fullmatch(chr(b)) else 32 for b in range(256))


def _odd_constants(name: str, count: int) -> np.ndarray:
    return np.array([hash64(f"{name}:{i}") | 1 for i in range(count)], dtype=np.uint64)


_SHINGLE_SPAN = 8
_SHINGLE_MULTIPLIERS = _odd_constants("shingle-position", _SHINGLE_SPAN)


def shingle_hashes(text: str, size: int) -> np.ndarray:
    """32-bit hashes (uint64) of the distinct word n-gram shingles of `text`, the shingles `shingles` makes.

    Each word is hashed once (crc32) and a shingle's hash mixes its words' hashes by position
    (multiply-shift), so no shingle string is built."""
    if size > _SHINGLE_SPAN:
        raise ValueError(f"shingles of at most {_SHINGLE_SPAN} words, not {size}")
    words = text.lower().encode("utf-8", "replace").translate(_NOT_WORD_TO_SPACE).split()
    if not words:
        return np.empty(0, dtype=np.uint64)
    hashes = np.fromiter(map(zlib.crc32, words), dtype=np.uint64, count=len(words))
    span = min(size, len(words))
    count = len(words) - span + 1
    mixed = np.zeros(count, dtype=np.uint64)
    for position in range(span):  # uint64 arithmetic wraps: the sum is taken mod 2**64
        mixed += hashes[position:position + count] * _SHINGLE_MULTIPLIERS[position]
    return np.unique(mixed >> np.uint64(32))


_FMIX_MULTIPLIERS = (np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53))


def _fmix64(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser, in place: every input bit reaches every output bit."""
    shift = np.uint64(33)
    for multiplier in _FMIX_MULTIPLIERS:
        values ^= values >> shift
        values *= multiplier
    values ^= values >> shift
    return values


@lru_cache(maxsize=None)
def _permutation_seeds(num_perm: int) -> np.ndarray:
    return _odd_constants("minhash-seed", num_perm)


def shingle_minhash(text: str, size: int, num_perm: int) -> np.ndarray:
    """MinHash (uint32 values) of the word n-gram shingles of `text`; empty for no words.

    Permutation i hashes a shingle hash as fmix64(hash ^ seed_i), all in numpy: about twice as
    fast as `minhash_of(shingles(...))` on training records. A weaker family (multiply-shift)
    let one band of template-made records share one bucket by the thousand. Its values are only
    comparable with each other, never with `minhash_of`'s."""
    hashes = shingle_hashes(text, size)
    if not len(hashes):
        return np.empty(0, dtype=np.uint32)
    return (_fmix64(hashes[:, None] ^ _permutation_seeds(num_perm)) >> np.uint64(32)).min(axis=0).astype(np.uint32)


@lru_cache(maxsize=None)
def _minhash_permutations(num_perm: int):
    """The permutations of MINHASH_SEED, drawn once: datasketch draws them again for every MinHash."""
    from datasketch import MinHash

    template = MinHash(num_perm=num_perm, seed=MINHASH_SEED)
    return {"permutations": template.permutations, "scheme": template.scheme}


def minhash_of(tokens: Iterable[str], num_perm: int = 128) -> List[int]:
    """MinHash signature (list of ints) of a token set; empty for no tokens."""
    encoded = [t.encode("utf-8") for t in set(tokens)]
    if not encoded:
        return []
    from datasketch import MinHash  # imports scipy: only where signatures are made (extraction)

    mh = MinHash(num_perm=num_perm, seed=MINHASH_SEED, **_minhash_permutations(num_perm))
    mh.update_batch(encoded)
    return [int(v) for v in mh.hashvalues]


def minhash_jaccard(a: Sequence[int], b: Sequence[int]) -> float:
    if not a or not b or len(a) != len(b):
        return 0.0
    # Plain Python: five times faster than numpy on 128 values, and the same float (count / n).
    return sum(map(operator.eq, a, b)) / len(a)


def band_buckets(signatures: np.ndarray, bands: int, rows: int, family: str) -> np.ndarray:
    """LSH buckets (uint64) of each band of each row of `signatures` (records x MinHash values, one
    length), all in numpy: records whose band holds the same `rows` values share its bucket. `family`
    (a task, say) keeps one family's buckets apart from another's. A chance collision only costs the
    comparison that follows it, so a fast mix stands in for a cryptographic digest."""
    count = min(bands, signatures.shape[1] // rows)
    values = signatures[:, :count * rows].astype(np.uint64).reshape(len(signatures), count, rows)
    buckets = np.broadcast_to(_band_seeds(bands)[:count] ^ np.uint64(hash64(family)),
                              (len(signatures), count))
    for row in range(rows):
        buckets = _fmix64(buckets ^ values[:, :, row])
    return buckets


@lru_cache(maxsize=None)
def _band_seeds(bands: int) -> np.ndarray:
    return _odd_constants("lsh-band", bands)


def lsh_bands(signature: Sequence[int], bands: int, rows: int) -> List[str]:
    """Band keys of a MinHash signature for LSH blocking."""
    out = []
    for band in range(min(bands, len(signature) // rows)):
        chunk = signature[band * rows : (band + 1) * rows]
        digest = hashlib.blake2b(struct.pack(f"<{rows}Q", *chunk), digest_size=8).hexdigest()
        out.append(f"{band}:{digest}")
    return out


_VALUE_TOKEN_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-/.,:@]*[A-Za-z0-9]|[A-Za-z0-9]")
_THOUSANDS_RE = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


def _distinctive(token: str) -> bool:
    """Short numbers ("4", "24", "4.5") and tiny words match anything; skip them. A short
    word written in lower case in running text is a word ("was", "see", "new"), whatever
    code list happens to hold it; written as a code ("FIN", "Fin") it is a value."""
    digits = sum(ch.isdigit() for ch in token)
    if digits:
        return digits >= 4 or (len(token) >= 4 and any(ch.isalpha() for ch in token))
    return len(token) >= 6 or (len(token) >= 3 and not token.islower())


def text_value_hashes(text: str, max_ngram: int = 3, limit: int = 16384) -> List[int]:
    """Hashes of the values a text shows: IDs, numbers, codes and short phrases.

    Hashed exactly as column values are (`normalise_value` then `value_hasher`), so a
    deck quoting "C-10234" or "1,234.50" or "North America" hits the data
    file's value sets. Single plain words are apart (`text_word_hashes`): a
    word can match any label by chance. Returns sorted distinct hashes, at most `limit`.
    """
    return _value_hashes(text, max_ngram, limit)[0]


def text_word_hashes(text: str, limit: int = 16384) -> List[int]:
    """Hashes of the single words a text shows ("Finance", "Shipping") that could be labels."""
    return _value_hashes(text, 1, limit)[1]


def _value_hashes(text: str, max_ngram: int, limit: int) -> Tuple[List[int], List[int]]:
    tokens = []
    for raw in _VALUE_TOKEN_RE.findall(text):
        token = raw.rstrip(".,:")
        if _THOUSANDS_RE.match(token):
            token = token.replace(",", "")
        tokens.append(token)
    values, words = set(), set()
    for i, token in enumerate(tokens):
        if _distinctive(token):
            (words if token.isalpha() else values).add(normalise_value(token))
        if token.isalpha():
            phrase = [token]
            for j in range(i + 1, min(i + max_ngram, len(tokens))):
                if not tokens[j].isalpha():
                    break
                phrase.append(tokens[j])
                values.add(normalise_value(" ".join(phrase)))
    values.discard(None)
    words.discard(None)
    value_hash = value_hasher()
    return sorted({value_hash(v) for v in values})[:limit], sorted({value_hash(v) for v in words})[:limit]
