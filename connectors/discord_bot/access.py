"""Who may use which command where: plain functions, no discord.py objects.

Kept apart from the callbacks so the rules are read (and tested) in one place.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable

from agent.settings import DiscordSettings


def command_allowed(channel_id: int | None, settings: DiscordSettings) -> bool:
    """Only configured channels: a bot answering everywhere leaks analysis into DMs
    and unrelated channels, and lets anyone spend its model budget."""
    return channel_id is not None and channel_id in settings.channels


def is_admin(role_ids: Iterable[int], settings: DiscordSettings) -> bool:
    """Holding one configured admin role; no roles configured means nobody is admin."""
    return not set(settings.admin_roles).isdisjoint(role_ids)


class RateLimiter:
    """At most `per_window` calls per user in any `window` seconds (a sliding window).

    /ask embeds the question and may call a paid model; one user must not be able
    to keep the bot busy for everyone. The clock is injectable so tests need no sleep.
    """

    def __init__(
        self,
        per_window: int,
        *,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_window < 1 or window <= 0:
            raise ValueError("per_window must be at least 1 and window positive")
        self.per_window = per_window
        self.window = window
        self._clock = clock
        self._calls: dict[int, deque[float]] = {}

    def _recent(self, user_id: int) -> deque[float]:
        calls = self._calls.setdefault(user_id, deque())
        cutoff = self._clock() - self.window
        while calls and calls[0] <= cutoff:
            calls.popleft()
        if not calls:
            del self._calls[user_id]  # keeps the map from growing with every user ever seen
            return deque()
        return calls

    def retry_after(self, user_id: int) -> float:
        """Seconds until `user_id` may call again; 0 if they may now."""
        calls = self._recent(user_id)
        if len(calls) < self.per_window:
            return 0.0
        return max(0.0, calls[0] + self.window - self._clock())

    def hit(self, user_id: int) -> bool:
        """Count a call if allowed; False (and nothing counted) if over the limit."""
        if self.retry_after(user_id) > 0:
            return False
        self._calls.setdefault(user_id, deque()).append(self._clock())
        return True
