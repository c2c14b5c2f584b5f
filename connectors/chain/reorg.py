"""Checkpoints: the block hashes a governor's cursor has passed, to notice a reorg.

After each log window the cursor records (block, hash) of the window's last
block. On the next run the newest checkpoint must still be canonical; if it is
not, the newest one that still is marks where re-reading starts. Keeping a
few dozen lets a deep reorg rewind to just below it rather than to genesis.
"""

from __future__ import annotations

from typing import Any, Protocol

from connectors.chain.rpc import BlockInfo

KEEP = 64


class _Blocks(Protocol):
    def block(self, number: int) -> BlockInfo | None: ...


class Checkpoints:
    def __init__(self, entries: list[tuple[int, str]] | None = None) -> None:
        self.entries = sorted(entries or [])[-KEEP:]

    @classmethod
    def from_cursor(cls, value: dict[str, Any] | None) -> Checkpoints:
        raw = (value or {}).get("checkpoints") or []
        return cls([(int(b), str(h)) for b, h in raw])

    def to_cursor(self) -> dict[str, Any]:
        last = self.entries[-1] if self.entries else None
        return {
            "block": last[0] if last else None,
            "hash": last[1] if last else None,
            "checkpoints": [[b, h] for b, h in self.entries],
        }

    @property
    def last_block(self) -> int | None:
        return self.entries[-1][0] if self.entries else None

    def add(self, block: int, block_hash: str) -> None:
        self.entries = [e for e in self.entries if e[0] < block]
        self.entries.append((block, block_hash))
        self.entries = self.entries[-KEEP:]

    def truncate(self, from_block: int) -> None:
        """Forget checkpoints at or above `from_block` (those blocks are re-read)."""
        self.entries = [e for e in self.entries if e[0] < from_block]

    def restart_point(self, chain: _Blocks, floor: int) -> int | None:
        """None when the newest checkpoint is still canonical; else the first block to re-read."""
        if not self.entries:
            return None
        for i, (block, block_hash) in enumerate(reversed(self.entries)):
            info = chain.block(block)
            if info is not None and info.hash == block_hash:
                return None if i == 0 else block + 1
        return floor
