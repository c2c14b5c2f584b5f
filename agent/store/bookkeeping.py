"""What the vector index holds, ingest runs, and the status summary."""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, and_, bindparam, case, func, or_, select, update

from agent.models import Proposal, utc
from agent.store import schema

_P = schema.proposals


class IndexTask(BaseModel):
    """One proposal whose vector-index entry is missing, stale or to be removed."""

    model_config = ConfigDict(frozen=True)
    uid: str
    action: str  # "embed" | "metadata" | "remove"
    proposal: Proposal | None = None


class RunRecord(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: int
    source: str
    scopes: list[str]
    started_at: datetime
    finished_at: datetime | None
    status: str
    """running | ok | failed, or interrupted: still `running` but its process is gone."""
    counts: dict[str, Any] | None
    error: str | None
    pid: int | None = None
    last_seen: datetime | None = None
    """When the run last made progress (its start, or its latest page)."""


class SpaceSummary(BaseModel):
    model_config = ConfigDict(frozen=True)
    source: str
    space: str
    proposals: int
    open: int
    deleted: int
    flagged: int
    indexed: int
    votes: int


class Bookkeeping:
    """Mixed into RecordStore; needs `self.engine`."""

    engine: Engine

    def index_tasks(self) -> list[IndexTask]:
        """Proposals whose chunks must be (re)embedded, re-labelled or removed."""
        live = _P.c.deleted_at.is_(None)
        stale = or_(_P.c.indexed_hash.is_(None), _P.c.indexed_hash != _P.c.content_hash)
        relabel = and_(
            _P.c.indexed_hash == _P.c.content_hash,
            or_(_P.c.indexed_state != _P.c.state, _P.c.indexed_flagged != _P.c.flagged),
        )
        tasks: list[IndexTask] = []
        with self.engine.connect() as conn:
            for row in conn.execute(
                select(_P.c.uid, _P.c.data, stale.label("stale"))
                .where(live, or_(stale, relabel))
                .order_by(_P.c.created_ts)
            ):
                action = "embed" if row.stale else "metadata"
                tasks.append(
                    IndexTask(
                        uid=row.uid, action=action, proposal=Proposal.model_validate(row.data)
                    )
                )
            for uid in conn.execute(
                select(_P.c.uid).where(_P.c.deleted_at.is_not(None), _P.c.indexed_hash.is_not(None))
            ).scalars():
                tasks.append(IndexTask(uid=uid, action="remove"))
        return tasks

    def set_indexed(self, proposal: Proposal | None, uid: str, chunks: int) -> None:
        """Record what the index now holds for `uid` (None: nothing)."""
        values: dict[str, Any] = {
            "indexed_chunks": chunks,
            "indexed_hash": None,
            "indexed_state": None,
            "indexed_flagged": None,
        }
        if proposal is not None:
            values.update(
                indexed_hash=proposal.content_hash,
                indexed_state=proposal.state,
                indexed_flagged=proposal.flagged,
            )
        with self.engine.begin() as conn:
            conn.execute(update(_P).where(_P.c.uid == uid).values(**values))

    def set_indexed_many(self, done: list[tuple[Proposal, int]]) -> None:
        """`set_indexed` for many proposals in one transaction."""
        if not done:
            return
        stmt = (
            update(_P)
            .where(_P.c.uid == bindparam("b_uid"))
            .values(
                indexed_chunks=bindparam("b_chunks"),
                indexed_hash=bindparam("b_hash"),
                indexed_state=bindparam("b_state"),
                indexed_flagged=bindparam("b_flagged"),
            )
        )
        rows = [
            {
                "b_uid": p.uid,
                "b_chunks": chunks,
                "b_hash": p.content_hash,
                "b_state": p.state,
                "b_flagged": p.flagged,
            }
            for p, chunks in done
        ]
        with self.engine.begin() as conn:
            conn.execute(stmt, rows)  # one executemany, not a statement per proposal

    def start_run(self, source: str, scopes: list[str]) -> int:
        now = int(time.time())
        with self.engine.begin() as conn:
            result = conn.execute(
                schema.runs.insert().values(
                    source=source,
                    scopes=scopes,
                    started_at=now,
                    status="running",
                    pid=os.getpid(),
                    host=socket.gethostname(),
                    seen_at=now,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def touch_run(self, run_id: int) -> None:
        """The run is alive and making progress (shown as its last sign of life)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(schema.runs)
                .where(schema.runs.c.id == run_id)
                .values(seen_at=int(time.time()))
            )

    def finish_run(
        self, run_id: int, status: str, counts: dict[str, Any], error: str | None = None
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(schema.runs)
                .where(schema.runs.c.id == run_id)
                .values(finished_at=int(time.time()), status=status, counts=counts, error=error)
            )

    def last_runs(self, limit: int = 5) -> list[RunRecord]:
        r = schema.runs
        with self.engine.connect() as conn:
            rows = conn.execute(select(r).order_by(r.c.id.desc()).limit(limit)).all()
        return [
            RunRecord(
                id=x.id,
                source=x.source,
                scopes=x.scopes,
                started_at=utc(x.started_at),
                finished_at=utc(x.finished_at) if x.finished_at else None,
                status=_run_status(x.status, x.pid, x.host),
                counts=x.counts,
                error=x.error,
                pid=x.pid,
                last_seen=utc(x.finished_at or x.seen_at) if (x.finished_at or x.seen_at) else None,
            )
            for x in rows
        ]

    def summary(self) -> list[SpaceSummary]:
        """Counts per source and space, for `steward status`."""
        live = _P.c.deleted_at.is_(None)
        v = schema.votes
        votes_q = select(v.c.source, v.c.space, func.count().label("n")).group_by(
            v.c.source, v.c.space
        )
        query = (
            select(
                _P.c.source,
                _P.c.space,
                func.count().label("total"),
                func.sum(case((and_(live, _P.c.state.in_(["pending", "active"])), 1), else_=0)),
                func.sum(case((_P.c.deleted_at.is_not(None), 1), else_=0)),
                func.sum(case((and_(live, _P.c.flagged.is_(True)), 1), else_=0)),
                func.sum(case((_P.c.indexed_hash.is_not(None), 1), else_=0)),
            )
            .group_by(_P.c.source, _P.c.space)
            .order_by(_P.c.source, _P.c.space)
        )
        with self.engine.connect() as conn:
            vote_counts = {(r.source, r.space): r.n for r in conn.execute(votes_q)}
            rows = conn.execute(query).all()
        return [
            SpaceSummary(
                source=r[0],
                space=r[1],
                proposals=r[2] - (r[4] or 0),
                open=r[3] or 0,
                deleted=r[4] or 0,
                flagged=r[5] or 0,
                indexed=r[6] or 0,
                votes=vote_counts.get((r[0], r[1]), 0),
            )
            for r in rows
        ]


def _run_status(status: str, pid: int | None, host: str | None) -> str:
    """A `running` run whose process no longer exists on this host was interrupted.

    Runs from another host (a shared PostgreSQL) cannot be checked and keep their status.
    """
    if status != "running" or pid is None or host != socket.gethostname():
        return status
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "interrupted"
    except PermissionError:  # alive, another user's
        return status
    return status
