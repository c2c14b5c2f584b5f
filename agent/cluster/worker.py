"""One worker of a cluster: its registration, the leases it holds, and their renewal.

A background thread renews every held lease and the worker's `last_seen` each
`renew_every_s`. When the database goes away it logs one line, keeps trying, and
logs one more when it is back; a lease that was taken over meanwhile is marked lost,
and work under it stops before committing (`check`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from agent.settings import ClusterSettings, Settings
from agent.store.cluster_tables import db_now
from agent.store.leases import Clock, Lease, LeaseLost, LeaseStore
from agent.store.workers import WorkerRegistry

log = logging.getLogger(__name__)


@dataclass
class ClusterHooks:
    """What a worker tells an observer (metrics): all optional, all cheap."""

    on_claim: Callable[[str], None] | None = None
    on_takeover: Callable[[str, str], None] | None = None
    """(job, the worker whose expired lease was taken over)."""
    on_lost: Callable[[str], None] | None = None
    on_rate_wait: Callable[[str, float], None] | None = None
    on_database: Callable[[bool], None] | None = None
    """False when the database stops answering, True when it is back."""


def default_worker_id() -> str:
    """`host:pid:xxxx`; the random part keeps containers (all pid 1) apart."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"


def deployment_of(settings: Settings) -> str:
    """`cluster.deployment`, else a name derived from who votes and where it posts."""
    if settings.cluster.deployment:
        return settings.cluster.deployment
    who = sorted(f"{d.id}" for d in settings.voting.delegates)
    where = sorted(str(c) for c in settings.discord.channels)
    digest = hashlib.sha256(repr((who, where)).encode()).hexdigest()[:12]
    return f"steward-{digest}"


@dataclass
class _Held:
    leases: dict[str, Lease] = field(default_factory=dict)
    lost: set[str] = field(default_factory=set)


