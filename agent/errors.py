"""One error hierarchy whose messages are written for a person.

Only the edges (CLI, Discord) turn these into exits or replies; everything
inside raises them with enough context to act on.
"""

from __future__ import annotations


class StewardError(Exception):
    """Base class: `str(error)` is a message meant for the user."""


class ConfigError(StewardError):
    """The configuration is invalid; the message names the key."""


class SourceError(StewardError):
    """An outside source failed (after retries) or answered nonsense."""


class SourceUnavailable(SourceError):
    """The source could not be reached or kept failing after retries."""


class RateLimited(SourceUnavailable):
    """The source kept answering 429 after every retry."""


class MalformedResponse(SourceError):
    """The source answered, but not in the shape its schema promises."""


class ArchiveError(StewardError):
    """An archive file given to `ingest --from-file` could not be read."""


class NotFound(StewardError):
    """A proposal (or other record) the user asked for is not stored."""


class StoreError(StewardError):
    """The record or vector store failed or is in an unexpected state."""


class VoteError(StewardError):
    """Casting a vote failed; the message says whether the vote may have been recorded."""


class InvalidVote(VoteError):
    """Refused before signing (choice does not fit the proposal, unsupported voting type, bad
    field); nothing was signed or sent."""


class SigningFailed(VoteError):
    """The signer failed or its signature does not recover to its address; nothing was sent."""


class VoteRejected(VoteError):
    """The sequencer gave a final answer: this vote was not recorded and resending the same
    envelope will not change that. ``kind`` groups the sequencer's reasons."""

    def __init__(self, message: str, *, kind: str, description: str, status: int | None):
        super().__init__(message)
        self.kind = kind
        self.description = description
        self.status = status


class VoteAlreadyRecorded(VoteError):
    """The sequencer already holds this exact signed vote (same id): it counts, nothing changed."""

    def __init__(self, message: str, *, vote_id: str):
        super().__init__(message)
        self.vote_id = vote_id


class SequencerUnavailable(VoteError):
    """Every attempt failed before the sequencer could record the vote (unreachable, busy,
    rate-limited): the vote was not recorded and may be sent again later, after
    ``retry_after`` seconds when the sequencer said so."""

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class OutcomeUnknown(VoteError):
    """The vote may or may not have been recorded (timeout or dropped connection after
    sending, unreadable answer): look it up on the hub before sending anything again."""

    def __init__(self, message: str, *, vote_id: str):
        super().__init__(message)
        self.vote_id = vote_id


# ---- on-chain votes (connectors/chain/vote_tx.py) ------------------------------------------
class ProposalNotActive(InvalidVote):
    """The governor does not take votes on this proposal now (``state`` says why: pending,
    defeated, …): nothing was signed or sent. A pending proposal may be voted on later."""

    def __init__(self, message: str, *, state: str):
        super().__init__(message)
        self.state = state


class AlreadyVoted(VoteError):
    """The chain already counts a vote by this voter on this proposal, perhaps with another
    choice: nothing was sent. ``tx_hash`` is the transaction that cast it, when known."""

    def __init__(self, message: str, *, tx_hash: str | None = None):
        super().__init__(message)
        self.tx_hash = tx_hash


class FeeCapExceeded(VoteError):
    """The network asks more per gas than the configured cap: nothing was sent. Try again when
    fees fall, or raise the cap."""

    def __init__(self, message: str, *, needed_gwei: float, cap_gwei: float):
        super().__init__(message)
        self.needed_gwei = needed_gwei
        self.cap_gwei = cap_gwei


class TransactionRefused(VoteError):
    """The vote transaction was not broadcast: the node refused it (funds, nonce taken, fee
    below the base fee), or the account already has a transaction pending or in flight. The
    vote was not recorded; try again later."""


class VoteReverted(VoteError):
    """The vote transaction was mined but reverted: the vote was not recorded (the fee was
    spent). ``tx_hash`` is that transaction."""

    def __init__(self, message: str, *, tx_hash: str):
        super().__init__(message)
        self.tx_hash = tx_hash


class CastOutcomeUnknown(OutcomeUnknown):
    """A vote transaction was (or may have been) sent, but no receipt came in time or the node
    stopped answering: check ``has_voted`` / ``find_cast`` with ``tx_hashes`` before sending
    again. ``vote_id`` is the last hash sent."""

    def __init__(self, message: str, *, tx_hashes: tuple[str, ...]):
        super().__init__(message, vote_id=tx_hashes[-1] if tx_hashes else "")
        self.tx_hashes = tx_hashes


class NodeUnavailable(SequencerUnavailable):
    """The chain node could not be reached, or kept failing, before a vote transaction was
    sent: nothing was sent and the vote may be cast again later."""


class SimulationFailed(StewardError):
    """A proposal could not be simulated on a fork; the message says why (stored as such)."""
