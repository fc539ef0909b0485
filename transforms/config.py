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
    "*.xlsx", "*.xlsm", "*.xltx", "*.xltm", "*.xls", "*.ods", "*.csv", "*.tsv", "*.json", "*.jsonl",
    "*.sqlite", "*.db", "*.sql", "*.yml", "*.yaml",
    "*.docx", "*.docm", "*.dotx", "*.dotm", "*.doc", "*.odt", "*.rtf", "*.pdf", "*.md", "*.txt",
    "*.html", "*.htm",
    "*.pptx", "*.pptm", "*.potx", "*.potm", "*.ppsx", "*.ppsm", "*.ppt", "*.pps", "*.odp",
    "*.eml", "*.msg",
)


# Files written after the run under exports/ (transforms/output/exports.py).
EXPORT_FORMATS = ("graphml", "node_link", "neo4j", "parquet", "report", "review_queue")


class ConfigError(ValueError):
    """A configuration value is unknown or invalid."""


@dataclass(frozen=True)
class BatchConfig:
    patterns: Tuple[str, ...] = DEFAULT_PATTERNS
    max_workers: int = 4  # workers of a multi-process/thread local run without --direct_num_workers (per core at most)
    num_shards: int = 0  # 0: let the runner decide; >0 fixes output shard counts
    # Processes that run blocking's groupings, score pairs and build training records beside the
    # runner's worker, at most one per core; 0 or 1 does that work in the worker itself.
    worker_processes: int = 2


@dataclass(frozen=True)
class ExtractionConfig:
    max_file_bytes: int = 200 * 1024 * 1024
    max_uncompressed_bytes: int = 1024 * 1024 * 1024
    max_compression_ratio: float = 200.0
    max_rows_per_table: int = 100_000  # rows profiled per table; beyond, sampled
    # Cells profiled per table (rows x columns), and the largest used range a
    # workbook sheet may declare before it is read row by row instead of at once.
    max_table_cells: int = 2_000_000
    # CSV/TSV/JSON/JSONL/text: bytes parsed; the rest is hashed and its lines counted.
    max_read_bytes: int = 64 * 1024 * 1024
    max_text_chars: int = 20_000  # bounded text representation
    timeout_seconds: float = 120.0  # per file, wall clock; a hard stop when isolated
    value_sketch_size: int = 2048  # bottom-k value hashes per column
    # Value hashes per table: a table wider than table_sketch_hashes / value_sketch_size
    # columns keeps fewer per column (at least MIN_COLUMN_SKETCH), so one 16,384-column
    # sheet does not carry 33 million hashes into every pair it is part of.
    table_sketch_hashes: int = 131_072
    num_perm: int = 128  # MinHash permutations
    # Parser isolation: each file is read, parsed, redacted and signed in a worker
    # process that is killed and replaced on a crash, timeout or memory overrun.
    isolation: bool = True
    workers: int = 2  # parser processes per extraction step
    # Memory of the extraction step on one machine (this process and its parser
    # processes); each parser process may use memory_budget_mb / (workers + 1).
    memory_budget_mb: int = 2048
    worker_max_files: int = 1000  # a parser process is replaced after this many files

    @property
    def worker_memory_bytes(self) -> int:
        return self.memory_budget_mb * 1024 * 1024 // (self.workers + 1)


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
class BlockingConfig:
    max_bucket_size: int = 50  # a larger bucket is a hot key
    # Buckets of weak keys (column names, key terms, rounded numbers) are
    # capped lower: a term shared by 30 files says little about any pair.
    max_weak_bucket_size: int = 12
    lsh_bands: int = 16
    lsh_rows: int = 8
    value_keys_per_column: int = 64
    # Meta-blocking: each file keeps its this many best-weighted candidate partners
    # (rare shared keys weigh most); a pair stays when either file keeps it. 0 keeps every pair.
    top_partners: int = 40


@dataclass(frozen=True)
class RelationshipsConfig:
    strategies: Tuple[str, ...] = STRATEGIES
    thresholds: Thresholds = field(default_factory=Thresholds)
    blocking: BlockingConfig = field(default_factory=BlockingConfig)


