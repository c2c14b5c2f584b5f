"""`steward ingest` run by hand beside a real `steward run` worker on PostgreSQL: the
worker holds one space's lease (the hub holds its request: an event), the command skips
that space and says who has it, ingests the others under their leases and releases them;
with --wait it waits for the space instead. Nothing is ingested twice at once."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import select
from typer.testing import CliRunner

from agent.cli.main import app
from agent.store import RecordStore, schema
from agent.store.leases import LeaseStore
from agent.store.workers import WorkerRegistry
from tests import postgres
from tests.cluster.harness import (
    STEWARD,
    Worker,
    postgres_server,
    seed_spaces,
    wait_until,
    write_config,
)
from tests.conftest import PROJECT
from tests.fakes.snapshot_hub import FakeHub

pytestmark = pytest.mark.skipif(
    postgres.unavailable() is not None, reason=f"needs PostgreSQL: {postgres.unavailable()}"
)

BUSY = "dao002.eth"


def test_hand_run_ingest_skips_or_waits_for_a_space_a_worker_holds(
    tmp_path: Path, steward_home: Path
) -> None:
    entered, release = threading.Event(), threading.Event()
    asked_busy: list[str] = []
    with postgres_server() as pg, FakeHub() as hub:
        spaces = seed_spaces(hub, 3, proposals=2, votes=1)
        execute = hub.execute

        def hold_busy(query: str, variables: Any = None, *args: Any) -> Any:
            asked = query + json.dumps(variables or {})
            if "proposals(" in asked.lower() and f'"{BUSY}"' in asked:
                asked_busy.append(asked)
                if not entered.is_set():
                    entered.set()
                    release.wait(timeout=120)
            return execute(query, variables, *args)

        hub.execute = hold_busy  # type: ignore[method-assign]
        config = write_config(
            tmp_path / "config.yaml", hub.url, pg.url, spaces, lease_s=6, renew_every_s=1
        )
        worker = Worker(config, tmp_path / "w0")
        store = RecordStore(pg.url)
        try:
            assert entered.wait(timeout=120), "the worker never reached the busy space"
            holder = _lease(store, BUSY)["holder"]
            assert holder is not None and holder.split(":")[1] == str(worker.pid)

            skipped = _ingest(config)
            assert skipped.exit_code == 0, skipped.output
            out = json.loads(skipped.stdout)
            assert out["skipped"] == [{"what": f"space {BUSY}", "holder": holder}]
            assert f"space {BUSY} is being ingested by worker {holder}; skipped" in " ".join(
                skipped.stderr.split()
            )
            assert len(asked_busy) == 1, "the command read the space the worker holds"
            assert _lease(store, BUSY)["holder"] == holder  # the worker's lease is untouched
            for space in set(spaces) - {BUSY}:
                lease = _lease(store, space)
                assert lease["holder"] is None and lease["due_at"] > LeaseStore(store.engine).now()
            assert _hand_workers(store) == ["stopped"]

            # A second command, a process of its own, waits for the space instead.
            said = tmp_path / "waiting.err"
            waiting = subprocess.Popen(
                [STEWARD, "--config", str(config), "ingest", "--no-index", "--json", "--wait"],
                cwd=PROJECT,
                env={**os.environ, "PYTHONPATH": str(PROJECT)},
                stdout=subprocess.PIPE,
                stderr=said.open("w"),
            )
            wait_until(
                lambda: "waiting" in said.read_text(errors="replace"),
                60,
                "the second command to say it waits",
            )
            release.set()
            stdout, _ = waiting.communicate(timeout=120)
            assert waiting.returncode == 0, said.read_text()
            assert json.loads(stdout)["skipped"] == []
            assert f"space {BUSY} is being ingested by worker {holder}; waiting" in " ".join(
                said.read_text().split()
            )
            assert worker.proc.poll() is None
        finally:
            release.set()
            code = worker.stop()
        assert code == 0
        assert all(r.takeovers == 0 for r in LeaseStore(store.engine).rows())  # nobody cut in
        stored = store.proposals(source="snapshot")
        assert len(stored) == 6 == len({p.uid for p in stored})
        with store.engine.connect() as conn:
            created = conn.execute(
                select(schema.proposal_history.c.uid).where(
                    schema.proposal_history.c.kind == "created"
                )
            ).all()
        assert len(created) == 6
        assert len(asked_busy) >= 2  # the worker's read and the waiting command's
        store.close()


def _ingest(config: Path, *extra: str) -> Result:
    return CliRunner().invoke(
        app, ["--config", str(config), "ingest", "--no-index", "--json", *extra]
    )


def _lease(store: RecordStore, space: str) -> dict[str, Any]:
    name = f"ingest:snapshot:{space}"
    row = next(r for r in LeaseStore(store.engine).rows(name) if r.name == name)
    return {"holder": row.holder, "due_at": row.due_at}


def _hand_workers(store: RecordStore) -> list[str]:
    return [
        "stopped" if w.stopped_at is not None else "live"
        for w in WorkerRegistry(store.engine).all()
        if w.id.endswith(":ingest")
    ]
