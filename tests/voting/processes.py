"""A voting pass in a child process (multiprocessing "spawn": a fresh interpreter), as a
second `steward vote --live` started at the same moment would run it."""

from __future__ import annotations

from datetime import UTC, datetime
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


class VotePass:
    """A voting service as a `steward vote --live` pass would build it, against the local
    hub and sequencer, casting a decision that already exists (no analysis)."""

    def __init__(
        self,
        store: RecordStore,
        root: Path,
        hub_url: str,
        seq_url: str,
        key: str,
        delegate: dict[str, Any],
        now: float,
        *,
        timeout: float,
        max_attempts: int,
        locks: Any = None,
    ) -> None:
        signer = Account.from_key(key)
        self.hub = HubClient(
            hub_url, timeout=timeout, requests_per_minute=100_000, sleep=lambda _s: None
        )
        self.seq = SequencerClient(
            seq_url, timeout=timeout, max_attempts=max_attempts, sleep=lambda _s: None
        )
        sink = SnapshotVoteSink(self.hub, self.seq, signer, voter=signer.address, clock=lambda: now)
        self.service = VotingService(
            store,
            VotingSettings(enabled=True, delegates=[DelegateSettings(**delegate)]),
            home=root,
            pause_path=root / "PAUSE",
            policy=load_policy,
            analyse=_no_analysis,
            sink_for=lambda _d, _p: sink,
            audit=AuditLog(store.engine, head_path(root)),
            clock=lambda: datetime.fromtimestamp(now, UTC),
            track_record=passing_track,
            **({"locks": locks} if locks is not None else {}),
        )

    def close(self) -> None:
        self.hub.close()
        self.seq.close()


def _no_analysis(*_args: Any) -> Any:
    raise AssertionError("the decision exists: a cast needs no new analysis")


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
    voting = VotePass(
        store, root, hub_url, seq_url, key, delegate, now, timeout=30.0, max_attempts=2
    )
    barrier.wait()
    report = voting.service.tick()
    results.put({"outcomes": report.outcomes, "errors": report.errors})
    voting.close()
    store.close()
