"""Has this voter voted on this proposal? The hub's answer, used before any resend.

After ``OutcomeUnknown`` the only safe next step is to look: the hub stores one vote per
voter and proposal, whose ``id`` is the EIP-712 hash of the message that set it. So our
envelope landed exactly when the hub's vote id equals ``envelope.vote_id``; a different id
with a later ``created`` means a newer vote replaced it.
"""

from __future__ import annotations

from eth_utils import is_address, to_checksum_address

from agent.errors import SourceError
from connectors.snapshot.client import HubClient
from connectors.snapshot.queries import VOTE_BY_VOTER
from connectors.snapshot.schema import RawVote, parse
from connectors.snapshot.vote_signing import VoteEnvelope


def fetch_cast_vote(hub: HubClient, *, proposal: str, voter: str) -> RawVote | None:
    """The hub's current vote by ``voter`` on ``proposal`` (id, choice, created, reason), or
    None when there is none. The address is sent checksummed, as the sequencer stores it."""
    if not is_address(voter):
        raise SourceError(f"{voter!r} is not an Ethereum address")
    variables = {"proposal": proposal, "voter": str(to_checksum_address(voter))}
    votes: list[RawVote] = parse(hub.query(VOTE_BY_VOTER, variables), "votes", RawVote, many=True)
    return votes[0] if votes else None


def landed_vote(hub: HubClient, envelope: VoteEnvelope) -> RawVote | None:
    """The hub's vote if it is exactly ``envelope`` (same id), else None."""
    message = envelope.data.message
    cast = fetch_cast_vote(hub, proposal=message.proposal, voter=message.from_)
    if cast is not None and cast.id.lower() == envelope.vote_id.lower():
        return cast
    return None
