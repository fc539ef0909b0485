"""Blocking as files arrive: one bounded bucket per blocking key.

Batch blocking sees every bucket whole and skips one larger than its cap (a
hot key). A stream sees a bucket grow: each new member is paired with the
members already there, until the bucket passes its cap; from then on the key
is hot, its members are forgotten and it pairs nothing more. So a key's state
never holds more than its cap, and pairs made before a key turned hot stay
made (batch would have made none of them): streaming blocking is the batch
blocking of each moment's corpus, not of the final one.

A stream keeps no corpus statistics (the corpus is never complete), so its
pairs are scored without them (`corpus.NO_CONTEXT`), as pairs scored outside a
run are: every shared token counts as rare.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Sequence, Set, Tuple

PAIR = "pair"  # pair the new member with the members held, then hold it too
TURNED_HOT = "turned_hot"  # the bucket passes its cap now: forget its members
HOT = "hot"  # already hot: ignore


def admit(held: int, hot: bool, cap: int) -> str:
    """What a key's bucket does with a new member, holding `held` members."""
    if hot:
        return HOT
    return TURNED_HOT if held + 1 > cap else PAIR


def ordered_pair(new_id: str, held_id: str) -> Tuple[str, str]:
    """Pairs are (smaller ID, larger ID), as batch blocking makes them."""
    return (new_id, held_id) if new_id < held_id else (held_id, new_id)


def stream_pairs(keyed_arrivals: Iterable[Tuple[str, Sequence[str]]], cap_of) -> Set[Tuple[str, str]]:
    """In memory, the pairs streaming blocking proposes.

    `keyed_arrivals` are (file_id, blocking keys) in arrival order; `cap_of(key)`
    is the key's cap. The Beam pipeline does the same with one stateful DoFn per key.
    """
    held: Dict[str, List[str]] = {}
    hot: Set[str] = set()
    pairs: Set[Tuple[str, str]] = set()
    for file_id, keys in keyed_arrivals:
        for key in keys:
            decision = admit(len(held.get(key, ())), key in hot, cap_of(key))
            if decision == TURNED_HOT:
                hot.add(key)
                held.pop(key, None)
            elif decision == PAIR and file_id not in held.get(key, ()):
                pairs.update(ordered_pair(file_id, other) for other in held.get(key, ()))
                held.setdefault(key, []).append(file_id)
    return pairs
