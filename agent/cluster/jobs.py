"""`steward run`'s jobs split into leased units, so workers share them and none runs twice.

Ingest is one unit per Snapshot space or governor (`ingest:snapshot:ens.eth`,
`ingest:chain:uniswap`); the vector index, simulations, analysis and posting are
one unit each; voting is one unit per delegate. A unit done is not due again for
its interval (`due_at` in the lease), whichever worker did it; each worker polls
every `cluster.renew_every_s`, so a dead worker's units are taken over soon after
its leases expire. Every worker walks the units from its own starting point, so
several workers fan out over many spaces instead of queueing on the first.
"""

from __future__ import annotations

import functools
import logging
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError, OperationalError

from agent.cluster.worker import ClusterWorker
from agent.errors import StewardError
from agent.runner.jobs import (
    MAX_ERRORS,
    AnalyseResult,
    IngestResult,
    PostResult,
    VoteResult,
    _error,
    _utcnow,
    analyse_due,
    post_webhook,
    vote,
)
from agent.runner.loop import Job, JobResult
from agent.store.leases import Lease, LeaseLost

if TYPE_CHECKING:
    from agent.app import App
    from agent.chat.deliver import Sender
    from agent.chat.models import Message
    from agent.ports import ProposalSource, SyncItem, SyncState
    from agent.voting.service import VotingService

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestUnit:
    name: str
    source: ProposalSource
    scope: str


def ingest_units(sources: list[ProposalSource]) -> list[IngestUnit]:
    return [
        IngestUnit(f"ingest:{s.name}:{scope}", s, scope) for s in sources for scope in s.scopes()
    ]


class FencedSource:
    """A source that stops (LeaseLost) as soon as its worker learns the unit was taken over,
    so a stalled worker does not keep writing a space another worker now ingests."""

    def __init__(self, inner: ProposalSource, worker: ClusterWorker, lease: Lease) -> None:
        self.inner, self.worker, self.lease = inner, worker, lease
        self.name = inner.name

    def scopes(self) -> list[str]:
        return self.inner.scopes()

    def sync(
        self, scope: str, state: SyncState, *, full: bool = False, votes: bool = True
    ) -> Iterator[SyncItem]:
        for item in self.inner.sync(scope, state, full=full, votes=votes):
            if self.worker.lost(self.lease):
                raise LeaseLost(self.lease.name)
            yield item


class ScopedSource:
    """One scope of a source: what a unit ingests (its cursor and run are that scope's)."""

    def __init__(self, inner: ProposalSource, scope: str) -> None:
        self.inner, self.scope = inner, scope
        self.name = inner.name

    def scopes(self) -> list[str]:
        return [self.scope]

    def sync(
        self, scope: str, state: SyncState, *, full: bool = False, votes: bool = True
    ) -> Iterator[SyncItem]:
        return self.inner.sync(scope, state, full=full, votes=votes)


def claimable(worker: ClusterWorker, names: list[str]) -> list[str]:
    """The names no live worker holds and that are due, by one read (claims re-check)."""
    now = worker.leases.now()
    rows = {r.name: r for r in worker.leases.rows("ingest:")}
    out = []
    for name in names:
        row = rows.get(name)
        if row is None or ((row.holder is None or row.expires_at <= now) and row.due_at <= now):
            out.append(name)
    return out


def ingest_due(
    app: App, worker: ClusterWorker, units: list[IngestUnit], stop: threading.Event
) -> IngestResult:
    """Every unit this worker can claim, then simulations and the index if nobody is at them."""
    from agent import steps

    run = app.settings.run
    result = IngestResult(sources=0)
    by_name = {u.name: u for u in units}
    free = claimable(worker, list(by_name))
    start = random.randrange(len(free)) if free else 0
    for name in free[start:] + free[:start]:
        if stop.is_set():
            break
        unit = by_name[name]
        with worker.job(name, every_s=run.ingest_every_s) as lease:
            if lease is None:
                continue
            result.sources += 1
            result.ingest = result.ingest.plus(
                steps.ingest_each(
                    [ScopedSource(FencedSource(unit.source, worker, lease), unit.scope)],
                    app.store,
                    errors=result.errors,
                    on_synced=app.observer.ingest_synced,
                )
            )
    if not stop.is_set():
        with worker.job("simulate", due=False) as lease:
            if lease is not None:
                _simulate(app, result)
        if run.index and worker.is_down(VECTOR_STORE) and _vector_store_answers(app):
            worker.recovered(VECTOR_STORE)
        if run.index and not worker.is_down(VECTOR_STORE) and app.store.index_tasks():
            with worker.job("index", due=False) as lease:
                if lease is not None:
                    _index(app, worker, result)
    del result.errors[MAX_ERRORS + 1 :]
    result.idle = result.sources == 0 and result.index is None
    return result


def _simulate(app: App, result: IngestResult) -> None:
    from agent import steps

    try:
        for report in steps.simulate_due(app):
            if report.simulated:
                result.simulated += 1
            else:
                result.not_simulated += 1
    except StewardError as exc:
        _error(result, f"simulate: {exc}")


VECTOR_STORE = "vector store"


