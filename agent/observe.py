"""What the service reports about itself while it works, without knowing who listens.

Connectors, jobs and the runner call an `Observer`; `agent.metrics.Metrics` turns the
calls into Prometheus series, and `NullObserver` (the default) drops them, so nothing
here imports prometheus-client and a command that serves no metrics pays nothing.
Methods must never raise: a metric is never worth a failed job or a lost vote.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol


class RequestObserver(Protocol):
    """What a connector that talks to a remote service reports (Snapshot hub, RPC node).

    `target` is a short fixed name (`snapshot_hub`, `rpc:mainnet`): never a URL, which
    can carry an API key.
    """

    def request(self, target: str) -> None: ...

    def retry(self, target: str) -> None: ...


class Observer(RequestObserver, Protocol):
    """Everything `steward run` reports; the cluster code calls the lease and rate hooks."""

    def job_done(self, job: str, ok: bool, seconds: float) -> None:
        """A runner job finished (`ok` False when it raised or reported errors)."""
        ...

    def ingest_synced(self, source: str, scope: str) -> None:
        """A source's scope (a Snapshot space, a governor) was read to the end just now."""
        ...

    def embedded(self, vectors: int) -> None:
        """The embedding model computed this many vectors (reused ones are not counted)."""
        ...

    def vote(self, event: str, reasons: Sequence[str] = ()) -> None:
        """A vote was cast, confirmed or failed (`event`), or refused (`skipped`, with the
        guardrails' reason codes)."""
        ...

    def posted(self, sent: int, failed: int) -> None: ...

    def lease_takeover(self, kind: str) -> None:
        """This worker took over a job whose lease another worker let expire."""
        ...

    def rate_waited(self, target: str, seconds: float) -> None:
        """Time spent waiting on a (shared) request budget before calling `target`."""
        ...


class NullObserver:
    """Hears everything, keeps nothing: the default when no metrics are served."""

    def request(self, target: str) -> None:
        return None

    def retry(self, target: str) -> None:
        return None

    def job_done(self, job: str, ok: bool, seconds: float) -> None:
        return None

    def ingest_synced(self, source: str, scope: str) -> None:
        return None

    def embedded(self, vectors: int) -> None:
        return None

    def vote(self, event: str, reasons: Sequence[str] = ()) -> None:
        return None

    def posted(self, sent: int, failed: int) -> None:
        return None

    def lease_takeover(self, kind: str) -> None:
        return None

    def rate_waited(self, target: str, seconds: float) -> None:
        return None


class AuditedEntry(Protocol):
    """The part of an audit-log entry (`agent.voting.models.AuditEntry`) votes are read from."""

    @property
    def kind(self) -> str: ...

    @property
    def data(self) -> Mapping[str, Any]: ...


VOTE_KINDS = frozenset({"cast", "confirmed", "failed", "skipped"})


def vote_reporter(observer: Observer) -> Callable[[AuditedEntry], None]:
    """The audit log's hook: every cast, confirmation, failure and refusal is written there
    first, so counting what it appends counts each vote event exactly once."""

    def report(entry: AuditedEntry) -> None:
        if entry.kind not in VOTE_KINDS:
            return
        blockers = entry.data.get("blockers")
        reasons = [str(b) for b in blockers] if isinstance(blockers, list) else []
        observer.vote(entry.kind, reasons or (["other"] if entry.kind == "skipped" else []))

    return report