TRAINING_TASKS = ("find_related", "explain_link", "workflow", "trajectory")
LLM_PROVIDERS = ("openai", "anthropic", "openai_compatible")


@dataclass(frozen=True)
class SplitFractions:
    """Shares of files (whole connected components) per dataset split."""

    train: float = 0.8
    validation: float = 0.1
    test: float = 0.1


@dataclass(frozen=True)
class TrainingConfig:
    # An edge is taught as related when its confidence reaches the level at which
    # measured precision is at least this (scoring.confidence_for_precision).
    precision_level: float = 0.9
    tasks: Tuple[str, ...] = TRAINING_TASKS
    primary_token_budget: int = 400  # approximate tokens of the primary file's text in a record
    related_token_budget: int = 150  # approximate tokens of each related file's text
    max_related_files: int = 8  # per find_related / trajectory record, most confident first
    max_group_files: int = 10  # files per workflow record
    negatives_per_file: int = 2  # candidate pairs without an edge taught as not related, per file
    uncertain_examples: bool = True  # edges below the precision level become "uncertain" examples
    splits: SplitFractions = field(default_factory=SplitFractions)
    records_per_shard: int = 5000
    dedup_threshold: float = 0.9  # records whose estimated Jaccard similarity reaches this are duplicates


@dataclass(frozen=True)
class LlmConfig:
    enabled: bool = False
    provider: str = "openai"  # openai | anthropic | openai_compatible (any server by base_url)
    model: str = "gpt-4o-mini"
    base_url: str = ""  # e.g. http://127.0.0.1:8000/v1 for vLLM, Ollama or llama.cpp
    api_key_env: str = "OPENAI_API_KEY"  # the key is read from this variable only
    borderline_min: float = 0.6  # only edges with confidence in [min, max) are sent
    borderline_max: float = 0.9
    on_reject: str = "drop"  # drop | downweight
    downweight_factor: float = 0.5  # confidence multiplier of a rejected edge under downweight
    temperature: float = 0.0
    max_output_tokens: int = 400
    text_token_budget: int = 600  # approximate tokens of each file's redacted text in a prompt
    max_concurrency: int = 4  # requests in flight per worker
    max_retries: int = 3
    backoff_seconds: float = 1.0  # first retry delay, doubled each retry
    timeout_seconds: float = 60.0
    cache_dir: str = ""  # "" = <output>/llm_cache; local or gs://
    input_cost_per_million: float = 0.0  # USD per million prompt tokens, for run_summary
    output_cost_per_million: float = 0.0


@dataclass(frozen=True)
class ReasoningConfig:
    llm: LlmConfig = field(default_factory=LlmConfig)


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
    # A rerun with nothing changed (inputs, config, code, outputs intact) keeps the last run's
    # outputs and runs no pipeline (transforms/index/runs.py).
    reuse_outputs: bool = True


