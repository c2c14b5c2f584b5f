"""/healthz against real stores: a PostgreSQL cluster and a Chroma server on 127.0.0.1,
stopped under it; and a store that hangs instead of failing."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from agent.app import App
from agent.errors import ConfigError
from agent.metrics import Metrics
from agent.runner.http_server import OpsServer
from agent.runner.readiness import Readiness
from agent.settings import load_settings
from tests.postgres import _as_postgres, postgres_cluster, unavailable

PASSWORD = "hunter2-db-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    exe = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert exe, "the chroma CLI comes with chromadb"
    port = _free_port()
    args = [exe, "run", "--path", str(tmp_path / "chroma"), "--host", "127.0.0.1"]
    proc = subprocess.Popen(
        [*args, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                assert proc.poll() is None, "chroma run exited"
                assert time.monotonic() < deadline, "chroma server did not start"
                time.sleep(0.1)
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture
def postgres() -> Iterator[str]:
    if why := unavailable():
        pytest.skip(why)
    with postgres_cluster() as url:
        yield url


def _stop_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.connect() as conn:
        data = conn.execute(text("SHOW data_directory")).scalar_one()
    engine.dispose()
    subprocess.run(
        _as_postgres(["pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop"]),
        check=True,
        capture_output=True,
    )


@pytest.mark.slow
def test_ready_only_while_both_stores_answer(
    chroma: tuple[str, subprocess.Popen[bytes]], postgres: str, tmp_path: Path
) -> None:
    chroma_url, chroma_proc = chroma
    # trust authentication ignores the password: it is there to be kept out of the answer
    db_url = postgres.replace("steward@", f"steward:{PASSWORD}@")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"database:\n  url: {db_url}\nvector_store:\n  url: {chroma_url}\n")
    app = App(load_settings(cfg))
    readiness = Readiness(app.readiness_checks(), timeout_s=20)
    try:
        with OpsServer("127.0.0.1", 0, readiness, Metrics()) as server:
            ok = httpx.get(f"{server.url}/healthz", timeout=30)
            assert (ok.status_code, ok.text) == (200, "ready\n")

            chroma_proc.terminate()
            chroma_proc.wait(timeout=20)
            down = httpx.get(f"{server.url}/healthz", timeout=30)
            assert down.status_code == 503
            assert "not ready: vector store" in down.text and "record store" not in down.text

            _stop_postgres(postgres)
            both = httpx.get(f"{server.url}/healthz", timeout=30)
            assert both.status_code == 503
            assert "not ready: record store" in both.text and "vector store" in both.text
            assert PASSWORD not in both.text and "postgresql" not in both.text
            metrics = httpx.get(f"{server.url}/metrics", timeout=30)
            assert metrics.status_code == 200 and PASSWORD not in metrics.text
    finally:
        app.close()


def test_a_store_that_hangs_is_reported_down_and_not_asked_again_until_it_answers() -> None:
    gate, calls = threading.Event(), []

    def hangs() -> None:
        calls.append(1)
        gate.wait(60)

    readiness = Readiness({"record store": hangs, "vector store": lambda: None}, timeout_s=0.05)
    first = readiness.check()
    assert first.failing == {"record store": "no answer within 0.05s"}
    second = readiness.check()
    assert second.failing == {"record store": "no answer yet (over 0.05s)"}
    assert len(calls) == 1, "a hanging question is not asked twice"
    gate.set()
    for thread in threading.enumerate():
        if thread.name == "health-record store":
            thread.join(10)
    assert readiness.check().ready and len(calls) == 2


def test_a_failing_check_names_the_part_and_the_kind_only() -> None:
    def broken() -> None:
        raise ConfigError("postgresql://steward:hunter2@db/steward refused")

    report = Readiness({"record store": broken}, timeout_s=5).check()
    assert report.text() == "not ready: record store: ConfigError\n"


def test_the_server_binds_where_told_and_says_so_when_it_cannot() -> None:
    readiness = Readiness({}, timeout_s=1)
    with OpsServer("127.0.0.1", 0, readiness, Metrics()) as server:
        host, port = server.address
        assert host == "127.0.0.1" and port > 0
        assert httpx.get(f"{server.url}/nothing", timeout=10).status_code == 404
        with pytest.raises(ConfigError, match=f"127.0.0.1:{port}"):
            OpsServer("127.0.0.1", port, readiness, Metrics())
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
