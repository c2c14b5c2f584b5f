"""A real Safe on the anvil "mainnet": the audited build that @safe-global/safe-smart-account
publishes (singleton + SafeProxyFactory), read from contracts/node_modules, never recompiled,
so the simulation is checked against the code a DAO's Safe actually runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract

from tests.chain.actions import Action, call_action
from tests.chain.evm import transact

PACKAGE = "@safe-global/safe-smart-account"
BUILD = (
    Path(__file__).resolve().parents[2]
    / "contracts"
    / "node_modules"
    / PACKAGE
    / "build"
    / "artifacts"
    / "contracts"
)
SAFE_DEPLOY_GAS = 8_000_000
"""The singleton is ≈ 21 KB of code; above the harness's DEPLOY_GAS."""
ZERO = "0x" + "00" * 20


def _artifact(relative: str) -> dict[str, Any]:
    path = BUILD / relative
    if not path.is_file():
        pytest.skip(f"{PACKAGE} is not installed: run `npm ci --prefix contracts` ({path})")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _deploy(w3: Web3, relative: str, sender: ChecksumAddress) -> Contract:
    art = _artifact(relative)
    cls = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
    tx = cls.constructor().build_transaction({"from": sender, "gas": SAFE_DEPLOY_GAS})
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(tx), timeout=30)
    assert receipt["status"] == 1 and receipt["contractAddress"], relative
    return w3.eth.contract(address=receipt["contractAddress"], abi=art["abi"])


def deploy_safe(w3: Web3, owner: ChecksumAddress, *, sender: ChecksumAddress) -> Contract:
    """A Safe proxy whose single owner is ``owner`` (threshold 1), made by the factory."""
    singleton = _deploy(w3, "Safe.sol/Safe.json", sender)
    factory = _deploy(w3, "proxies/SafeProxyFactory.sol/SafeProxyFactory.json", sender)
    setup = singleton.encode_abi("setup", args=[[owner], 1, ZERO, b"", ZERO, ZERO, 0, ZERO])
    create = factory.functions.createProxyWithNonce(singleton.address, setup, 0)
    proxy = create.call({"from": sender})
    transact(create, sender=sender, gas=1_000_000)
    safe = w3.eth.contract(address=Web3.to_checksum_address(proxy), abi=singleton.abi)
    assert safe.functions.getOwners().call() == [owner]
    assert safe.functions.getThreshold().call() == 1
    return safe


def owner_signature(owner: str) -> bytes:
    """Safe's pre-validated signature: r = the owner, s = 0, v = 1; accepted when the owner
    itself sends execTransaction (here the timelock, executing a proposal)."""
    return bytes(12) + bytes.fromhex(owner[2:]) + bytes(32) + b"\x01"


def exec_transaction(safe: Contract, owner: str, to: str, data: bytes) -> Action:
    """safe.execTransaction(to, 0, data, call, no refund, the owner's signature)."""
    return call_action(
        safe,
        "execTransaction",
        Web3.to_checksum_address(to),
        0,
        data,
        0,
        0,
        0,
        0,
        ZERO,
        ZERO,
        owner_signature(owner),
        summary="a Safe transaction",
    )
