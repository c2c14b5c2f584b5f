"""ChainVoteSink: the voting loop's way to a Governor (read state, cast, reconcile).

A Governor refuses a second vote from the same address, so "never twice" holds
on chain by construction; what the loop must still avoid is paying for a
doomed transaction, so `landed` asks `hasVoted` (and finds the transaction)
before any send.
"""

from __future__ import annotations

from typing import Any, Literal

from agent.errors import SourceError
from agent.models import Proposal
from agent.voting.ports import CastReceipt, LandedVote, SentCallback
from connectors.chain.governor import GovernorReader
from connectors.chain.source import CHOICES, SUPPORT_TO_CHOICE
from connectors.chain.vote_tx import ChainVoter

CHOICE_TO_SUPPORT = {choice: support for support, choice in SUPPORT_TO_CHOICE.items()}


class ChainVoteSink:
    kind: Literal["chain"] = "chain"

    def __init__(self, voter: ChainVoter, reader: GovernorReader) -> None:
        self._voter = voter
        self.reader = reader
        self.voter: str = voter.address

    def __repr__(self) -> str:
        return f"ChainVoteSink(voter={self.voter}, governor={self.reader.address})"

    def refresh(self, proposal: Proposal) -> Proposal:
        """Governor proposals cannot be edited; only their state moves."""
        state = self._voter.vote_state(_pid(proposal))
        if state == "unknown":
            raise SourceError(f"{proposal.uid}: the governor does not know this proposal")
        return proposal.model_copy(update={"state": state})

    def landed(self, proposal: Proposal, ref: str | None) -> LandedVote | None:
        pid = _pid(proposal)
        if not self._voter.has_voted(pid, self.voter):
            return None
        start = int(proposal.extra.created_block or 0)
        return LandedVote(ref=self._voter.find_cast(pid, self.voter, start) or ref)

    def cast(
        self,
        proposal: Proposal,
        choice: int,
        reason: str,
        *,
        on_sent: SentCallback,
        resend: dict[str, Any] | None = None,
    ) -> CastReceipt:
        if proposal.choices != CHOICES or choice not in CHOICE_TO_SUPPORT:
            raise SourceError(f"{proposal.uid}: choice {choice} is not a Governor vote")
        receipt = self._voter.cast(
            _pid(proposal),
            CHOICE_TO_SUPPORT[choice],
            reason,
            on_sent=lambda tx: on_sent(tx, {"tx": tx}),
        )
        return CastReceipt(
            ref=receipt.tx_hash,
            confirmed=receipt.status == 1,
            detail=f"block {receipt.block}, replaced {receipt.replaced}x",
        )


def _pid(proposal: Proposal) -> int:
    return int(proposal.extra.proposal_id or proposal.id.rsplit(":", 1)[1])
