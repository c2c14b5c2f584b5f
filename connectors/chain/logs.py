"""Adaptive eth_getLogs windows: as wide as the provider allows, no wider.

Providers cap ranges differently (a few thousand blocks, or 10,000 results).
The window halves when the provider refuses and doubles after answers well
under the cap, and the size learned is kept in the cursor for the next run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from agent.errors import SourceError
from connectors.chain.rpc import ChainRpc, RangeTooLarge

_GROW_BELOW = 1000
"""Logs in an answer below which the next window may double."""


class RangeWindow:
    """The current eth_getLogs width, between `minimum` and `maximum` blocks."""

    def __init__(self, maximum: int, minimum: int = 1, initial: int | None = None) -> None:
        self.maximum = max(1, maximum)
        self.minimum = max(1, min(minimum, self.maximum))
        self.size = min(self.maximum, max(self.minimum, initial or self.maximum))
        self.shrinks = 0

    def shrink(self) -> bool:
        """Halve, and never grow past that again this run (no refused request twice);
        False when already at the minimum (the range cannot be read)."""
        if self.size <= self.minimum:
            return False
        self.size = max(self.minimum, self.size // 2)
        self.maximum = self.size
        self.shrinks += 1
        return True

    def grow(self, logs: int) -> None:
        if logs < _GROW_BELOW:
            self.size = min(self.maximum, self.size * 2)


def scan_logs(
    rpc: ChainRpc,
    address: str,
    topics: list[str],
    start: int,
    end: int,
    window: RangeWindow,
) -> Iterator[tuple[int, int, list[Any]]]:
    """Yield (from, to, logs) for consecutive ranges covering start..end, in order."""
    frm = start
    while frm <= end:
        to = min(end, frm + window.size - 1)
        try:
            logs = rpc.get_logs(address, topics, frm, to)
        except RangeTooLarge as exc:
            if not window.shrink():
                raise SourceError(
                    f"{exc} — even a {window.size}-block range is refused; "
                    "lower chains[].min_block_range or use another provider"
                ) from None
            continue
        yield frm, to, logs
        window.grow(len(logs))
        frm = to + 1
