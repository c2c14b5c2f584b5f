"""ChainSource on a real in-process EVM (eth-tester + py-evm), OZ Governor and Bravo alike.

One deployment per module runs the lifecycle mix (executed transfer, role grant and upgrade,
a defeated, a canceled and an active proposal); each test snapshots the chain and reverts it
afterwards, so tests that mine, vote or "reorg" leave the next one the same chain.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import EthereumTesterProvider, Web3

from agent.errors import MalformedResponse, SourceError
from agent.ingest import IngestFailed, ingest
from agent.settings import ChainSettings
from agent.store import RecordStore
from connectors.chain.rpc import ChainRpc, RangeTooLarge
from connectors.chain.source import ChainSource
from tests.chain import evm
from tests.chain.actions import transfer_token
from tests.chain.deploy import Deployment, deploy_bravo, deploy_oz
from tests.chain.lifecycle import GRANT_USDC, NEW_STEWARD, WORKING_GROUP, Expected, lifecycle
from tests.chain.scenario import Support, propose, vote

CHOICE = {Support.FOR: 1, Support.AGAINST: 2, Support.ABSTAIN: 3}


class World:
    """A deployment with its lifecycle already mined."""

    def __init__(self, kind: str) -> None:
        self.w3 = Web3(EthereumTesterProvider())
        self.dep: Deployment = (deploy_oz if kind == "oz" else deploy_bravo)(self.w3)
        self.kind = kind
        self.expected: dict[str, Expected] = lifecycle(self.dep)

    def settings(self, **over: Any) -> ChainSettings:
        fields: dict[str, Any] = {
            "name": "local",
            "rpc_url": "http://127.0.0.1:1",  # unused: the tests hand in the Web3 object
            "chain_id": self.w3.eth.chain_id,
            "confirmations": 0,
            "governors": [
                {
                    "name": "gov",
                    "address": self.dep.governor.address,
                    "kind": self.kind,
                    "start_block": self.dep.start_block,
                }
            ],
            "contracts": [
                {
                    "address": self.dep.assets.usdc.address,
                    "name": "USDC",
                    "kind": "token",
                    "symbol": "USDC",
                    "decimals": 6,
                },
                {"address": self.dep.timelock.address, "name": "DAO timelock", "kind": "timelock"},
                {
                    "address": self.dep.assets.treasury.address,
                    "name": "Treasury",
                    "kind": "treasury",
                },
                {"address": self.dep.assets.box.address, "name": "Box proxy", "kind": "proxy"},
            ],
        }
        fields.update(over)
        return ChainSettings(**fields)

    def source(self, rpc: ChainRpc | None = None, **over: Any) -> ChainSource:
        return ChainSource(rpc or ChainRpc.from_web3(self.w3), self.settings(**over))

    def uid(self, pid: int) -> str:
        return f"chain:{self.w3.eth.chain_id}:{self.dep.governor.address.lower()}:{pid}"


@pytest.fixture(scope="module", params=["oz", "bravo"])
def world(request: pytest.FixtureRequest) -> World:
    return World(request.param)


@pytest.fixture
def chain(world: World) -> Iterator[World]:
    snap = evm.snapshot(world.w3)
    yield world
    evm.revert(world.w3, snap)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RecordStore]:
    s = RecordStore(f"sqlite:///{tmp_path / 'chain.db'}")
    yield s
    s.close()


def test_every_proposal_vote_and_action_is_ingested(chain: World, store: RecordStore) -> None:
    counts = ingest(chain.source(), store)
    assert counts.new == 6 and counts.votes == 12 and counts.spaces == 1
    for name, exp in chain.expected.items():
        stored = store.get(chain.uid(exp.proposal_id))
        assert stored is not None, name
        p = stored.proposal
        assert p.state == exp.state.name.lower(), name
        assert p.space == "gov" and p.source == "chain"
        assert p.body == exp.description and p.title == exp.description.splitlines()[0][2:]
        assert p.choices == ["For", "Against", "Abstain"] and p.type == "basic"
        assert p.extra.proposal_id == str(exp.proposal_id)
        assert p.extra.governor == chain.dep.governor.address
        assert len(p.extra.actions or []) == len(exp.actions)
        votes = {v.voter: v for v in store.votes(p.uid)}
        assert set(votes) == {v.voter for v in exp.votes}, name
        for cast in exp.votes:
            got = votes[cast.voter]
            assert got.choice == CHOICE[cast.support]
            assert got.voting_power == cast.weight / 10**18
            assert got.reason == cast.reason and got.block == cast.block_number
        for_, against, abstain = (
            sum(v.weight for v in exp.votes if v.support == s) / 10**18
            for s in (Support.FOR, Support.AGAINST, Support.ABSTAIN)
        )
        assert p.scores == [for_, against, abstain]
        assert p.votes_count == len(exp.votes)
        assert p.start is not None and p.end is not None and p.created is not None
        assert p.start <= p.end


def test_decoded_actions_name_the_transfer_the_role_and_the_upgrade(
    chain: World, store: RecordStore
) -> None:
    ingest(chain.source(), store)

    def flags(name: str) -> list[dict[str, Any]]:
        stored = store.get(chain.uid(chain.expected[name].proposal_id))
        assert stored is not None
        return stored.proposal.extra.action_flags

    outflow = next(f for f in flags("transfer") if f["kind"] == "treasury_outflow")
    assert outflow["token"] == "USDC" and outflow["amount"] == str(GRANT_USDC // 10**6)
    assert outflow["recipient"] == WORKING_GROUP
    assert any(f["kind"] == "eth_value" and f["amount"] == "5" for f in flags("transfer"))
    grant = next(f for f in flags("grant") if f["kind"] == "role_change")
    assert "SPENDER_ROLE" in grant["detail"] and NEW_STEWARD[-4:] in grant["detail"]
    assert any(f["kind"] == "upgrade" and f["severity"] == "high" for f in flags("upgrade"))


def test_a_second_run_reads_only_what_is_new(chain: World, store: RecordStore) -> None:
    rpc = ChainRpc.from_web3(chain.w3)
    source = chain.source(rpc)
    ingest(source, store)
    first = rpc.requests
    again = ingest(source, store)
    assert again.new == 0 and again.votes == 0
    assert rpc.requests - first < 20  # head, one window, the open proposal: not a rescan

    active = chain.expected["active"]
    pid = propose(
        chain.dep,
        (transfer_token(chain.dep.assets.usdc, WORKING_GROUP, 7 * 10**6, symbol="USDC"),),
        "# A late proposal\n\nSeven USDC.",
    )
    late_voter = next(v for v in chain.dep.voters if v not in {c.voter for c in active.votes})
    vote(chain.dep, active.proposal_id, late_voter, Support.AGAINST, "changed my mind")
    third = ingest(source, store)
    assert third.new == 1 and third.votes == 1
    assert store.get(chain.uid(pid)) is not None
    assert len(store.votes(chain.uid(active.proposal_id))) == len(active.votes) + 1


class FailingRpc(ChainRpc):
    """Refuses eth_getLogs after `after` windows: a crash half-way through a sync."""

    def __init__(self, w3: Web3, after: int) -> None:
        super().__init__(w3, label="flaky", max_retries=0)
        self.after = after

    def get_logs(self, address: str, topics: list[str], frm: int, to: int) -> list[Any]:
        if self.after <= 0:
            raise SourceError("chain flaky: the node went away")
        self.after -= 1
        return super().get_logs(address, topics, frm, to)


def test_a_crash_half_way_resumes_without_loss_or_duplicates(
    chain: World, store: RecordStore, tmp_path: Path
) -> None:
    small = {"max_block_range": 8}
    with pytest.raises(IngestFailed):
        ingest(chain.source(FailingRpc(chain.w3, after=4), **small), store)
    partial = store.get_cursor("chain", _scope(chain))
    assert partial is not None and partial["block"] < chain.w3.eth.block_number
    ingest(chain.source(**small), store)

    clean = RecordStore(f"sqlite:///{tmp_path / 'clean.db'}")
    ingest(chain.source(), clean)
    for exp in chain.expected.values():
        uid = chain.uid(exp.proposal_id)
        resumed, fresh = store.get(uid), clean.get(uid)
        assert resumed is not None and fresh is not None
        assert resumed.proposal.model_dump(exclude={"votes_count"}) == fresh.proposal.model_dump(
            exclude={"votes_count"}
        )
        assert {v.id for v in store.votes(uid)} == {v.id for v in clean.votes(uid)}
    clean.close()


def _scope(chain: World) -> str:
    return f"governor:{chain.w3.eth.chain_id}:{chain.dep.governor.address.lower()}"


class CappedRpc(ChainRpc):
    """A provider that refuses eth_getLogs over `cap` blocks, like hosted RPCs do."""

    def __init__(self, w3: Web3, cap: int) -> None:
        super().__init__(w3, label="capped")
        self.cap = cap
        self.widths: list[int] = []

    def get_logs(self, address: str, topics: list[str], frm: int, to: int) -> list[Any]:
        self.widths.append(to - frm + 1)
        if to - frm + 1 > self.cap:
            raise RangeTooLarge(f"capped: block range over {self.cap}")
        return super().get_logs(address, topics, frm, to)


def test_log_windows_adapt_to_the_provider_and_are_remembered(
    chain: World, store: RecordStore
) -> None:
    rpc = CappedRpc(chain.w3, cap=16)
    counts = ingest(chain.source(rpc, max_block_range=1024), store)
    assert counts.new == 6 and counts.votes == 12
    assert max(rpc.widths) > 16 and rpc.widths[-1] <= 16  # shrank from 1024 …
    cursor = store.get_cursor("chain", _scope(chain))
    assert cursor is not None and cursor["range"] <= 32  # … and the cursor keeps what works


class CorruptingRpc(ChainRpc):
    """Returns one log whose data was cut short, as a broken provider might."""

    def get_logs(self, address: str, topics: list[str], frm: int, to: int) -> list[Any]:
        logs = super().get_logs(address, topics, frm, to)
        if logs:
            bad = dict(logs[0])
            bad["data"] = bytes(bad["data"])[:10]
            logs[0] = bad
        return logs


def test_a_malformed_log_is_an_error_naming_block_and_transaction(
    chain: World, store: RecordStore
) -> None:
    with pytest.raises(IngestFailed) as info:
        ingest(chain.source(CorruptingRpc(chain.w3, label="broken")), store)
    cause = info.value.__cause__
    assert isinstance(cause, MalformedResponse)
    assert "block" in str(cause) and "transaction 0x" in str(cause)
    assert store.get_cursor("chain", _scope(chain)) is None  # nothing from that window kept


def test_the_wrong_chain_is_refused(chain: World, store: RecordStore) -> None:
    with pytest.raises(IngestFailed, match="chain id"):
        ingest(chain.source(chain_id=chain.w3.eth.chain_id + 1), store)


def test_blocks_shallower_than_the_confirmations_are_not_read_yet(
    chain: World, store: RecordStore
) -> None:
    active = chain.expected["active"]
    late_voter = next(v for v in chain.dep.voters if v not in {c.voter for c in active.votes})
    vote(chain.dep, active.proposal_id, late_voter, Support.FOR, "late")
    source = chain.source(confirmations=3)
    ingest(source, store)
    uid = chain.uid(active.proposal_id)
    assert late_voter not in {v.voter for v in store.votes(uid)}
    evm.mine(chain.w3, 3)
    ingest(source, store)
    assert late_voter in {v.voter for v in store.votes(uid)}


def test_a_reorg_below_the_cursor_is_undone_and_re_read(chain: World, store: RecordStore) -> None:
    """eth-tester reverting to a snapshot and mining other blocks is a reorg: same heights,
    new hashes. The vote and the proposal that only the old branch had must disappear."""
    active = chain.expected["active"]
    voters = {c.voter for c in active.votes}
    late = next(v for v in chain.dep.voters if v not in voters)
    fork = evm.snapshot(chain.w3)
    source = chain.source()
    ingest(source, store)  # sees the lifecycle
    vote(chain.dep, active.proposal_id, late, Support.AGAINST, "old branch")
    ghost = propose(
        chain.dep,
        (transfer_token(chain.dep.assets.usdc, WORKING_GROUP, 1, symbol="USDC"),),
        "# Only on the old branch",
    )
    ingest(source, store)
    uid = chain.uid(active.proposal_id)
    assert late in {v.voter for v in store.votes(uid)}
    assert store.get(chain.uid(ghost)) is not None

    evm.revert(chain.w3, fork)  # the other branch: the late voter votes FOR instead
    vote(chain.dep, active.proposal_id, late, Support.FOR, "new branch")
    evm.mine(chain.w3, 3)
    counts = ingest(source, store)
    assert counts.reorgs == 1 and counts.deleted == 1
    ghost_stored = store.get(chain.uid(ghost))
    assert ghost_stored is not None and ghost_stored.deleted_at is not None
    by_voter = {v.voter: v for v in store.votes(uid)}
    assert by_voter[late].choice == 1 and by_voter[late].reason == "new branch"
    assert len(by_voter) == len(voters) + 1  # no stale, no duplicate
    stored = store.get(uid)
    assert stored is not None and stored.proposal.votes_count == len(voters) + 1
