"""SnapshotVoteSink: the voting loop's way to Snapshot (hub to read, sequencer to write).

The signed envelope is handed to `on_sent` before it is POSTed: if the process
dies mid-request, reconciliation asks the hub for a vote with that exact id,
and a retry resends the same envelope, which the sequencer can only accept
once. A fresh signature (a new vote id) is made only after the hub has said
that no vote from this voter exists.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

from agent.errors import SourceError
from agent.models import Proposal, Space
from agent.voting.ports import CastReceipt, LandedVote, SentCallback
from connectors.snapshot import queries
from connectors.snapshot.client import HubClient
from connectors.snapshot.reconcile import fetch_cast_vote
from connectors.snapshot.schema import RawProposal, parse
from connectors.snapshot.sequencer import SequencerClient
from connectors.snapshot.source import to_proposal
from connectors.snapshot.vote_signing import VoteEnvelope, VoteRequest, VoteSigner, sign_vote

RESIGN_AFTER_S = 2 * 24 * 3600
"""The sequencer refuses old timestamps (3 days in its code): re-sign before that."""


class SnapshotVoteSink:
    kind: Literal["snapshot"] = "snapshot"

    def __init__(
        self,
        hub: HubClient,
        sequencer: SequencerClient,
        signer: VoteSigner,
        *,
        voter: str,
        app: str = "steward",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.hub = hub
        self.sequencer = sequencer
        self._signer = signer
        self.voter = voter
        self.app = app
        self._clock = clock

    def __repr__(self) -> str:
        return f"SnapshotVoteSink(voter={self.voter})"

    def refresh(self, proposal: Proposal) -> Proposal:
        data = self.hub.query(queries.PROPOSALS_BY_ID, {"ids": [proposal.id], "first": 1})
        raws: list[RawProposal] = parse(data, "proposals", RawProposal, many=True)
        if not raws:
            raise SourceError(f"{proposal.uid} is no longer on Snapshot: not voting on it")
        space = Space(source="snapshot", id=proposal.space, flagged=proposal.flagged)
        fresh = to_proposal(raws[0], space)
        return fresh.model_copy(update={"extra": proposal.extra})

    def landed(self, proposal: Proposal, ref: str | None) -> LandedVote | None:
        raw = fetch_cast_vote(self.hub, proposal=proposal.id, voter=self.voter)
        if raw is None:
            return None
        return LandedVote(ref=raw.id, choice=raw.choice)

    def cast(
        self,
        proposal: Proposal,
        choice: int,
        reason: str,
        *,
        on_sent: SentCallback,
        resend: dict[str, Any] | None = None,
    ) -> CastReceipt:
        envelope = self._previous(resend) or self._sign(proposal, choice, reason)
        on_sent(envelope.vote_id, {"envelope": envelope.payload()})
        receipt = self.sequencer.submit(envelope)
        return CastReceipt(ref=receipt.id, confirmed=True, detail=f"ipfs {receipt.ipfs}")

    def _sign(self, proposal: Proposal, choice: int, reason: str) -> VoteEnvelope:
        voter = None if self.voter.lower() == self._signer.address.lower() else self.voter
        request = VoteRequest.for_proposal(
            proposal, choice, reason=reason, app=self.app, voter=voter
        )
        return sign_vote(request, self._signer, now=self._clock)

    def _previous(self, resend: dict[str, Any] | None) -> VoteEnvelope | None:
        """The envelope already sent, if still fresh enough for the sequencer."""
        if not resend or "envelope" not in resend:
            return None
        envelope = VoteEnvelope.model_validate(resend["envelope"])
        if self._clock() - envelope.data.message.timestamp > RESIGN_AFTER_S:
            return None
        return envelope
