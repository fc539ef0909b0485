"""The Python API of the product proposal, on the same code as the pipeline.

    DataTransformationPipeline(config).process_batch(input_directory=..., output_directory=...)
    RelationshipDetector().detect_relationships(file_metadata_list, strategies=[...])
    AgenticAIFormatter().format_for_agentic_ai(file_data_list, relationship_graph, include_reasoning=True)
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

import networkx as nx

from transforms.config import Config, config_from_dict, load_config
from transforms.detect.relationships import detect
from transforms.detect.scoring import Edge
from transforms.model import FileRecord
from transforms.detect.scoring import ConfidenceModel
from transforms.output.training import build_records, file_summary, summary_budget, sure_thresholds
from transforms.output.training.evidence import common_root

ConfigLike = Union[Config, Mapping[str, Any], str, None]


def _config(config: ConfigLike) -> Config:
    if isinstance(config, Config):
        return config
    if isinstance(config, str):
        return load_config(config)
    return config_from_dict(config or {})


def _record(item: Union[FileRecord, Mapping[str, Any]]) -> FileRecord:
    return item if isinstance(item, FileRecord) else FileRecord.from_dict(dict(item))


class DataTransformationPipeline:
    """Runs the Beam pipeline on a directory, or extracts files in memory."""

    def __init__(self, config: ConfigLike = None, beam_args: Sequence[str] = ()):
        self.config = _config(config)
        self.beam_args = list(beam_args)

    def process_batch(self, input_directory: Union[str, Sequence[str]], output_directory: str,
                      detect_relationships: bool = True) -> Dict[str, Any]:
        """Runs the pipeline; returns the run summary."""
        from beam_pipeline.pipeline import run_pipeline

        config = self.config
        if not detect_relationships:
            config = dataclasses.replace(
                config, relationships=dataclasses.replace(config.relationships, strategies=()))
        inputs = [input_directory] if isinstance(input_directory, str) else list(input_directory)
        return run_pipeline(inputs, output_directory, config, self.beam_args)

    def extract(self, paths: Iterable[str]) -> tuple:
        """(records, errors) for local files, without Beam."""
        from transforms.extract.local import extract_paths

        return extract_paths(paths, self.config)


class RelationshipDetector:
    """Blocks, scores and types pairs of extracted files."""

    def __init__(self, config: ConfigLike = None):
        self.config = _config(config)

    def detect_relationships(self, file_metadata_list: Sequence[Union[FileRecord, Mapping[str, Any]]],
                             strategies: Optional[Sequence[str]] = None) -> List[Dict[str, Any]]:
        config = self.config
        if strategies is not None:
            config = config_from_dict({**config.to_dict(), "relationships": {
                **config.to_dict()["relationships"], "strategies": list(strategies)}})
        records = [_record(r) for r in file_metadata_list]
        return [edge.to_dict() for edge in detect(records, config)]


class AgenticAIFormatter:
    """Builds the training records of every configured task (training.tasks) from files and their edges."""

    def __init__(self, config: ConfigLike = None):
        self.config = _config(config)

    def format_for_agentic_ai(self, file_data_list: Sequence[Union[FileRecord, Mapping[str, Any]]],
                              relationship_graph: Union[nx.DiGraph, Sequence[Mapping[str, Any]]],
                              include_reasoning: bool = True) -> List[Dict[str, Any]]:
        """Records as the pipeline writes them (split, deduplicated), with paths relative to the files'
        common folder; without reasoning, `synthetic_reasoning` is null."""
        records = [_record(r) for r in file_data_list]
        roots = common_root([r.file_path for r in records])
        summaries = {r.file_id: file_summary(r, roots, summary_budget(self.config)) for r in records}
        config = self.config
        if not include_reasoning:
            strategies = tuple(s for s in config.relationships.strategies if s != "synthetic_reasoning")
            config = dataclasses.replace(config, relationships=dataclasses.replace(
                config.relationships, strategies=strategies))
        training, _ = build_records(summaries, _edge_dicts(relationship_graph), [], config,
                                    sure_thresholds(config, ConfidenceModel.load()))
        return training


def _edge_dicts(graph: Union[nx.DiGraph, Sequence[Any]]) -> List[Dict[str, Any]]:
    if isinstance(graph, nx.Graph):
        return [dict(data, source=u, target=v) for u, v, data in graph.edges(data=True)]
    return [e.to_dict() if isinstance(e, Edge) else dict(e) for e in graph]


def to_networkx(edges: Iterable[Mapping[str, Any]]) -> nx.DiGraph:
    """The relationship graph as a networkx DiGraph (edge attributes kept)."""
    graph = nx.DiGraph()
    for edge in edges:
        attrs = {k: v for k, v in edge.items() if k not in ("source", "target")}
        graph.add_edge(edge["source"], edge["target"], **attrs)
    return graph
