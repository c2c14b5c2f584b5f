"""A "mainnet" on anvil (127.0.0.1) with the project's contracts, to be forked by a second
anvil in every simulation: the OpenZeppelin and Bravo sets (governor, timelock, USDC-like
token, Treasury, upgradeable box) and a Forwarder the timelock owns, holding USDC.

The Forwarder is a project contract standing in for an unknown container: a proposal that
calls it hides what it moves inside its `data` argument. The `safe` fixture adds a real Safe
(the registry's audited build, see safe.py) owned by the same timelock.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest
from web3 import Web3
from web3.contract import Contract

from agent.decode.models import RawAction
from agent.records.simulation import SimulationRequest
from tests.chain.actions import Action, call_action
from tests.chain.anvil import AnvilNode, start_anvil
from tests.chain.deploy import BravoDeployment, Deployment, OzDeployment, deploy_bravo, deploy_oz
from tests.chain.evm import deploy, rpc, transact
from tests.chain.scenario import propose
from tests.simulate.safe import deploy_safe

FORWARDER_USDC = 2_000_000 * 10**6
SAFE_USDC = 1_500_000 * 10**6


@dataclass(frozen=True)
class Mainnet:
    node: AnvilNode
    w3: Web3
    oz: OzDeployment
    bravo: BravoDeployment
    forwarder: Contract
    """Owned by the OZ timelock; holds FORWARDER_USDC of the OZ set's USDC."""


@pytest.fixture(scope="module")
def mainnet() -> Iterator[Mainnet]:
    with start_anvil() as node:
        w3 = node.web3()
        oz = deploy_oz(w3)
        bravo = deploy_bravo(w3)
        forwarder, _ = deploy(w3, "Forwarder", oz.timelock.address, sender=oz.deployer)
        _fund(oz, forwarder.address, FORWARDER_USDC)
        yield Mainnet(node, w3, oz, bravo, forwarder)


def _fund(oz: OzDeployment, to: str, amount: int) -> None:
    """Move the OZ timelock's USDC to ``to`` (impersonating it, as only it holds any)."""
    timelock = oz.timelock.address
    rpc(oz.w3, "anvil_impersonateAccount", [timelock])
    transact(oz.assets.usdc.functions.transfer(to, amount), sender=timelock, gas=200_000)
    rpc(oz.w3, "anvil_stopImpersonatingAccount", [timelock])


@pytest.fixture(scope="module")
def safe(mainnet: Mainnet) -> Contract:
    """A real Safe proxy on the mainnet, the OZ timelock its single owner (threshold 1),
    holding SAFE_USDC."""
    oz = mainnet.oz
    proxy = deploy_safe(mainnet.w3, oz.timelock.address, sender=oz.deployer)
    _fund(oz, proxy.address, SAFE_USDC)
    return proxy


def raw_actions(dep: Deployment, actions: Sequence[Action]) -> list[RawAction]:
    """The actions as the governor stores them (Bravo: signature + args; OZ: calldata)."""
    if dep.kind == "bravo":
        return [
            RawAction(target=a.target, value=a.value, signature=a.signature, calldata=a.args)
            for a in actions
        ]
    return [RawAction(target=a.target, value=a.value, calldata=a.calldata) for a in actions]


def proposed(
    dep: Deployment, actions: Sequence[Action], description: str
) -> tuple[int, SimulationRequest]:
    """Propose on the mainnet; the request a simulation of it gets."""
    pid = propose(dep, actions, description)
    req = SimulationRequest(
        uid=f"chain:31337:{dep.governor.address.lower()}:{pid}",
        content_hash="0" * 64,
        chain="mainnet",
        chain_id=31337,
        governor=dep.governor.address,
        governor_kind=dep.kind,
        proposal_id=pid,
        actions=raw_actions(dep, actions),
        description=description,
        holders=list(dep.voters),
    )
    return pid, req


def hidden_transfer(forwarder: Contract, usdc: Contract, to: str, amount: int) -> Action:
    """forwarder.forward(usdc, 0, transfer(to, amount)): the outflow sits inside `data`."""
    inner = bytes.fromhex(usdc.encode_abi("transfer", args=[to, amount])[2:])
    return call_action(forwarder, "forward", usdc.address, 0, inner, summary="forward a call")
