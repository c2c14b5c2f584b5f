"""Simulations on a fork of the anvil "mainnet", checked against what is known to be true."""

from __future__ import annotations

from decimal import Decimal

import pytest
from eth_utils import keccak
from web3 import Web3

from connectors.chain import sim_exec
from connectors.chain.simulator import ForkSimulator
from tests.chain.actions import call_action, grant_spender, send_eth, transfer_token, upgrade_box
from tests.chain.deploy import BOX_VALUE
from tests.chain.scenario import Support, mine_until_active, mine_until_ended, state, vote
from tests.simulate.conftest import Mainnet, proposed

IMPL_SLOT = int.from_bytes(keccak(text="eip1967.proxy.implementation"), "big") - 1


def _impl(w3: Web3, proxy: str) -> str:
    word = w3.eth.get_storage_at(Web3.to_checksum_address(proxy), IMPL_SLOT)
    return Web3.to_checksum_address(bytes(word)[-20:])


def test_oz_proposal_through_the_governor_reports_what_it_moves_and_changes(
    mainnet: Mainnet,
) -> None:
    dep, w3 = mainnet.oz, mainnet.w3
    usdc, box, treasury = dep.assets.usdc, dep.assets.box, dep.assets.treasury
    grantee = Web3.to_checksum_address("0x" + "ab" * 20)
    spender = Web3.to_checksum_address("0x" + "cd" * 20)
    actions = [
        transfer_token(usdc, grantee, 250_000 * 10**6, symbol="USDC"),
        upgrade_box(box, dep.assets.box_v2.address),
        grant_spender(treasury, spender),
        send_eth(grantee, 3 * 10**18),
    ]
    _, req = proposed(dep, actions, "# Grant, upgrade and a new spender")
    impl_before = _impl(w3, box.address)
    timelock_eth = w3.eth.get_balance(dep.timelock.address)

    report = ForkSimulator(mainnet.node.url).simulate(req)

    assert report.status == "simulated", report.why
    assert report.method == "governor" and "voted FOR" in (report.method_note or "")
    assert report.executor == dep.timelock.address
    assert [a.status for a in report.actions] == ["success"] * 4
    assert [a.target_has_code for a in report.actions] == [True, True, True, False]
    assert not [f for f in report.flags if f.severity == "high"]
    [move] = report.token_moves
    assert (move.kind, move.symbol, move.decimals, move.amount) == ("transfer", "USDC", 6, "250000")
    assert (move.source, move.destination) == (dep.timelock.address, grantee)
    eth = {c.address: Decimal(c.delta_eth) for c in report.eth_changes}
    assert eth == {grantee: Decimal(3), dep.timelock.address: Decimal(-3)}
    timelock_change = next(c for c in report.eth_changes if c.address == dep.timelock.address)
    assert int(timelock_change.before_wei) == timelock_eth
    impl = next(c for c in report.admin_changes if c.kind == "implementation")
    assert (impl.contract, impl.before, impl.after) == (
        box.address,
        impl_before,
        dep.assets.box_v2.address,
    )
    role = next(c for c in report.admin_changes if c.kind == "role_granted")
    assert (role.contract, role.account, role.role) == (
        treasury.address,
        spender,
        "SPENDER_ROLE",
    )
    changed = {s.contract: s.slots for s in report.storage}
    assert changed[usdc.address] == 2  # two balances
    assert changed[box.address] == 1  # the implementation slot
    assert report.storage_note is None
    assert report.gas_used and report.gas_used > sum(a.gas_used or 0 for a in report.actions)
    # the mainnet itself is untouched
    assert usdc.functions.balanceOf(grantee).call() == 0
    assert _impl(w3, box.address) == impl_before
    assert box.functions.retrieve().call() == BOX_VALUE


def test_a_reverting_action_is_named_with_its_reason_and_flagged_high(mainnet: Mainnet) -> None:
    dep = mainnet.oz
    usdc, treasury = dep.assets.usdc, dep.assets.treasury
    to = Web3.to_checksum_address("0x" + "ef" * 20)
    actions = [
        transfer_token(usdc, to, 10 * 10**6, symbol="USDC"),
        # the timelock holds no SPENDER_ROLE on the treasury: this reverts
        call_action(treasury, "release", usdc.address, to, 1, summary="release"),
    ]
    _, req = proposed(dep, actions, "# A release that cannot work")

    report = ForkSimulator(mainnet.node.url).simulate(req)

    assert report.status == "simulated" and report.method == "governor"
    assert [a.status for a in report.actions] == ["success", "reverted"]
    assert "AccessControlUnauthorizedAccount" in (report.actions[1].reason or "")
    assert dep.timelock.address in (report.actions[1].reason or "")
    assert report.reverted
    assert [(f.kind, f.severity) for f in report.flags] == [("revert", "high")]
    assert report.token_moves == []  # the whole execution reverted


def test_a_defeated_bravo_proposal_is_run_from_the_impersonated_timelock(mainnet: Mainnet) -> None:
    dep = mainnet.bravo
    to = Web3.to_checksum_address("0x" + "12" * 20)
    actions = [transfer_token(dep.assets.usdc, to, 5_000 * 10**6, symbol="USDC")]
    pid, req = proposed(dep, actions, "# Bravo grant nobody wants")
    mine_until_active(dep, pid)
    for voter in dep.voters:
        vote(dep, pid, voter, Support.AGAINST)
    mine_until_ended(dep, pid)
    assert state(dep, pid).name == "DEFEATED"

    report = ForkSimulator(mainnet.node.url).simulate(req)

    assert report.status == "simulated", report.why
    assert report.method == "timelock_impersonation"
    assert "defeated" in (report.method_note or "")
    assert report.executor == dep.timelock.address
    [move] = report.token_moves
    assert (move.source, move.destination, move.amount) == (dep.timelock.address, to, "5000")


def test_a_pending_bravo_proposal_goes_through_queue_and_execute(mainnet: Mainnet) -> None:
    dep = mainnet.bravo
    actions = [upgrade_box(dep.assets.box, dep.assets.box_v2.address)]
    _, req = proposed(dep, actions, "# Bravo upgrade")

    report = ForkSimulator(mainnet.node.url).simulate(req)

    assert report.method == "governor", report.method_note
    [change] = [c for c in report.admin_changes if c.kind == "implementation"]
    assert change.after == dep.assets.box_v2.address


def test_voting_too_many_blocks_ahead_is_run_from_the_timelock(
    mainnet: Mainnet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sim_exec, "MAX_MINED_BLOCKS", 5)  # the set's voting lasts 50 blocks
    dep = mainnet.oz
    _, req = proposed(dep, [grant_spender(dep.assets.treasury, dep.voters[2])], "# Far ahead")

    report = ForkSimulator(mainnet.node.url).simulate(req)

    assert report.method == "timelock_impersonation"
    assert "blocks ahead" in (report.method_note or "")
    assert [c.role for c in report.admin_changes] == ["SPENDER_ROLE"]
