"""What `steward status` says about a cluster: every worker, live or gone, and what it holds."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import inspect

from agent.settings import Settings
from agent.store import RecordStore

FORGET_AFTER_S = 86400.0
"""`steward status` leaves out workers not heard from for a day."""


class LeaseView(BaseModel):
    name: str
    expires_in_s: float
    token: int


class WorkerView(BaseModel):
    id: str
    host: str
    pid: int
    state: Literal["live", "gone", "stopped"]
    started_s_ago: float
    last_seen_s_ago: float
    holds: list[LeaseView] = Field(default_factory=list)


class ClusterView(BaseModel):
    deployment: str | None
    workers: list[WorkerView]
    takeovers: int
    """Leases taken over from a worker that died or stalled, since the deployment began."""


def cluster_view(settings: Settings, store: RecordStore) -> ClusterView | None:
    """None when no worker ever ran in cluster mode on this database."""
    from agent.store.leases import LeaseStore
    from agent.store.workers import WorkerRegistry

    if not inspect(store.engine).has_table("cluster_workers"):
        return None
    registry, leases = WorkerRegistry(store.engine), LeaseStore(store.engine)
    rows = registry.all()
    if not rows:
        return None
    now = leases.now()
    all_leases = leases.rows()
    workers = []
    for w in rows:
        if now - w.last_seen > FORGET_AFTER_S:
            continue  # stopped or gone long ago: every restart is a new worker id
        state: Literal["live", "gone", "stopped"] = "live"
        if w.stopped_at is not None:
            state = "stopped"
        elif now - w.last_seen > settings.cluster.gone_after_s:
            state = "gone"
        holds = [
            LeaseView(name=r.name, expires_in_s=round(r.expires_at - now, 1), token=r.token)
            for r in all_leases
            if r.holder == w.id and r.expires_at > now
        ]
        workers.append(
            WorkerView(
                id=w.id,
                host=w.host,
                pid=w.pid,
                state=state,
                started_s_ago=round(now - w.started_at, 1),
                last_seen_s_ago=round(now - w.last_seen, 1),
                holds=holds,
            )
        )
    return ClusterView(
        deployment=registry.deployment(),
        workers=workers,
        takeovers=sum(r.takeovers for r in all_leases),
    )
