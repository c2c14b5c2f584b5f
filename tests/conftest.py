"""Test-wide guards and shared fixtures.

- Every test gets its own STEWARD_HOME; no test sees another's data.
- Any connection to a non-loopback address fails loudly: tests never touch a
  public host.
- The embedding model is loaded once per session (it ships in a pip package).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"

PROJECT = Path(__file__).resolve().parent.parent
ENS_ARCHIVE = PROJECT / "config" / "demo" / "ens-proposals.jsonl"

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: object) -> object:
    host = address[0] if isinstance(address, tuple) else None
    inet = self.family in (socket.AF_INET, socket.AF_INET6)
    local = host in ("127.0.0.1", "::1", "localhost") or str(host).startswith("127.")
    if inet and host is not None and not local:
        raise RuntimeError(f"test tried to reach the network: {address!r}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


@pytest.fixture(autouse=True)
def steward_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "steward-home"
    monkeypatch.setenv("STEWARD_HOME", str(home))
    for key in list(os.environ):
        if key.startswith("STEWARD__") or key == "STEWARD_CONFIG":
            monkeypatch.delenv(key, raising=False)
    return home


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    """The real bundled MiniLM, loaded once."""
    from connectors.embeddings import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture
def fake_hub() -> Iterator[object]:
    from tests.fakes.snapshot_hub import FakeHub

    with FakeHub() as hub:
        yield hub
