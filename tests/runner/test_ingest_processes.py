"""`steward ingest` as real processes against the local hub: one per data directory, and a
killed one shown as interrupted.

The first process is held inside the hub's answer (an event, not a sleep) while the test
starts others, asks for the status or kills it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from agent.cli.main import app
from agent.store import RecordStore
from tests.conftest import PROJECT
from tests.fakes.serve_hub import seed
from tests.fakes.snapshot_hub import FakeHub

STEWARD = str(Path(sys.executable).with_name("steward"))


def _steward(config: Path, *args: str) -> list[str]:
    return [STEWARD, "--config", str(config), *args]


def test_second_ingest_is_refused_and_run_waits_its_turn(
    tmp_path: Path, steward_home: Path
) -> None:
    entered, release = threading.Event(), threading.Event()
    with FakeHub() as hub:
        count = seed(hub, votes=3)
        execute, held = hub.execute, []

        def hold_first_proposals_page(query: str, *args: Any, **kwargs: Any) -> Any:
            if "Proposals(" in query and not held:
                held.append(query)
                entered.set()
                release.wait(timeout=120)
            return execute(query, *args, **kwargs)

        hub.execute = hold_first_proposals_page  # type: ignore[method-assign]
        config = tmp_path / "config.yaml"
        config.write_text(
            f"snapshot:\n  hub_url: {hub.url}\n  spaces: [yearn]\n  max_retries: 0\n"
            "  requests_per_minute: 100000\n  timeout_s: 120\n"
            "run:\n  index: false\n  analyse: false\n"
        )
        first = subprocess.Popen(
            _steward(config, "ingest", "--no-index"),
            cwd=PROJECT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert entered.wait(timeout=60), "the first ingest never reached the hub"
            second = subprocess.run(
                _steward(config, "ingest", "--no-index"),
                cwd=PROJECT,
                capture_output=True,
                text=True,
                timeout=60,
            )
            refusal = " ".join(second.stderr.split())
            assert second.returncode == 1, second.stderr
            assert f"another ingest (process {first.pid}) is writing to" in refusal
            assert "Traceback" not in second.stderr
            # `steward run`'s ingest job steps aside too, and says why.
            subprocess.run(
                _steward(config, "run", "--once"), cwd=PROJECT, capture_output=True, timeout=60
            )
            beat = json.loads((steward_home / "run.json").read_text())
            assert "another ingest" in (beat["jobs"]["ingest"]["last_error"] or "")
        finally:
            release.set()
            assert first.wait(timeout=60) == 0, first.stderr.read() if first.stderr else ""
    store = RecordStore(f"sqlite:///{steward_home / 'steward.db'}")
    assert len(store.proposals(source="snapshot")) == count
    assert [r.status for r in store.last_runs(5)] == ["ok"]


def test_a_killed_ingest_is_shown_as_interrupted(tmp_path: Path, steward_home: Path) -> None:
    """After 20 killed ingests `steward status` listed 20 runs as running."""
    entered, release = threading.Event(), threading.Event()
    with FakeHub() as hub:
        seed(hub, votes=3)
        execute = hub.execute

        def hold_proposals(query: str, *args: Any, **kwargs: Any) -> Any:
            if "Proposals(" in query:
                entered.set()
                release.wait(timeout=120)
            return execute(query, *args, **kwargs)

        hub.execute = hold_proposals  # type: ignore[method-assign]
        config = tmp_path / "config.yaml"
        config.write_text(
            f"snapshot:\n  hub_url: {hub.url}\n  spaces: [yearn]\n  max_retries: 0\n"
            "  requests_per_minute: 100000\n  timeout_s: 120\n"
        )
        ingest = subprocess.Popen(
            _steward(config, "ingest", "--no-index"),
            cwd=PROJECT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert entered.wait(timeout=60), "the ingest never reached the hub"
            assert _runs(config)[0]["status"] == "running"  # alive: still running
            os.kill(ingest.pid, signal.SIGKILL)
            ingest.wait(timeout=30)
        finally:
            release.set()
            if ingest.poll() is None:
                ingest.kill()
                ingest.wait()
    run = _runs(config)[0]
    assert run["status"] == "interrupted" and run["pid"] == ingest.pid
    assert run["last_seen"] is not None and run["finished_at"] is None
    shown = CliRunner().invoke(app, ["--config", str(config), "status"])
    assert "interrupted" in shown.stdout and "last seen" in " ".join(shown.stdout.split())


def _runs(config: Path) -> list[dict[str, Any]]:
    result = CliRunner().invoke(app, ["--config", str(config), "status", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["runs"]
