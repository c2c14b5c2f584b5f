"""The fake OpenAI server behaves like OpenAI for LangChain, so LLM code can be tested on it.

What langchain 1.5 / langchain-openai 1.7 / openai 3.x do here (measured, not assumed):

- ``ChatOpenAI.with_structured_output(Model)`` defaults to ``method="json_schema"``: the
  request carries ``response_format: {"type": "json_schema", ...}`` (strict) and the openai
  SDK's ``chat.completions.parse`` validates ``message.content`` *inside the model call*.
  So malformed JSON and wrong-schema JSON both raise ``pydantic.ValidationError`` (not
  ``OutputParserException``), and ``include_raw=True`` does not catch them. (With
  ``method="function_calling"`` malformed arguments silently give ``None``; with a dict
  schema the lenient JSON parser accepts truncated JSON: use Pydantic models, json_schema.)
- A refusal (``message.refusal`` set, ``content`` null) raises ``OpenAIRefusalError``, a
  ``langchain_core.exceptions.ModelRefusalError``; with ``include_raw=True`` it comes back as
  ``parsed=None`` plus ``parsing_error``, the text in ``raw.additional_kwargs["refusal"]``.
- HTTP failures map to langchain-core's provider-neutral errors: timeout ->
  ``ModelTimeoutError``, 429 -> ``ModelRateLimitError``, 5xx -> ``ModelAPIError``.
- ``create_agent`` with a raw schema picks ``ProviderStrategy`` only for models with a
  structured-output profile (e.g. ``gpt-4o-mini``); ``fake-model`` gets ``ToolStrategy``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from langchain.agents import create_agent
from langchain.agents.structured_output import (
    ProviderStrategy,
    StructuredOutputValidationError,
    ToolStrategy,
)
from langchain_core.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelRateLimitError,
    ModelRefusalError,
    ModelTimeoutError,
)
from langchain_core.language_models import BaseChatModel
from langchain_core.tools import tool
from openai.types import ErrorObject, Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from pydantic import BaseModel, SecretStr, ValidationError

from agent.errors import ConfigError
from connectors.llm import LOCAL_SERVER_KEY, LLMSettings, build_chat_model
from tests.fakes.openai_server import FakeOpenAI, check_against_sdk

_STATUSES = (400, 401, 429, 500, 503)

SECRET = "sk-test-5f3a9c1e-do-not-print"


class Verdict(BaseModel):
    summary: str
    risk: str


@tool
def search_proposals(query: str) -> str:
    """Search stored proposals by meaning."""
    return f"EP 5.1 matches {query!r}"


@pytest.fixture(scope="module")
def shared_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def server(shared_server: FakeOpenAI) -> Iterator[FakeOpenAI]:
    """One server per module, reset per test: a new URL would cost each test a TLS setup.
    Every answer it gave must have passed the openai SDK's own types."""
    shared_server.reset()
    yield shared_server
    assert shared_server.server_errors == []


def _model(server: FakeOpenAI, **kw: Any) -> BaseChatModel:
    kw = {"model": "openai:fake-model", "api_key": SECRET, "max_retries": 0, **kw}
    return build_chat_model(
        LLMSettings(**{"model": "openai:gpt-4o-mini", "base_url": server.url + "/v1", **kw})
    )


def _ask(agent: Any) -> dict[str, Any]:
    result: dict[str, Any] = agent.invoke({"messages": [{"role": "user", "content": "Analyse"}]})
    return result


# ------------------------------------------------------------------ plain calls
def test_plain_invoke_sends_settings_and_key(server: FakeOpenAI) -> None:
    server.reply("It funds grants.")
    answer = _model(server, max_output_tokens=300).invoke("What does EP 5.1 do?")
    assert answer.content == "It funds grants."
    assert answer.response_metadata["finish_reason"] == "stop"
    assert answer.usage_metadata and answer.usage_metadata["total_tokens"] > 0
    body = server.requests[-1]
    assert body["model"] == "fake-model" and body["temperature"] == 0
    assert body["max_completion_tokens"] == 300
    assert server.prompt() == "user: What does EP 5.1 do?"
    assert server.request_headers[-1]["authorization"] == f"Bearer {SECRET}"


