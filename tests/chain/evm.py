"""What differs between eth-tester (in-process py-evm) and anvil (over HTTP), in one place.

Everything else in the harness calls these and runs unchanged on either backend:

- ``transact`` always passes an explicit ``gas`` (estimation costs eth-tester 2-4x a
  transaction) and waits for the receipt; a failed transaction raises ``Reverted`` on both
  backends, with a decoded reason.
- ``read`` makes calls from a funded account (eth-tester fails calls from unfunded ones).
- ``mine``, ``advance_to``, ``snapshot`` and ``revert`` use each backend's own RPC methods.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractLogicError
from web3.types import RPCEndpoint, TxParams, TxReceipt, Wei

from .contracts import describe_revert, factory

DEPLOY_GAS = 6_000_000
"""Enough for the largest artifact here (StewardGovernor, ≈ 4.3 M)."""
CALL_GAS = 1_000_000
"""Enough for any single governance call the harness makes, bar long descriptions."""
RECEIPT_TIMEOUT = 30.0


class Reverted(Exception):
    """A transaction or call reverted; ``reason`` is decoded the same way on every backend."""

    def __init__(self, reason: str, data: bytes | None = None) -> None:
        super().__init__(f"execution reverted: {reason}")
        self.reason = reason
        self.data = data


def is_eth_tester(w3: Web3) -> bool:
    return isinstance(w3.provider, EthereumTesterProvider)


def _data_from(exc: Exception) -> bytes | None:
    """Revert data from TransactionFailed ("execution reverted: b'…'") or ContractLogicError."""
    if isinstance(exc, ContractLogicError):
        raw = exc.data if isinstance(exc.data, str) else None
        return bytes(HexBytes(raw)) if raw and raw.startswith("0x") else None
    text = str(exc.args[0]) if exc.args else ""
    tail = text.removeprefix("execution reverted: ").strip()
    if tail.startswith(("b'", 'b"')):
        value = ast.literal_eval(tail)
        return value if isinstance(value, bytes) else None
    return None


def _reason_from(exc: Exception, data: bytes | None) -> str:
    if data:
        return describe_revert(data)
    text = exc.message if isinstance(exc, ContractLogicError) and exc.message else str(exc)
    return text.removeprefix("execution reverted: ").removeprefix("execution reverted")


def _revert_errors() -> tuple[type[Exception], ...]:
    """ContractLogicError, plus eth-tester's TransactionFailed once eth-tester is in use
    (importing it costs 0.7 s, which anvil-only runs such as the demo chain skip)."""
    tester = sys.modules.get("eth_tester.exceptions")
    return (ContractLogicError, tester.TransactionFailed) if tester else (ContractLogicError,)


@contextmanager
def normalised_reverts() -> Iterator[None]:
    """Re-raise either backend's revert exception as ``Reverted``."""
    try:
        yield
    except _revert_errors() as exc:
        data = _data_from(exc)
        raise Reverted(_reason_from(exc, data) or "(no reason)", data) from exc


def read(fn: ContractFunction, sender: ChecksumAddress) -> Any:
    """``fn.call`` from a funded account, with reverts normalised."""
    with normalised_reverts():
        return fn.call({"from": sender})


def _send(w3: Web3, tx: TxParams) -> TxReceipt:
    with normalised_reverts():
        tx_hash = w3.eth.send_transaction(tx)
    return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT, poll_latency=0.02)


def transact(
    fn: ContractFunction, *, sender: ChecksumAddress, gas: int = CALL_GAS, value: int = 0
) -> TxReceipt:
    """Send ``fn`` from ``sender`` with explicit gas, wait for it, raise ``Reverted`` on failure.

    With explicit gas neither backend rejects a failing transaction up front: both mine it
    with status 0. The reason then comes from replaying it as a call on the latest state.
    Needs a chain that mines on its own (eth-tester, anvil's default automine).
    """
    tx = fn.build_transaction({"from": sender, "gas": gas, "value": Wei(value)})
    receipt = _send(fn.w3, tx)
    if receipt["status"] != 1:
        read(fn, sender)  # raises Reverted with the reason when the revert reproduces
        raise Reverted(f"transaction {receipt['transactionHash'].hex()} failed (status 0)")
    return receipt


def send_eth(
    w3: Web3, *, sender: ChecksumAddress, to: ChecksumAddress, value: int, gas: int = 60_000
) -> TxReceipt:
    receipt = _send(w3, {"from": sender, "to": to, "value": Wei(value), "gas": gas})
    if receipt["status"] != 1:
        raise Reverted(f"sending {value} wei to {to} failed")
    return receipt


def deploy(
    w3: Web3, name: str, *args: Any, sender: ChecksumAddress, gas: int = DEPLOY_GAS
) -> tuple[Contract, TxReceipt]:
    """Deploy the artifact ``name``; returns the contract and its creation receipt."""
    cls = factory(w3, name)
    tx = cls.constructor(*args).build_transaction({"from": sender, "gas": gas})
    receipt = _send(w3, tx)
    if receipt["status"] != 1 or not receipt["contractAddress"]:
        raise Reverted(f"deploying {name} failed")
    return w3.eth.contract(address=receipt["contractAddress"], abi=cls.abi), receipt


def rpc(w3: Web3, method: str, params: list[Any]) -> Any:
    """A raw JSON-RPC call (test and anvil methods web3 has no wrapper for)."""
    return w3.manager.request_blocking(RPCEndpoint(method), params)


ANVIL_BLOCK_SECONDS = 12
"""Timestamp step of blocks mined on anvil (mainnet's); eth-tester always steps 1 s."""


def mine(w3: Web3, blocks: int = 1) -> None:
    """Mine ``blocks`` empty blocks (eth-tester: ``evm_mine n``; anvil: ``anvil_mine``).

    anvil without an interval gives all the blocks one timestamp, hence the explicit step.
    Its cost per block grows with the chain (≈ 1.5 ms at 1,000 blocks, 3 ms at 3,000).
    """
    if blocks <= 0:
        return
    if is_eth_tester(w3):
        rpc(w3, "evm_mine", [blocks])
    else:
        rpc(w3, "anvil_mine", [hex(blocks), hex(ANVIL_BLOCK_SECONDS)])


def mine_to(w3: Web3, number: int) -> None:
    """Mine until the head is block ``number`` (no-op if already there)."""
    mine(w3, number - w3.eth.block_number)


def latest_timestamp(w3: Web3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


def advance_to(w3: Web3, timestamp: int) -> None:
    """Mine one block whose timestamp is at least ``timestamp``.

    eth-tester's time travel mines that block itself; anvil needs the next timestamp set and
    a block mined. Later blocks follow from there (eth-tester +1 s a block).
    """
    target = max(timestamp, latest_timestamp(w3) + 1)
    if is_eth_tester(w3):
        rpc(w3, "testing_timeTravel", [target])
    else:
        rpc(w3, "evm_setNextBlockTimestamp", [target])
        rpc(w3, "evm_mine", [])


def advance_time(w3: Web3, seconds: int) -> None:
    advance_to(w3, latest_timestamp(w3) + seconds)


def snapshot(w3: Web3) -> Any:
    """An id to ``revert`` to. On anvil an id is used up by its revert: take a new one."""
    return rpc(w3, "evm_snapshot", [])


def revert(w3: Web3, snapshot_id: Any) -> None:
    result = rpc(w3, "evm_revert", [snapshot_id])
    if result is False:
        raise RuntimeError(f"evm_revert to {snapshot_id!r} failed (unknown or used snapshot)")
