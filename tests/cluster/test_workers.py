"""The worker registry, the deployment's identity, renewal and the database going away."""

from __future__ import annotations

import logging

import pytest

from agent.cluster.worker import ClusterHooks, ClusterWorker
from agent.settings import ClusterSettings
from agent.store import RecordStore
from agent.store.workers import WorkerRegistry, WrongDeployment
from tests.cluster.conftest import DbClock


def _worker(
    store: RecordStore, clock: DbClock, wid: str, deployment: str = "dao-a"
) -> ClusterWorker:
    cfg = ClusterSettings(worker_id=wid, lease_s=10, renew_every_s=5)
    return ClusterWorker(store.engine, cfg, deployment, clock=clock)


def test_a_worker_of_another_deployment_is_refused(store: RecordStore) -> None:
    registry = WorkerRegistry(store.engine)
    registry.join("dao-a")
    registry.join("dao-a")  # its own workers join freely
    with pytest.raises(WrongDeployment, match="belongs to deployment 'dao-a', not 'dao-b'"):
        registry.join("dao-b")
    assert registry.deployment() == "dao-a"


def test_workers_register_renew_and_sign_off(store: RecordStore, clock: DbClock) -> None:
    a = _worker(store, clock, "a")
    a.start()
    try:
        lease = a.claim("vote:alice")
        assert lease is not None and a.held() == ["vote:alice"]
        clock.advance(8)
        a.renew_now()  # what its thread does every renew_every_s
        clock.advance(8)  # 16s after the claim, lease 10s: still held thanks to renewal
        assert a.leases.claim("vote:alice", "b", ttl=10) is None
        rows = {w.id: w for w in a.registry.all()}
        assert rows["a"].last_seen == clock.t - 8 and rows["a"].stopped_at is None
    finally:
        a.stop()
    assert a.registry.all()[0].stopped_at is not None
    assert a.leases.claim("vote:alice", "b", ttl=10) is not None  # released at stop


def test_a_lost_lease_is_noticed_and_reported(store: RecordStore, clock: DbClock) -> None:
    lost: list[str] = []
    taken: list[tuple[str, str]] = []
    a = _worker(store, clock, "a")
    a.hooks = ClusterHooks(on_lost=lost.append)
    b = _worker(store, clock, "b")
    b.hooks = ClusterHooks(on_takeover=lambda job, old: taken.append((job, old)))
    lease = a.claim("post")
    assert lease is not None
    clock.advance(11)  # a stalled past its lease
    assert b.claim("post") is not None
    a.renew_now()
    assert a.lost(lease) and lost == ["post"] and taken == [("post", "a")]
    assert a.counts["lost"] == 1 and b.counts["takeovers"] == 1 == b.counts["claims"]


def test_the_database_going_away_is_logged_once(
    store: RecordStore, clock: DbClock, caplog: pytest.LogCaptureFixture
) -> None:
    states: list[bool] = []
    a = _worker(store, clock, "a")
    a.hooks = ClusterHooks(on_database=states.append)
    a.registry.register("a", "dao-a", "host", 1)
    broken = a.registry.clock

    def unreachable(conn: object) -> float:
        from sqlalchemy.exc import OperationalError

        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    a.registry.clock = unreachable
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            a.renew_now()
        a.registry.clock = broken
        a.renew_now()
    lines = [r.getMessage() for r in caplog.records]
    assert len([m for m in lines if "not answering" in m]) == 1
    assert lines[-1] == "the database is back" and states == [False, True]


def test_settings_refuse_a_renewal_slower_than_half_the_lease() -> None:
    with pytest.raises(ValueError, match="at most half of lease_s"):
        ClusterSettings(lease_s=10, renew_every_s=6)


def test_cluster_mode_follows_the_database_unless_set() -> None:
    from agent.settings import Settings

    pg = {"database": {"url": "postgresql+psycopg://steward@db/steward"}}
    assert Settings(**pg).cluster_mode
    assert not Settings().cluster_mode  # SQLite in the data directory: one `steward run`
    assert not Settings(**pg, cluster={"enabled": "off"}).cluster_mode
    assert Settings(cluster={"enabled": "on"}).cluster_mode


def test_two_live_workers_cannot_share_an_id(store: RecordStore, clock: DbClock) -> None:
    from agent.store.workers import DuplicateWorker

    registry = WorkerRegistry(store.engine, clock=clock)
    registry.register("w1", "dao-a", "host-a", 10, alive_s=30)
    with pytest.raises(DuplicateWorker, match="'w1' is in use by pid 10 on host-a"):
        registry.register("w1", "dao-a", "host-b", 20, alive_s=30)
    clock.advance(31)  # the first one went silent: its id may be taken again
    registry.register("w1", "dao-a", "host-b", 20, alive_s=30)
    registry.stopped("w1")
    registry.register("w1", "dao-a", "host-a", 10, alive_s=30)  # a clean restart


def test_metrics_hear_of_takeovers_and_budget_waits(store: RecordStore, clock: DbClock) -> None:
    from agent.cluster.rate_budget import SharedRateLimiter
    from agent.cluster.serve import observer_hooks
    from agent.metrics import Metrics

    metrics = Metrics()
    hooks = observer_hooks(metrics)
    a, b = _worker(store, clock, "a"), _worker(store, clock, "b")
    b.hooks = hooks
    assert a.claim("ingest:snapshot:ens.eth") is not None
    clock.advance(11)
    assert b.claim("ingest:snapshot:ens.eth") is not None
    limiter = SharedRateLimiter(
        store.engine,
        "snapshot_hub",
        1,
        60.0,
        clock=clock,
        sleep=clock.advance,
        on_wait=hooks.on_rate_wait,
    )
    limiter.acquire()
    limiter.acquire()
    text = metrics.render().decode()
    assert 'steward_lease_takeovers_total{job="ingest"} 1.0' in text, text[:2000]
    assert 'steward_rate_limit_wait_seconds_total{target="snapshot_hub"} 60.0' in text