def test_bind_tools_returns_the_scripted_call(server: FakeOpenAI) -> None:
    server.reply_tool_call("search_proposals", {"query": "grants"}, call_id="call_1")
    message = _model(server).bind_tools([search_proposals]).invoke("find grants")
    assert message.tool_calls == [
        {
            "name": "search_proposals",
            "args": {"query": "grants"},
            "id": "call_1",
            "type": "tool_call",
        }
    ]
    assert server.requests[-1]["tools"][0]["function"]["name"] == "search_proposals"


def test_streaming_works(server: FakeOpenAI) -> None:
    server.reply("streamed answer")
    chunks = list(_model(server).stream("hi"))
    assert "".join(str(c.content) for c in chunks) == "streamed answer"
    assert server.requests[-1]["stream"] is True


# ------------------------------------------------------------ structured output
def test_structured_output_defaults_to_json_schema(server: FakeOpenAI) -> None:
    server.reply(Verdict(summary="Funds grants", risk="low"))
    result = _model(server).with_structured_output(Verdict).invoke("analyse")
    assert result == Verdict(summary="Funds grants", risk="low")
    fmt = server.requests[-1]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "Verdict"
    assert "tools" not in server.requests[-1]


def test_function_calling_method_also_works(server: FakeOpenAI) -> None:
    server.reply({"summary": "s", "risk": "high"})
    result = _model(server).with_structured_output(Verdict, method="function_calling").invoke("x")
    assert result == Verdict(summary="s", risk="high")
    assert server.requests[-1]["tool_choice"] == {
        "type": "function",
        "function": {"name": "Verdict"},
    }


@pytest.mark.parametrize("script", ["malformed", "wrong_schema"])
def test_bad_json_raises_pydantic_validation_error(server: FakeOpenAI, script: str) -> None:
    """The openai SDK validates inside the model call: ValidationError, even with include_raw."""
    if script == "malformed":
        server.malformed()
    else:
        server.wrong_schema({"title": "no summary here"})
    with pytest.raises(ValidationError) as info:
        _model(server).with_structured_output(Verdict, include_raw=True).invoke("x")
    kind = "json_invalid" if script == "malformed" else "missing"
    assert info.value.errors()[0]["type"] == kind


def test_refusal_raises_model_refusal_error(server: FakeOpenAI) -> None:
    server.refuse("I can't assess that.")
    with pytest.raises(ModelRefusalError, match=re.escape("I can't assess that.")):
        _model(server).with_structured_output(Verdict).invoke("x")
    server.refuse("Still no.")
    raw = _model(server).with_structured_output(Verdict, include_raw=True).invoke("x")
    assert raw["parsed"] is None and isinstance(raw["parsing_error"], ModelRefusalError)
    assert raw["raw"].additional_kwargs["refusal"] == "Still no."


# -------------------------------------------------------------- HTTP failures
def test_server_error_is_retried_by_the_openai_client(server: FakeOpenAI) -> None:
    server.fail(500, retry_after=0.01)
    server.reply("recovered")
    assert _model(server, max_retries=1).invoke("x").content == "recovered"
    assert len(server.requests) == 2 and server.pending == 0


@pytest.mark.parametrize(("status", "error"), [(429, ModelRateLimitError), (503, ModelAPIError)])
def test_errors_surface_after_retries(server: FakeOpenAI, status: int, error: type) -> None:
    server.fail(status, times=2, retry_after=0.01)
    with pytest.raises(error) as info:
        _model(server, max_retries=1).invoke("x")
    assert len(server.requests) == 2 and SECRET not in str(info.value)


def test_hang_times_out_the_client(server: FakeOpenAI) -> None:
    server.hang(60)  # the client's own timeout must end it: a hang-up would be another error
    with pytest.raises(ModelTimeoutError) as info:
        _model(server, timeout_s=0.5).invoke("x")
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)


def test_api_key_never_appears_in_errors_or_reprs() -> None:
    with FakeOpenAI(api_key="sk-the-right-one") as server:
        server.reply("never sent")
        model = _model(server)
        with pytest.raises(ModelAuthenticationError) as info:
            model.invoke("x")
        assert server.pending == 1  # a rejected request consumes no scripted reply
    assert server.request_headers[-1]["authorization"] == f"Bearer {SECRET}"
    for text in (str(info.value), repr(info.value), repr(model), str(LLMSettings(api_key=SECRET))):
        assert SECRET not in text