@dataclass(frozen=True)
class Config:
    batch: BatchConfig = field(default_factory=BatchConfig)
    extraction: ExtractionConfig = field(default_factory=ExtractionConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    relationships: RelationshipsConfig = field(default_factory=RelationshipsConfig)
    exports: ExportsConfig = field(default_factory=ExportsConfig)
    review: ReviewConfig = field(default_factory=ReviewConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    reasoning: ReasoningConfig = field(default_factory=ReasoningConfig)

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)


_MOVED = {"config.relationships.llm_reasoning": "reasoning.llm"}


def _build(cls, data: Mapping[str, Any], where: str):
    if not isinstance(data, Mapping):
        raise ConfigError(f"config section '{where}' must be a mapping")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, value in data.items():
        if key not in fields:
            moved = _MOVED.get(f"{where}.{key}")
            raise ConfigError(f"config key '{where}.{key}' moved to '{moved}'" if moved
                              else f"unknown config key '{where}.{key}'")
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
    if config.batch.worker_processes < 0:
        raise ConfigError("batch.worker_processes must be at least 0 (0 works in the runner's worker)")
    if config.relationships.blocking.top_partners < 0:
        raise ConfigError("relationships.blocking.top_partners must be at least 0 (0 keeps every pair)")
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
    if config.batch.max_workers < 1:
        raise ConfigError("batch.max_workers must be at least 1")
    ex = config.extraction
    for name in ("workers", "worker_max_files", "max_table_cells", "max_read_bytes", "max_rows_per_table"):
        if getattr(ex, name) < 1:
            raise ConfigError(f"extraction.{name} must be at least 1")
    if ex.worker_memory_bytes < 128 * 1024 * 1024:
        raise ConfigError(
            f"extraction.memory_budget_mb={ex.memory_budget_mb} leaves under 128 MB to each of "
            f"{ex.workers} parser processes: raise it or lower extraction.workers"
        )
    if not config.batch.patterns:
        raise ConfigError("batch.patterns must list at least one pattern")
    _validate_training(config.training)
    _validate_llm(config.reasoning.llm, config.relationships.strategies)
    _validate_index_url(config.index.url)
    return config


def _validate_training(training: TrainingConfig) -> None:
    unknown = set(training.tasks) - set(TRAINING_TASKS)
    if unknown:
        raise ConfigError(f"unknown training task '{sorted(unknown)[0]}' (known: {', '.join(TRAINING_TASKS)})")
    if not 0.0 < training.precision_level <= 1.0:
        raise ConfigError(f"training.precision_level must be in (0, 1], got {training.precision_level}")
    shares = dataclasses.asdict(training.splits)
    if any(not 0.0 <= v <= 1.0 for v in shares.values()) or abs(sum(shares.values()) - 1.0) > 1e-6:
        raise ConfigError(f"training.splits must be shares between 0 and 1 that sum to 1, got {shares}")
    if training.splits.train <= 0:
        raise ConfigError("training.splits.train must be above 0")
    for name in ("primary_token_budget", "related_token_budget", "max_related_files", "records_per_shard"):
        if getattr(training, name) < 1:
            raise ConfigError(f"training.{name} must be at least 1")
    if training.max_group_files < 2:
        raise ConfigError("training.max_group_files must be at least 2")
    if training.negatives_per_file < 0:
        raise ConfigError("training.negatives_per_file must be 0 or more")
    if not 0.0 < training.dedup_threshold <= 1.0:
        raise ConfigError(f"training.dedup_threshold must be in (0, 1], got {training.dedup_threshold}")


def _validate_llm(llm: LlmConfig, strategies: Tuple[str, ...]) -> None:
    if llm.provider not in LLM_PROVIDERS:
        raise ConfigError(f"reasoning.llm.provider must be one of {', '.join(LLM_PROVIDERS)}, got '{llm.provider}'")
    if llm.on_reject not in ("drop", "downweight"):
        raise ConfigError(f"reasoning.llm.on_reject must be drop or downweight, got '{llm.on_reject}'")
    if not 0.0 <= llm.borderline_min <= llm.borderline_max <= 1.0:
        raise ConfigError("reasoning.llm.borderline_min and borderline_max must satisfy 0 <= min <= max <= 1")
    if not 0.0 <= llm.downweight_factor <= 1.0:
        raise ConfigError("reasoning.llm.downweight_factor must be between 0 and 1")
    for name in ("max_concurrency", "max_output_tokens", "text_token_budget"):
        if getattr(llm, name) < 1:
            raise ConfigError(f"reasoning.llm.{name} must be at least 1")
    if llm.max_retries < 0 or llm.backoff_seconds < 0 or llm.timeout_seconds <= 0:
        raise ConfigError("reasoning.llm.max_retries and backoff_seconds must be >= 0, timeout_seconds > 0")
    if llm.enabled and llm.provider == "openai_compatible" and not llm.base_url:
        raise ConfigError("reasoning.llm.provider openai_compatible needs reasoning.llm.base_url")
    if llm.enabled and "synthetic_reasoning" not in strategies:
        raise ConfigError("reasoning.llm.enabled needs synthetic_reasoning in relationships.strategies")


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
