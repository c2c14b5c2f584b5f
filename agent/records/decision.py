"""A vote decision: what Steward decided per delegate and proposal version, and the
delegate's approval or veto (kept by `agent/store/decisions.py`, read by voting and chat).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.models import LooseRecord

DecisionStatus = Literal[
    "awaiting_approval",
    "approved",
    "vetoed",
    "scheduled",
    "dry_run",
    "blocked",
    "cast",
    "superseded",
    "expired",
]
LIVE: tuple[DecisionStatus, ...] = ("awaiting_approval", "approved", "scheduled")
"""Decisions the voting loop still acts on."""


class Decision(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    delegate: str
    proposal_uid: str
    content_hash: str
    mode: str
    status: DecisionStatus
    choice_label: str | None
    choice: int | None
    confidence: float
    cast_after_ts: int | None
    decided_by: str | None
    decided_ts: int | None
    message_ref: str | None
    data: DecisionData
    created_ts: int


class BlockerNote(LooseRecord):
    """A guardrail that stopped the vote, as recorded (`agent.voting.guardrails.Blocker`)."""

    code: str
    detail: str = ""


class SentNote(LooseRecord):
    """What a sink sent before waiting for it to land: its reference, and what it keeps
    to find the vote again after a restart."""

    ref: str
    keep: dict[str, Any] = Field(default_factory=dict)


class DecisionData(LooseRecord):
    """What a decision rests on: the blockers, and with an assessment the vote bundle and
    what the messages show. `bundle` and `track_record` stay JSON here (their models live
    with voting); their readers validate them."""

    blockers: list[BlockerNote] = Field(default_factory=list)
    track_record: dict[str, Any] | None = None
    bundle: dict[str, Any] | None = None
    provenance_hash: str | None = None
    reason: str | None = None
    recommendation: str | None = None
    summary: str | None = None
    sent: SentNote | None = None

    def stored(self) -> dict[str, Any]:
        """The JSON kept in the store."""
        return self.model_dump(mode="json")
