"""Chroma server mode: `chroma run` on 127.0.0.1 and the HttpClient path."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agent.search import search
from tests.fakes.snapshot_hub import FakeHub
from tests.pipeline import Pipeline

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    exe = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert exe, "the chroma CLI comes with chromadb"
    port = _free_port()
    proc = subprocess.Popen(
        [
            exe,
            "run",
            "--path",
            str(tmp_path / "server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("chroma server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_ingest_and_search_against_a_chroma_server(
    chroma_server: str, tmp_path: Path, embedder
) -> None:
    with FakeHub() as hub:
        hub.add_space("ens.eth")
        hub.add_proposal(
            "ens.eth",
            title="Fund the ENS public goods working group",
            body="Grants for open source and documentation.",
        )
        hub.add_proposal(
            "ens.eth",
            title="Rotate the root multisig signers",
            body="Replace two keyholders of the root key.",
        )
        pipe = Pipeline(hub.url, tmp_path, embedder, chroma_url=chroma_server)
        counts, index = pipe.run(["ens.eth"])
        assert counts.new == 2 and index.embedded_proposals == 2
        assert not (tmp_path / "chroma").exists()  # nothing embedded locally
        hits = search("who holds the keys", pipe.index, embedder, limit=1)
        assert hits[0].title == "Rotate the root multisig signers"
        # A second process (a fresh client) sees the same data on the server.
        again = Pipeline(hub.url, tmp_path / "other", embedder, chroma_url=chroma_server)
        assert again.index.count() == pipe.index.count()
