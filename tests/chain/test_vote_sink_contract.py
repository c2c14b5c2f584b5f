"""One contract for every VoteSink, run against each real-local counterpart: Snapshot (local
hub + sequencer, real EIP-712 signatures) and a Governor (anvil over HTTP).

What the voting loop relies on: `refresh` re-reads the proposal, `landed` is the truth,
`on_sent` is called with the ref before `cast` returns, and resending what `on_sent` kept
can never make a second vote.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from agent.errors import AlreadyVoted, VoteAlreadyRecorded
from agent.ingest import ingest
from agent.models import Proposal
from agent.settings import SnapshotSettings
from agent.store import RecordStore
from agent.voting.ports import VoteSink
from connectors.snapshot.client import HubClient
from connectors.snapshot.sequencer import SequencerClient
from connectors.snapshot.source import SnapshotSource
from connectors.snapshot.vote_sink import SnapshotVoteSink
from tests.chain.actions import grant_spender
from tests.chain.anvil import AnvilNode
from tests.chain.test_chain_voting import ChainWorld
from tests.fakes.snapshot_hub import FakeHub
from tests.fakes.snapshot_sequencer import FakeSequencer


@dataclass
class Case:
    sink: VoteSink
    proposal: Proposal
    votes: Callable[[], int]
    """How many votes the source holds from the sink's voter on the proposal."""


def _snapshot_case(tmp: Path) -> Iterator[Case]:
    signer = Account.create()
    with FakeHub() as hub, FakeSequencer(hub=hub) as seq:
        hub.add_space("dao.eth")
        now = int(time.time())
        pid = str(
            hub.add_proposal(
                "dao.eth", title="t", body="b", start=now - 60, end=now + 3600, type="basic"
            )["id"]
        )
        store = RecordStore(f"sqlite:///{tmp / 's.db'}")
        client = HubClient(hub.url, timeout=2, requests_per_minute=100_000, sleep=lambda _s: None)
        sequencer = SequencerClient(seq.url, timeout=2, max_attempts=2, sleep=lambda _s: None)
        ingest(SnapshotSource(client, SnapshotSettings(spaces=["dao.eth"])), store, votes=False)
        stored = store.get(f"snapshot:{pid}")
        assert stored is not None
        sink = SnapshotVoteSink(client, sequencer, signer, voter=signer.address)
        yield Case(sink, stored.proposal, lambda: len(seq.accepted))
        client.close()
        sequencer.close()
        store.close()


def _chain_case(node: AnvilNode, tmp: Path) -> Iterator[Case]:
    world = ChainWorld(node, tmp)
    uid = world.propose(
        grant_spender(world.dep.assets.treasury, world.w3.eth.accounts[8]), "# Contract"
    )
    stored = world.store.get(uid)
    assert stored is not None
    yield Case(world.sink(), stored.proposal, lambda: len(world.vote_events()))
    world.store.close()


@pytest.fixture(params=["snapshot", "chain"])
def case(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Case]:
    if request.param == "snapshot":
        yield from _snapshot_case(tmp_path)
    else:
        node: AnvilNode = request.getfixturevalue("anvil_node")
        request.getfixturevalue("anvil_w3")  # rolled back after the test
        yield from _chain_case(node, tmp_path)


def test_refresh_reads_the_same_proposal_at_its_source(case: Case) -> None:
    fresh = case.sink.refresh(case.proposal)
    assert fresh.uid == case.proposal.uid and fresh.content_hash == case.proposal.content_hash
    assert fresh.state == "active"


def test_a_cast_is_recorded_before_it_returns_and_lands_once(case: Case) -> None:
    assert case.sink.landed(case.proposal, None) is None
    sent: list[tuple[str, dict[str, Any]]] = []
    receipt = case.sink.cast(
        case.proposal, 1, "contract test", on_sent=lambda ref, keep: sent.append((ref, keep))
    )
    assert receipt.confirmed and [ref for ref, _ in sent] == [receipt.ref]
    landed = case.sink.landed(case.proposal, receipt.ref)
    assert landed is not None and landed.ref == receipt.ref
    assert case.votes() == 1
    with pytest.raises((VoteAlreadyRecorded, AlreadyVoted)):
        case.sink.cast(
            case.proposal, 1, "contract test", on_sent=lambda *_: None, resend=sent[-1][1]
        )
    assert case.votes() == 1
