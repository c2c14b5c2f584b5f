"""Per-vote locks as leases: exclusive across workers, and fenced against a stalled holder."""

from __future__ import annotations

import pytest

from agent.cluster.vote_locks import DbVoteLocks, VoteLockBusy
from agent.cluster.worker import ClusterWorker
from agent.settings import ClusterSettings
from agent.store import RecordStore
from agent.voting.lock import LockHeld
from tests.cluster.conftest import DbClock


def _locks(store: RecordStore, clock: DbClock, wid: str) -> DbVoteLocks:
    cfg = ClusterSettings(worker_id=wid, lease_s=10, renew_every_s=5)
    return DbVoteLocks(ClusterWorker(store.engine, cfg, "dao", clock=clock), poll_s=0.001)


def test_one_worker_per_vote_and_a_stalled_one_is_fenced_off(
    store: RecordStore, clock: DbClock
) -> None:
    a, b = _locks(store, clock, "a"), _locks(store, clock, "b")
    with a.hold("Alice", "snapshot:0xp1", timeout=0.0):
        assert a.still_held()
        with (
            pytest.raises(LockHeld, match="another worker is casting"),  # the tick waits
            b.hold("alice", "snapshot:0xp1", timeout=0.01),  # delegate ids: any case
        ):
            pass
        with b.hold("alice", "snapshot:0xp2", timeout=0.0):  # another proposal: free
            assert b.still_held()
        clock.advance(11)  # a stalls past its lease without renewing
        assert not a.still_held()  # the caster checks this last: a does not send
        with b.hold("alice", "snapshot:0xp1", timeout=0.0):
            assert b.still_held() and not a.still_held()
    assert not a.still_held()  # outside any hold


def test_busy_is_a_lock_held_the_voting_tick_understands() -> None:
    assert issubclass(VoteLockBusy, LockHeld)
