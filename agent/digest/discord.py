"""Cutting Markdown into Discord messages (2,000 characters each).

Cuts fall between sections and items (blank lines) where possible, then
between lines, and only then inside an over-long line. A code fence cut in two
is closed at the end of one message and reopened at the start of the next, so
every message renders on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

DISCORD_LIMIT = 2000
_MIN_LIMIT = 64
_FENCE = re.compile(r"^ {0,3}(`{3,10}|~{3,10})(?![`~])(.*)$")
"""Longer runs are not treated as fences, so a closing line always fits."""
_HEADING = re.compile(r"^#{1,3} \S")


def width(text: str) -> int:
    """Length as Discord counts it, conservatively: UTF-16 code units (an emoji can be 2)."""
    return len(text.encode("utf-16-le")) // 2


def split_for_discord(markdown: str, limit: int = DISCORD_LIMIT) -> list[str]:
    """Messages of at most `limit` characters, none empty, together holding all the text.

    Blank lines at a cut are dropped (Discord trims them anyway); everything
    else is kept in order, plus the fence lines added to close and reopen a cut
    code block.
    """
    if limit < _MIN_LIMIT:
        raise ValueError(f"limit must be at least {_MIN_LIMIT} characters, not {limit}")
    pieces: list[str] = []
    current = ""
    for unit in _units(_blocks(markdown)):
        for part in _fit(unit, limit):
            joined = f"{current}\n\n{part}" if current else part
            if width(joined) <= limit:
                current = joined
                continue
            pieces.append(current)
            current = part
    pieces.append(current)
    return [p.strip("\n") for p in pieces if p.strip()]


def _blocks(text: str) -> list[str]:
    """Paragraph-like blocks split at blank lines outside code fences."""
    blocks: list[str] = []
    lines: list[str] = []
    fence: str | None = None
    for line in text.replace("\r\n", "\n").split("\n"):
        if fence is None and not line.strip():
            if lines:
                blocks.append("\n".join(lines))
            lines = []
            continue
        lines.append(line)
        fence = _after(fence, line)
    if lines:
        blocks.append("\n".join(lines))
    return blocks


def _units(blocks: list[str]) -> list[str]:
    """Blocks, with a lone heading kept together with what follows it."""
    units: list[str] = []
    pending: str | None = None
    for block in blocks:
        if pending is not None:
            block = f"{pending}\n\n{block}"
            pending = None
        if _HEADING.match(block) and "\n" not in block:
            pending = block
            continue
        units.append(block)
    if pending is not None:
        units.append(pending)
    return units


def _after(fence: str | None, line: str) -> str | None:
    """The open fence's marker after `line` (None: outside any fence)."""
    match = _FENCE.match(line)
    if match is None:
        return fence
    marker, rest = match.groups()
    if fence is None:
        return marker
    if marker[0] == fence[0] and len(marker) >= len(fence) and not rest.strip():
        return None
    return fence


@dataclass
class _Cutter:
    """Packs the lines of one over-long block into parts, closing and reopening fences."""

    limit: int
    parts: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    fence: str | None = None
    opener: str = ""
    used: int = 0
    """Width of `lines` joined, plus the newline the next line needs."""

    def room(self, fence_after: str | None) -> int:
        closer = width(fence_after) + 1 if fence_after else 0
        return self.limit - self.used - closer

    def add(self, line: str) -> None:
        fence_after = _after(self.fence, line)
        if width(line) <= self.room(fence_after):
            self._take(line, fence_after)
            return
        if self._has_content():
            self.flush()
        if width(line) <= self.room(fence_after):
            self._take(line, fence_after)
            return
        while line:
            take = _cut(line, max(1, self.room(self.fence)))
            self._append(take)
            line = line[len(take) :]
            if line:
                self.flush()
        if self.fence is None and fence_after is not None:
            self.opener = fence_after
        self.fence = fence_after

    def _take(self, line: str, fence_after: str | None) -> None:
        if self.fence is None and fence_after is not None:
            self.opener = line if width(line) <= self.limit // 4 else fence_after
        self._append(line)
        self.fence = fence_after

    def _append(self, line: str) -> None:
        self.lines.append(line)
        self.used += width(line) + 1

    def _has_content(self) -> bool:
        return any(line != self.opener for line in self.lines) if self.fence else bool(self.lines)

    def flush(self) -> None:
        if self.fence is not None:
            self.lines.append(self.fence)
        self.parts.append("\n".join(self.lines))
        self.lines, self.used = [], 0
        if self.fence is not None:
            self._append(self.opener)


def _fit(block: str, limit: int) -> list[str]:
    if width(block) <= limit:
        return [block]
    cutter = _Cutter(limit)
    for line in block.split("\n"):
        cutter.add(line)
    if cutter._has_content():
        cutter.parts.append("\n".join(cutter.lines))
    return cutter.parts


def _cut(line: str, room: int) -> str:
    """The longest head of `line` within `room`, ending at a space when one is near."""
    size, end = 0, 0
    for end, char in enumerate(line, 1):
        size += 2 if ord(char) > 0xFFFF else 1
        if size > room:
            end -= 1
            break
    head = line[: max(1, end)]
    if len(head) < len(line):
        space = head.rfind(" ")
        if space >= len(head) // 2:
            head = head[: space + 1]
    return head
