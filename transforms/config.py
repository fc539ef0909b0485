"""filegraph configuration: YAML sections, defaults and validation.

The configuration is one frozen value passed to every stage, so that runner
workers see the same settings as the launcher. Unknown keys and out-of-range
values raise `ConfigError` with a one-line message naming the problem.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Tuple

from transforms.pii import DEFAULT_POLICY, POLICIES

STRATEGIES = (
    "filename_pattern",
    "content_similarity",
    "aggregate_matching",
    "metadata_matching",
    "structure_matching",
    "semantic_similarity",
    "synthetic_reasoning",
)

DEFAULT_PATTERNS = (
    "*.xlsx", "*.xlsm", "*.xls", "*.csv", "*.tsv", "*.json", "*.jsonl",
    "*.pptx", "*.docx", "*.sqlite", "*.db", "*.pdf", "*.md", "*.txt", "*.sql", "*.yml", "*.yaml",
)


# Files written after the run under exports/ (transforms/output/exports.py).
EXPORT_FORMATS = ("graphml", "node_link", "neo4j", "parquet", "report", "review_queue")


class ConfigError(ValueError):
    """A configuration value is unknown or invalid."""


@dataclass(frozen=True)
class BatchConfig:
    patterns: Tuple[str, ...] = DEFAULT_PATTERNS
    max_workers: int = 4
    chunk_size: int = 100
    num_shards: int = 0  # 0: let the runner decide; >0 fixes output shard counts


@dataclass(frozen=True)
class ExtractionConfig:
    max_file_bytes: int = 200 * 1024 * 1024
    max_uncompressed_bytes: int = 1024 * 1024 * 1024
    max_compression_ratio: float = 200.0
    max_rows_per_table: int = 100_000  # rows profiled per table; beyond, sampled
    max_text_chars: int = 20_000  # bounded text representation
    timeout_seconds: float = 120.0  # per file
    value_sketch_size: int = 2048  # bottom-k value hashes per column
    num_perm: int = 128  # MinHash permutations


@dataclass(frozen=True)
class PrivacyConfig:
    redact: bool = True
    policy: str = DEFAULT_POLICY  # pseudonym | mask | hash | drop (transforms/pii/redactor.py)
    exclude_paths: Tuple[str, ...] = ()  # fnmatch patterns of paths never read
    exclude_classifications: Tuple[str, ...] = ()  # e.g. ("secret", "restricted")


@dataclass(frozen=True)
class Thresholds:
    min_confidence: float = 0.6
    semantic_similarity: float = 0.7


@dataclass(frozen=True)
class LlmConfig:
    enabled: bool = False
    provider: str = "openai"
    model: str = "gpt-4o-mini"
    api_key_env: str = "OPENAI_API_KEY"  # the key is read from this variable only


@dataclass(frozen=True)
class BlockingConfig:
    max_bucket_size: int = 50  # a larger bucket is a hot key
    # Buckets of weak keys (column names, key terms, rounded numbers) are
    # capped lower: a term shared by 30 files says little about any pair.
    max_weak_bucket_size: int = 12
    lsh_bands: int = 16
    lsh_rows: int = 8
    value_keys_per_column: int = 64


@dataclass(frozen=True)
class RelationshipsConfig:
    strategies: Tuple[str, ...] = STRATEGIES
    thresholds: Thresholds = field(default_factory=Thresholds)
    llm_reasoning: LlmConfig = field(default_factory=LlmConfig)
    blocking: BlockingConfig = field(default_factory=BlockingConfig)


@dataclass(frozen=True)
class ExportsConfig:
    formats: Tuple[str, ...] = EXPORT_FORMATS
    hub_min_degree: int = 3  # a hub has at least this many relationships
    max_hubs: int = 25  # hubs listed, most connected first
    report_max_nodes: int = 1500  # files drawn in the report's graph view, largest components first


@dataclass(frozen=True)
class ReviewConfig:
    # Edges with min_confidence <= confidence < max_confidence go to the review queue.
    min_confidence: float = 0.6
    max_confidence: float = 0.8
    feedback_file: str = ""  # accept/reject decisions applied by the run (CSV, local or gs://)


@dataclass(frozen=True)
class IndexConfig:
    """The metadata index that lets a rerun extract only new or changed files."""

    enabled: bool = True
    # "": OUTPUT/index.sqlite beside the outputs (local outputs only); a path or
    # sqlite:///path; or postgresql://user@host:port/db, its password from PGPASSWORD.
    url: str = ""
    retry_errors: bool = False  # re-extract unchanged files that failed last time
    cache_scores: bool = True  # reuse a pair's score while everything scoring reads is unchanged


@dataclass(frozen=True)
class Config:
    batch: BatchConfig = field(default_factory=BatchConfig)
    extraction: ExtractionConfig = field(default_factory=ExtractionConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    relationships: RelationshipsConfig = field(default_factory=RelationshipsConfig)
    exports: ExportsConfig = field(default_factory=ExportsConfig)
    review: ReviewConfig = field(default_factory=ReviewConfig)
    index: IndexConfig = field(default_factory=IndexConfig)

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)


def _build(cls, data: Mapping[str, Any], where: str):
    if not isinstance(data, Mapping):
        raise ConfigError(f"config section '{where}' must be a mapping")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, value in data.items():
        if key not in fields:
            raise ConfigError(f"unknown config key '{where}.{key}'")
        default = getattr(cls(), key)
        if dataclasses.is_dataclass(default):
            values[key] = _build(type(default), value, f"{where}.{key}")
        elif isinstance(default, tuple):
            if isinstance(value, str) or not isinstance(value, (list, tuple)):
                raise ConfigError(f"config key '{where}.{key}' must be a list")
            values[key] = tuple(value)
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"config key '{where}.{key}' must be true or false")
            values[key] = value
        elif isinstance(default, (int, float)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"config key '{where}.{key}' must be a number")
            values[key] = type(default)(value) if isinstance(default, float) else value
        else:
            values[key] = value
    return cls(**values)


def validate(config: Config) -> Config:
    unknown = set(config.relationships.strategies) - set(STRATEGIES)
    if unknown:
        raise ConfigError(f"unknown strategy '{sorted(unknown)[0]}' (known: {', '.join(STRATEGIES)})")
    th = config.relationships.thresholds
    for name in ("min_confidence", "semantic_similarity"):
        value = getattr(th, name)
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"threshold '{name}' must be between 0 and 1, got {value}")
    if config.privacy.policy not in POLICIES:
        raise ConfigError(f"privacy.policy must be one of {', '.join(POLICIES)}, got '{config.privacy.policy}'")
    for name in ("max_bucket_size", "max_weak_bucket_size"):
        if getattr(config.relationships.blocking, name) < 2:
            raise ConfigError(f"relationships.blocking.{name} must be at least 2")
    unknown = set(config.exports.formats) - set(EXPORT_FORMATS)
    if unknown:
        raise ConfigError(f"unknown export format '{sorted(unknown)[0]}' (known: {', '.join(EXPORT_FORMATS)})")
    if config.exports.hub_min_degree < 1 or config.exports.max_hubs < 0 or config.exports.report_max_nodes < 1:
        raise ConfigError("exports.hub_min_degree and exports.report_max_nodes must be at least 1, "
                          "exports.max_hubs at least 0")
    band = config.review
    if not 0.0 <= band.min_confidence < band.max_confidence <= 1.0:
        raise ConfigError(f"review band must satisfy 0 <= min_confidence < max_confidence <= 1, "
                          f"got [{band.min_confidence}, {band.max_confidence}]")
    if not config.batch.patterns:
        raise ConfigError("batch.patterns must list at least one pattern")
    _validate_index_url(config.index.url)
    return config


_INDEX_SCHEMES = ("sqlite", "postgresql", "postgres")


def _validate_index_url(url: str) -> None:
    if "://" not in url:
        return  # "" or a local path
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in _INDEX_SCHEMES:
        raise ConfigError(f"index.url must be a path, sqlite:///path or postgresql://..., got scheme '{parts.scheme}'")
    if parts.password is not None:
        raise ConfigError("index.url must not hold a password: set PGPASSWORD (or a .pgpass file) instead")


def config_from_dict(data: Optional[Mapping[str, Any]]) -> Config:
    return validate(_build(Config, data or {}, "config"))


def load_config(path: Optional[str]) -> Config:
    """Reads a YAML config file (local or any Beam filesystem path)."""
    if not path:
        return validate(Config())
    import yaml
    from apache_beam.io.filesystems import FileSystems

    try:
        with FileSystems.open(path) as handle:
            data = yaml.safe_load(handle.read().decode("utf-8"))
    except (OSError, IOError) as exc:
        raise ConfigError(f"cannot read config file '{path}': {exc}") from exc
    except Exception as exc:  # yaml errors and Beam IO errors
        raise ConfigError(f"cannot read config file '{path}': {exc}") from exc
    return config_from_dict(data or {})


def with_overrides(config: Config, **overrides: Any) -> Config:
    """Applies CLI overrides given as dotted keys, e.g. {"relationships.thresholds.min_confidence": 0.5}."""
    data = config.to_dict()
    for dotted, value in overrides.items():
        if value is None:
            continue
        node = data
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = value
    return config_from_dict(data)
