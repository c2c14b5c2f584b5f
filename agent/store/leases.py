"""Job leases in the record store: one holder at a time, expiring, with a fencing token.

A worker claims a named job (`ingest:snapshot:ens.eth`, `vote:alice`, `leader:discord`)
for `ttl` seconds and renews it while it works; a worker killed with -9 stops renewing
and the next claim after expiry takes the job over. Every change of holder raises the
lease's token, so a worker that stalled past its lease can tell — `fence` inside the
transaction that commits its work — that it no longer holds it. Expiry is judged on
the database's clock (`Clock`, injectable for tests), never a worker's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Engine, Row, insert, select, update
from sqlalchemy.exc import IntegrityError

from agent.errors import StewardError
from agent.store.cluster_tables import db_now, leases

Clock = Callable[[Connection], float]
"""Seconds since the epoch as the database sees them (read inside the transaction)."""


class LeaseLost(StewardError):
    """Another worker took this job over (our lease expired): our work must not commit."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"the lease on {name} was taken over by another worker; this worker stopped "
            "before committing (the other one finishes the job)"
        )
        self.name = name


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    token: int
    expires_at: float
    took_over_from: str | None = None
    """The holder whose expired lease this claim replaced (it died or stalled)."""


@dataclass(frozen=True)
class LeaseRow:
    name: str
    holder: str | None
    token: int
    expires_at: float
    due_at: float
    takeovers: int


class LeaseStore:
    def __init__(self, engine: Engine, *, clock: Clock = db_now) -> None:
        self.engine = engine
        self.clock = clock

    def now(self) -> float:
        with self.engine.connect() as conn:
            return self.clock(conn)

    def claim(self, name: str, holder: str, ttl: float, *, due: bool = True) -> Lease | None:
        """The lease for `ttl` seconds, or None while another holds it (or, with `due`, the
        job is not due yet). Claiming a lease one holds already extends it, same token."""
        with self.engine.begin() as conn:
            now = self.clock(conn)
            row = conn.execute(select(leases).where(leases.c.name == name)).first()
            if row is None:
                return self._first_claim(conn, name, holder, now + ttl, now)
            live = row.holder is not None and row.expires_at > now
            if live and row.holder != holder:
                return None
            if not live and due and row.due_at > now:
                return None
            mine = live and row.holder == holder
            # Our own expired lease (a release lost to a database outage) is no takeover.
            took_over = row.holder if row.holder not in (None, holder) else None
            token = row.token if mine else row.token + 1
            values = {"holder": holder, "token": token, "expires_at": now + ttl}
            if not mine:
                values["acquired_at"] = now
            if took_over:
                values["takeovers"] = row.takeovers + 1
            done = conn.execute(update(leases).where(*_unchanged(row)).values(**values)).rowcount
            if done != 1:
                return None  # another worker changed it between our read and write
            return Lease(name, holder, token, now + ttl, took_over)

    def _first_claim(
        self, conn: Connection, name: str, holder: str, expires: float, now: float
    ) -> Lease | None:
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(leases).values(
                        name=name,
                        holder=holder,
                        token=1,
                        expires_at=expires,
                        acquired_at=now,
                        due_at=0.0,
                        takeovers=0,
                    )
                )
        except IntegrityError:
            return None  # another worker created it first: it holds it
        return Lease(name, holder, 1, expires)

    def renew(self, lease: Lease, ttl: float) -> Lease | None:
        """The lease extended by `ttl` from now, or None if it was taken over."""
        with self.engine.begin() as conn:
            now = self.clock(conn)
            done = conn.execute(
                update(leases).where(*_held(lease)).values(expires_at=now + ttl)
            ).rowcount
        if done != 1:
            return None
        return Lease(lease.name, lease.holder, lease.token, now + ttl, lease.took_over_from)

    def release(self, lease: Lease, *, due_in: float = 0.0) -> bool:
        """Give the job up; nobody claims it (with `due`) for `due_in` seconds. False when
        it had been taken over already (nothing is changed then)."""
        with self.engine.begin() as conn:
            now = self.clock(conn)
            done = conn.execute(
                update(leases)
                .where(*_held(lease))
                .values(holder=None, expires_at=now, due_at=now + due_in)
            ).rowcount
        return done == 1

    def fence(self, conn: Connection, lease: Lease, *, margin: float = 0.0) -> None:
        """Inside the caller's transaction: LeaseLost unless `lease` is still ours and live
        for `margin` seconds more. On PostgreSQL the row stays locked until that transaction
        ends, so no claim can take the job over between this check and the commit; for an
        action outside the database (a post), `margin` must cover how long it may take."""
        now = self.clock(conn)
        query = select(leases.c.token).where(*_held(lease), leases.c.expires_at > now + margin)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        if conn.execute(query).first() is None:
            raise LeaseLost(lease.name)

    def still_held(self, lease: Lease, *, margin: float = 0.0) -> bool:
        try:
            with self.engine.begin() as conn:
                self.fence(conn, lease, margin=margin)
        except LeaseLost:
            return False
        return True

    def rows(self, prefix: str = "") -> list[LeaseRow]:
        query = select(leases).order_by(leases.c.name)
        if prefix:
            query = query.where(leases.c.name.startswith(prefix, autoescape=True))
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]


def _held(lease: Lease) -> tuple[ColumnElement[bool], ...]:
    return (
        leases.c.name == lease.name,
        leases.c.holder == lease.holder,
        leases.c.token == lease.token,
    )


def _unchanged(row: Row) -> tuple[ColumnElement[bool], ...]:
    same_holder = leases.c.holder.is_(None) if row.holder is None else leases.c.holder == row.holder
    return (
        leases.c.name == row.name,
        leases.c.token == row.token,
        same_holder,
        leases.c.expires_at == row.expires_at,  # not renewed meanwhile
    )


def _row(r: Row) -> LeaseRow:
    return LeaseRow(r.name, r.holder, r.token, r.expires_at, r.due_at, r.takeovers)
