"""Sending planned posts through the post log: at most once when all goes well,
retried (never dropped) when it doesn't.

Each post is claimed in the log before it is sent, with its messages as JSON,
so after a crash or restart `retry_unsent` can send exactly what was planned.
A post of several messages (a long digest) is re-sent whole on retry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from pydantic import BaseModel, Field, ValidationError

from agent.chat.models import Message, PlannedPost
from agent.errors import StewardError
from agent.store.posts import Post
from agent.store.records import RecordStore

MAX_ATTEMPTS = 10


class DeliveryError(StewardError):
    """A post could not be delivered; `retry_after` (seconds) when the target said so."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Sender(Protocol):
    """Something that can post a message to a target (a channel id, or `webhook`)."""

    def send(self, target: str, message: Message) -> None:
        """Post `message`; raise `DeliveryError` on failure."""
        ...


class DeliveryReport(BaseModel):
    posted: list[str] = Field(default_factory=list)
    failed: dict[str, str] = Field(default_factory=dict)
    """Key → error, as recorded in the post log."""
    skipped: list[str] = Field(default_factory=list)
    """Already posted, or given up on after `max_attempts`."""
    retry_after: float | None = None
    """The longest wait a target asked for: the caller should not post before it."""


def payload_of(messages: Sequence[Message]) -> dict[str, Any]:
    """What the post log stores: enough to send the post again after a restart."""
    return {"messages": [m.model_dump(mode="json") for m in messages]}


def messages_of(payload: dict[str, Any]) -> list[Message]:
    return [Message.model_validate(m) for m in payload.get("messages", [])]


def deliver(
    planned: list[PlannedPost],
    store: RecordStore,
    sender: Sender,
    *,
    max_attempts: int = MAX_ATTEMPTS,
) -> DeliveryReport:
    """Claim, send and record each planned post; one failure never stops the rest.

    A key claimed before but not posted (an earlier failure or crash) is sent
    again with the messages stored at its claim.
    """
    report = DeliveryReport()
    for post in planned:
        payload = payload_of(post.messages)
        if store.claim_post(post.key, target=post.target, kind=post.kind, payload=payload):
            _send(store, sender, post.key, post.target, post.messages, report)
            continue
        earlier = store.post(post.key)
        if earlier is None or earlier.status == "posted" or earlier.attempts >= max_attempts:
            report.skipped.append(post.key)
            continue
        _resend(store, sender, earlier, report)
    return report


def retry_unsent(
    store: RecordStore, sender: Sender, *, max_attempts: int = MAX_ATTEMPTS
) -> DeliveryReport:
    """Send every post left pending (crash) or failed, from the payload in the log.

    Run it from the same loop as `deliver`, not beside it: a post being sent
    right now is `pending` too.
    """
    report = DeliveryReport()
    for post in store.unsent_posts(max_attempts):
        if post.kind == "approval":
            continue  # the approval poster owns these: it rebuilds them with their buttons
        _resend(store, sender, post, report)
    return report


def _resend(store: RecordStore, sender: Sender, post: Post, report: DeliveryReport) -> None:
    try:
        messages = messages_of(post.payload)
    except ValidationError:
        store.mark_failed(post.key, "the stored payload is not a valid message list")
        report.failed[post.key] = "unreadable payload"
        return
    sent = post.payload.get("sent", 0)
    _send(store, sender, post.key, post.target, messages, report, start=sent)


def _send(
    store: RecordStore,
    sender: Sender,
    key: str,
    target: str,
    messages: Sequence[Message],
    report: DeliveryReport,
    *,
    start: int = 0,
) -> None:
    """Send from message `start` on, recording progress so a retry never repeats a piece."""
    try:
        for index in range(start, len(messages)):
            sender.send(target, messages[index])
            if len(messages) > 1:
                store.record_progress(key, index + 1)
    except DeliveryError as exc:
        _failed(store, key, str(exc), report)
        if exc.retry_after is not None:
            report.retry_after = max(report.retry_after or 0.0, exc.retry_after)
    except Exception as exc:  # noqa: BLE001 - a sender bug must not stop the other posts
        # Only the type: a foreign exception's text may hold a URL with a token in it.
        _failed(store, key, f"unexpected {type(exc).__name__}", report)
    else:
        store.mark_posted(key)
        report.posted.append(key)


def _failed(store: RecordStore, key: str, error: str, report: DeliveryReport) -> None:
    store.mark_failed(key, error)
    report.failed[key] = error
