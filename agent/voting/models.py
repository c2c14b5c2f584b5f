"""Records of delegated voting: vote intents and audit-log entries.

Statuses are a closed set so the voting loop and the store agree on what each
one means; `TRANSITIONS` is the only place that says which move is allowed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.models import VoteChoice, utc

TargetKind = Literal["snapshot", "chain"]
IntentStatus = Literal[
    "intended", "submitted", "confirmed", "failed", "skipped", "reconciled_existing"
]
OPEN_STATUSES: tuple[IntentStatus, ...] = ("intended", "submitted")
"""Not finished: a start-up reconciliation must look at these."""
COUNTED_STATUSES: tuple[IntentStatus, ...] = (
    "intended",
    "submitted",
    "confirmed",
    "reconciled_existing",
)
"""Count against a daily limit: cast, or about to be (failed and skipped do not)."""

TRANSITIONS: dict[IntentStatus, tuple[IntentStatus, ...]] = {
    "intended": ("submitted", "failed", "skipped", "reconciled_existing"),
    "submitted": ("confirmed", "failed", "reconciled_existing"),
    "confirmed": (),
    "failed": (),
    "skipped": (),
    "reconciled_existing": (),
}
"""Forward only: nothing ever moves back to `intended`, so a vote is never re-sent by
a status flip. A retryable failure keeps its status and counts an attempt."""

AuditKind = Literal[
    "recommended",
    "approved",
    "vetoed",
    "intent",
    "cast",
    "confirmed",
    "failed",
    "skipped",
    "reconciled",
    "paused",
    "resumed",
    "limit_reached",
]
AuditProblem = Literal[
    "edited",
    "deleted",
    "reordered",
    "truncated",
    "head_mismatch",
    "head_missing",
    "head_unreadable",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Intent(_Frozen):
    """One vote Steward means to cast (or cast), with everything it rests on."""

    id: str
    delegate: str
    target: TargetKind
    proposal_uid: str
    content_hash: str
    """The proposal's content hash when the decision was made."""
    choice: VoteChoice
    reason: str
    provenance_hash: str
    status: IntentStatus
    external_ref: str | None
    """Snapshot receipt id or transaction hash, once known."""
    attempts: int
    error: str | None
    created: datetime
    updated: datetime
    submitted: datetime | None
    confirmed: datetime | None
    bundle: dict[str, Any]
    """The VoteBundle JSON exactly as stored (see `agent/voting/provenance.py`)."""


class AuditEntry(_Frozen):
    """One link of the audit chain; `hash` covers every other field."""

    seq: int
    ts: int
    """Unix seconds (an integer, so the hash input never depends on float formatting)."""
    kind: str
    delegate: str | None
    proposal_uid: str | None
    data: dict[str, Any]
    prev_hash: str
    hash: str

    @property
    def at(self) -> datetime:
        return utc(self.ts)


class AuditHead(_Frozen):
    """The newest entry as anchored outside the table (the head file)."""

    seq: int = Field(ge=1)
    hash: str


class AuditReport(_Frozen):
    """What `verify` found: `ok`, or the first broken seq and why."""

    ok: bool
    entries: int
    last_seq: int | None
    head: AuditHead | None
    broken_seq: int | None = None
    problem: AuditProblem | None = None
    detail: str = ""
    warnings: list[str] = Field(default_factory=list)
