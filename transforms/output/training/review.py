"""Borderline review: an LLM judges edges whose confidence lies in the configured band.

Only redacted text is sent, each file fenced with a fence longer than any run
of backticks inside it, and the system prompt says fenced content is data, not
instructions. The answer must be JSON valid against `VERDICT_SCHEMA` whose
quotes appear in the files; anything else falls back to the offline reasoner
and is counted. A verdict can confirm the edge (the LLM's reasoning becomes
evidence), reject it (dropped or down-weighted, as configured) or dispute its
type; it never changes the type, so no text inside a file can retype an edge.
Calls are cached on disk (local or gs://) by model, template version,
parameters and both files' content hashes: a rerun makes no new call.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from typing import Any, Dict, Mapping, Optional, Tuple

import jsonschema
from apache_beam.io.filesystems import FileSystems

from transforms.config import LlmConfig
from transforms.detect.scoring import RELATIONSHIP_TYPES, Edge
from transforms.output.training.evidence import describe_view, record_view
from transforms.output.training.llm_clients import LlmError, complete_with_retries
from transforms.output.training.templates import phrase, prompt, template_version

VERDICT_SCHEMA = {
    "type": "object",
    "required": ["relationship_type", "direction", "evidence_quotes", "reasoning"],
    "properties": {
        "relationship_type": {"enum": list(RELATIONSHIP_TYPES) + ["NONE"]},
        "direction": {"enum": ["A_TO_B", "B_TO_A", "NONE"]},
        "evidence_quotes": {"type": "array", "maxItems": 8, "items": {"type": "string", "minLength": 1}},
        "reasoning": {"type": "string", "minLength": 1, "maxLength": 2000},
    },
}
_VALIDATOR = jsonschema.Draft202012Validator(VERDICT_SCHEMA)
_SPACE = re.compile(r"\s+")
USAGE_KEYS = ("pairs_reviewed", "calls", "cache_hits", "invalid_responses", "errors", "confirmed", "rejected",
              "disputed", "prompt_tokens", "completion_tokens", "cost_usd")


def in_band(confidence: float, llm: LlmConfig) -> bool:
    return llm.borderline_min <= confidence < llm.borderline_max


def fence(text: str) -> str:
    """`text` between fences of backticks longer than any run inside it, so it cannot close its fence."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    marks = "`" * max(3, longest + 1)
    return f"{marks}\n{text}\n{marks}"


def review_prompt(edge: Edge, a: Mapping[str, Any], b: Mapping[str, Any], llm: LlmConfig) -> Tuple[str, str, str]:
    """(system, user, files' text as sent) asking whether A -> B holds; A is the edge's source."""
    views = [describe_view(record_view(s, llm.text_token_budget)) for s in (a, b)]
    signals = ", ".join(sorted(edge.evidence)) or "none"
    user = prompt("llm_review").format(
        confidence=f"{edge.confidence:.2f}", relationship_type=edge.relationship_type,
        type_definition=phrase("types", edge.relationship_type, "definition"), signals=signals,
        path_a=a["file_path"], type_a=a["file_type"], fenced_a=fence(views[0]),
        path_b=b["file_path"], type_b=b["file_type"], fenced_b=fence(views[1]))
    return prompt("llm_review_system"), user, "\n".join(views)


def _normal(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()


def parse_verdict(text: str, sent: str) -> Optional[Dict[str, Any]]:
    """The verdict in a response, or None when it is not valid JSON of the schema or quotes text not sent."""
    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`").removeprefix("json").strip()
    try:
        verdict = json.loads(body)
    except ValueError:
        return None
    if not _VALIDATOR.is_valid(verdict):
        return None
    haystack = _normal(sent)
    if any(_normal(q) not in haystack for q in verdict["evidence_quotes"]):
        return None  # a quote the files do not contain is made up
    return {k: verdict[k] for k in VERDICT_SCHEMA["required"]}


def cache_key(llm: LlmConfig, a: Mapping[str, Any], b: Mapping[str, Any], edge: Edge) -> str:
    params = {"model": llm.model, "provider": llm.provider, "temperature": llm.temperature,
              "max_output_tokens": llm.max_output_tokens, "text_token_budget": llm.text_token_budget,
              "templates": template_version(), "type": edge.relationship_type,
              "files": [a["content_hash"], b["content_hash"]]}
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode("utf-8")).hexdigest()


class ResponseCache:
    """One JSON file per call under `directory` (any Beam filesystem)."""

    def __init__(self, directory: str):
        self._directory = directory.rstrip("/")

    def _path(self, key: str) -> str:
        return f"{self._directory}/{key[:2]}/{key}.json"

    def get(self, key: str) -> Optional[Dict[str, Any]]:
        path = self._path(key)
        if not FileSystems.exists(path):
            return None
        with FileSystems.open(path) as handle:
            return json.loads(handle.read().decode("utf-8"))

    def put(self, key: str, entry: Mapping[str, Any]) -> None:
        if "://" not in self._directory:
            import os

            os.makedirs(f"{self._directory}/{key[:2]}", exist_ok=True)
        with FileSystems.create(self._path(key)) as handle:
            handle.write(json.dumps(dict(entry), sort_keys=True).encode("utf-8"))


def empty_usage() -> Dict[str, float]:
    return {k: 0 for k in USAGE_KEYS}


def review_edge(edge: Edge, a: Mapping[str, Any], b: Mapping[str, Any], client, cache: ResponseCache,
                llm: LlmConfig) -> Tuple[Optional[Edge], Dict[str, float]]:
    """(the edge after review, or None when rejected and dropped; usage counts)."""
    usage = empty_usage()
    usage["pairs_reviewed"] = 1
    system, user, sent = review_prompt(edge, a, b, llm)
    key = cache_key(llm, a, b, edge)
    entry = cache.get(key)
    if entry is None:
        try:
            completion = complete_with_retries(client, system, user, llm)
        except LlmError:
            usage["errors"] = 1
            return edge, usage
        entry = {"text": completion.text, "prompt_tokens": completion.prompt_tokens,
                 "completion_tokens": completion.completion_tokens}
        cache.put(key, entry)
        usage.update(calls=1, prompt_tokens=entry["prompt_tokens"], completion_tokens=entry["completion_tokens"],
                     cost_usd=(entry["prompt_tokens"] * llm.input_cost_per_million
                               + entry["completion_tokens"] * llm.output_cost_per_million) / 1e6)
    else:
        usage["cache_hits"] = 1
    verdict = parse_verdict(entry["text"], sent)
    if verdict is None:
        usage["invalid_responses"] = 1
        return edge, usage
    return apply_verdict(edge, verdict, llm, usage)


def apply_verdict(edge: Edge, verdict: Mapping[str, Any], llm: LlmConfig, usage: Dict[str, float]
                  ) -> Tuple[Optional[Edge], Dict[str, float]]:
    kind = verdict["relationship_type"]
    outcome = "confirmed" if kind == edge.relationship_type else "rejected" if kind == "NONE" else "disputed"
    usage[outcome] = 1
    details = dict(edge.evidence_details)
    details["synthetic_reasoning"] = {"verdict": outcome, "model": llm.model, **verdict}
    if outcome == "rejected" and llm.on_reject == "drop":
        return None, usage
    changes: Dict[str, Any] = {"evidence_details": details}
    if outcome == "confirmed":
        changes["evidence"] = sorted(set(edge.evidence) | {"synthetic_reasoning"})
    if outcome == "rejected":
        changes["confidence"] = round(edge.confidence * llm.downweight_factor, 4)
    return dataclasses.replace(edge, **changes), usage
