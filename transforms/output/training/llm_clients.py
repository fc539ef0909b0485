"""Chat clients for the borderline review: OpenAI and Anthropic through their SDKs, any OpenAI-compatible server.

The SDKs are an optional extra (`pip install filegraph[llm]`) imported only
when their provider is configured. An OpenAI-compatible server (vLLM, Ollama,
llama.cpp, a gateway) is reached by base URL with the standard library alone.
The API key is read from the environment variable the config names and is
never logged, stored or put in an error message.
"""

from __future__ import annotations

import importlib
import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Callable, Optional

from transforms.config import LlmConfig


class LlmError(Exception):
    """A request failed; `retryable` for rate limits, server errors and lost connections."""

    def __init__(self, message: str, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


class LlmSetupError(Exception):
    """The provider cannot be used as configured (missing SDK or key)."""


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int


def _retryable_status(status: Optional[int]) -> bool:
    return status is None or status in (408, 409, 429) or status >= 500


def _sdk_error(exc: Exception) -> LlmError:
    """An SDK exception as an LlmError naming only its class and status (no request data, no key)."""
    status = getattr(exc, "status_code", None)
    return LlmError(f"{type(exc).__name__}" + (f" (HTTP {status})" if status else ""), _retryable_status(status))


class _SdkClient:
    """A provider's official SDK, imported when the provider is configured; the SDK's own retries off."""

    sdk = ""  # the PyPI package and module
    client_class = ""

    def __init__(self, llm: LlmConfig, api_key: str):
        try:
            module = importlib.import_module(self.sdk)
        except ImportError as exc:
            raise LlmSetupError(f"provider {llm.provider} needs the {self.sdk} package: "
                                "pip install 'filegraph[llm]'") from exc
        self._errors = (module.APIError,)
        self._llm = llm
        self._client = getattr(module, self.client_class)(api_key=api_key, base_url=llm.base_url or None,
                                                          max_retries=0, timeout=llm.timeout_seconds)

    def complete(self, system: str, user: str) -> Completion:
        try:
            return self._complete(system, user)
        except self._errors as exc:
            raise _sdk_error(exc) from None

    def _complete(self, system: str, user: str) -> Completion:
        raise NotImplementedError


class OpenAIClient(_SdkClient):
    sdk, client_class = "openai", "OpenAI"

    def _complete(self, system: str, user: str) -> Completion:
        response = self._client.chat.completions.create(
            model=self._llm.model, temperature=self._llm.temperature, max_tokens=self._llm.max_output_tokens,
            messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
            response_format={"type": "json_object"})
        usage = response.usage
        return Completion(response.choices[0].message.content or "", getattr(usage, "prompt_tokens", 0) or 0,
                          getattr(usage, "completion_tokens", 0) or 0)


class AnthropicClient(_SdkClient):
    sdk, client_class = "anthropic", "Anthropic"

    def _complete(self, system: str, user: str) -> Completion:
        response = self._client.messages.create(
            model=self._llm.model, max_tokens=self._llm.max_output_tokens, system=system,
            messages=[{"role": "user", "content": user}])
        text = "".join(getattr(block, "text", "") for block in response.content)
        return Completion(text, response.usage.input_tokens or 0, response.usage.output_tokens or 0)


class CompatibleClient:
    """POST {base_url}/chat/completions with the standard library (vLLM, Ollama, llama.cpp, gateways)."""

    def __init__(self, llm: LlmConfig, api_key: str):
        self._llm = llm
        self._url = llm.base_url.rstrip("/") + "/chat/completions"
        self._headers = {"Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"

    def complete(self, system: str, user: str) -> Completion:
        body = json.dumps({
            "model": self._llm.model, "temperature": self._llm.temperature, "max_tokens": self._llm.max_output_tokens,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "response_format": {"type": "json_object"},
        }).encode("utf-8")
        request = urllib.request.Request(self._url, data=body, headers=self._headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self._llm.timeout_seconds) as response:
                data = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            raise LlmError(f"HTTPError (HTTP {exc.code})", _retryable_status(exc.code)) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise LlmError(type(exc).__name__, True) from None
        except ValueError:
            raise LlmError("response is not JSON", False) from None
        try:
            text = data["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise LlmError("response has no choices[0].message.content", False) from None
        usage = data.get("usage") or {}
        return Completion(text, int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))


_PROVIDERS = {"openai": OpenAIClient, "anthropic": AnthropicClient, "openai_compatible": CompatibleClient}


def make_client(llm: LlmConfig):
    """The configured provider's client, with the key read from `llm.api_key_env`."""
    api_key = os.environ.get(llm.api_key_env, "") if llm.api_key_env else ""
    if not api_key and llm.provider != "openai_compatible":
        raise LlmSetupError(f"provider {llm.provider} needs an API key in the environment variable {llm.api_key_env}")
    return _PROVIDERS[llm.provider](llm, api_key)


def complete_with_retries(client, system: str, user: str, llm: LlmConfig,
                          sleep: Callable[[float], None] = time.sleep) -> Completion:
    """One completion, retried with exponential backoff on retryable failures."""
    for attempt in range(llm.max_retries + 1):
        try:
            return client.complete(system, user)
        except LlmError as exc:
            if not exc.retryable or attempt == llm.max_retries:
                raise
            sleep(llm.backoff_seconds * 2 ** attempt)
    raise AssertionError("unreachable")
