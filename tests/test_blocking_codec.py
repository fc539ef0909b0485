"""Blocking's packed values unpack to exactly what was packed, and are smaller than the objects."""

import sys

from hypothesis import example, given
from hypothesis import strategies as st

from transforms.detect import blocking
from transforms.detect.blocking_codec import (pack_bucket_proposal, pack_pair, pack_partner, pack_proposal,
                                              pack_shared, unpack_bucket_proposal, unpack_pair, unpack_partner,
                                              unpack_proposal, unpack_shared)

# Keys come from file contents and names: any text, lone surrogates (undecodable names) included.
_KEY = st.text(alphabet=st.characters(exclude_categories=()), max_size=40)
_KIND = st.sampled_from(["dir", "code", "stem", "col", "term", "ref", "hash", "mention"])
_SIZE = st.integers(2, 2**31)
_SHARED = st.dictionaries(_KEY, st.integers(1, 10**6), max_size=6)


@given(_KIND, _SIZE, st.one_of(st.none(), st.tuples(_KEY, _SIZE)))
@example("stem", 5, ("stem:caf\udce9\0x", 5))
def test_a_proposal_unpacks_to_itself(kind, size, entry):
    proposal = (kind, size, entry)
    assert unpack_proposal(pack_proposal(proposal)) == proposal


@given(_KEY, st.floats(allow_nan=False), _SHARED)
@example("id-\udc80", 1 / 3, {"dir:/d/caf\udce9": 3, "code:A-1": 2})
def test_a_partner_unpacks_to_itself_weight_bits_and_key_order_included(partner_id, weight, shared):
    unpacked = unpack_partner(pack_partner((partner_id, weight, shared)))
    assert unpacked == (partner_id, weight, shared)
    assert list(unpacked[2]) == list(shared)
    assert unpack_shared(pack_shared(shared)) == shared


@given(_KIND, _SIZE, st.one_of(st.none(), st.tuples(_KEY, _SIZE)), st.lists(_KEY, max_size=60))
@example("ref", 1, ("ref:a", 1), ["b"])
@example("dir", 3, None, [])
def test_a_bucket_proposal_unpacks_to_itself_with_its_partners_in_order(kind, size, entry, partners):
    assert unpack_bucket_proposal(pack_bucket_proposal((kind, size, entry), partners)) == ((kind, size, entry), partners)


@given(_KEY, _KEY, _SHARED)
def test_a_candidate_pair_unpacks_to_itself(first_id, second_id, shared):
    assert unpack_pair(pack_pair(first_id, second_id, shared)) == (first_id, second_id, shared)


def test_packed_values_are_smaller_than_the_objects_a_grouping_would_hold():
    pair, proposal = blocking.mention_proposal("0f1e2d3c-4b5a-5968-8776-a5b4c3d2e1f0",
                                               "1a2b3c4d-5e6f-5a7b-8c9d-0e1f2a3b4c5d")
    as_objects = sys.getsizeof(proposal) + sum(map(sys.getsizeof, (proposal[0], *proposal[2])))
    assert sys.getsizeof(pack_proposal(proposal)) < as_objects
    partner = (pair[1], 0.25, {})
    as_objects = sum(map(sys.getsizeof, (partner, *partner)))
    assert sys.getsizeof(pack_partner(partner)) < 0.6 * as_objects
