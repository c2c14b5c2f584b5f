"""The Snapshot votes pass: few requests for many proposals, and per-proposal cursors that
survive a crash (fake hub over HTTP → SnapshotSource → agent.ingest → SQLite)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.ingest import IngestFailed, ingest
from agent.settings import SnapshotSettings
from agent.store import RecordStore
from connectors.snapshot import HubClient, SnapshotSource
from tests.fakes.snapshot_hub import FakeHub

SPACE = "ens.eth"
T0 = 1_600_000_000


def _source(hub: FakeHub, **snapshot: Any) -> SnapshotSource:
    cfg = SnapshotSettings(hub_url=hub.url, **snapshot)
    client = HubClient(
        hub.url,
        timeout=30.0,
        requests_per_minute=100_000,
        max_retries=cfg.max_retries,
        sleep=lambda _s: None,
    )
    return SnapshotSource(client, cfg, [SPACE])


def _vote_requests(hub: FakeHub, since: int = 0) -> list[dict[str, Any]]:
    return [r for r in hub.requests[since:] if "votes(" in r.get("query", "")]


def _closed(hub: FakeHub, i: int) -> dict[str, Any]:
    c = T0 + i * 600
    return hub.add_proposal(SPACE, title=f"P{i}", body="b", created=c, start=c, end=c + 3600)


def test_first_ingest_reads_votes_in_batches_and_skips_silent_proposals(tmp_path: Path) -> None:
    with FakeHub() as hub:
        hub.add_space(SPACE)
        silent = [_closed(hub, i) for i in range(300)]
        voted = [_closed(hub, 300 + i) for i in range(130)]  # more than one *_in batch
        for n, p in enumerate(voted):
            for k in range(1 + n % 3):
                hub.add_vote(p["id"], voter=f"0x{n:036x}{k:04x}", created=p["start"] + k)
        store = RecordStore(f"sqlite:///{tmp_path / 'steward.db'}")
        counts = ingest(_source(hub), store)
        assert counts.new == 430 and counts.votes == sum(1 + n % 3 for n in range(130))
        # 2 batches of proposal_in (100 + 30), one page each; none for the silent 300.
        asked = _vote_requests(hub)
        assert len(asked) == 2
        assert all(len(r["variables"]["ids"]) <= 100 for r in asked)
        refs = store.refs("snapshot", SPACE)
        assert len(refs) == 430 and all(r.votes_complete for r in refs)
        assert {p["id"] for p in silent} <= {r.id for r in refs}
        before = len(hub.requests)
        ingest(_source(hub), store)
        assert _vote_requests(hub, before) == []


def test_crash_in_the_votes_pass_loses_and_doubles_nothing(tmp_path: Path) -> None:
    with FakeHub() as hub:
        hub.add_space(SPACE)
        props = [_closed(hub, i) for i in range(3)]
        for p in props:
            hub.edit_proposal(p["id"], end=2_100_000_000)  # open: votes keep arriving
        # Votes of the three interleaved in time, several sharing a second.
        for n in range(60):
            hub.add_vote(props[n % 3]["id"], voter=f"0x{n:040x}", created=T0 + 5_000 + n // 2)
        source = _source(hub, page_size=10, max_retries=0)
        original = source.client.query
        calls = 0

        def dies_on_the_fourth_votes_page(query: str, variables: dict | None = None) -> dict:
            nonlocal calls
            if "votes(" in query:
                calls += 1
                if calls == 4:
                    hub.fail_next("500")
            return original(query, variables)

        source.client.query = dies_on_the_fourth_votes_page  # type: ignore[method-assign]
        store = RecordStore(f"sqlite:///{tmp_path / 'steward.db'}")
        with pytest.raises(IngestFailed):
            ingest(source, store)
        stored = {p["id"]: len(store.votes(f"snapshot:{p['id']}")) for p in props}
        assert 0 < sum(stored.values()) < 60  # stopped part-way
        # Meanwhile a voter changes their mind: the latest vote must win.
        first_voter = f"0x{0:040x}"
        hub.add_vote(props[0]["id"], voter=first_voter, choice=2, created=T0 + 9_000)
        counts = ingest(_source(hub, page_size=10), store)
        assert counts.votes == 60 - sum(stored.values())
        for i, p in enumerate(props):
            votes = store.votes(f"snapshot:{p['id']}")
            voters = [v.voter for v in votes]
            assert len(voters) == len(set(voters)) == 20, i
        mind_changed = {v.voter: v for v in store.votes(f"snapshot:{props[0]['id']}")}
        assert mind_changed[first_voter].choice == 2


def test_a_new_proposal_does_not_make_the_others_reread_their_votes(tmp_path: Path) -> None:
    with FakeHub() as hub:
        hub.add_space(SPACE)
        old = _closed(hub, 0)
        hub.edit_proposal(old["id"], end=2_100_000_000)  # open: re-read every run
        for n in range(5):
            hub.add_vote(old["id"], voter=f"0x{n:040x}", created=T0 + 100 + n)
        store = RecordStore(f"sqlite:///{tmp_path / 'steward.db'}")
        ingest(_source(hub), store)
        new = _closed(hub, 1)
        hub.add_vote(new["id"], voter=f"0x{9:040x}", created=T0 + 900)
        before = len(hub.requests)
        counts = ingest(_source(hub), store)
        assert counts.votes == 1
        asked = {
            tuple(r["variables"]["ids"]): r["variables"]["since"]
            for r in _vote_requests(hub, before)
        }
        assert asked == {(new["id"],): 0, (old["id"],): T0 + 104}
