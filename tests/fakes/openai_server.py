"""A fake OpenAI chat-completions server: real HTTP on 127.0.0.1, scripted answers.

Why a real server instead of LangChain's fake chat models: those cannot bind tools or do
structured output, and the parts worth testing (the openai SDK's retries, timeouts and
error mapping, its ``.parse()`` of ``json_schema`` output, langchain-openai's refusal and
tool-call handling, the agent loop) only run when real OpenAI JSON comes over a socket.

Usage::

    with FakeOpenAI() as server:
        server.reply_tool_call("search_proposals", {"query": "grants"})
        server.reply(Verdict(summary="...", risk="low"))
        model = ChatOpenAI(base_url=server.url + "/v1", api_key="test", model="fake-model")

Every answer is held to the ``openai`` package's own response types before it is sent
(``check_against_sdk``): an answer they would not accept is a bug in the fake, logged in
``server_errors`` and sent as a 500.

How a scripted answer is rendered depends on the request, as a real model's would:

- ``reply_tool_call`` always answers with one ``tool_calls`` entry.
- ``reply(dict | BaseModel)``, ``malformed`` and ``wrong_schema`` are *structured*: with a
  ``response_format`` of type ``json_schema``/``json_object`` the JSON goes in ``content``;
  else, if the request has ``tools``, it becomes the arguments of a call to the forced
  ``tool_choice`` function, else to ``tool=`` if given, else to the tool named like the
  BaseModel class, else to the first tool whose parameters fit the keys, else to the *last*
  tool (``create_agent``'s ToolStrategy appends its response-format tool after yours).
- ``reply(str)`` is plain text, unless tools are bound with a forced/required ``tool_choice``
  and no ``response_format`` (then it becomes tool arguments, as a forced model would).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from .local_server import LocalHTTPServer, LocalServer, QuietHandler

MODELS = ("fake-model",)
Kind = Literal["answer", "tool_call", "refusal", "error", "hang"]

_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    404: ("invalid_request_error", None, "Unknown URL."),
    405: ("invalid_request_error", None, "Method not allowed."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests."),
    500: ("server_error", None, "The server had an error while processing your request."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}


@dataclass(frozen=True)
class Scripted:
    """One queued answer; consumed by exactly one request."""

    kind: Kind
    text: str = ""  # content, tool arguments, refusal or error message
    structured: bool = False  # JSON output: tool arguments when tools are bound
    name: str | None = None  # tool to call (tool_call) / schema class name hint (answer)
    call_id: str | None = None
    status: int = 200
    retry_after: float | None = None
    seconds: float = 0.0


def _as_scripted(value: object, tool: str | None = None) -> Scripted:
    """A reply from text (plain), a dict or a BaseModel (structured, JSON-encoded)."""
    if isinstance(value, Scripted):
        return value
    if isinstance(value, BaseModel):
        return Scripted("answer", value.model_dump_json(), True, tool or type(value).__name__)
    if isinstance(value, dict):
        return Scripted("answer", json.dumps(value), structured=True, name=tool)
    if isinstance(value, str):
        return Scripted("answer", value, name=tool)
    raise TypeError(f"cannot script a reply from {type(value).__name__}")


def error_body(status: int, message: str | None = None) -> dict[str, Any]:
    """OpenAI's error envelope, which the SDK turns into ``APIStatusError.message``."""
    kind, code, default = _ERRORS.get(status, ("server_error", None, f"HTTP {status}"))
    return {"error": {"message": message or default, "type": kind, "param": None, "code": code}}


def check_against_sdk(status: int, payload: Any) -> None:
    """Hold every answer to the openai package's own response types (strict): a completion,
    each streamed chunk, the model list, an error body. Raises when the fake drifts."""
    from openai.types import ErrorObject, Model
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

    if status == 0:  # a hang sends nothing
        return
    if status != 200:
        ErrorObject.model_validate(payload["error"], strict=True)
    elif isinstance(payload, list):
        for event in payload:
            ChatCompletionChunk.model_validate(event, strict=True)
    elif payload.get("object") == "list":
        for model in payload["data"]:
            Model.model_validate(model, strict=True)
    else:
        ChatCompletion.model_validate(payload, strict=True)


def _pick_tool(tools: list[dict[str, Any]], arguments: str, hint: str | None) -> str:
    """Which tool a structured answer calls when the request does not force one: the hinted
    one, else the first whose parameters fit, else the last (an agent's response tool)."""
    names = [t["function"]["name"] for t in tools]
    if hint in names:
        return str(hint)
    try:
        parsed = json.loads(arguments)
    except ValueError:
        parsed = None
    keys = set(parsed) if isinstance(parsed, dict) else set()
    for tool in tools:
        params = tool["function"].get("parameters") or {}
        required = set(params.get("required") or ())
        known = set(params.get("properties") or ())
        if keys and required <= keys and (not known or keys <= known):
            return str(tool["function"]["name"])
    return names[-1]


