"""Proposal actions with real effects: each is one call the timelock makes when executed.

An ``Action`` carries both encodings a governor needs: OpenZeppelin's full ``calldata``
(selector + arguments) and GovernorBravo's ``signature`` + arguments-only ``args``.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_typing import ChecksumAddress
from eth_utils import function_signature_to_4byte_selector, keccak
from hexbytes import HexBytes
from web3.contract import Contract


@dataclass(frozen=True)
class Action:
    target: ChecksumAddress
    value: int
    signature: str
    """``name(type,…)``; empty for a plain ETH transfer."""
    args: bytes
    """ABI-encoded arguments only (GovernorBravo's ``calldatas[i]``)."""
    summary: str
    """What the action does, for people reading test output and the demo."""

    @property
    def calldata(self) -> bytes:
        """Selector + arguments (OpenZeppelin Governor's ``calldatas[i]``)."""
        if not self.signature:
            return self.args
        return function_signature_to_4byte_selector(self.signature) + self.args


def _signature(contract: Contract, name: str) -> str:
    for entry in contract.abi:
        if entry["type"] == "function" and entry["name"] == name:
            return f"{name}({','.join(str(p['type']) for p in entry['inputs'])})"
    raise KeyError(f"{name} is not in the contract's ABI")


def call_action(
    contract: Contract, name: str, *args: object, summary: str, value: int = 0
) -> Action:
    """An action calling ``contract.name(*args)``."""
    calldata = HexBytes(contract.encode_abi(name, args=list(args)))
    return Action(
        target=contract.address,
        value=value,
        signature=_signature(contract, name),
        args=bytes(calldata[4:]),
        summary=summary,
    )


def transfer_token(token: Contract, to: ChecksumAddress, amount: int, *, symbol: str) -> Action:
    """ERC-20 ``transfer`` out of the timelock's balance (a grant, a working-group budget)."""
    return call_action(token, "transfer", to, amount, summary=f"transfer {amount} {symbol} to {to}")


def grant_spender(treasury: Contract, account: ChecksumAddress) -> Action:
    """Treasury ``grantRole(SPENDER_ROLE, account)``: a new steward may release funds."""
    role = keccak(text="SPENDER_ROLE")
    return call_action(
        treasury, "grantRole", role, account, summary=f"grant SPENDER_ROLE to {account}"
    )


def upgrade_box(box: Contract, implementation: ChecksumAddress) -> Action:
    """UUPS ``upgradeToAndCall(implementation, "")`` on the proxy the timelock owns."""
    return call_action(
        box, "upgradeToAndCall", implementation, b"", summary=f"upgrade box to {implementation}"
    )


def send_eth(to: ChecksumAddress, amount_wei: int) -> Action:
    """A plain ETH transfer from the timelock (no calldata, no signature)."""
    return Action(
        target=to, value=amount_wei, signature="", args=b"", summary=f"send {amount_wei} wei"
    )


def set_voting_period(governor: Contract, blocks: int) -> Action:
    """Governor parameter change; only the governance executor (the timelock) may call it.

    OpenZeppelin's ``setVotingPeriod(uint32)`` or GovernorBravo's ``_setVotingPeriod(uint256)``.
    """
    bravo = any(e.get("name") == "_setVotingPeriod" for e in governor.abi)
    name = "_setVotingPeriod" if bravo else "setVotingPeriod"
    return call_action(governor, name, blocks, summary=f"set voting period to {blocks} blocks")
