"""The prompt and reasoning templates kept in templates/ (prompts/*.txt, reasoning.yaml).

Every sentence the offline reasoner writes and every prompt a record or an LLM
call carries is rendered from these files. `template_version()` hashes them
all, so that the LLM cache is invalidated when a template changes.
"""

from __future__ import annotations

import functools
import hashlib
from importlib import resources
from typing import Any, Dict

import yaml

_PROMPTS = ("system", "find_related", "explain_link", "workflow", "trajectory", "llm_review_system", "llm_review")


def _read(*parts: str) -> str:
    return resources.files("templates").joinpath(*parts).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=None)
def prompt(name: str) -> str:
    """templates/prompts/<name>.txt, without its trailing newline."""
    return _read("prompts", f"{name}.txt").rstrip("\n")


@functools.lru_cache(maxsize=None)
def phrases() -> Dict[str, Any]:
    """templates/reasoning.yaml: the offline reasoner's phrases."""
    return yaml.safe_load(_read("reasoning.yaml"))


def phrase(*path: str, **values: Any) -> str:
    """One phrase of reasoning.yaml by its key path, rendered with `values`."""
    node: Any = phrases()
    for key in path:
        node = node[key]
    return node.format(**values) if values else node


@functools.lru_cache(maxsize=None)
def template_version() -> str:
    digest = hashlib.sha256(_read("reasoning.yaml").encode("utf-8"))
    for name in _PROMPTS:
        digest.update(prompt(name).encode("utf-8"))
    return digest.hexdigest()[:12]
