"""Adaptive eth_getLogs windows: as wide as the provider allows, no wider.

Providers cap ranges differently (a few thousand blocks, or 10,000 results).
The window halves when the provider refuses and doubles after answers well
under the cap, and the size learned is kept in the cursor for the next run.
"""

from __future__ import annotations

import re
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

    def shrink(self, refused: int, hint: int | None = None) -> bool:
        """After a refused range of `refused` blocks: the provider's own suggestion if it
        gave one, else half of what was refused; never grow past that again this run.
        False when already at the minimum (the range cannot be read)."""
        if refused <= self.minimum:
            return False
        target = hint if hint is not None and 0 < hint < refused else refused // 2
        self.size = max(self.minimum, target)
        self.maximum = self.size
        self.shrinks += 1
        return True

    def grow(self, logs: int) -> None:
        if logs < _GROW_BELOW:
            self.size = min(self.maximum, self.size * 2)


_SUGGESTED_RANGE = re.compile(r"\[(0x[0-9a-fA-F]+),\s*(0x[0-9a-fA-F]+)\]")
_BLOCK_LIMIT = re.compile(
    r"(?:up to an?|limited to an?|maximum block range:?)\s*([\d,]+)\s*(K?)", re.IGNORECASE
)


def range_hint(message: str, frm: int) -> int | None:
    """The range size a provider's refusal suggests (Alchemy and Infura name a working
    range, others their limit), so the window fits at once instead of by halving."""
    found = _SUGGESTED_RANGE.search(message)
    if found:
        first, last = int(found.group(1), 16), int(found.group(2), 16)
        if first == frm and last >= first:
            return last - first + 1
    found = _BLOCK_LIMIT.search(message)
    if found:
        number = int(found.group(1).replace(",", ""))
        return number * 1000 if found.group(2) else number
    return None


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
            if not window.shrink(to - frm + 1, range_hint(str(exc), frm)):
                raise SourceError(
                    f"{exc} — even a {window.size}-block range is refused; "
                    "lower chains[].min_block_range or use another provider"
                ) from None
            continue
        yield frm, to, logs
        window.grow(len(logs))
        frm = to + 1