def _index(app: App, worker: ClusterWorker, result: IngestResult) -> None:
    """Bring the index up to date. A vector store that stops answering (any error, then no
    heartbeat) is an outage, not a failure: the worker says so once, keeps ingesting, and
    the next poll after it answers again finishes the job (the store's bookkeeping says what
    the index holds, so a write cut off half-way is redone, never doubled)."""
    from agent import steps

    try:
        result.index = steps.index_due(app)
    except Exception as exc:  # a connector's transport error is not ours to name
        if not _vector_store_answers(app):
            worker.outage(VECTOR_STORE, exc)
            return
        if not isinstance(exc, StewardError):
            raise
        _error(result, f"index: {exc}")
        return
    worker.recovered(VECTOR_STORE)
    if result.index is not None:
        app.observer.embedded(result.index.computed_embeddings)


def _vector_store_answers(app: App) -> bool:
    try:
        app.index.heartbeat()
    except StewardError:
        return False
    return True


def analyse_leased(
    app: App, worker: ClusterWorker, analyst: Callable[[], object], now: Callable[[], datetime]
) -> JobResult:
    with worker.job("analyse", every_s=app.settings.run.analyse_every_s) as lease:
        if lease is None:
            return AnalyseResult(idle=True)
        return analyse_due(app, analyst, now=now())  # type: ignore[arg-type]


def vote_leased(app: App, worker: ClusterWorker, services: dict[str, VotingService]) -> VoteResult:
    """One voting tick per delegate this worker can claim; first, every worker witnesses
    the audit log's end in its own head file (`AuditLog.witness`)."""
    result = VoteResult(idle=True)
    if services:
        _witness(next(iter(services.values())), worker)
    for delegate_id, service in services.items():
        with worker.job(f"vote:{delegate_id}", every_s=app.settings.run.vote_every_s) as lease:
            if lease is None:
                continue
            one = vote(service)
            result.idle = False
            result.decided += one.decided
            result.reconciled += one.reconciled
            for key, n in one.outcomes.items():
                result.outcomes[key] = result.outcomes.get(key, 0) + n
            for error in one.errors:
                _error(result, f"{delegate_id}: {error}")
    return result


def _witness(service: VotingService, worker: ClusterWorker) -> None:
    try:
        intact = service.audit.witness()
    except OSError as exc:  # the head file's disk: voting goes on
        worker.outage("audit head file", exc)
        return
    worker.recovered("audit head file")
    if not intact and not worker.counts["audit_not_extended"]:
        worker.counts["audit_not_extended"] += 1  # said once; `steward audit verify` says more
        log.warning("the audit log does not extend this machine's head: run steward audit verify")


class FencedSender:
    """Posts only while this worker surely holds the `post` lease: before each message the
    database must give the lease at least `margin` seconds more (renewal keeps it fresh),
    so a worker that stalled cannot send what the worker that took over resends."""

    def __init__(self, inner: Sender, worker: ClusterWorker, lease: Lease, margin: float) -> None:
        self.inner, self.worker, self.lease, self.margin = inner, worker, lease, margin

    def send(self, target: str, message: Message) -> None:
        from agent.chat.deliver import DeliveryError

        if self.worker.lost(self.lease) or not self.worker.leases.still_held(
            self.lease, margin=self.margin
        ):
            raise DeliveryError("another worker took over posting: it sends this post")
        self.inner.send(target, message)


def post_leased(
    app: App, worker: ClusterWorker, sender: Sender, now: Callable[[], datetime]
) -> JobResult:
    """One worker posts at a time; the post log's claim keeps each post to one send."""
    with worker.job("post", every_s=app.settings.run.post_every_s) as lease:
        if lease is None:
            return PostResult(idle=True)
        margin = app.settings.cluster.lease_s / 2
        return post_webhook(app, FencedSender(sender, worker, lease, margin), now=now())


def delegate_services(app: App, build: Callable[[], VotingService]) -> dict[str, VotingService]:
    """A voting service per delegate (each reconciles and votes for its delegate only)."""
    services: dict[str, VotingService] = {}
    for delegate in app.settings.voting.delegates:
        if delegate.mode == "off":
            continue
        service = build()
        service.settings = service.settings.model_copy(update={"delegates": [delegate]})
        services[delegate.id] = service
    return services


def survive_database(
    worker: ClusterWorker, run: Callable[[], JobResult]
) -> Callable[[], JobResult]:
    """A job that meets a database outage waits for the next poll; the worker logs it once."""

    @functools.wraps(run)
    def guarded() -> JobResult:
        try:
            result = run()
        except (OperationalError, DBAPIError) as exc:
            worker.database_down(exc)
            return JobResult(idle=True)
        worker.database_up()
        return result

    return guarded


def plan_cluster_jobs(
    app: App,
    worker: ClusterWorker,
    *,
    sources: list[ProposalSource],
    voting: dict[str, VotingService],
    sender: Sender | None,
    stop: threading.Event,
    now: Callable[[], datetime] = _utcnow,
) -> list[Job]:
    """The jobs each worker polls: fresh data first, posts last."""
    run, poll = app.settings.run, app.settings.cluster.renew_every_s
    analyst = functools.cache(app.analyst)
    jobs = []
    units = ingest_units(sources)
    if units:
        jobs.append(Job("ingest", poll, functools.partial(ingest_due, app, worker, units, stop)))
    if run.analyse:
        jobs.append(Job("analyse", poll, lambda: analyse_leased(app, worker, analyst, now)))
    if voting:
        jobs.append(Job("vote", poll, lambda: vote_leased(app, worker, voting)))
    if sender is not None:
        jobs.append(Job("post", poll, lambda: post_leased(app, worker, sender, now)))
    return [Job(j.name, j.every_s, survive_database(worker, j.run)) for j in jobs]
