"""Build a LangChain chat model from settings, for any provider `init_chat_model` knows.

Why one factory: the key handling (a `SecretStr`, unwrapped only into the constructor and
scrubbed from every error), the "which pip package is missing" message and the local-server
case (llama.cpp, vLLM: the `openai` provider with a `base_url`) live in one place.
LangChain is imported inside the function: importing it costs start-up time that most
commands never need.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from agent.errors import ConfigError
from agent.settings import LLMSettings

__all__ = ["LOCAL_SERVER_KEY", "LLMSettings", "build_chat_model"]

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

LOCAL_SERVER_KEY = "not-needed"
"""Sent to an OpenAI-compatible `base_url` when no key is configured: the SDK insists on
one, and falling back to `OPENAI_API_KEY` would hand a real OpenAI key to a third party."""


def _provider(model: str) -> str | None:
    """The explicit `provider:` prefix, if any (bare names are left to LangChain to infer)."""
    head, sep, _ = model.partition(":")
    return head.replace("-", "_").lower() if sep else None


def _model_kwargs(settings: LLMSettings, provider: str | None, key: str | None) -> dict[str, Any]:
    """LangChain's standard constructor parameters; Ollama's client spells them its own way."""
    if provider == "ollama":
        kwargs: dict[str, Any] = {
            "temperature": settings.temperature,
            "num_predict": settings.max_output_tokens,
            "client_kwargs": {"timeout": settings.timeout_s},
        }
        if key:
            kwargs["headers"] = {"Authorization": f"Bearer {key}"}
    else:
        kwargs = {
            "temperature": settings.temperature,
            "timeout": settings.timeout_s,
            "max_retries": settings.max_retries,
            "max_tokens": settings.max_output_tokens,
        }
        if key:
            kwargs["api_key"] = key
    if settings.base_url:
        kwargs["base_url"] = settings.base_url
    return kwargs


def _missing_package(exc: ImportError) -> str:
    """The pip package LangChain says is missing, e.g. `langchain-anthropic`."""
    found = re.search(r"pip install ([\w.\-\[\]\"']+)", str(exc))
    if found:
        return found.group(1).strip("`'\"")
    module = exc.name or getattr(exc.__cause__, "name", None) or "the provider's package"
    return str(module).split(".")[0].replace("_", "-")


def build_chat_model(settings: LLMSettings) -> BaseChatModel:
    """A ready chat model for `settings.model`.

    Raises `ConfigError` naming `llm.model` when the provider is unknown or its integration
    package is not installed, `llm.api_key` when the provider wants a key it did not get, and
    `llm` for any other constructor failure. The key never appears in a message: it is
    scrubbed, and the original exception (which may echo constructor input) is not chained.
    """
    from langchain.chat_models import init_chat_model

    if not settings.model:
        raise ConfigError("llm.model: no model configured (the offline analyst needs none)")
    model = settings.model
    provider = _provider(model)
    key = settings.api_key.get_secret_value() if settings.api_key else None
    if key is None and settings.base_url and provider in ("openai", None):
        key = LOCAL_SERVER_KEY
    kwargs = _model_kwargs(settings, provider, key)

    def scrub(text: str) -> str:
        return text.replace(key, "**********") if key else text

    try:
        return init_chat_model(model, **kwargs)
    except ImportError as exc:
        package = _missing_package(exc)
        raise ConfigError(
            f"llm.model: {model!r} needs the {package} package; "
            f"install it with `pip install {package}`"
        ) from None
    except Exception as exc:  # noqa: BLE001 - providers raise their own types; all are config
        text = scrub(str(exc)).strip() or type(exc).__name__
        if isinstance(exc, ValueError) and ("Unsupported" in text or "Unable to infer" in text):
            raise ConfigError(
                f"llm.model: {model!r} has no known provider; write it as "
                "'provider:model', e.g. 'openai:gpt-4o-mini' or 'ollama:llama3.1'"
            ) from None
        if "api_key" in text or "credentials" in text.lower():
            raise ConfigError(
                f"llm.api_key: {model!r} needs an API key; set llm.api_key or the "
                f"provider's environment variable ({text})"
            ) from None
        raise ConfigError(f"llm: cannot build {model!r}: {text}") from None
