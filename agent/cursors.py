"""What a source needs from the store to plan a sync, and what it hands back.

Kept below both the store and the connectors, so a source reads its position without
importing the store: every arrow points down.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class CursorUpdate(BaseModel):
    """A source's position, written atomically with the records it covers."""

    model_config = ConfigDict(frozen=True)
    source: str
    scope: str
    value: dict[str, Any]


class ProposalRef(BaseModel):
    """Just enough of a stored proposal for a source to plan a sync."""

    model_config = ConfigDict(frozen=True)
    uid: str
    id: str
    state: str
    end_ts: int | None
    scores_final: bool
    votes_complete: bool
    deleted: bool
    block: int | None = None
    """The block a chain proposal was created in (None for other sources)."""
    votes_count: int | None = None
    """How many votes the source said the proposal has when last read (None: unknown)."""
