"""Many transactions on anvil, fast: JSON-RPC batches with automine off, then mined in full
blocks. For the benchmark's thousands of proposals and votes, where one round trip and one
block per transaction (the harness's normal path) would dominate the run.

Senders must be unlocked (anvil's dev accounts); nonces are assigned here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from eth_abi import encode
from eth_typing import ChecksumAddress
from eth_utils import function_signature_to_4byte_selector, keccak
from web3.contract import Contract

from .actions import Action

BATCH = 400
BATCH_BYTES = 800_000
"""anvil refuses request bodies over 2 MB, and calldata doubles in hex."""
MINE_TIMEOUT = 120.0


@dataclass(frozen=True)
class Tx:
    sender: ChecksumAddress
    to: str
    data: bytes
    gas: int
    value: int = 0


def _encoder(contract: Contract, name: str) -> tuple[bytes, list[str]]:
    """(selector, argument types) of ``name``; the only overload of it in the ABI."""
    key = (id(contract.abi), name)
    if key not in _ENCODERS:
        entries = [e for e in contract.abi if e["type"] == "function" and e["name"] == name]
        if len(entries) != 1:
            raise KeyError(f"{name}: {len(entries)} functions of that name in the ABI")
        types = [str(p["type"]) for p in entries[0]["inputs"]]
        _ENCODERS[key] = (function_signature_to_4byte_selector(f"{name}({','.join(types)})"), types)
    return _ENCODERS[key]


_ENCODERS: dict[tuple[int, str], tuple[bytes, list[str]]] = {}


def call_tx(
    contract: Contract, name: str, args: Sequence[Any], *, sender: ChecksumAddress, gas: int
) -> Tx:
    """A call of ``contract.name(*args)``, encoded with eth_abi directly: web3's
    ``encode_abi`` re-validates the whole ABI on every call (≈ 3 ms each)."""
    selector, types = _encoder(contract, name)
    data = selector + encode(types, list(args))
    return Tx(sender=sender, to=contract.address, data=data, gas=gas)


def oz_proposal_id(actions: Sequence[Action], description: str) -> int:
    """OpenZeppelin's ``hashProposal``, computed locally (ids are needed before mining)."""
    encoded = encode(
        ["address[]", "uint256[]", "bytes[]", "bytes32"],
        [
            [a.target for a in actions],
            [a.value for a in actions],
            [a.calldata for a in actions],
            keccak(text=description),
        ],
    )
    return int.from_bytes(keccak(encoded), "big")


class BulkSender:
    """Send many transactions to anvil in batches and mine them in as few blocks as fit."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._client = httpx.Client(timeout=60.0)
        self._nonces: dict[str, int] = {}
        self._gas_price: int | None = None

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> BulkSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, params: list[Any]) -> Any:
        reply = self._client.post(
            self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        ).json()
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def _batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        body = [
            {"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)
        ]
        answer = self._client.post(self.url, json=body).json()
        if not isinstance(answer, list):
            raise RuntimeError(f"batch of {len(calls)} refused: {str(answer)[:300]}")
        replies = sorted(answer, key=lambda r: r["id"])
        errors = [r["error"] for r in replies if "error" in r]
        if errors:
            raise RuntimeError(f"{len(errors)} of {len(calls)} calls failed, first: {errors[0]}")
        return [r["result"] for r in replies]

    def _nonce(self, sender: str) -> int:
        if sender not in self._nonces:
            self._nonces[sender] = int(
                self._call("eth_getTransactionCount", [sender, "pending"]), 16
            )
        nonce = self._nonces[sender]
        self._nonces[sender] = nonce + 1
        return nonce

    def _params(self, tx: Tx) -> dict[str, str]:
        if self._gas_price is None:
            self._gas_price = int(self._call("eth_gasPrice", []), 16) * 2
        return {
            "from": tx.sender,
            "to": tx.to,
            "data": "0x" + tx.data.hex(),
            "gas": hex(tx.gas),
            "gasPrice": hex(self._gas_price),
            "value": hex(tx.value),
            "nonce": hex(self._nonce(tx.sender)),
        }

    def run(self, txs: Sequence[Tx]) -> list[str]:
        """Send all of ``txs`` a block's worth at a time, mine each, check every receipt.

        Automine is off meanwhile (and back on after). Each block gets only as many
        transactions as their gas limits allow: anvil silently drops some of a pool that
        overflows a block. Order is kept per sender (nonces), not across senders.
        """
        gas_cap = int(self._call("eth_getBlockByNumber", ["latest", False])["gasLimit"], 16)
        self._call("evm_setAutomine", [False])
        try:
            hashes: list[str] = []
            for block in _split(txs, max_gas=gas_cap):
                for batch in _split(block, max_count=BATCH, max_bytes=BATCH_BYTES):
                    calls = [("eth_sendTransaction", [self._params(t)]) for t in batch]
                    hashes += self._batch(calls)
                self._mine_pending()
        finally:
            self._call("evm_setAutomine", [True])
        self._check(hashes)
        return hashes

    def _mine_pending(self) -> None:
        deadline = time.monotonic() + MINE_TIMEOUT
        self._call("evm_mine", [])
        while int(self._call("txpool_status", [])["pending"], 16) > 0:
            if time.monotonic() > deadline:
                raise TimeoutError("transactions still pending after mining")
            self._call("evm_mine", [])

    def _check(self, hashes: list[str]) -> None:
        for start in range(0, len(hashes), BATCH):
            chunk = hashes[start : start + BATCH]
            receipts = self._batch([("eth_getTransactionReceipt", [h]) for h in chunk])
            failed = [h for h, r in zip(chunk, receipts, strict=True) if r["status"] != "0x1"]
            if failed:
                raise RuntimeError(f"{len(failed)} bulk transactions failed, e.g. {failed[0]}")

    def mine(self, blocks: int) -> None:
        self._call("anvil_mine", [hex(blocks)])


def _split(
    txs: Sequence[Tx],
    *,
    max_gas: int | None = None,
    max_count: int | None = None,
    max_bytes: int | None = None,
) -> Iterator[Sequence[Tx]]:
    """Consecutive runs of ``txs`` within the given gas, count and calldata-size limits."""
    start, gas, size = 0, 0, 0
    for i, tx in enumerate(txs):
        over = (
            (max_gas is not None and gas + tx.gas > max_gas)
            or (max_count is not None and i - start >= max_count)
            or (max_bytes is not None and size + len(tx.data) > max_bytes)
        )
        if over and i > start:
            yield txs[start:i]
            start, gas, size = i, 0, 0
        gas += tx.gas
        size += len(tx.data)
    if start < len(txs):
        yield txs[start:]
