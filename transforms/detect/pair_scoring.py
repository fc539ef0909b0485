"""Scoring candidate pairs in chunks, in this process or on scoring processes (processes.ChunkPool).

A chunk is some files' candidate pairs with the packed views they need
(pair_view.packed_view), or where those were spilled (spill.py), which the
scoring process reads itself: it travels to a scoring process as bytes, and what
comes back is one `ScoredPair` per pair. The process decodes each view once
while its ViewCache holds it. Scoring is a pure function of the pair, its shared
keys and the run's corpus statistics, so where a chunk is scored never changes
the outcome.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

from transforms.config import Config
from transforms.detect.corpus import CorpusStats, PairContext
from transforms.detect.pair_view import ViewCache, unpacked_view
from transforms.detect.scoring import Edge
from transforms.model import ErrorRecord, stage_error
from transforms.output.spill import SpilledLine, SpillReader
from transforms.processes import chunked

# Pairs per chunk: enough to make shipping a chunk cheap beside scoring it (~0.2 ms a pair),
# few enough that a batch's chunks keep every scoring process busy until near its end.
CHUNK_PAIRS = 256

# One file's candidate pairs: (first file id, [(second file id, shared keys)]).
FileGroup = Tuple[str, Sequence[Tuple[str, Mapping[str, int]]]]
# A packed view, or where it was spilled (ScorePairs with a spill folder): read by whoever scores.
Packed = Union[bytes, SpilledLine]
# Some file groups with the packed view of every file they name (None for a file without one).
Chunk = Tuple[Sequence[FileGroup], Mapping[str, Optional[Packed]]]
# (view a, view b, shared keys, corpus statistics) -> the pair's cache digest (index/cache.PairDigester).
Digester = Callable[[Any, Any, Mapping[str, int], CorpusStats], str]
# (pair digest) -> (hit, the cached edge as JSON or None); see transforms/index/cache.py.
Lookup = Callable[[str], Tuple[bool, Optional[str]]]


class ScoredPair(NamedTuple):
    """One candidate pair's outcome: an edge, no edge (unrelated), or an error; and its cache row."""

    edge: Optional[Edge]
    error: Optional[ErrorRecord]
    cache_row: Optional[Tuple[str, Optional[str]]] = None  # (digest, edge JSON) to store; never for an error
    reused: bool = False  # the edge came from the score cache


class PairScorer:
    """The strategies, then typing, for pairs of pair views against one run's corpus statistics.

    With a `digester`, each scored pair carries its cache row; with a `lookup`
    too, a pair whose digest is cached takes the cached edge instead of being scored.
    """

    def __init__(self, config: Config, stats: CorpusStats, digester: Optional[Digester] = None,
                 lookup: Optional[Lookup] = None):
        self._config = config
        self._stats = stats
        self._digester = digester
        self._lookup = lookup
        self._model = None
        self._strategies: Tuple[str, ...] = ()
        self._views = ViewCache()
        self._spilled = SpillReader()

    def __getstate__(self):  # what a scoring process receives: no loaded model, views, lookup or open files
        return {**vars(self), "_model": None, "_views": None, "_lookup": None, "_spilled": None}

    def __setstate__(self, state):
        vars(self).update(state)
        self._views = ViewCache()
        self._spilled = SpillReader()

    @property
    def looks_up(self) -> bool:
        """Whether pairs are looked up in the score cache (which only this process can reach)."""
        return self._lookup is not None

    def score(self, a, b, shared: Mapping[str, int]) -> ScoredPair:
        digest = self._digester(a, b, shared, self._stats) if self._digester else None
        if digest is not None and self._lookup is not None:
            hit, edge_json = self._lookup(digest)
            if hit:
                from transforms.index.cache import edge_from_json

                return ScoredPair(edge_from_json(edge_json), None, (digest, edge_json), reused=True)
        try:
            edge = self._typed_edge(a, b, shared)
        except Exception as exc:  # this pair's failure, recorded; the other pairs go on
            return ScoredPair(None, stage_error("score", exc, a.file_path, b.file_path))
        if digest is None:
            return ScoredPair(edge, None)
        from transforms.index.cache import edge_to_json

        return ScoredPair(edge, None, (digest, edge_to_json(edge)))

    def score_chunk(self, groups: Sequence[FileGroup], packed: Mapping[str, Optional[Packed]]) -> List[ScoredPair]:
        """Every pair of `groups` whose two files have a view in `packed`, in order."""
        load = lambda file_id: unpacked_view(self._read(packed.get(file_id)))  # noqa: E731
        out = []
        for first_id, partners in groups:
            a = self._views.get(first_id, load)
            for second_id, shared in partners:
                b = self._views.get(second_id, load)
                if a is None or b is None:  # a file without a record (it failed) has no pairs to score
                    continue
                out.append(self.score(a, b, shared))
        return out

    def _read(self, packed: Optional[Packed]) -> Optional[bytes]:
        return self._spilled.read(packed) if isinstance(packed, SpilledLine) else packed

    def close(self) -> None:
        """Closes the spill files this scorer has open."""
        self._spilled.close()

    def _typed_edge(self, a, b, shared) -> Optional[Edge]:
        from transforms.detect import strategies
        from transforms.detect.scoring import typed_edge

        if self._model is None:
            from transforms.detect.relationships import active_strategies
            from transforms.detect.scoring import ConfidenceModel

            self._model, self._strategies = ConfidenceModel.load(), active_strategies(self._config)
        results = strategies.run_strategies(a, b, self._strategies, PairContext(shared=shared, stats=self._stats))
        return typed_edge(a, b, results, self._model, self._config.relationships.thresholds)


def file_groups(pairs: Iterable[Tuple[str, str, Mapping[str, int]]]) -> List[FileGroup]:
    """(first, second, shared) triples -> each first file's partners, files and partners sorted by id."""
    by_first: Dict[str, list] = {}
    for first_id, second_id, shared in pairs:
        by_first.setdefault(first_id, []).append((second_id, shared))
    return [(first_id, sorted(by_first[first_id], key=lambda partner: partner[0])) for first_id in sorted(by_first)]


def chunks_of(groups: Sequence[FileGroup], pairs_per_chunk: int = CHUNK_PAIRS) -> List[List[FileGroup]]:
    """Whole file groups in order, cut into chunks of about `pairs_per_chunk` pairs."""
    return chunked(groups, lambda group: len(group[1]), pairs_per_chunk)


def files_of(chunk: Sequence[FileGroup]) -> List[str]:
    """The file ids a chunk's pairs need views of, sorted."""
    return sorted({first_id for first_id, _ in chunk} | {second for _, partners in chunk for second, _ in partners})


def score_chunk(scorer: PairScorer, chunk: Chunk) -> List[ScoredPair]:
    """`scorer.score_chunk` of a (groups, packed views) chunk: what a scoring process runs."""
    return scorer.score_chunk(*chunk)
