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
