"""Transaction plumbing for votes: EIP-1559 fees, what a failed send means, revert reasons.

Fees must get a vote mined before the deadline without letting a spike drain the delegate's
wallet. The next block's base fee (the last entry of ``eth_feeHistory``) is doubled, which
stays valid through six full blocks of +12.5 %, and the tip is the median reward of recent
blocks (at least the configured tip). When even base fee + tip is above the cap, nothing is
sent (`FeeCapExceeded`); when only the headroom is, the max fee is the cap. A replacement
raises both fees by at least 12.5 % (geth's pool wants 10 %, others 12.5 %).

Signing is checked: the signature must recover to the signer, or nothing is sent.

A send can fail in ways that mean opposite things: "already known" (the node has it), a used
nonce (another transaction was mined first), a refusal (funds, fee: nothing broadcast), or
no answer (it may have the transaction). `broadcast` tells them apart.

Reverts: eth-tester raises ``TransactionFailed`` with the revert bytes as text, anvil
``ContractCustomError`` with hex data, others ``ContractLogicError`` with a reason;
`revert_safe` and `describe_revert` make them one ``ContractLogicError`` read one way.
"""

from __future__ import annotations

import ast
import logging
import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any, Literal, Protocol, TypeVar

from eth_abi import decode
from eth_account import Account
from eth_account.datastructures import SignedTransaction
from eth_utils import function_signature_to_4byte_selector, keccak
from web3.exceptions import ContractLogicError, TransactionNotFound

from agent.errors import (
    FeeCapExceeded,
    SigningFailed,
    SourceError,
    SourceUnavailable,
    TransactionRefused,
)
from connectors.chain.governor import load_abi
from connectors.chain.rpc import ChainRpc

T = TypeVar("T")
log = logging.getLogger(__name__)
GWEI = 10**9
HISTORY_BLOCKS = 5
REWARD_PERCENTILE = 50
_ERROR_STRING = bytes.fromhex("08c379a0")
_PANIC = bytes.fromhex("4e487b71")
_KNOWN = re.compile(r"already known|known transaction|already imported|already in (mem)?pool", re.I)
_NONCE_USED = re.compile(r"nonce too low|nonce too small|invalid transaction nonce|OldNonce", re.I)


# ------------------------------------------------------------------ fees
@dataclass(frozen=True)
class Fees:
    """Wei per gas, as a type-2 transaction carries them."""

    max_fee: int
    priority_fee: int

    def bumped(self, fresh: Fees | None = None) -> Fees:
        """At least +12.5 % (and +1 wei) on both, or the fresh suggestion if higher."""
        max_fee = max(_plus_eighth(self.max_fee), fresh.max_fee if fresh else 0)
        tip = max(_plus_eighth(self.priority_fee), fresh.priority_fee if fresh else 0)
        return Fees(max_fee=max_fee, priority_fee=min(tip, max_fee))

    def describe(self) -> str:
        return f"max {gwei(self.max_fee)} gwei, tip {gwei(self.priority_fee)} gwei"


