"""A fake Discord webhook: a real HTTP server on 127.0.0.1 that records what is posted.

A socket rather than an httpx MockTransport, so timeouts, retries and the
exact JSON body are exercised as in production. It checks what Discord checks
(the token, the 2,000-character content, a non-empty message) and can answer
429 with `retry_after` or 5xx on demand.

Usage::

    with FakeWebhook() as hook:
        hook.fail_next("429", retry_after=0.25)
        WebhookSender(hook.url).send("webhook", Message(content="hi"))
        assert hook.posts[0]["content"] == "hi"
"""

from __future__ import annotations

import json
import threading
from collections import deque
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from . import discord_payloads as payloads
from .local_server import LocalHTTPServer, LocalServer, QuietHandler

Failure = Literal["429", "429-header", "500", "502", "503"]
WEBHOOK_ID = "112233445566778899"
TOKEN = "s3cr3t-T0ken_abcdefghijklmnopqrstuvwxyz"
CHANNEL_ID = 700000000000000009


def _now() -> datetime:
    return datetime.now(UTC)


class _Handler(QuietHandler):
    server: LocalServer[FakeWebhook]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        status, body = self.server.fake._handle(self.path, raw)
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if status == 429 and isinstance(body, dict) and body.get("header_only"):
            self.send_header("Retry-After", str(body["header_only"]))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class FakeWebhook(LocalHTTPServer):
    """Stand-in for `https://discord.com/api/webhooks/<id>/<token>`."""

    handler = _Handler
    url_path = f"/api/webhooks/{WEBHOOK_ID}/{TOKEN}"

    def __init__(self) -> None:
        super().__init__()
        self.posts: list[dict[str, Any]] = []
        """Accepted bodies, in order."""
        self.requests: list[dict[str, Any]] = []
        """Every request: path, query and body (accepted or not)."""
        self._failures: deque[tuple[Failure, float]] = deque()
        self._lock = threading.Lock()

    def fail_next(self, kind: Failure, times: int = 1, *, retry_after: float = 0.0) -> None:
        """Queue failures (FIFO), one per incoming request."""
        with self._lock:
            self._failures.extend([(kind, retry_after)] * times)

    def _handle(self, path: str, raw: bytes) -> tuple[int, Any]:
        parts = urlsplit(path)
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        with self._lock:
            self.requests.append({"path": parts.path, "query": parse_qs(parts.query), "body": body})
            failure = self._failures.popleft() if self._failures else None
        if parts.path != f"/api/webhooks/{WEBHOOK_ID}/{TOKEN}":
            return 401, {"code": 50027, "message": "Invalid Webhook Token"}
        if failure is not None:
            kind, wait = failure
            if kind == "429":
                return 429, {"message": "You are being rate limited.", "retry_after": wait}
            if kind == "429-header":
                return 429, {"header_only": f"{wait:g}"}
            return int(kind), {"message": f"{kind}: Internal Server Error"}
        problem = _invalid(body)
        if problem:
            return 400, {"code": 50006, "message": problem}
        with self._lock:
            self.posts.append(body)
        wait = parse_qs(parts.query).get("wait") == ["true"]
        if not wait:
            return 204, None
        # `?wait=true`: the created message, as discord.py's `Message` type has it
        author = payloads.user(int(WEBHOOK_ID), "Steward")
        message_id = 990000000000000000 + len(self.posts)
        return 200, dict(payloads.message(message_id, CHANNEL_ID, author, body, _now()))


def _invalid(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "Cannot send an empty message"
    content, embeds = body.get("content") or "", body.get("embeds") or []
    if not content and not embeds:
        return "Cannot send an empty message"
    if len(content) > 2000:
        return "content: Must be 2000 or fewer in length."
    if len(embeds) > 10:
        return "embeds: Must be 10 or fewer in length."
    return None
