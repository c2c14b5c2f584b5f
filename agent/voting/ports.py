"""What the voting loop needs from a place votes go: Snapshot's sequencer, a Governor.

Connectors implement `VoteSink`; tests use the same connectors against a local
sequencer and a local chain, so the loop is exercised end to end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

from agent.models import Proposal


class LandedVote(BaseModel):
    """A vote the source already has from this voter (ours, or cast by hand)."""

    model_config = ConfigDict(frozen=True)
    ref: str | None
    """Snapshot vote id or transaction hash, when known."""
    choice: int | list[int] | dict[str, float] | str | None = None


class CastReceipt(BaseModel):
    model_config = ConfigDict(frozen=True)
    ref: str
    confirmed: bool
    """True once the source shows it (Snapshot receipt, mined transaction)."""
    detail: str = ""


SentCallback = Callable[[str, dict[str, object]], None]
"""Called with (ref, what to keep for a resend) the moment a vote leaves, before any
wait, so a crash after sending leaves a record to reconcile from."""


class VoteSink(Protocol):
    @property
    def kind(self) -> Literal["snapshot", "chain"]: ...

    @property
    def voter(self) -> str:
        """The address whose vote this sink casts."""
        ...

    def refresh(self, proposal: Proposal) -> Proposal:
        """The proposal as the source has it right now (content, state, end)."""
        ...

    def landed(self, proposal: Proposal, ref: str | None) -> LandedVote | None:
        """The voter's vote on `proposal` if the source has one (the truth for
        reconciliation); `ref` is what we recorded when sending, if anything."""
        ...

    def cast(
        self,
        proposal: Proposal,
        choice: int,
        reason: str,
        *,
        on_sent: SentCallback,
        resend: dict[str, object] | None = None,
    ) -> CastReceipt:
        """Send the vote (`choice`: 1-based index into `proposal.choices`). `resend`
        is what `on_sent` kept from an earlier attempt whose outcome is unknown."""
        ...
