"""A voting pass in a child process (multiprocessing "spawn": a fresh interpreter), as a
second `steward vote --live` started at the same moment would run it."""

from __future__ import annotations

from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from eth_account import Account

from agent.analysis.policy import load_policy
from agent.settings import DelegateSettings, VotingSettings
from agent.store import RecordStore
from agent.voting.audit import head_path
from agent.voting.audit_log import AuditLog
from agent.voting.service import VotingService
from connectors.snapshot.client import HubClient
from connectors.snapshot.sequencer import SequencerClient
from connectors.snapshot.vote_sink import SnapshotVoteSink
from tests.voting import passing_track


def vote_once(
    home: str,
    hub_url: str,
    seq_url: str,
    key: str,
    delegate: dict[str, Any],
    now: float,
    barrier: Barrier,
    results: Queue[Any],
) -> None:
    root = Path(home)
    store = RecordStore(f"sqlite:///{root / 'steward.db'}")
    signer = Account.from_key(key)
    hub = HubClient(hub_url, timeout=30.0, requests_per_minute=100_000, sleep=lambda _s: None)
    seq = SequencerClient(seq_url, timeout=30.0, max_attempts=2, sleep=lambda _s: None)
    sink = SnapshotVoteSink(hub, seq, signer, voter=signer.address, clock=lambda: now)

    def no_analysis(*_args: Any) -> Any:
        raise AssertionError("the decision exists: a cast needs no new analysis")

    from datetime import UTC, datetime

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
    )
    barrier.wait()
    report = service.tick()
    results.put({"outcomes": report.outcomes, "errors": report.errors})
    hub.close()
    seq.close()
    store.close()