class _Handler(QuietHandler):
    server: LocalServer[FakeOpenAI]

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            status, extra, payload = fake._handle(method, self.path, headers, raw)
            check_against_sdk(status, payload)
        except Exception as exc:  # noqa: BLE001 - a bug in the fake must surface, not hang
            fake.server_errors.append(repr(exc))
            status, extra, payload = 500, {}, error_body(500, f"fake crashed: {exc!r}")
        if status == 0:  # injected hang: hold the socket, then hang up without a reply
            fake._stopping.wait(float(extra["seconds"]))
            self.close_connection = True
            return
        try:
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            if isinstance(payload, list):  # server-sent events; HTTP/1.0 ends at close
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for event in payload:
                    self.wfile.write(b"data: " + json.dumps(event).encode() + b"\n\n")
                self.wfile.write(b"data: [DONE]\n\n")
                return
            body = json.dumps(payload).encode()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its own timeout); nothing to do


class FakeOpenAI(LocalHTTPServer):
    """In-process stand-in for api.openai.com's chat completions, scripted per request."""

    handler = _Handler
    poll_interval = 0.01

    def __init__(self, *, api_key: str | None = None) -> None:
        """``api_key`` set: requests without ``Authorization: Bearer <key>`` get a 401."""
        super().__init__()
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []
        self.request_headers: list[dict[str, str]] = []
        self.server_errors: list[str] = []
        self.default: Callable[[dict[str, Any]], object] | None = None
        self._queue: deque[Scripted] = deque()
        self._lock = threading.Lock()

    # --------------------------------------------------------------- scripting
    def _push(self, *items: Scripted) -> None:
        with self._lock:
            self._queue.extend(items)

    def reply(self, content: str | dict[str, Any] | BaseModel, *, tool: str | None = None) -> None:
        """Queue one good answer; dict/BaseModel are sent as JSON (structured output).
        ``tool`` names the tool that carries it when the request binds tools."""
        self._push(_as_scripted(content, tool))

    def reply_tool_call(
        self, name: str, arguments: dict[str, Any], *, call_id: str | None = None
    ) -> None:
        """Queue an agent step: the model calls tool ``name`` with ``arguments``."""
        self._push(Scripted("tool_call", json.dumps(arguments), name=name, call_id=call_id))

    def malformed(self, text: str = '{"summary": "trunc', *, tool: str | None = None) -> None:
        """Queue structured output whose JSON is broken (e.g. cut off mid-string)."""
        self._push(Scripted("answer", text, structured=True, name=tool))

    def wrong_schema(self, payload: dict[str, Any], *, tool: str | None = None) -> None:
        """Queue valid JSON that does not fit the requested schema."""
        self._push(Scripted("answer", json.dumps(payload), structured=True, name=tool))

    def refuse(self, message: str = "I can't help with that.") -> None:
        """Queue an OpenAI refusal: ``message.refusal`` set, ``content`` null."""
        self._push(Scripted("refusal", message))

    def fail(self, status: int = 500, *, times: int = 1, retry_after: float | None = None) -> None:
        """Queue ``times`` error answers with OpenAI's error body (and retry-after headers)."""
        self._push(*[Scripted("error", status=status, retry_after=retry_after)] * times)

    def hang(self, seconds: float = 3.0) -> None:
        """Queue a request that gets no answer for ``seconds``, then a closed connection."""
        self._push(Scripted("hang", seconds=seconds))

    def reset(self) -> None:
        """Forget scripts, logs and ``default``: lets one server (and the client's pooled
        connection and TLS setup, cached per base URL) serve a whole test module."""
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self.request_headers.clear()
            self.server_errors.clear()
            self.default = None

    @property
    def pending(self) -> int:
        """Scripted answers not consumed yet (tests assert 0 at the end of a scenario)."""
        with self._lock:
            return len(self._queue)

    def prompt(self, index: int = -1) -> str:
        """The text of every message of request ``index``, one per line, for assertions."""
        lines = []
        for message in self.requests[index].get("messages") or []:
            content = message.get("content")
            if isinstance(content, list):
                content = "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            lines.append(f"{message.get('role')}: {content or ''}")
        return "\n".join(lines)

    # ----------------------------------------------------------------- serving
    def _handle(
        self, method: str, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], Any]:
        """One HTTP request -> (status, headers, JSON payload | SSE events); status 0 = hang."""
        route = path.split("?")[0].rstrip("/")
        authorized = self.api_key is None or headers.get("authorization") == (
            f"Bearer {self.api_key}"
        )
        if method == "GET" and route == "/v1/models":
            if not authorized:
                return 401, {}, error_body(401)
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "tests"} for m in MODELS]
            return 200, {}, {"object": "list", "data": data}
        if route != "/v1/chat/completions":
            return 404, {}, error_body(404, f"Unknown request URL: {method} {route}.")
        if method != "POST":
            return 405, {}, error_body(405, f"Use POST for {route}.")
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = None
        with self._lock:  # log before answering, so tests see prompts of failed calls too
            self.requests.append(body if isinstance(body, dict) else {"_raw": raw.decode()})
            self.request_headers.append(headers)
        if not authorized:  # rejected requests consume no scripted reply
            return 401, {}, error_body(401)
        if not isinstance(body, dict):
            return 400, {}, error_body(400, "We could not parse the JSON body of your request.")
        if not isinstance(body.get("messages"), list) or not body.get("model"):
            return 400, {}, error_body(400, "'model' and 'messages' are required.")
        with self._lock:
            item = self._queue.popleft() if self._queue else None
        if item is None and self.default is not None:
            item = _as_scripted(self.default(body))
        if item is None:
            return 500, {}, error_body(500, "fake openai: no scripted reply left")
        if item.kind == "hang":
            return 0, {"seconds": str(item.seconds)}, None
        if item.kind == "error":
            extra = {}
            if item.retry_after is not None:
                extra = {
                    "retry-after-ms": str(int(item.retry_after * 1000)),
                    "retry-after": f"{item.retry_after:g}",
                }
            return item.status, extra, error_body(item.status)
        message, finish = self._message(item, body)
        if body.get("stream"):
            return 200, {}, self._events(body, message, finish)
        return 200, {}, self._completion(body, message, finish)

    def _message(self, item: Scripted, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """The assistant message a real model would send for this request."""
        message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
        message["annotations"] = []
        if item.kind == "refusal":
            message["refusal"] = item.text
            return message, "stop"
        fmt = body.get("response_format")
        wants_json = isinstance(fmt, dict) and fmt.get("type") in ("json_schema", "json_object")
        tools = [t for t in body.get("tools") or () if t.get("type") == "function"]
        choice = body.get("tool_choice")
        forced = choice.get("function", {}).get("name") if isinstance(choice, dict) else None
        as_call = item.kind == "tool_call" or (
            tools and not wants_json and (item.structured or forced or choice == "required")
        )
        if not as_call:
            message["content"] = item.text
            return message, "stop"
        name = item.name if item.kind == "tool_call" else None
        name = name or forced or (_pick_tool(tools, item.text, item.name) if tools else "tool")
        call_id = item.call_id or f"call_{uuid.uuid4().hex[:24]}"
        function = {"name": name, "arguments": item.text}
        message["tool_calls"] = [{"id": call_id, "type": "function", "function": function}]
        return message, "tool_calls"

    def _usage(self, body: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
        """Rough counts (4 characters a token), shaped like OpenAI's."""
        prompt = 1 + len(json.dumps(body.get("messages"))) // 4
        completion = 1 + len(json.dumps(message)) // 4
        details = dict.fromkeys(("audio_tokens", "reasoning_tokens"), 0)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": details,
        }

    def _head(self, body: dict[str, Any], obj: str) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": obj,
            "created": int(time.time()),
            "model": str(body["model"]),
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
        }

    def _completion(
        self, body: dict[str, Any], message: dict[str, Any], finish: str
    ) -> dict[str, Any]:
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
        head = self._head(body, "chat.completion")
        return {**head, "choices": [choice], "usage": self._usage(body, message)}

    def _events(
        self, body: dict[str, Any], message: dict[str, Any], finish: str
    ) -> list[dict[str, Any]]:
        """The same answer as ``chat.completion.chunk`` events (one delta, then the finish)."""
        head = self._head(body, "chat.completion.chunk")
        delta: dict[str, Any] = {"role": "assistant", "content": message["content"] or ""}
        if message["refusal"] is not None:
            delta = {"role": "assistant", "content": None, "refusal": message["refusal"]}
        if "tool_calls" in message:
            delta["content"] = None
            delta["tool_calls"] = [{"index": 0, **c} for c in message["tool_calls"]]

        def chunk(choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
            return {**head, "choices": choices, "usage": None, **extra}

        events = [
            chunk([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}]),
            chunk([{"index": 0, "delta": {}, "logprobs": None, "finish_reason": finish}]),
        ]
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append(chunk([], usage=self._usage(body, message)))
        return events
