"""What the Discord connectors may ask of the record store, and how they post on schedule.

The bot, its commands and the approval desk see these narrow ports, never the store:
the composition root (`agent/app/`) hands them the store (or a `PostRounds` over it).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from agent.digest.build import DigestStore

if TYPE_CHECKING:
    from agent.chat.deliver import DeliveryReport, Sender
    from agent.records.assessment import Assessment
    from agent.store.posts import Post, PostKind
    from agent.store.records import StoredProposal


class PostLog(Protocol):
    """Claim a post once before sending it, then mark how it went (the approval desk)."""

    def get(self, uid: str) -> StoredProposal | None: ...

    def claim_post(
        self, key: str, *, target: str, kind: PostKind, payload: dict[str, Any]
    ) -> bool: ...

    def post(self, key: str) -> Post | None: ...

    def mark_posted(self, key: str) -> None: ...

    def mark_failed(self, key: str, error: str) -> None: ...


class ChatStore(DigestStore, Protocol):
    """What the slash commands read and change: proposals, their assessment, simulation
    and votes, and a channel's subscriptions (the digest's and voter views' reads with it)."""

    def resolve(self, ref: str) -> list[str]: ...

    def latest_assessment(self, uid: str, policy_id: str | None = None) -> Assessment | None: ...

    def vote_count(self, uid: str) -> int: ...

    def subscribe(self, channel: str, space: str) -> bool: ...

    def unsubscribe(self, channel: str, space: str) -> bool: ...


class Posting(Protocol):
    """The bot's scheduled posting: resend what is owed, then deliver what is due."""

    def resend(self, sender: Sender) -> DeliveryReport: ...

    def due(self, sender: Sender, now: datetime) -> DeliveryReport: ...
