"""Webhook mode: post `Message`s to a Discord (or any http(s)) webhook URL with httpx.

`discord.Webhook.from_url` refuses non-Discord URLs, so this plain client is
what tests can point at a local server. The URL is a secret (its last path
segment is the token): errors show only `…/webhooks/<id>/***`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from agent.chat.deliver import DeliveryError
from agent.chat.models import Embed, Message

SUPPRESS_EMBEDS = 1 << 2
MAX_WAIT_S = 60.0
"""A 429 asking for longer than this is reported (with `retry_after`) instead of slept."""
BACKOFF_S = 0.5
BACKOFF_MAX_S = 30.0


class WebhookSender:
    """A `Sender` for one webhook; `target` is ignored (a webhook has one channel)."""

    def __init__(
        self,
        url: str,
        *,
        client: httpx.Client | None = None,
        max_retries: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"the webhook URL must be http(s): {redact(url)}")
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "wait"] + [("wait", "true")]
        self._url = urlunsplit(parts._replace(query=urlencode(query)))
        self.shown = redact(url)
        self._secrets = _secrets(url)
        self._own = client is None
        self._client = client or httpx.Client(timeout=10.0)
        self.max_retries = max_retries
        self.sleep = sleep

    def close(self) -> None:
        if self._own:
            self._client.close()

    def __enter__(self) -> WebhookSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, target: str, message: Message) -> None:
        """POST the message; retry 429 (after `retry_after`), 5xx and timeouts."""
        body = to_payload(message)
        problem, retry_after, tries = "no attempt made", None, 0
        for attempt in range(max(0, self.max_retries) + 1):
            tries += 1
            try:
                response = self._client.post(self._url, json=body)
            except httpx.TransportError as exc:  # timeouts, refused and reset connections
                problem, retry_after = type(exc).__name__, None
            else:
                if response.is_success:
                    return
                problem, retry_after = _problem(response)
                problem = self._scrub(problem)
                if response.status_code != 429 and response.status_code < 500:
                    raise DeliveryError(f"webhook {self.shown} refused the post: {problem}")
            if attempt == self.max_retries:
                break
            wait = retry_after if retry_after is not None else _backoff(attempt)
            if wait > MAX_WAIT_S:
                break
            self.sleep(wait)
        raise DeliveryError(
            f"webhook {self.shown} failed after {tries} attempt(s): {problem}", retry_after
        )

    def _scrub(self, text: str) -> str:
        """Server text may echo the request: take every secret part of the URL out."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def to_payload(message: Message) -> dict[str, Any]:
    """Discord's execute-webhook body; mentions never ping, link previews only with embeds."""
    body: dict[str, Any] = {
        "content": message.content,
        "embeds": [_embed(e) for e in message.embeds],
        "allowed_mentions": {"parse": []},
    }
    if not message.embeds:
        body["flags"] = SUPPRESS_EMBEDS
    return body


def redact(url: str) -> str:
    """The URL without its secret: `…/webhooks/<id>/***`, or `scheme://host/***`."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    if "webhooks" in segments:
        i = segments.index("webhooks")
        if i + 1 < len(segments):
            return f"…/webhooks/{segments[i + 1]}/***"
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}/***" if parts.scheme else "***"


def _secrets(url: str) -> list[str]:
    """Parts of `url` that must never be shown: the token (and anything after it)."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    start = segments.index("webhooks") + 2 if "webhooks" in segments else 0
    found = [url, parts.path, parts.query, *segments[start:]]
    return sorted({s for s in found if len(s) >= 4}, key=len, reverse=True)


def _embed(e: Embed) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "rich"}
    if e.title:
        out["title"] = e.title
    if e.url:
        out["url"] = e.url
    if e.description:
        out["description"] = e.description
    if e.colour is not None:
        out["color"] = e.colour
    if e.fields:
        out["fields"] = [{"name": f.name, "value": f.value, "inline": f.inline} for f in e.fields]
    if e.footer:
        out["footer"] = {"text": e.footer}
    return out


def _problem(response: httpx.Response) -> tuple[str, float | None]:
    """What went wrong, and how long the server asked us to wait (429)."""
    data: Any
    try:
        data = response.json()
    except ValueError:
        data = None
    retry_after: float | None = None
    if response.status_code == 429:
        retry_after = _seconds(data.get("retry_after") if isinstance(data, dict) else None)
        if retry_after is None:
            retry_after = _seconds(response.headers.get("Retry-After"))
    detail = ""
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        detail = f" ({data['message'][:200]})"
    return f"HTTP {response.status_code}{detail}", retry_after


def _seconds(value: Any) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, seconds) if seconds == seconds else None  # NaN is not a wait


def _backoff(attempt: int) -> float:
    return min(BACKOFF_S * 2**attempt, BACKOFF_MAX_S)
