"""`steward status`: the run heartbeat judged, and voting health, without starting anything."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from agent.cli.main import app
from agent.records.decision import DecisionData
from agent.runner.health import Heartbeat, HeartbeatFile, JobHealth
from agent.runner.status import run_view
from agent.settings import load_settings
from agent.store import RecordStore
from agent.store.decisions import DecisionLog
from tests.conftest import PROJECT

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = PROJECT / "config" / "policies" / "ens-constitution.md"


def _beat(**kw: object) -> Heartbeat:
    base = {"pid": 4242, "started": NOW - timedelta(hours=3), "updated": NOW, "last_tick": NOW}
    return Heartbeat.model_validate({**base, **kw})


def test_run_states() -> None:
    def view(beat: Heartbeat | None, alive: bool = True) -> tuple[str, str]:
        v = run_view(beat, now=NOW, stale_after_s=600, alive=lambda _pid: alive)
        return v.state, v.detail

    assert view(None)[0] == "never"
    assert view(_beat()) == ("running", "pid 4242, up 3h00m")
    busy = _beat(job="ingest", job_since=NOW - timedelta(minutes=5))
    assert view(busy) == ("running", "pid 4242, up 3h00m; ingest running for 5m")
    state, detail = view(_beat(), alive=False)
    assert state == "stale" and "gone without stopping cleanly" in detail
    state, detail = view(_beat(updated=NOW - timedelta(minutes=20)))
    assert state == "stale" and "silent for 20m" in detail
    stopped = _beat(state="stopped", stopped=NOW - timedelta(seconds=30))
    assert view(stopped, alive=False) == ("stopped", "stopped 30s ago")


def test_status_shows_the_heartbeat_and_voting_health(tmp_path: Path, steward_home: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "voting:\n  delegates:\n"
        f'    - {{id: alice, address: "0x{"a" * 40}", policy: {POLICY}, mode: dry-run, '
        "spaces: [ens.eth]}\n"
    )
    settings = load_settings(cfg)
    now = datetime.now(UTC)
    jobs = {
        "ingest": JobHealth(every_s=600, status="ok", runs=2, last_run=now, counts={"new": 4}),
        "vote": JobHealth(
            every_s=300, status="error", runs=1, failures=1, last_error="hub down", last_run=now
        ),
    }
    HeartbeatFile(steward_home).write(
        Heartbeat(pid=os.getpid(), started=now, updated=now, last_tick=now, jobs=jobs)
    )
    store = RecordStore(settings.database_url)
    DecisionLog(store.engine).record(
        delegate="alice",
        proposal_uid="snapshot:0x1",
        content_hash="h",
        mode="approval",
        status="awaiting_approval",
        choice_label="For",
        choice=1,
        confidence=0.9,
        cast_after_ts=None,
        data=DecisionData(),
    )
    store.close()
    settings.pause_path.write_text("by ops. audit pending")

    result = CliRunner().invoke(app, ["--config", str(cfg), "status", "--json"])
    assert result.exit_code == 0, result.output
    service = json.loads(result.stdout)["service"]
    assert service["run"]["state"] == "running"
    assert service["run"]["heartbeat"]["jobs"]["vote"]["last_error"] == "hub down"
    assert service["voting"] == {
        "enabled": False,
        "paused": "paused: by ops. audit pending",
        "delegates": [{"id": "alice", "mode": "dry-run", "scope": ["ens.eth"]}],
        "pending_intents": 0,
        "awaiting_approval": 1,
    }

    text = CliRunner().invoke(app, ["--config", str(cfg), "status"]).stdout
    assert "steward run: running" in text and "hub down" in text and "new 4" in text
    assert "paused: by ops. audit pending" in text and "alice (dry-run: ens.eth)" in text
    assert "decisions awaiting approval 1" in text
