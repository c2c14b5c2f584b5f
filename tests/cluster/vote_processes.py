"""A cluster worker's voting pass in a child process ("spawn": a fresh interpreter), with
its own data directory: only the database's leases can keep it apart from the others."""

from __future__ import annotations

from datetime import UTC, datetime
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from eth_account import Account

from agent.analysis.policy import load_policy
from agent.cluster.vote_locks import DbVoteLocks
from agent.cluster.worker import ClusterWorker
from agent.settings import ClusterSettings, DelegateSettings, VotingSettings
from agent.store import RecordStore
from agent.voting.audit import head_path
from agent.voting.audit_log import AuditLog
from agent.voting.service import VotingService
from connectors.snapshot.client import HubClient
from connectors.snapshot.sequencer import SequencerClient
from connectors.snapshot.vote_sink import SnapshotVoteSink
from tests.voting import passing_track


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
    signer = Account.from_key(key)
    hub = HubClient(hub_url, timeout=60.0, requests_per_minute=100_000, sleep=lambda _s: None)
    seq = SequencerClient(seq_url, timeout=60.0, max_attempts=1, sleep=lambda _s: None)
    sink = SnapshotVoteSink(hub, seq, signer, voter=signer.address, clock=lambda: now)

    def no_analysis(*_args: Any) -> Any:
        raise AssertionError("the decision exists: a cast needs no new analysis")

    service = VotingService(
        store,
        VotingSettings(enabled=True, delegates=[DelegateSettings(**delegate)]),
        home=root,
        pause_path=root / "PAUSE",
        policy=load_policy,
        analyse=no_analysis,
        sink_for=lambda _d, _p: sink,
        audit=AuditLog(store.engine, head_path(root)),
        clock=lambda: datetime.fromtimestamp(now, UTC),
        track_record=passing_track,
        locks=DbVoteLocks(worker),
    )
    if barrier is not None:
        barrier.wait()
    report = service.tick()
    results.put(
        {"outcomes": report.outcomes, "errors": report.errors, "settled": report.reconciled}
    )
    worker.stop()
    hub.close()
    seq.close()
    store.close()