def test_local_server_never_gets_the_env_openai_key(
    server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    server.reply("ok")
    _model(server, api_key=None).invoke("x")
    assert server.request_headers[-1]["authorization"] == f"Bearer {LOCAL_SERVER_KEY}"


# -------------------------------------------------------------------- agents
@pytest.mark.parametrize("fmt", [Verdict, ToolStrategy(Verdict)], ids=["auto", "explicit"])
def test_agent_tool_strategy_run(server: FakeOpenAI, fmt: Any) -> None:
    """fake-model has no profile, so auto = ToolStrategy: two requests, both with the tools
    plus a `Verdict` tool and tool_choice "required"; the final answer is a `Verdict` call."""
    server.reply_tool_call("search_proposals", {"query": "grants"})
    server.reply(Verdict(summary="Funds grants", risk="low"))  # carried by the `Verdict` tool
    agent = create_agent(
        _model(server),
        tools=[search_proposals],
        system_prompt="You are Steward.",
        response_format=fmt,
    )
    result = _ask(agent)
    assert result["structured_response"] == Verdict(summary="Funds grants", risk="low")
    assert server.pending == 0 and len(server.requests) == 2
    assert server.prompt(0) == "system: You are Steward.\nuser: Analyse"
    for body in server.requests:
        assert [t["function"]["name"] for t in body["tools"]] == ["search_proposals", "Verdict"]
        assert body["tool_choice"] == "required" and "response_format" not in body
    tool_message = server.requests[1]["messages"][-1]
    assert tool_message["role"] == "tool" and "EP 5.1 matches 'grants'" in tool_message["content"]


@pytest.mark.parametrize("how", ["explicit", "profile"])
def test_agent_provider_strategy_run(server: FakeOpenAI, how: str) -> None:
    """ProviderStrategy: tools + response_format, no tool_choice; the answer is content."""
    model = _model(server, model="openai:gpt-4o-mini" if how == "profile" else "openai:fake-model")
    fmt: Any = ProviderStrategy(Verdict) if how == "explicit" else Verdict
    server.reply_tool_call("search_proposals", {"query": "grants"})
    server.reply(Verdict(summary="Funds grants", risk="low"))
    result = _ask(create_agent(model, tools=[search_proposals], response_format=fmt))
    assert result["structured_response"] == Verdict(summary="Funds grants", risk="low")
    for body in server.requests:
        assert body["response_format"]["type"] == "json_schema" and "tool_choice" not in body
        assert [t["function"]["name"] for t in body["tools"]] == ["search_proposals"]


def test_agent_tool_strategy_retries_a_wrong_schema(server: FakeOpenAI) -> None:
    server.wrong_schema({"title": "x"}, tool="Verdict")
    server.reply(Verdict(summary="ok", risk="low"))
    result = _ask(create_agent(_model(server), tools=[search_proposals], response_format=Verdict))
    assert result["structured_response"].risk == "low"
    assert "Failed to parse structured output" in server.requests[1]["messages"][-1]["content"]


def test_agent_tool_strategy_malformed_or_refused_ends_without_answer(server: FakeOpenAI) -> None:
    """No exception: the run just ends, with no structured_response."""
    agent = create_agent(_model(server), tools=[search_proposals], response_format=Verdict)
    server.malformed(tool="Verdict")
    result = _ask(agent)
    assert result.get("structured_response") is None
    assert result["messages"][-1].invalid_tool_calls[0]["name"] == "Verdict"
    server.refuse("No.")
    result = _ask(agent)
    assert result.get("structured_response") is None
    assert result["messages"][-1].additional_kwargs["refusal"] == "No."


@pytest.mark.parametrize("script", ["malformed", "refuse"])
def test_agent_provider_strategy_bad_answer_raises(server: FakeOpenAI, script: str) -> None:
    getattr(server, script)()
    agent = create_agent(_model(server), tools=[], response_format=ProviderStrategy(Verdict))
    with pytest.raises(StructuredOutputValidationError) as info:
        _ask(agent)
    if script == "refuse":
        assert info.value.ai_message.additional_kwargs["refusal"]


# ----------------------------------------------------------- the fake itself
def test_fake_speaks_openai_http(server: FakeOpenAI) -> None:
    with httpx.Client(base_url=server.url, timeout=5, verify=False) as client:  # plain http
        assert client.get("/v1/models").json()["data"][0]["id"] == "fake-model"
        assert client.get("/nope").status_code == 404
        empty = client.post("/v1/chat/completions", json={"model": "m", "messages": []})
        assert empty.status_code == 500 and "no scripted reply" in empty.json()["error"]["message"]
        assert client.post("/v1/chat/completions", content=b"{").status_code == 400
        server.default = lambda body: f"echo {len(body['messages'])}"
        ok = client.post("/v1/chat/completions", json={"model": "m", "messages": [{}]}).json()
    assert ok["object"] == "chat.completion" and ok["choices"][0]["message"]["content"] == "echo 1"
    assert set(ok) >= {"id", "created", "model", "choices", "usage"}
    assert len(server.requests) == 3  # chat requests only, logged even when they fail
    assert server.server_errors == []


def test_every_answer_kind_passes_the_openai_sdk_types(server: FakeOpenAI) -> None:
    """Each kind of answer, plain and streamed, is what the openai package's own models
    accept (strict): the fake is held to the SDK's published types, not our idea of them."""
    tools = [{"type": "function", "function": {"name": "Verdict", "parameters": {}}}]
    scripts: list[Callable[[], None]] = [
        lambda: server.reply("plain text"),
        lambda: server.reply({"summary": "s", "risk": "r"}),
        lambda: server.reply_tool_call("Verdict", {"summary": "s"}),
        lambda: server.refuse(),
        lambda: server.malformed(),
        *[lambda status=status: server.fail(status, retry_after=1) for status in _STATUSES],
    ]
    with httpx.Client(base_url=server.url, timeout=5) as client:
        for script in scripts:
            for extra in ({}, {"tools": tools}, {"stream": True}, {"stream": True, "tools": tools}):
                script()
                body = {"model": "m", "messages": [{"role": "user", "content": "x"}], **extra}
                body["stream_options"] = {"include_usage": True} if extra.get("stream") else None
                answer = client.post("/v1/chat/completions", json=body)
                assert answer.status_code in (200, *_STATUSES)
                if answer.status_code != 200:
                    ErrorObject.model_validate(answer.json()["error"], strict=True)
                elif extra.get("stream"):
                    lines = [x[6:] for x in answer.text.splitlines() if x.startswith("data: ")]
                    assert lines[-1] == "[DONE]"
                    for event in lines[:-1]:
                        ChatCompletionChunk.model_validate_json(event, strict=True)
                else:
                    ChatCompletion.model_validate(answer.json(), strict=True)
        for model in client.get("/v1/models").json()["data"]:
            Model.model_validate(model, strict=True)
    assert server.server_errors == []


def test_an_answer_the_sdk_would_refuse_is_never_sent() -> None:
    good = {"id": "c", "object": "chat.completion", "created": 1, "model": "m", "choices": []}
    check_against_sdk(200, good)
    for broken in ({**good, "created": "yesterday"}, {k: v for k, v in good.items() if k != "id"}):
        with pytest.raises(ValidationError):
            check_against_sdk(200, broken)
    with pytest.raises(ValidationError):
        check_against_sdk(429, {"error": {"message": None, "type": "requests"}})


def test_structured_reply_renders_per_request(server: FakeOpenAI) -> None:
    """The same scripted dict is content for response_format, tool arguments for tools."""
    verdict = {"summary": "s", "risk": "r"}
    tools = [{"type": "function", "function": {"name": "Verdict", "parameters": {}}}]
    with httpx.Client(base_url=server.url, timeout=5, verify=False) as client:  # plain http
        for extra in ({"response_format": {"type": "json_object"}}, {"tools": tools}):
            server.reply(verdict)
            body = {"model": "m", "messages": [{"role": "user", "content": "x"}], **extra}
            message = client.post("/v1/chat/completions", json=body).json()["choices"][0]["message"]
            sent = message["content"] or message["tool_calls"][0]["function"]["arguments"]
            assert json.loads(sent) == verdict


def test_build_chat_model_config_errors() -> None:
    for model, package in [
        ("anthropic:claude-x", "langchain-anthropic"),
        ("ollama:llama3.1", "langchain-ollama"),
    ]:
        with pytest.raises(ConfigError) as info:
            build_chat_model(LLMSettings(model=model, api_key=SecretStr(SECRET)))
        assert "llm.model" in str(info.value) and f"pip install {package}" in str(info.value)
        assert SECRET not in str(info.value)
    with pytest.raises(ConfigError, match=r"llm\.model: 'mystery-7b' has no known provider"):
        build_chat_model(LLMSettings(model="mystery-7b"))


def test_build_chat_model_without_key_names_llm_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_ADMIN_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match=r"^llm\.api_key: 'openai:gpt-4o-mini' needs an API key"):
        build_chat_model(LLMSettings(model="openai:gpt-4o-mini"))
