"""A throw-away anvil forking a chain (`anvil --fork-url`) on 127.0.0.1, always stopped.

The fork URL often carries an API key: it is passed to anvil and nowhere else. anvil's own
output (which prints the endpoint) goes to a pipe that is only read, redacted, when anvil
dies on start.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from agent.errors import SimulationFailed

NODE_MODULES = Path(__file__).resolve().parents[2] / "contracts" / "node_modules"
STOP_TIMEOUT = 5.0
_NO_ARCHIVE = (
    "missing trie node",
    "historical state",
    "state is not available",
    "not available",
    "pruned",
    "header not found",
    "archive",
)


def anvil_binary(configured: str | None = None) -> Path:
    """`configured` (and only it, when given), else `anvil` on PATH, else the npm package."""
    if configured:
        if os.access(configured, os.X_OK) and Path(configured).is_file():
            return Path(configured)
        raise SimulationFailed(f"anvil is not installed at {configured} (chains[].simulate_anvil)")
    candidates: list[str | None] = [shutil.which("anvil")]
    candidates += [str(p) for p in sorted(NODE_MODULES.glob("@foundry-rs/anvil-*/bin/anvil"))]
    for found in candidates:
        if found and os.access(found, os.X_OK):
            return Path(found)
    raise SimulationFailed(
        "anvil is not installed: set chains[].simulate_anvil or run `npm ci --prefix contracts`"
    )


@dataclass
class ForkNode:
    process: subprocess.Popen[bytes]
    url: str
    """The fork's own local endpoint (never the upstream one)."""

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL; the whole process group, so nothing is left behind."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=STOP_TIMEOUT)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT)


def _die_with_parent() -> None:
    """Linux: anvil gets SIGTERM when this process dies, even by a signal that skips our
    `finally` (a SIGKILL, an unhandled SIGTERM): no orphaned fork keeps running."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ready(url: str) -> bool:
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}
    try:
        return "result" in httpx.post(url, json=body, timeout=2.0).json()
    except (httpx.HTTPError, ValueError):
        return False


def redact(text: str, secret: str) -> str:
    return text.replace(secret, "<rpc>") if secret else text


def _start_failure(log: str, upstream: str) -> SimulationFailed:
    tail = redact(log, upstream)[-400:].strip()
    if any(marker in tail.lower() for marker in _NO_ARCHIVE):
        return SimulationFailed(
            "the chain's RPC has no archive state for that block (anvil could not read it)"
        )
    return SimulationFailed(f"anvil exited while forking the chain: {tail or 'no output'}")


@contextmanager
def fork(
    upstream: str, *, block: int | None, start_timeout: float = 30.0, binary: str | None = None
) -> Iterator[ForkNode]:
    """A fork of `upstream` at `block` (latest when None) for the `with` block."""
    exe = anvil_binary(binary)
    port = _free_port()
    args = [str(exe), "--host", "127.0.0.1", "--port", str(port), "--fork-url", upstream]
    args += ["--fork-block-number", str(block)] if block is not None else []
    args += ["--no-rate-limit", "--accounts", "1", "--silent"]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            args,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        node = ForkNode(process, f"http://127.0.0.1:{port}")
        try:
            _wait(node, log, upstream, start_timeout)
            yield node
        finally:
            node.stop()


def _wait(node: ForkNode, log: object, upstream: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not node.alive():
            raise _start_failure(_read(log), upstream)
        if _ready(node.url):
            return
        time.sleep(0.05)
    raise SimulationFailed(f"anvil did not answer within {timeout:g} s of forking the chain")


def _read(log: object) -> str:
    handle = log  # a TemporaryFile
    handle.seek(0)  # type: ignore[attr-defined]
    return bytes(handle.read()).decode(errors="replace")  # type: ignore[attr-defined]
