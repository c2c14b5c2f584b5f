"""The post log's side of the bot's scheduled posting (the `Posting` port), over the store.

Built by the composition root, so the Discord scheduler posts without knowing the store.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from agent.chat.deliver import DeliveryReport, Sender, deliver, retry_unsent
from agent.chat.schedule import plan_posts
from agent.observe import NullObserver, Observer

if TYPE_CHECKING:
    from agent.settings import DiscordSettings
    from agent.store import RecordStore
    from agent.voters.service import VoterFigures


class PostRounds:
    """Digests, alerts and reminders for the bot: planned from the store, claimed in the
    post log before sending, so a restart or a second tick never posts twice."""

    def __init__(
        self,
        store: RecordStore,
        settings: DiscordSettings,
        *,
        policy_id: str | None,
        figures: VoterFigures | None = None,
        observer: Observer | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.policy_id = policy_id
        self.figures = figures
        """Concentration figures for the digest (the App's, from the settings)."""
        self.observer: Observer = observer or NullObserver()
        """Hears each round's posts, as the webhook job's do (`/metrics` counts both)."""

    def resend(self, sender: Sender) -> DeliveryReport:
        """Posts claimed but never delivered (a crash, an outage) go out before new ones."""
        return self._counted(retry_unsent(self.store, sender))

    def due(self, sender: Sender, now: datetime) -> DeliveryReport:
        planned = plan_posts(
            self.store, self.settings, now=now, policy_id=self.policy_id, figures=self.figures
        )
        return self._counted(deliver(planned, self.store, sender))

    def _counted(self, report: DeliveryReport) -> DeliveryReport:
        self.observer.posted(len(report.posted), len(report.failed))
        return report
