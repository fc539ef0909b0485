import pytest

from transforms.config import (
    Config,
    ConfigError,
    config_from_dict,
    load_config,
    with_overrides,
)


def test_defaults_are_valid():
    config = config_from_dict({})
    assert config.relationships.thresholds.min_confidence == 0.6
    assert "*.xlsx" in config.batch.patterns


def test_yaml_sections_are_read(tmp_path):
    path = tmp_path / "filegraph.yaml"
    path.write_text(
        "batch:\n  patterns: ['*.csv']\n  max_workers: 2\n"
        "relationships:\n  strategies: [filename_pattern, content_similarity]\n"
        "  thresholds: {min_confidence: 0.7, semantic_similarity: 0.8}\n"
        "reasoning:\n  llm: {enabled: false, provider: anthropic, model: claude-haiku-4-5}\n"
        "training:\n  splits: {train: 0.7, validation: 0.2, test: 0.1}\n"
    )
    config = load_config(str(path))
    assert config.batch.patterns == ("*.csv",)
    assert config.relationships.strategies == ("filename_pattern", "content_similarity")
    assert config.relationships.thresholds.min_confidence == 0.7
    assert config.reasoning.llm.provider == "anthropic"
    assert (config.training.splits.train, config.training.splits.validation) == (0.7, 0.2)


def test_repo_filegraph_yaml_is_the_defaults():
    import os

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "filegraph.yaml")
    assert load_config(path) == Config()


@pytest.mark.parametrize(
    "data, message",
    [
        ({"batch": {"colour": 1}}, "unknown config key 'config.batch.colour'"),
        ({"nonsense": {}}, "unknown config key 'config.nonsense'"),
        ({"relationships": {"thresholds": {"min_confidence": 1.5}}}, "min_confidence"),
        ({"relationships": {"strategies": ["telepathy"]}}, "unknown strategy 'telepathy'"),
        ({"batch": {"patterns": "*.csv"}}, "must be a list"),
        ({"privacy": {"policy": "shred"}}, "privacy.policy"),
        ({"relationships": {"llm_reasoning": {"enabled": True}}},
         "config key 'config.relationships.llm_reasoning' moved to 'reasoning.llm'"),
        ({"reasoning": {"llm": {"provider": "oracle"}}}, "reasoning.llm.provider"),
        ({"reasoning": {"llm": {"enabled": True, "provider": "openai_compatible"}}}, "needs reasoning.llm.base_url"),
        ({"reasoning": {"llm": {"borderline_min": 0.9, "borderline_max": 0.5}}}, "borderline_min"),
        ({"reasoning": {"llm": {"enabled": True}}, "relationships": {"strategies": ["content_similarity"]}},
         "needs synthetic_reasoning"),
        ({"training": {"splits": {"train": 0.8, "validation": 0.3, "test": 0.1}}}, "sum to 1"),
        ({"training": {"tasks": ["poetry"]}}, "unknown training task 'poetry'"),
        ({"training": {"precision_level": 0}}, "training.precision_level"),
    ],
)
def test_invalid_config_names_the_problem(data, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        config_from_dict(data)


def test_overrides_replace_single_values():
    config = with_overrides(Config(), **{"relationships.thresholds.min_confidence": 0.9, "batch.num_shards": None})
    assert config.relationships.thresholds.min_confidence == 0.9
    assert config.batch.num_shards == 0


def test_missing_config_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(str(tmp_path / "absent.yaml"))


def test_the_shipped_filegraph_yaml_lists_the_defaults():
    from pathlib import Path

    from transforms.config import Config

    shipped = load_config(str(Path(__file__).resolve().parent.parent / "filegraph.yaml"))
    assert shipped.exports == Config().exports and shipped.review == Config().review
    assert shipped.extraction == Config().extraction and shipped.batch.patterns == Config().batch.patterns


@pytest.mark.parametrize("section, message", [
    ({"exports": {"formats": ["graphml", "pdf"]}}, "unknown export format 'pdf'"),
    ({"review": {"min_confidence": 0.8, "max_confidence": 0.7}}, "review band"),
    ({"exports": {"hub_min_degree": 0}}, "hub_min_degree"),
])
def test_export_and_review_settings_are_checked(section, message):
    from transforms.config import ConfigError, config_from_dict

    with pytest.raises(ConfigError, match=message):
        config_from_dict(section)


@pytest.mark.parametrize("key, value", [("workers", 0), ("worker_max_files", 0), ("max_table_cells", 0)])
def test_extraction_counts_must_be_positive(key, value):
    with pytest.raises(ConfigError, match=f"extraction.{key}"):
        config_from_dict({"extraction": {key: value}})


def test_a_memory_budget_too_small_for_the_parser_processes_is_refused():
    with pytest.raises(ConfigError, match="memory_budget_mb"):
        config_from_dict({"extraction": {"memory_budget_mb": 256, "workers": 4}})
