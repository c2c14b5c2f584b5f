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
