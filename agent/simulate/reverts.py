"""Revert data as something a person can read: `Error(string)`, panics, common custom errors."""

from __future__ import annotations

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector, is_address, to_checksum_address

_KNOWN = (
    "OwnableUnauthorizedAccount(address)",
    "AccessControlUnauthorizedAccount(address,bytes32)",
    "ERC20InsufficientBalance(address,uint256,uint256)",
    "ERC20InsufficientAllowance(address,uint256,uint256)",
    "ERC20InvalidReceiver(address)",
    "SafeERC20FailedOperation(address)",
    "FailedCall()",
    "FailedInnerCall()",
    "InsufficientBalance(uint256,uint256)",
    "TimelockUnexpectedOperationState(bytes32,bytes32)",
    "ERC1967InvalidImplementation(address)",
    "UUPSUnauthorizedCallContext()",
    "NotOwner(address)",
    "ETHTransferFailed()",
    "GovernorUnexpectedProposalState(uint256,uint8,bytes32)",
)
MAX_REASON = 200


def _table() -> dict[bytes, tuple[str, list[str]]]:
    table: dict[bytes, tuple[str, list[str]]] = {}
    for sig in _KNOWN:
        name, _, rest = sig.partition("(")
        types = [t for t in rest.rstrip(")").split(",") if t]
        table[function_signature_to_4byte_selector(sig)] = (name, types)
    return table


_TABLE = _table()


def _show(value: object) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, str) and is_address(value):
        return to_checksum_address(value)
    return str(value)


def describe_revert(data: bytes) -> str:
    """Reason string, `Panic(0x11)`, `Name(arg, …)` for a known error, else hex (cut short)."""
    if not data:
        return "reverted without a reason"
    selector, body = data[:4], data[4:]
    try:
        if selector == bytes.fromhex("08c379a0"):
            return str(decode(["string"], body)[0])[:MAX_REASON]
        if selector == bytes.fromhex("4e487b71"):
            return f"Panic({decode(['uint256'], body)[0]:#x})"
        if selector in _TABLE:
            name, types = _TABLE[selector]
            return f"{name}({', '.join(_show(v) for v in decode(types, body))})"
    except Exception:  # noqa: BLE001, S110 - malformed revert data still gets a message
        pass
    return ("0x" + data.hex())[:MAX_REASON]
