"""`steward run --http 127.0.0.1:0` as an operator runs it: a real process over the local
Snapshot hub, scraped while it runs, stopped with SIGTERM. The index and the analyst are
off (embedding costs seconds and is measured elsewhere)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import PROJECT
from tests.fakes.serve_hub import seed
from tests.fakes.snapshot_hub import FakeHub

STEWARD = str(Path(sys.executable).with_name("steward"))
API_KEY = "sk-hub-run-8d2e61f0c9"
SERVING = re.compile(r"serving /healthz and /metrics on (http://127\.0\.0\.1:\d+)")


class Log:
    """Drains the process's stderr and signals when the server says where it listens."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self.url: str | None = None
        self.serving = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            self.lines.append(line)
            if (found := SERVING.search(line)) and not self.serving.is_set():
                self.url = found.group(1)
                self.serving.set()
        self.serving.set()  # the process ended: stop waiting either way

    def text(self) -> str:
        self._thread.join(30)
        return "".join(self.lines)


def _first_pass_done(home: Path) -> bool:
    try:
        beat = json.loads((home / "run.json").read_text())
    except (OSError, ValueError):
        return False
    return beat.get("last_tick") is not None


def _samples(page: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(page)
        for s in family.samples
    }


def test_run_serves_health_and_metrics_and_stops_with_the_runner(
    tmp_path: Path, steward_home: Path
) -> None:
    with FakeHub(api_key=API_KEY) as hub:
        assert seed(hub, votes=3) == 45
        cfg = tmp_path / "config.yaml"
        cfg.write_text(
            f"snapshot:\n  hub_url: {hub.url}\n  spaces: [yearn]\n  max_retries: 0\n"
            "  requests_per_minute: 100000\n"
            "run:\n  index: false\n  analyse: false\n"
        )
        env = {**os.environ, "STEWARD__SNAPSHOT__API_KEY": API_KEY}
        proc = subprocess.Popen(
            [STEWARD, "--config", str(cfg), "run", "--http", "127.0.0.1:0"],
            cwd=PROJECT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        log = Log(proc)
        try:
            assert log.serving.wait(60) and log.url, log.text()
            deadline = time.monotonic() + 60
            while not _first_pass_done(steward_home):
                assert proc.poll() is None, log.text()
                assert time.monotonic() < deadline, "no first pass from steward run"
                time.sleep(0.1)
            health = httpx.get(f"{log.url}/healthz", timeout=30)
            page = httpx.get(f"{log.url}/metrics", timeout=30)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0, log.text()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        hub_requests = len(hub.requests)

    assert (health.status_code, health.text) == (200, "ready\n")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/plain; version=0.0.4")
    got: dict[Any, float] = _samples(page.text)
    assert got[("steward_jobs_total", (("job", "ingest"), ("outcome", "ok")))] == 1
    assert got[("steward_jobs_total", (("job", "vote"), ("outcome", "ok")))] == 1
    assert got[("steward_requests_total", (("target", "snapshot_hub"),))] == hub_requests
    assert got[("steward_request_retries_total", (("target", "snapshot_hub"),))] == 0
    assert ("steward_ingest_lag_seconds", (("scope", "yearn"), ("source", "snapshot"))) in got
    everything = page.text + health.text + log.text()
    assert API_KEY not in everything
    assert "steward run stopped" in log.text()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{log.url}/healthz", timeout=5)
