"""Real ABI encodings for the decoder tests (eth_abi, no chain), and a few addresses."""

from __future__ import annotations

from typing import Any

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from agent.decode import KnownContract, RawAction

USDC = to_checksum_address("0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48")
ENS = to_checksum_address("0xc18360217d8f7ab5e7c516566761ea12ce7f9d72")
TIMELOCK = to_checksum_address("0x" + "11" * 20)
TREASURY = to_checksum_address("0x" + "22" * 20)
GOVERNOR = to_checksum_address("0x" + "33" * 20)
REGISTRY = to_checksum_address("0x00000000000c2e074ec69a0dfb2997ba6c7d2e1e")
ALICE = to_checksum_address("0x" + "a1" * 20)
BOB = to_checksum_address("0x" + "b0" * 20)
STRANGER = to_checksum_address("0x" + "5e" * 20)

KNOWN = [
    KnownContract(address=USDC, name="USDC", kind="token", symbol="USDC", decimals=6),
    KnownContract(address=ENS, name="ENS token", kind="token", symbol="ENS", decimals=18),
    KnownContract(address=TIMELOCK, name="Timelock", kind="timelock", delay=2 * 86_400),
    KnownContract(address=TREASURY, name="Treasury", kind="treasury"),
    KnownContract(address=GOVERNOR, name="Governor", kind="governor"),
    KnownContract(address=REGISTRY, name="ENS registry", kind="ens_registry"),
]


def _types(signature: str) -> list[str]:
    inner = signature[signature.index("(") + 1 : -1]
    depth, parts, start = 0, [], 0
    for i, char in enumerate(inner):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
    return [*parts, inner[start:]] if inner else []


def args(signature: str, *values: Any) -> bytes:
    """The ABI-encoded arguments alone (what a Bravo action's calldata holds)."""
    return encode(_types(signature), list(values))


def call(signature: str, *values: Any) -> bytes:
    """Selector + arguments (what an OpenZeppelin action's calldata holds)."""
    return keccak(text=signature)[:4] + args(signature, *values)


def oz(target: str, signature: str, *values: Any, value: int = 0) -> RawAction:
    return RawAction(target=target, value=value, calldata="0x" + call(signature, *values).hex())


def bravo(target: str, signature: str, *values: Any, value: int = 0) -> RawAction:
    data = "0x" + args(signature, *values).hex()
    return RawAction(target=target, value=value, signature=signature, calldata=data)


def short(address: str) -> str:
    """How summaries show an address no configuration names."""
    return f"{address[:6]}…{address[-4:]}"


def role(name: str) -> bytes:
    return bytes(32) if name == "DEFAULT_ADMIN_ROLE" else keccak(text=name)
