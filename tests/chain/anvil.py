"""Run anvil (Foundry's dev node, from npm ``@foundry-rs/anvil``) on 127.0.0.1 for tests,
the demo and benchmarks, plus the anvil-only RPC methods they use (reorgs above all).

    with start_anvil() as node:
        w3 = node.web3()
        reorg(w3, depth=1)   # the head block is replaced by an empty one
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from web3 import Web3

from .evm import advance_to, mine, revert, rpc, snapshot

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
NODE_MODULES = CONTRACTS / "node_modules"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0

__all__ = [
    "AnvilNode",
    "AnvilNotInstalled",
    "advance_to",
    "anvil_binary",
    "mine",
    "reorg",
    "revert",
    "set_automine",
    "set_next_timestamp",
    "snapshot",
    "start_anvil",
]


class AnvilNotInstalled(RuntimeError):
    pass


class AnvilExited(RuntimeError):
    """anvil stopped while starting (bad arguments, or its port was taken)."""


def anvil_binary() -> Path:
    """The native binary inside the npm package, else the package's Node launcher.

    The native one starts in ≈ 0.1 s and receives our signals directly; the launcher
    (node_modules/.bin/anvil) needs Node and forwards them.
    """
    for native in sorted(NODE_MODULES.glob("@foundry-rs/anvil-*/bin/anvil")):
        if os.access(native, os.X_OK):
            return native
    launcher = NODE_MODULES / ".bin" / "anvil"
    if launcher.exists() and shutil.which("node"):
        return launcher
    raise AnvilNotInstalled(
        f"anvil is not installed under {NODE_MODULES}: run `npm ci --prefix contracts` "
        "(it installs @foundry-rs/anvil from contracts/package-lock.json)"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class AnvilNode:
    """A running anvil; ``url`` is its HTTP JSON-RPC endpoint."""

    process: subprocess.Popen[bytes]
    url: str
    port: int
    chain_id: int
    log_path: Path | None = None

    def web3(self) -> Web3:
        """A new Web3 on this node (HTTP provider)."""
        return Web3(Web3.HTTPProvider(self.url, request_kwargs={"timeout": 30}))

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if anvil has not exited within STOP_TIMEOUT."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)


def _answers(url: str) -> int | None:
    """The node's chain id, or None while it is not answering yet."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    try:
        reply = httpx.post(url, json=body, timeout=1.0)
        return int(reply.json()["result"], 16)
    except (httpx.HTTPError, ValueError, KeyError):
        return None


def _wait_ready(process: subprocess.Popen[bytes], url: str, log_path: Path | None) -> int:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = log_path.read_text(errors="replace")[-2000:] if log_path else ""
            raise AnvilExited(f"anvil exited with {process.returncode} on start:\n{log}")
        chain_id = _answers(url)
        if chain_id is not None:
            return chain_id
        time.sleep(0.03)
    raise TimeoutError(f"anvil did not answer eth_chainId at {url} in {START_TIMEOUT} s")


def _spawn(args: list[str], out: Any) -> subprocess.Popen[bytes]:
    """In its own session: a Ctrl-C meant for us does not kill anvil behind our back."""
    return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def launch_anvil(
    *,
    port: int | None = None,
    block_time: float | None = None,
    chain_id: int = 31337,
    accounts: int = 10,
    extra_args: Sequence[str] = (),
    log_path: Path | None = None,
) -> AnvilNode:
    """Start anvil and wait until it answers; the caller must ``stop()`` it.

    With no ``port``, a free one is picked; if another process takes it first (anvil then
    exits at once), a new one is tried, up to three times.
    """
    options = ["--chain-id", str(chain_id), "--accounts", str(accounts)]
    if block_time is not None:
        options += ["--block-time", f"{block_time:g}"]
    options += list(extra_args)
    for attempt in range(1 if port else 3):
        chosen = port or free_port()
        args = [str(anvil_binary()), "--host", "127.0.0.1", "--port", str(chosen), *options]
        if log_path:
            with log_path.open("wb") as out:
                process = _spawn(args, out)
        else:
            process = _spawn(args, subprocess.DEVNULL)
        url = f"http://127.0.0.1:{chosen}"
        node = AnvilNode(process, url, chosen, chain_id, log_path)
        try:
            node.chain_id = _wait_ready(process, url, log_path)
            return node
        except AnvilExited:
            if port or attempt == 2:
                raise
        except BaseException:
            node.stop()
            raise
    raise AssertionError("unreachable")


@contextmanager
def start_anvil(
    *,
    port: int | None = None,
    block_time: float | None = None,
    chain_id: int = 31337,
    accounts: int = 10,
    extra_args: Sequence[str] = (),
    log_path: Path | None = None,
) -> Iterator[AnvilNode]:
    """A fresh anvil on 127.0.0.1 for the ``with`` block; stopped on exit (TERM, then KILL)."""
    node = launch_anvil(
        port=port,
        block_time=block_time,
        chain_id=chain_id,
        accounts=accounts,
        extra_args=extra_args,
        log_path=log_path,
    )
    try:
        yield node
    finally:
        node.stop()


def reorg(w3: Web3, depth: int, txs: Sequence[tuple[dict[str, Any], int]] = ()) -> None:
    """Replace the last ``depth`` blocks with new ones (``anvil_reorg``); the height stays.

    anvil's params are ``[depth, [[tx, offset], …]]`` (foundry's ``ReorgOptions``).

    ``txs`` are (transaction request, block offset) pairs to include in the new blocks,
    offset 0 being the first replaced block: e.g. ``[({"from": a, "to": b, "value": 1}, 0)]``.
    Transactions of the removed blocks are dropped, not replayed.
    """
    pairs = [[_hex_fields(tx), offset] for tx, offset in txs]
    rpc(w3, "anvil_reorg", [depth, pairs])


def _hex_fields(tx: dict[str, Any]) -> dict[str, Any]:
    return {k: hex(v) if isinstance(v, int) else v for k, v in tx.items()}


def set_next_timestamp(w3: Web3, timestamp: int) -> None:
    """The next mined block gets ``timestamp`` (``evm_setNextBlockTimestamp``)."""
    rpc(w3, "evm_setNextBlockTimestamp", [timestamp])


def set_automine(w3: Web3, enabled: bool) -> None:
    """Turn automine on/off (``evm_setAutomine``); off, transactions wait for ``mine``."""
    rpc(w3, "evm_setAutomine", [enabled])
