"""The chain harness does what it says, on eth-tester and on anvil: lifecycles really move
funds, grant roles and upgrade contracts; reverts read the same on both backends; anvil
reorgs drop logs; the demo chain produces a config Steward accepts."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from eth_utils import keccak
from web3 import Web3
from web3.contract.contract import ContractFunction

from agent.settings import ChainSettings
from tests.chain import anvil as anvil_module
from tests.chain.anvil import AnvilNotInstalled, anvil_binary, reorg, start_anvil
from tests.chain.contracts import at
from tests.chain.demo_chain import OPEN_VOTES_LEAD_S, populate, start_node
from tests.chain.deploy import (
    TREASURY_ETH,
    TREASURY_USDC,
    VOTER_BALANCE,
    ZERO_ADDRESS,
    Deployment,
)
from tests.chain.harness import (
    Expected,
    ProposalState,
    Reverted,
    Support,
    cancel,
    execute,
    lifecycle,
    mine,
    mine_until_active,
    mine_until_ended,
    propose,
    queue,
    read,
    revert,
    send_eth,
    set_voting_period,
    snapshot,
    state,
    transfer_token,
    vote,
)
from tests.chain.lifecycle import GRANT_ETH, GRANT_USDC, NEW_STEWARD, WORKING_GROUP

PROJECT = Path(__file__).resolve().parents[2]


def _call(dep: Deployment, fn: ContractFunction) -> Any:
    return read(fn, dep.deployer)


def _check_lifecycle(dep: Deployment) -> dict[str, Expected]:
    expected = lifecycle(dep)
    for name, exp in expected.items():
        assert state(dep, exp.proposal_id) == exp.state, name
    assets = dep.assets
    assert _call(dep, assets.usdc.functions.balanceOf(WORKING_GROUP)) == GRANT_USDC
    assert dep.w3.eth.get_balance(WORKING_GROUP) == GRANT_ETH
    role = keccak(text="SPENDER_ROLE")
    assert _call(dep, assets.treasury.functions.hasRole(role, NEW_STEWARD)) is True
    assert _call(dep, assets.box.functions.version()) == 2
    assert _call(dep, assets.box.functions.retrieve()) == 42  # storage kept across the upgrade
    transfer = expected["transfer"]
    assert [v.support for v in transfer.votes] == [Support.FOR, Support.FOR, Support.AGAINST]
    assert all(v.weight == VOTER_BALANCE for v in transfer.votes)
    assert expected["canceled"].votes == ()
    return expected


def test_oz_lifecycle_on_eth_tester(tester_oz: Deployment) -> None:
    expected = _check_lifecycle(tester_oz)
    tally = tester_oz.governor.functions.proposalVotes(expected["transfer"].proposal_id)
    assert _call(tester_oz, tally) == [VOTER_BALANCE, 2 * VOTER_BALANCE, 0]
    assert expected["upgrade"].votes[0].params == b"\x01"  # castVoteWithReasonAndParams


def test_bravo_lifecycle_on_eth_tester(tester_bravo: Deployment) -> None:
    expected = _check_lifecycle(tester_bravo)
    actions = tester_bravo.governor.functions.getActions(expected["transfer"].proposal_id)
    _targets, values, signatures, calldatas = _call(tester_bravo, actions)
    assert signatures == ["transfer(address,uint256)", ""]
    assert len(calldatas[0]) == 64  # arguments only, no selector (Compound's encoding)
    assert values == [0, GRANT_ETH]


def test_oz_wiring_gives_the_timelock_control(tester_oz: Deployment) -> None:
    dep, timelock = tester_oz, tester_oz.timelock.functions
    role = {n: _call(dep, getattr(timelock, n)()) for n in ("PROPOSER_ROLE", "EXECUTOR_ROLE")}
    admin = bytes(32)
    assert _call(dep, timelock.hasRole(role["PROPOSER_ROLE"], dep.governor.address))
    assert _call(dep, timelock.hasRole(role["EXECUTOR_ROLE"], ZERO_ADDRESS))  # open execution
    assert not _call(dep, timelock.hasRole(admin, dep.deployer))
    assert _call(dep, dep.governor.functions.timelock()) == dep.timelock.address
    assert _call(dep, dep.assets.box.functions.owner()) == dep.timelock.address
    assert _call(dep, dep.assets.treasury.functions.hasRole(admin, dep.timelock.address))
    usdc = dep.assets.usdc.functions
    assert _call(dep, usdc.decimals()) == 6 and _call(dep, usdc.symbol()) == "USDC"
    assert _call(dep, usdc.balanceOf(dep.timelock.address)) == TREASURY_USDC
    assert dep.w3.eth.get_balance(dep.timelock.address) == TREASURY_ETH
    for voter in dep.voters:
        assert _call(dep, dep.token.functions.delegates(voter)) == voter


def test_bravo_wiring_makes_the_governor_timelock_admin(tester_bravo: Deployment) -> None:
    dep = tester_bravo
    assert _call(dep, dep.timelock.functions.admin()) == dep.governor.address
    assert _call(dep, dep.governor.functions.admin()) == dep.timelock.address
    assert _call(dep, dep.assets.box.functions.owner()) == dep.timelock.address
    assert _call(dep, dep.governor.functions.quorumVotes()) == 3 * VOTER_BALANCE * 4 // 100


def test_oz_cancel_only_while_pending(tester_oz: Deployment) -> None:
    dep = tester_oz
    pid = propose(dep, [send_eth(WORKING_GROUP, 1)], "# Withdrawn")
    cancel(dep, pid)
    assert state(dep, pid) == ProposalState.CANCELED
    late = propose(dep, [send_eth(WORKING_GROUP, 2)], "# Too late to withdraw")
    mine_until_active(dep, late)
    with pytest.raises(Reverted, match="GovernorUnableToCancel"):
        cancel(dep, late)


def test_bravo_proposer_cancels_an_active_proposal(tester_bravo: Deployment) -> None:
    dep = tester_bravo
    pid = propose(dep, [send_eth(WORKING_GROUP, 1)], "# Withdrawn")
    mine_until_active(dep, pid)
    vote(dep, pid, dep.voters[1], Support.FOR)
    cancel(dep, pid)
    assert state(dep, pid) == ProposalState.CANCELED


@pytest.mark.parametrize("kind", ["tester_oz", "tester_bravo"])
def test_governor_parameter_change_executes(kind: str, request: pytest.FixtureRequest) -> None:
    dep: Deployment = request.getfixturevalue(kind)
    pid = propose(dep, [set_voting_period(dep.governor, 77)], "# Longer votes")
    mine_until_active(dep, pid)
    vote(dep, pid, dep.voters[0], Support.FOR, "ok")
    mine_until_ended(dep, pid)
    queue(dep, pid)
    execute(dep, pid)
    assert _call(dep, dep.governor.functions.votingPeriod()) == 77


@pytest.mark.parametrize("kind", ["tester_oz", "anvil_oz", "tester_bravo", "anvil_bravo"])
def test_reverts_read_the_same_on_both_backends(kind: str, request: pytest.FixtureRequest) -> None:
    dep: Deployment = request.getfixturevalue(kind)
    pid = propose(dep, [send_eth(WORKING_GROUP, 1)], "# Vote twice")
    mine_until_active(dep, pid)
    vote(dep, pid, dep.voters[0], Support.FOR)
    expected = "GovernorAlreadyCastVote" if dep.kind == "oz" else "voter already voted"
    with pytest.raises(Reverted, match=expected):
        vote(dep, pid, dep.voters[0], Support.AGAINST)


def test_params_vote_and_tally_on_oz(tester_oz: Deployment) -> None:
    dep = tester_oz
    pid = propose(dep, [send_eth(WORKING_GROUP, 1)], "# With params")
    mine_until_active(dep, pid)
    cast = vote(dep, pid, dep.voters[0], Support.ABSTAIN, "why not", params=b"\x02")
    assert cast.params == b"\x02" and cast.weight == VOTER_BALANCE
    assert _call(dep, dep.governor.functions.proposalVotes(pid)) == [0, 0, cast.weight]


def test_snapshot_and_revert_on_eth_tester(tester_w3: Web3) -> None:
    head = tester_w3.eth.block_number
    snap = snapshot(tester_w3)
    mine(tester_w3, 5)
    assert tester_w3.eth.block_number == head + 5
    revert(tester_w3, snap)
    assert tester_w3.eth.block_number == head


def test_anvil_deploy_proposal_and_reorg(anvil_oz: Deployment) -> None:
    dep, w3 = anvil_oz, anvil_oz.w3
    pid = propose(dep, [transfer_token(dep.assets.usdc, WORKING_GROUP, 5, symbol="USDC")], "# Hi")
    head = w3.eth.get_block("latest")
    created = dep.governor.events.ProposalCreated()
    in_head = {"from_block": head["number"], "to_block": head["number"]}
    assert [e["args"]["proposalId"] for e in created.get_logs(**in_head)] == [pid]
    receiver = dep.voters[2]
    reorg(w3, 1, [({"from": dep.deployer, "to": receiver, "value": 7}, 0)])
    replaced = w3.eth.get_block("latest")
    assert replaced["number"] == head["number"] and replaced["hash"] != head["hash"]
    assert len(replaced["transactions"]) == 1  # our transfer, not the proposal
    assert list(created.get_logs(**in_head)) == []
    with pytest.raises(Reverted, match="GovernorNonexistentProposal"):
        state(dep, pid)


def test_anvil_snapshot_revert_and_timestamps(anvil_w3: Web3) -> None:
    head = anvil_w3.eth.get_block("latest")
    snap = snapshot(anvil_w3)
    mine(anvil_w3, 3)
    blocks = [anvil_w3.eth.get_block(head["number"] + i) for i in (1, 2, 3)]
    assert [b["timestamp"] - head["timestamp"] for b in blocks][1:] == [24, 36]
    revert(anvil_w3, snap)
    assert anvil_w3.eth.block_number == head["number"]


def test_start_anvil_explains_a_missing_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(anvil_module, "NODE_MODULES", tmp_path)
    with pytest.raises(AnvilNotInstalled, match=r"npm ci --prefix contracts"):
        anvil_binary()


def test_start_anvil_stops_the_process() -> None:
    with start_anvil(chain_id=1337) as node:
        assert node.web3().eth.chain_id == 1337
    assert node.process.returncode is not None
    with pytest.raises(httpx.HTTPError):
        httpx.post(node.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"})


def test_demo_story_and_config(tmp_path: Path) -> None:
    """The CLI's steps in-process: the story's end states, a valid config, clock caught up."""
    opts = argparse.Namespace(
        config_out=tmp_path / "chain.yaml",
        state_dir=None,
        port=None,
        block_time=None,
        proposals=None,
        voters=10,
    )
    node = start_node(opts)
    try:
        record = populate(node, opts)
        config = yaml.safe_load(opts.config_out.read_text())
        chain = ChainSettings.model_validate(config["chains"][0])
        assert chain.governors[0].start_block == record["start_block"]
        w3 = node.web3()
        governor = at(w3, "StewardGovernor", record["addresses"]["governor"])
        states = {
            p["key"]: ProposalState(
                read(governor.functions.state(p["proposal_id"]), w3.eth.accounts[0])
            ).name
            for p in record["proposals"]
        }
        # The open votes start a little behind the wall clock, never in its future.
        assert -OPEN_VOTES_LEAD_S - 600 < w3.eth.get_block("latest")["timestamp"] - time.time() < 60
    finally:
        node.stop()
    assert states == {
        "funding": "EXECUTED",
        "sale": "DEFEATED",
        "voting_period": "EXECUTED",
        "steward": "ACTIVE",
        "upgrade": "ACTIVE",
    }


def test_demo_chain_cli_bulk_mode_runs_until_sigterm(tmp_path: Path) -> None:
    out = tmp_path / "chain.yaml"
    args = [sys.executable, "-m", "tests.chain.demo_chain", "--config-out", str(out)]
    args += ["--proposals", "4", "--voters", "6", "--state-dir", str(tmp_path / "state")]
    proc = subprocess.Popen(args, cwd=PROJECT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        chain = yaml.safe_load(out.read_text())["chains"][0]
        w3 = Web3(Web3.HTTPProvider(chain["rpc_url"]))
        governor = at(w3, "StewardGovernor", chain["governors"][0]["address"])
        span = {"from_block": chain["governors"][0]["start_block"], "to_block": "latest"}
        assert len(governor.events.ProposalCreated().get_logs(**span)) == 4
        votes = governor.events.VoteCast().get_logs(**span)
        assert len(votes) == 4 * 6
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    with pytest.raises(httpx.HTTPError):
        httpx.post(chain["rpc_url"], json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"})
