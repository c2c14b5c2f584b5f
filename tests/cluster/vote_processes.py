"""A cluster worker's voting pass in a child process ("spawn": a fresh interpreter), with
its own data directory: only the database's leases can keep it apart from the others."""

from __future__ import annotations

from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from agent.cluster.vote_locks import DbVoteLocks
from agent.cluster.worker import ClusterWorker
from agent.settings import ClusterSettings
from agent.store import RecordStore
from tests.voting.processes import VotePass


def cluster_vote_once(
    db_url: str,
    home: str,
    hub_url: str,
    seq_url: str,
    key: str,
    delegate: dict[str, Any],
    now: float,
    barrier: Barrier | None,
    results: Queue[Any],
) -> None:
    root = Path(home)
    store = RecordStore(db_url)
    worker = ClusterWorker(store.engine, ClusterSettings(lease_s=3, renew_every_s=1), "votes")
    worker.start()
    voting = VotePass(
        store,
        root,
        hub_url,
        seq_url,
        key,
        delegate,
        now,
        timeout=60.0,
        max_attempts=1,
        locks=DbVoteLocks(worker),
    )
    if barrier is not None:
        barrier.wait()
    report = voting.service.tick()
    results.put(
        {"outcomes": report.outcomes, "errors": report.errors, "settled": report.reconciled}
    )
    worker.stop()
    voting.close()
    store.close()
