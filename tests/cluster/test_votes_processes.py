"""Never twice across workers: processes with separate data directories (file locks
cannot see each other) vote through database leases on PostgreSQL; one killed with -9
in the middle of a vote is replaced and the vote still lands exactly once."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.store import RecordStore
from agent.store.leases import LeaseStore
from agent.voting.intent_store import IntentStore
from tests import postgres
from tests.cluster.harness import postgres_server
from tests.cluster.vote_processes import cluster_vote_once
from tests.fakes.snapshot_hub import FakeHub
from tests.fakes.snapshot_sequencer import FakeSequencer
from tests.voting.test_voting_loop import KEY, SPACE, Clock, World

pytestmark = pytest.mark.skipif(
    postgres.unavailable() is not None, reason=f"needs PostgreSQL: {postgres.unavailable()}"
)


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with postgres_server() as pg:
        yield pg.url


@pytest.fixture
def world(tmp_path: Path, pg_url: str) -> Iterator[World]:
    clock = Clock(1_790_000_000.0)
    with FakeHub(now=clock) as hub, FakeSequencer(hub=hub, now=clock) as seq:
        hub.add_space(SPACE)
        w = World(tmp_path, hub, seq, clock)
        w.store.close()
        w.store = RecordStore(pg_url)
        _empty(w.store)
        w.add_proposal()
        w.service().tick()  # the decision: scheduled, cast after the veto window
        w.clock.now += 61 * 60
        yield w
        w.close()


def _empty(store: RecordStore) -> None:
    from agent.store import schema
    from agent.store.cluster_tables import TABLES

    with store.engine.begin() as conn:
        for table in [*TABLES, *reversed(schema.metadata.sorted_tables)]:
            conn.execute(table.delete())


def _args(w: World, home: Path, barrier: Any, results: Any) -> tuple[Any, ...]:
    delegate = w.delegate().model_dump(mode="json")
    return (
        w.store.url,
        str(home),
        w.hub.url,
        w.seq.url,
        KEY,
        delegate,
        w.clock.now,
        barrier,
        results,
    )


def test_three_workers_at_once_cast_one_vote(world: World, tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(3), ctx.Queue()
    procs = [
        ctx.Process(
            target=cluster_vote_once, args=_args(world, tmp_path / f"w{i}", barrier, results)
        )
        for i in range(3)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    reports = [results.get(timeout=5) for _ in procs]
    outcomes = sorted(r["outcomes"].get(f"alice:{world.uid}", "") for r in reports)
    assert len(world.seq.accepted) == 1, reports
    assert "confirmed" in outcomes, outcomes
    assert len(IntentStore(world.store.engine).pending()) == 0


def test_a_worker_killed_mid_vote_is_replaced_and_the_vote_lands_once(
    world: World, tmp_path: Path
) -> None:
    entered, release = threading.Event(), threading.Event()
    ingest = world.seq.ingest

    def accept_then_hang(body: Any) -> dict[str, Any]:
        receipt = ingest(body)  # recorded (the hub shows it), but the answer never comes
        entered.set()
        release.wait(timeout=120)
        return receipt

    world.seq.ingest = accept_then_hang  # type: ignore[method-assign]
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    first = ctx.Process(target=cluster_vote_once, args=_args(world, tmp_path / "w1", None, results))
    first.start()
    try:
        assert entered.wait(timeout=120), "the first worker never sent its vote"
        os.kill(first.pid or 0, signal.SIGKILL)
        first.join(timeout=30)
    finally:
        release.set()
    assert first.exitcode == -signal.SIGKILL
    pending = IntentStore(world.store.engine).pending()
    assert len(pending) == 1  # the intent the killed worker wrote before sending
    second = ctx.Process(
        target=cluster_vote_once, args=_args(world, tmp_path / "w2", None, results)
    )
    second.start()
    second.join(timeout=120)
    report = results.get(timeout=5)
    assert second.exitcode == 0 and not report["errors"], report
    assert report["settled"] == 1  # found on the hub, not sent again
    assert len(world.seq.accepted) == 1
    assert IntentStore(world.store.engine).pending() == []
    lock = LeaseStore(world.store.engine).rows("vote-lock:")
    assert [r.takeovers for r in lock] == [1]  # the dead worker's lock, taken over on expiry
