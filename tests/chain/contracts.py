"""The committed artifacts (contracts/artifacts/*.json) as web3 contract objects.

Also turns revert data into something a person can read: ``Error(string)`` reasons and the
custom errors of every contract here (``OwnableUnauthorizedAccount(0x…)``), because eth-tester
and anvil report the same revert as raw bytes in different places.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3
from web3.contract import Contract

ARTIFACTS = Path(__file__).resolve().parents[2] / "contracts" / "artifacts"
_ERROR_STRING = bytes.fromhex("08c379a0")
_PANIC = bytes.fromhex("4e487b71")


@cache
def artifact(name: str) -> dict[str, Any]:
    """The artifact's JSON (``abi``, ``bytecode``, …); read once per process."""
    return json.loads((ARTIFACTS / f"{name}.json").read_text(encoding="utf-8"))


def abi(name: str) -> list[dict[str, Any]]:
    return list(artifact(name)["abi"])


def factory(w3: Web3, name: str) -> type[Contract]:
    """A deployable contract class (ABI + bytecode) bound to ``w3``."""
    data = artifact(name)
    return w3.eth.contract(abi=data["abi"], bytecode=data["bytecode"])


def at(w3: Web3, name: str, address: str) -> Contract:
    """The contract ``name``'s ABI at ``address``."""
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi(name))


def _canonical_type(param: dict[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_canonical_type(c) for c in param["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


@cache
def _custom_errors() -> dict[bytes, tuple[str, list[str]]]:
    """selector → (name, argument types) for every custom error in every artifact."""
    errors: dict[bytes, tuple[str, list[str]]] = {}
    for path in sorted(ARTIFACTS.glob("*.json")):
        for entry in artifact(path.stem)["abi"]:
            if entry["type"] != "error":
                continue
            types = [_canonical_type(p) for p in entry["inputs"]]
            signature = f"{entry['name']}({','.join(types)})"
            errors[function_signature_to_4byte_selector(signature)] = (entry["name"], types)
    return errors


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, tuple | list):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    return str(value)


def describe_revert(data: bytes) -> str:
    """``data`` returned by a revert, as ``reason`` or ``Name(arg, …)``; hex if unknown."""
    selector, body = data[:4], data[4:]
    try:
        if selector == _ERROR_STRING:
            return str(decode(["string"], body)[0])
        if selector == _PANIC:
            return f"Panic({decode(['uint256'], body)[0]:#x})"
        if selector in _custom_errors():
            name, types = _custom_errors()[selector]
            return f"{name}({', '.join(_show(v) for v in decode(types, body))})"
    except Exception:  # noqa: BLE001 - undecodable data still deserves a message
        pass
    return "0x" + data.hex() if data else "(no revert data)"
