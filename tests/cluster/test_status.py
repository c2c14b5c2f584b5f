"""`steward status` in cluster mode: every worker, live, gone or stopped, and its leases."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from agent.cli.main import app
from agent.settings import ClusterSettings
from agent.store import RecordStore
from agent.store.leases import LeaseStore
from agent.store.workers import WorkerRegistry


def test_status_lists_workers_and_what_they_hold(tmp_path: Path, steward_home: Path) -> None:
    db = tmp_path / "shared.db"
    config = tmp_path / "config.yaml"
    config.write_text(
        f"database:\n  url: sqlite:///{db}\ncluster:\n  enabled: 'on'\n  gone_after_s: 60\n"
    )
    store = RecordStore(f"sqlite:///{db}")
    registry, leases = WorkerRegistry(store.engine), LeaseStore(store.engine)
    registry.join("dao-a")
    registry.register("host-a:11:beef", "dao-a", "host-a", 11)
    registry.register("host-b:22:cafe", "dao-a", "host-b", 22)
    registry.register("host-c:33:f00d", "dao-a", "host-c", 33)
    registry.stopped("host-c:33:f00d")
    assert leases.claim("ingest:snapshot:ens.eth", "host-a:11:beef", ttl=30)
    assert leases.claim("leader:discord", "host-a:11:beef", ttl=30)
    now = leases.now()
    with store.engine.begin() as conn:  # b went silent two minutes ago
        from agent.store.cluster_tables import workers

        conn.execute(
            workers.update().where(workers.c.id == "host-b:22:cafe").values(last_seen=now - 120)
        )
    store.close()

    shown = CliRunner().invoke(app, ["--config", str(config), "status", "--json"])
    assert shown.exit_code == 0, shown.output
    cluster = json.loads(shown.stdout)["cluster"]
    states = {w["pid"]: w["state"] for w in cluster["workers"]}
    assert cluster["deployment"] == "dao-a" and states == {11: "live", 22: "gone", 33: "stopped"}
    held = next(w for w in cluster["workers"] if w["pid"] == 11)["holds"]
    assert [h["name"] for h in held] == ["ingest:snapshot:ens.eth", "leader:discord"]

    text = CliRunner().invoke(app, ["--config", str(config), "status"], terminal_width=200)
    flat = " ".join(text.stdout.split())
    assert "deployment dao-a · 1 live worker(s)" in flat
    assert "leader:discord" in flat and "gone" in flat and "stopped" in flat


def test_status_without_cluster_mode_has_no_cluster_section(steward_home: Path) -> None:
    shown = CliRunner().invoke(app, ["status", "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["cluster"] is None
    assert ClusterSettings().lease_s == 30
