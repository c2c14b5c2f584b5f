"""A vote decision: what Steward decided per delegate and proposal version, and the
delegate's approval or veto (kept by `agent/store/decisions.py`, read by voting and chat).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

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
    data: dict[str, Any]
    created_ts: int