def _plus_eighth(value: int) -> int:
    return max(value + 1, -(-value * 9 // 8))


def to_wei(gwei_value: float) -> int:
    """Gwei from config (a float) to wei, without float rounding surprises."""
    return int(Decimal(str(gwei_value)) * GWEI)


def gwei(wei: int) -> str:
    return f"{Decimal(wei) / GWEI:.9f}".rstrip("0").rstrip(".")


def next_base_fee(rpc: ChainRpc) -> tuple[int, list[int]]:
    """The next block's base fee, and recent blocks' median tips (empty blocks left out)."""
    history: Any = rpc.call(
        "eth_feeHistory",
        lambda: rpc.w3.eth.fee_history(HISTORY_BLOCKS, "latest", [REWARD_PERCENTILE]),
    )
    base_fees = [int(v) for v in history.get("baseFeePerGas") or []]
    rewards = [int(r[0]) for r in history.get("reward") or [] if r and int(r[0]) > 0]
    if base_fees:
        return base_fees[-1], rewards
    # eth-tester answers an empty history on a young chain: the head's base fee will do.
    block: Any = rpc.call("eth_getBlockByNumber(latest)", lambda: rpc.w3.eth.get_block("latest"))
    if block.get("baseFeePerGas") is None:
        raise TransactionRefused(
            f"{rpc.label}: the chain has no EIP-1559 base fee; Steward only sends type-2 votes"
        )
    return int(block["baseFeePerGas"]), rewards


def suggest_fees(rpc: ChainRpc, *, min_tip: int, cap: int) -> Fees:
    """Fees for the next block, or `FeeCapExceeded` if base fee + tip is above `cap`."""
    base, rewards = next_base_fee(rpc)
    tip = max(min_tip, int(statistics.median(rewards)) if rewards else 0)
    needed = base + tip
    if needed > cap:
        raise FeeCapExceeded(
            f"{rpc.label}: the network needs {gwei(needed)} gwei per gas "
            f"(base fee {gwei(base)} + tip {gwei(tip)}), above the cap of {gwei(cap)} gwei; "
            "nothing was sent",
            needed_gwei=needed / GWEI,
            cap_gwei=cap / GWEI,
        )
    return Fees(max_fee=min(2 * base + tip, cap), priority_fee=tip)


# ------------------------------------------------------------------ signing
class TxSigner(Protocol):
    """Signs transactions for one address (eth-account's ``LocalAccount``, a hardware or
    remote signer). Steward never sees the key."""

    @property
    def address(self) -> str: ...

    def sign_transaction(self, transaction_dict: Any) -> SignedTransaction: ...


def sign_checked(signer: TxSigner, tx: dict[str, Any], address: str) -> SignedTransaction:
    """``tx`` signed by ``signer``, refused unless it recovers to ``address``."""
    try:
        signed = signer.sign_transaction(tx)
        raw = bytes(signed.raw_transaction)
        recovered = Account.recover_transaction(raw)
    except Exception as exc:  # noqa: BLE001 - a signer's message could carry key material
        raise SigningFailed(
            f"the signer for {address} failed to sign the vote ({type(exc).__name__}); "
            "nothing was sent"
        ) from None
    if recovered != address or keccak(raw) != bytes(signed.hash):
        raise SigningFailed(
            f"the vote transaction signed for {address} recovers to {recovered}; not sending it"
        )
    return signed


# ------------------------------------------------------------------ sending
@dataclass(frozen=True)
class Broadcast:
    """What became of one ``eth_sendRawTransaction``."""

    kind: Literal["sent", "nonce_used", "refused", "unknown"]
    detail: str = ""


def broadcast(rpc: ChainRpc, signed: SignedTransaction) -> Broadcast:
    """Send ``signed``; a failure is classified, never raised (see the module docstring)."""
    raw = bytes(signed.raw_transaction)
    try:
        rpc.call("eth_sendRawTransaction", lambda: rpc.w3.eth.send_raw_transaction(raw))
        return Broadcast("sent")
    except SourceUnavailable as exc:
        return Broadcast("unknown", str(exc))
    except SourceError as exc:
        detail = str(exc)
    if _KNOWN.search(detail):
        return Broadcast("sent", detail)
    try:  # a retried send whose first attempt got through is refused as a duplicate
        if _node_has(rpc, signed):
            return Broadcast("sent", detail)
    except SourceError as exc:
        return Broadcast("unknown", f"{detail}; then {exc}")
    if _NONCE_USED.search(detail):
        return Broadcast("nonce_used", detail)
    return Broadcast("refused", detail)


def _node_has(rpc: ChainRpc, signed: SignedTransaction) -> bool:
    def lookup() -> bool:
        try:
            rpc.w3.eth.get_transaction(signed.hash)
        except TransactionNotFound:
            return False
        return True

    return rpc.call("eth_getTransactionByHash", lookup)


# ------------------------------------------------------------------ reverts
def revert_safe(fn: Callable[[], T]) -> Callable[[], T]:
    """``fn`` with eth-tester's ``TransactionFailed`` raised as ``ContractLogicError`` carrying
    the whole revert data (ChainRpc would keep only a first line)."""

    def run() -> T:
        try:
            return fn()
        except ContractLogicError:
            raise
        except Exception as exc:
            if type(exc).__name__ != "TransactionFailed":  # eth-tester's, not imported here
                raise
            text = str(exc.args[0]) if exc.args else ""
            data = _bytes_literal(text.removeprefix("execution reverted: ").strip())
            raise ContractLogicError(
                text[:300], data="0x" + data.hex() if data is not None else None
            ) from None

    return run


def _bytes_literal(text: str) -> bytes | None:
    if not text.startswith(("b'", 'b"')):
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, bytes) else None


def describe_revert(exc: ContractLogicError) -> str:
    """``Name(args)`` for the governor's custom errors, the reason of ``Error(string)``."""
    data = exc.data if isinstance(exc.data, str) and exc.data.startswith("0x") else None
    if data and len(data) >= 10:
        return _decode_revert(bytes.fromhex(data[2:]))
    text = str(exc.message or exc) if hasattr(exc, "message") else str(exc)
    return text.removeprefix("execution reverted: ").removeprefix("execution reverted")[:300]


def _decode_revert(data: bytes) -> str:
    selector, body = data[:4], data[4:]
    try:
        if selector == _ERROR_STRING:
            return str(decode(["string"], body)[0])
        if selector == _PANIC:
            return f"Panic({decode(['uint256'], body)[0]:#x})"
        if selector in _custom_errors():
            name, types = _custom_errors()[selector]
            return f"{name}({', '.join(_show(v) for v in decode(types, body))})"
    except Exception:  # noqa: BLE001 - undecodable revert data still gets a message
        log.debug("undecodable revert data %s", data.hex())
    return "0x" + data.hex()


@cache
def _custom_errors() -> dict[bytes, tuple[str, list[str]]]:
    errors: dict[bytes, tuple[str, list[str]]] = {}
    for entry in load_abi("governor_vote"):
        if entry["type"] == "error":
            types = [str(p["type"]) for p in entry["inputs"]]
            selector = function_signature_to_4byte_selector(f"{entry['name']}({','.join(types)})")
            errors[selector] = (str(entry["name"]), types)
    return errors


def _show(value: Any) -> str:
    return "0x" + value.hex() if isinstance(value, bytes) else str(value)


def hex_str(value: Any) -> str:
    """``0x``-prefixed hex for what web3 returns as bytes, HexBytes or text."""
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    text = str(value)
    return text if text.startswith("0x") else "0x" + text
