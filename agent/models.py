"""Domain models shared by every source (Snapshot, Governor chains, archives).

Connectors validate their raw API shapes themselves and map them onto these;
nothing else crosses a module boundary.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    computed_field,
    model_serializer,
)

SourceKind = Literal["snapshot", "chain", "archive"]
ProposalState = Literal[
    "pending",
    "active",
    "closed",
    "canceled",
    "defeated",
    "succeeded",
    "queued",
    "expired",
    "executed",
]
ContractKind = Literal[
    "token",
    "treasury",
    "timelock",
    "governor",
    "proxy",
    "ens_registry",
    "ens_resolver",
    "multisig",
    "other",
]
"""What a configured contract is, for naming it and flagging calls to it."""
OPEN_STATES: frozenset[str] = frozenset({"pending", "active"})
VoteChoice = int | list[int] | dict[str, float] | str


def utc(ts: int | float) -> datetime:
    """A timezone-aware UTC datetime from a unix timestamp."""
    return datetime.fromtimestamp(ts, tz=UTC)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LooseRecord(BaseModel):
    """Stored JSON read back as a model: the keys Steward reads are typed, missing ones
    default, keys it does not know (or a later version adds) are kept; a dump holds what
    was set and nothing more, so the stored JSON does not change shape."""

    model_config = ConfigDict(frozen=True, extra="allow")

    @model_serializer(mode="wrap")
    def _as_set(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        keep = self.model_fields_set | set(self.model_extra or {})
        return {k: v for k, v in handler(self).items() if k in keep}


class ProposalExtra(LooseRecord):
    """Source-specific detail of a proposal. Typed: what Steward reads back; the rest (an
    archive's provenance, EP numbers, vote counts per choice…) rides along verbatim."""

    # on-chain proposals (connectors/chain/source.py, Governor archives)
    chain_id: int | None = None
    governor: str | None = None
    """The governor's address (chain source) or name (archives)."""
    governor_kind: str | None = None
    proposal_id: str | int | None = None
    created_block: int | None = None
    tx: str | None = None
    created_tx: str | None = None
    vote_start: int | None = None
    vote_end: int | None = None
    raw_actions: list[Any] | None = None
    """Verbatim targets, values, signatures and calldata, for a fork simulation."""
    # decoded actions (`agent.decode.actions_extra`); their readers validate each item
    actions: list[Any] | None = None
    action_flags: list[Any] | None = None
    # Snapshot
    privacy: str | None = None
    # added for the analyst (`agent.analysis.service.with_simulation`)
    simulation_summary: str | None = None


_V = TypeVar("_V")


def required(value: _V | None, key: str) -> _V:
    """A `ProposalExtra` value that must be there (a KeyError, as reading the dict was)."""
    if value is None:
        raise KeyError(key)
    return value


class Space(_Model):
    """A DAO's voting space on one source (a Snapshot space, a Governor)."""

    source: SourceKind
    id: str
    name: str = ""
    network: str | None = None
    symbol: str | None = None
    verified: bool = False
    flagged: bool = False
    """The source marks the space as spam or otherwise flagged."""
    proposals_count: int | None = None


class Proposal(_Model):
    """A proposal from any source. `uid` is unique across sources."""

    source: SourceKind
    space: str
    id: str
    title: str
    body: str = ""
    choices: list[str] = Field(default_factory=list)
    type: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    snapshot_block: int | None = None
    """The block voting power is counted at (Snapshot's `snapshot`, a Governor's vote start)."""
    state: ProposalState
    author: str | None = None
    scores: list[float] = Field(default_factory=list)
    scores_total: float | None = None
    scores_final: bool = False
    votes_count: int = 0
    quorum: float | None = None
    discussion: str | None = None
    link: str | None = None
    created: datetime | None = None
    """None only where a source never said (some archives)."""
    updated: datetime | None = None
    flagged: bool = False
    outcome: str | None = None
    """The published result where the source states one (archives, chains)."""
    links: list[str] = Field(default_factory=list)
    extra: ProposalExtra = Field(default_factory=ProposalExtra)
    """Source-specific detail kept verbatim (e.g. an archive's provenance)."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def uid(self) -> str:
        return f"{self.source}:{self.id}"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def content_hash(self) -> str:
        """SHA-256 over what the author wrote; scores and state are not content."""
        return content_hash(self.title, self.body, self.choices, self.type, self.discussion)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


def content_hash(
    title: str, body: str, choices: list[str], type_: str | None, discussion: str | None
) -> str:
    payload = json.dumps(
        {"title": title, "body": body, "choices": choices, "type": type_, "discussion": discussion},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class Vote(_Model):
    """One voter's vote on one proposal."""

    source: SourceKind
    id: str
    proposal_uid: str
    space: str
    voter: str
    choice: VoteChoice
    voting_power: float
    reason: str = ""
    created: datetime
    block: int | None = None
    """The block a chain vote was cast in (a reorg above it removes the vote); else None."""


class ProposalChange(_Model):
    """What one upsert did to a stored proposal."""

    uid: str
    kind: Literal["new", "updated", "unchanged", "restored"]
    content_changed: bool = False
