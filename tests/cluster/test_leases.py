"""Leases: one holder at a time, expiry on the database's clock, fencing tokens."""

from __future__ import annotations

import pytest

from agent.store import RecordStore
from agent.store.leases import LeaseLost, LeaseStore
from tests.cluster.conftest import DbClock


@pytest.fixture
def leases(store: RecordStore, clock: DbClock) -> LeaseStore:
    return LeaseStore(store.engine, clock=clock)


def test_one_holder_until_the_lease_expires(leases: LeaseStore, clock: DbClock) -> None:
    first = leases.claim("ingest:snapshot:ens.eth", "a", ttl=30)
    assert first is not None and first.token == 1 and first.took_over_from is None
    assert leases.claim("ingest:snapshot:ens.eth", "b", ttl=30) is None
    clock.advance(29.9)
    assert leases.claim("ingest:snapshot:ens.eth", "b", ttl=30) is None
    clock.advance(0.2)
    taken = leases.claim("ingest:snapshot:ens.eth", "b", ttl=30)
    assert taken is not None and taken.token == 2 and taken.took_over_from == "a"
    assert leases.rows()[0].takeovers == 1


def test_renewal_keeps_it_and_a_taken_over_lease_cannot_be_renewed(
    leases: LeaseStore, clock: DbClock
) -> None:
    mine = leases.claim("vote:alice", "a", ttl=10)
    assert mine is not None
    for _ in range(5):  # renewed every 5s: held for 25s, twice the lease
        clock.advance(5)
        renewed = leases.renew(mine, ttl=10)
        assert renewed is not None and renewed.token == mine.token
        mine = renewed
        assert leases.claim("vote:alice", "b", ttl=10) is None
    clock.advance(10.5)  # a stall longer than the lease
    theirs = leases.claim("vote:alice", "b", ttl=10)
    assert theirs is not None and theirs.token == mine.token + 1
    assert leases.renew(mine, ttl=10) is None
    assert leases.release(mine) is False  # nothing of theirs is touched
    assert leases.still_held(theirs) and not leases.still_held(mine)


def test_fence_refuses_a_commit_under_a_lost_lease(
    store: RecordStore, leases: LeaseStore, clock: DbClock
) -> None:
    mine = leases.claim("post", "a", ttl=10)
    assert mine is not None
    with store.engine.begin() as conn:
        leases.fence(conn, mine)  # held: passes
    clock.advance(11)
    with pytest.raises(LeaseLost, match="taken over"), store.engine.begin() as conn:
        leases.fence(conn, mine)  # expired, even before anyone else claims it


def test_a_finished_job_is_not_due_again_for_its_interval(
    leases: LeaseStore, clock: DbClock
) -> None:
    done = leases.claim("analyse", "a", ttl=30)
    assert done is not None
    assert leases.release(done, due_in=600)
    assert leases.claim("analyse", "b", ttl=30) is None  # not due
    clock.advance(601)
    again = leases.claim("analyse", "c", ttl=30)
    assert again is not None and again.token == 2
    assert leases.release(again, due_in=600)
    ad_hoc = leases.claim("analyse", "b", ttl=30, due=False)  # unscheduled units ignore it
    assert ad_hoc is not None and ad_hoc.token == 3


def test_reclaiming_ones_own_lease_extends_it_with_the_same_token(
    leases: LeaseStore, clock: DbClock
) -> None:
    first = leases.claim("index", "a", ttl=10, due=False)
    clock.advance(5)
    again = leases.claim("index", "a", ttl=10, due=False)
    assert first is not None and again is not None
    assert again.token == first.token and again.expires_at == first.expires_at + 5


def test_expiry_follows_the_database_clock_not_the_workers(store: RecordStore) -> None:
    """Two workers whose own clocks disagree by minutes still agree: neither is asked."""
    real = LeaseStore(store.engine)  # the database's own clock
    held = real.claim("ingest:chain:mainnet/uni", "a", ttl=60)
    assert held is not None
    assert abs(held.expires_at - (real.now() + 60)) < 5
    assert real.claim("ingest:chain:mainnet/uni", "b", ttl=60) is None


def test_reclaiming_ones_own_expired_lease_is_no_takeover(
    leases: LeaseStore, clock: DbClock
) -> None:
    first = leases.claim("ingest:snapshot:ens.eth", "a", ttl=10)
    clock.advance(11)  # its release was lost (the database was away): it expired
    again = leases.claim("ingest:snapshot:ens.eth", "a", ttl=10)
    assert first is not None and again is not None
    assert again.token == first.token + 1 and again.took_over_from is None
    assert leases.rows()[0].takeovers == 0