class ClusterWorker:
    def __init__(
        self,
        engine: Engine,
        cfg: ClusterSettings,
        deployment: str,
        *,
        hooks: ClusterHooks | None = None,
        clock: Clock = db_now,
    ) -> None:
        self.cfg = cfg
        self.id = cfg.worker_id or default_worker_id()
        self.deployment = deployment
        self.hooks = hooks or ClusterHooks()
        self.leases = LeaseStore(engine, clock=clock)
        self.registry = WorkerRegistry(engine, clock=clock)
        self._held = _Held()
        self._mutex = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._down: set[str] = set()
        self.counts: Counter[str] = Counter()
        """claims, takeovers, lost, database_down, vector_store_down: for metrics and
        `steward status`."""

    # ---- life ----------------------------------------------------------------
    def start(self) -> None:
        """Join the deployment (WrongDeployment if the database is another's), register,
        and start renewing."""
        self.registry.join(self.deployment)
        self.registry.register(
            self.id,
            self.deployment,
            socket.gethostname(),
            os.getpid(),
            alive_s=self.cfg.lease_s,
        )
        self._thread = threading.Thread(target=self._renew_loop, name="steward-leases", daemon=True)
        self._thread.start()
        log.info("cluster worker %s joined deployment %s", self.id, self.deployment)

    def stop(self) -> None:
        """Release every lease (others need not wait for expiry) and sign off."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.cfg.renew_every_s + 5)
        with self._mutex:
            held = list(self._held.leases.values())
        for lease in held:
            self.release(lease)
        try:
            self.registry.stopped(self.id)
        except SQLAlchemyError as exc:
            log.warning("cannot sign off from the database: %s", exc.__class__.__name__)

    # ---- leases --------------------------------------------------------------
    def claim(self, name: str, *, due: bool = True) -> Lease | None:
        lease = self.leases.claim(name, self.id, self.cfg.lease_s, due=due)
        if lease is None:
            return None
        with self._mutex:
            self._held.leases[name] = lease
            self._held.lost.discard(name)
            self.counts["claims"] += 1
            self.counts["takeovers"] += lease.took_over_from is not None
        if self.hooks.on_claim:
            self.hooks.on_claim(name)
        if lease.took_over_from and self.hooks.on_takeover:
            self.hooks.on_takeover(name, lease.took_over_from)
        if lease.took_over_from:
            log.info("took over %s from %s (its lease expired)", name, lease.took_over_from)
        return lease

    def release(self, lease: Lease, *, due_in: float = 0.0) -> None:
        with self._mutex:
            self._held.leases.pop(lease.name, None)
            self._held.lost.discard(lease.name)
        try:
            self.leases.release(lease, due_in=due_in)
        except SQLAlchemyError as exc:  # it expires by itself
            log.debug("cannot release %s: %s", lease.name, exc.__class__.__name__)

    @contextmanager
    def job(self, name: str, *, every_s: float = 0.0, due: bool = True) -> Iterator[Lease | None]:
        """Hold `name` while the block runs (None: another worker has it or it is not due).
        Done: not due again for `every_s`; failed: due at once, for whichever worker."""
        lease = self.claim(name, due=due)
        if lease is None:
            yield None
            return
        ok = False
        try:
            yield lease
            ok = True
        finally:
            self.release(lease, due_in=every_s if ok else 0.0)

    def lost(self, lease: Lease) -> bool:
        """Known lost (renewal found it taken over): a cheap check between steps."""
        with self._mutex:
            return lease.name in self._held.lost

    def check(self, lease: Lease) -> None:
        """LeaseLost unless the database still gives `lease` to this worker."""
        if self.lost(lease) or not self.leases.still_held(lease):
            raise LeaseLost(lease.name)

    def held(self) -> list[str]:
        with self._mutex:
            return sorted(self._held.leases)

    # ---- renewal ---------------------------------------------------------------
    def _renew_loop(self) -> None:
        while not self._stop.wait(self.cfg.renew_every_s):
            self.renew_now()

    def renew_now(self) -> None:
        try:
            self.registry.seen(self.id)
            with self._mutex:
                held = list(self._held.leases.values())
            for lease in held:
                self._renew(lease)
        except SQLAlchemyError as exc:
            self.database_down(exc)
            return
        self.database_up()

    def database_down(self, exc: BaseException) -> None:
        """Say once that the database is not answering (every caller retries by itself)."""
        if self.outage("database", exc) and self.hooks.on_database:
            self.hooks.on_database(False)

    def database_up(self) -> None:
        if self.recovered("database") and self.hooks.on_database:
            self.hooks.on_database(True)

    def outage(self, what: str, exc: BaseException) -> bool:
        """Log once that `what` (the database, the vector store) is not answering; True the
        first time. Its callers retry at their next poll, so one line is all an outage costs."""
        with self._mutex:
            first = what not in self._down
            self._down.add(what)
            self.counts[f"{what.replace(' ', '_')}_down"] += first
        if first:
            log.warning(
                "the %s is not answering (%s): retrying every %gs",
                what,
                exc.__class__.__name__,
                self.cfg.renew_every_s,
            )
        return first

    def recovered(self, what: str) -> bool:
        """Log once that `what` answers again; True if it had been down."""
        with self._mutex:
            was = what in self._down
            self._down.discard(what)
        if was:
            log.warning("the %s is back", what)
        return was

    def is_down(self, what: str) -> bool:
        with self._mutex:
            return what in self._down

    def _renew(self, lease: Lease) -> None:
        renewed = self.leases.renew(lease, self.cfg.lease_s)
        with self._mutex:
            if lease.name not in self._held.leases:
                return  # released meanwhile
            if renewed is None:
                self._held.leases.pop(lease.name)
                self._held.lost.add(lease.name)
                self.counts["lost"] += 1
            else:
                self._held.leases[lease.name] = renewed
        if renewed is None:
            log.warning("lost the lease on %s to another worker", lease.name)
            if self.hooks.on_lost:
                self.hooks.on_lost(lease.name)
