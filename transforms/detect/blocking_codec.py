"""Blocking's values packed as bytes while they wait in the pipeline's groupings.

A grouping of the in-process runner holds every value of its input decoded, one Python
object graph each, until the next stage reads them. Meta-blocking groups each bucket's
proposals by first file (the bucket's proposal once, with the later files it pairs with),
then weighed partners by file: as tuples, strings, floats and dicts that is 150-400 bytes
a value, 2-2.5 GB a grouping at 125,299 files. As one bytes object each it is 50-140
bytes a partner. The values unpack to exactly what was packed (the weight's float bits
included), so the pairs and their shared keys are the same.
"""

from __future__ import annotations

import json
import struct
from typing import Dict, List, Sequence, Tuple

from transforms.detect.blocking import Proposal

_SIZES = struct.Struct("!II")  # a proposal's bucket size and its entry's size (0: no entry)
_PARTNER = struct.Struct("!dI")  # a partner's weight and the length of its id in bytes
_PAIR = struct.Struct("!II")  # the lengths of a candidate pair's two ids in bytes
_BUCKET = struct.Struct("!II")  # a packed proposal's length and how many partner ids follow
_NO_ENTRY = 0  # a bucket holds at least two files, so an entry's size is never 0


def pack_proposal(proposal: Proposal) -> bytes:
    kind, size, entry = proposal
    key, entry_size = entry if entry is not None else ("", _NO_ENTRY)
    return _SIZES.pack(size, entry_size) + kind.encode("utf-8") + b"\0" + key.encode("utf-8", "surrogatepass")


def unpack_proposal(packed: bytes) -> Proposal:
    size, entry_size = _SIZES.unpack_from(packed)
    kind, _, key = packed[_SIZES.size:].partition(b"\0")  # a kind is a fixed name, never holding a NUL
    entry = None if entry_size == _NO_ENTRY else (key.decode("utf-8", "surrogatepass"), entry_size)
    return kind.decode("utf-8"), size, entry


def pack_bucket_proposal(proposal: Proposal, partners: Sequence[str]) -> bytes:
    """One bucket's proposal to one first file, with the later files it pairs with (the
    proposal once, not once a pair)."""
    packed = pack_proposal(proposal)
    ids = [partner.encode("utf-8", "surrogatepass") for partner in partners]
    return b"".join([_BUCKET.pack(len(packed), len(ids)), packed, struct.pack(f"!{len(ids)}I", *map(len, ids)), *ids])


def unpack_bucket_proposal(data: bytes) -> Tuple[Proposal, List[str]]:
    length, count = _BUCKET.unpack_from(data)
    start = _BUCKET.size
    proposal = unpack_proposal(data[start:start + length])
    start += length
    lengths = struct.unpack_from(f"!{count}I", data, start)
    start += 4 * count
    partners = []
    for size in lengths:
        partners.append(data[start:start + size].decode("utf-8", "surrogatepass"))
        start += size
    return proposal, partners


def pack_shared(shared: Dict[str, int]) -> bytes:
    """Shared keys as compact JSON; the dict's order is kept."""
    return json.dumps(shared, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


def unpack_shared(packed: bytes) -> Dict[str, int]:
    return json.loads(packed.decode("utf-8", "surrogatepass"))


def pack_partner(partner: Tuple[str, float, Dict[str, int]]) -> bytes:
    partner_id, weight, shared = partner
    encoded_id = partner_id.encode("utf-8", "surrogatepass")
    return _PARTNER.pack(weight, len(encoded_id)) + encoded_id + pack_shared(shared)


def unpack_partner(packed: bytes) -> Tuple[str, float, Dict[str, int]]:
    weight, length = _PARTNER.unpack_from(packed)
    start = _PARTNER.size
    return (packed[start:start + length].decode("utf-8", "surrogatepass"), weight,
            unpack_shared(packed[start + length:]))


def pack_pair(first_id: str, second_id: str, shared: Dict[str, int]) -> bytes:
    """A candidate pair and its shared keys, as scoring's batches hold them until they are scored."""
    first, second = first_id.encode("utf-8", "surrogatepass"), second_id.encode("utf-8", "surrogatepass")
    return _PAIR.pack(len(first), len(second)) + first + second + pack_shared(shared)


def unpack_pair(packed: bytes) -> Tuple[str, str, Dict[str, int]]:
    first, second = _PAIR.unpack_from(packed)
    start = _PAIR.size
    return (packed[start:start + first].decode("utf-8", "surrogatepass"),
            packed[start + first:start + first + second].decode("utf-8", "surrogatepass"),
            unpack_shared(packed[start + first + second:]))
