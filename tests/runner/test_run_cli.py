"""`steward run` as an operator runs it: a real process against the local Snapshot hub.

One instance per data directory, a heartbeat, and a clean stop on SIGTERM. The
index and the analyst are off: embedding would cost seconds and is covered elsewhere.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agent.cli.main import app
from tests.conftest import PROJECT
from tests.fakes.serve_hub import seed
from tests.fakes.snapshot_hub import FakeHub

STEWARD = [str(Path(sys.executable).with_name("steward"))]


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    with FakeHub() as hub:
        count = seed(hub, votes=3)
        cfg = tmp_path / "config.yaml"
        cfg.write_text(
            f"snapshot:\n  hub_url: {hub.url}\n  spaces: [yearn]\n  max_retries: 0\n"
            "  requests_per_minute: 100000\n"
            "run:\n  index: false\n  analyse: false\n"
        )
        assert count == 45
        yield cfg


def _steward(config: Path, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*STEWARD, "--config", str(config), *args],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        timeout=60,
        **kw,
    )


def _beat(home: Path) -> dict[str, Any] | None:
    try:
        return json.loads((home / "run.json").read_text())
    except (OSError, ValueError):
        return None


def _status(config: Path) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["--config", str(config), "status", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["service"]


def test_once_ingests_and_leaves_a_stopped_heartbeat(config: Path, steward_home: Path) -> None:
    done = _steward(config, "run", "--once")
    assert done.returncode == 0, done.stderr
    beat = _beat(steward_home)
    assert beat is not None and beat["state"] == "stopped"
    assert beat["jobs"]["ingest"]["status"] == "ok"
    assert beat["jobs"]["ingest"]["counts"]["new"] == 45
    assert beat["jobs"]["vote"]["status"] == "ok" and "analyse" not in beat["jobs"]
    assert _status(config)["run"]["state"] == "stopped"


def test_one_instance_per_home_and_sigterm_stops_cleanly(config: Path, steward_home: Path) -> None:
    first = subprocess.Popen(
        [*STEWARD, "--config", str(config), "run"],
        cwd=PROJECT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not ((b := _beat(steward_home)) and b["jobs"]["vote"]["runs"]):
            assert first.poll() is None, first.stderr.read() if first.stderr else ""
            assert time.monotonic() < deadline, "no heartbeat from steward run"
            time.sleep(0.1)
        health = _status(config)
        assert health["run"]["state"] == "running"
        assert health["run"]["heartbeat"]["pid"] == first.pid

        second = _steward(config, "run", "--once")
        assert second.returncode == 1
        refusal = " ".join(second.stderr.split())
        assert f"already running (pid {first.pid})" in refusal

        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=20) == 0
    finally:
        if first.poll() is None:
            os.kill(first.pid, signal.SIGKILL)
            first.wait()
    beat = _beat(steward_home)
    assert beat is not None and beat["state"] == "stopped" and beat["pid"] == first.pid
    assert first.stderr is not None and "SIGTERM: stopping after the current job" in (
        first.stderr.read()
    )
    assert _status(config)["run"]["state"] == "stopped"
