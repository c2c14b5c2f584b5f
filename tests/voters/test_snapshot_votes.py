"""Votes as Snapshot serves them (the local hub, ingested for real) into the voter views:
the figures follow votes as they arrive, re-votes included."""

from __future__ import annotations

from pathlib import Path

from agent.ingest import ingest
from agent.settings import SnapshotSettings
from agent.store import RecordStore
from agent.voters.service import VoterFigures
from connectors.snapshot import HubClient, SnapshotSource
from tests.fakes.snapshot_hub import FakeHub

SPACE = "ens.eth"
NOW = 1_700_000_000


def _ingest(hub: FakeHub, store: RecordStore) -> None:
    client = HubClient(hub.url, timeout=2.0, requests_per_minute=10_000, sleep=lambda _s: None)
    ingest(SnapshotSource(client, SnapshotSettings(hub_url=hub.url), [SPACE]), store)


def test_figures_follow_votes_ingested_from_the_hub(tmp_path: Path) -> None:
    store = RecordStore(f"sqlite:///{tmp_path / 's.db'}")
    figures = VoterFigures(store)
    with FakeHub() as hub:
        hub.add_space(SPACE, name="ENS", verified=True)
        p = hub.add_proposal(
            SPACE, title="Open vote", body="b", created=NOW, start=NOW, end=2_100_000_000
        )
        whale = "0x" + "9a" * 20
        hub.add_vote(p["id"], voter=whale, choice=1, vp=1000.0, created=NOW + 10)
        for i in range(3):
            hub.add_vote(p["id"], voter=f"0x{i:040x}", choice=2, vp=100.0, created=NOW + 20 + i)
        _ingest(hub, store)
        [stored] = store.proposals(space=SPACE)
        first = figures.concentration(stored)
        assert (first.voters, first.nakamoto, first.leader) == (4, 1, "For")
        assert first.few_decide and first.flips_without_top_voter

        for i in range(3, 15):  # more voters arrive
            hub.add_vote(p["id"], voter=f"0x{i:040x}", choice=2, vp=100.0, created=NOW + 100 + i)
        hub.add_vote(p["id"], voter=whale, choice=2, vp=1000.0, created=NOW + 500)  # re-vote
        _ingest(hub, store)
        later = figures.concentration(store.proposals(space=SPACE)[0])
        # 1000 + 3 * 100 = 1300 is more than half of 2500
        assert (later.voters, later.leader, later.nakamoto) == (16, "Against", 4)
        assert not later.few_decide

        record = figures.record(whale.upper().replace("0X", "0x"))
        assert record.votes_cast == 1 and record.choices == {"Against": 1}  # the latest vote
        [part] = record.participation
        assert (part.space, part.voted, part.eligible) == (SPACE, 1, 1)
    store.close()
