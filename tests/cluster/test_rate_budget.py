"""One request budget for all workers: never more than `limit` in any window."""

from __future__ import annotations

from agent.cluster.rate_budget import SharedRateLimiter
from agent.store import RecordStore
from tests.cluster.conftest import DbClock


def test_workers_share_one_budget(store: RecordStore, clock: DbClock) -> None:
    waits: list[tuple[str, float]] = []
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)

    workers = [
        SharedRateLimiter(
            store.engine,
            "snapshot",
            5,
            60.0,
            clock=clock,
            sleep=sleep,
            on_wait=lambda b, s: waits.append((b, s)),
        )
        for _ in range(3)
    ]
    taken = []
    for i in range(12):  # three workers, in turn, 12 requests against 5 a minute
        workers[i % 3].acquire()
        taken.append(clock.t)
    for i, at in enumerate(taken):  # any 60s holds at most 5 of them
        assert sum(1 for t in taken if at <= t < at + 60) <= 5, (i, taken)
    assert taken[5] - taken[0] >= 60 and taken[10] - taken[5] >= 60
    assert sum(w.requests for w in workers) == 12
    assert waits and all(bucket == "snapshot" for bucket, _ in waits)
    assert round(sum(w.waited for w in workers), 6) == round(sum(slept), 6)


def test_buckets_are_apart(store: RecordStore, clock: DbClock) -> None:
    hub = SharedRateLimiter(store.engine, "snapshot", 1, 60.0, clock=clock, sleep=clock.advance)
    rpc = SharedRateLimiter(store.engine, "rpc:mainnet", 1, 1.0, clock=clock, sleep=clock.advance)
    hub.acquire()
    rpc.acquire()
    assert hub.waited == 0 and rpc.waited == 0
    rpc.acquire()
    assert rpc.waited == 1.0 and hub.waited == 0
