"""How long-running steps report progress without knowing about the terminal."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def start(self, task: str, total: int | None = None) -> None:
        """Begin (or restart) a named task; `total` when known."""
        ...

    def advance(self, task: str, amount: int = 1, note: str | None = None) -> None: ...


class NoProgress:
    """For callers that don't show progress (tests, the bot)."""

    def start(self, task: str, total: int | None = None) -> None:
        return None

    def advance(self, task: str, amount: int = 1, note: str | None = None) -> None:
        return None
