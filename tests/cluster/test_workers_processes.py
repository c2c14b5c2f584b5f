"""Three real `steward run` workers on one PostgreSQL over the local hub with 300 spaces:
one is killed with -9 in the middle of a space, PostgreSQL is stopped and started again,
and afterwards the store holds exactly what the hub holds, each space ingested once
to completion.

The victim is chosen while the hub holds its answer (an event), never by timing.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from agent.cli.main import app
from agent.store import RecordStore, schema
from agent.store.cluster_tables import leases
from agent.store.leases import LeaseStore
from tests import postgres
from tests.cluster.harness import Worker, postgres_server, seed_spaces, wait_until, write_config
from tests.fakes.snapshot_hub import FakeHub

pytestmark = pytest.mark.skipif(
    postgres.unavailable() is not None, reason=f"needs PostgreSQL: {postgres.unavailable()}"
)

SPACES, PROPOSALS, VOTES = 300, 2, 3
VICTIM_SPACE = "dao150.eth"


def test_three_workers_survive_a_kill_and_a_database_restart(
    tmp_path: Path, steward_home: Path
) -> None:
    entered, release = threading.Event(), threading.Event()
    with postgres_server() as pg, FakeHub() as hub:
        spaces = seed_spaces(hub, SPACES, PROPOSALS, VOTES)
        execute = hub.execute

        def hold_victim(query: str, variables: Any = None, *args: Any) -> Any:
            asked = query + json.dumps(variables or {})
            if (
                "proposals(" in asked.lower()
                and f'"{VICTIM_SPACE}"' in asked
                and not entered.is_set()
            ):
                entered.set()
                release.wait(timeout=120)
            return execute(query, variables, *args)

        hub.execute = hold_victim  # type: ignore[method-assign]
        config = write_config(
            tmp_path / "config.yaml",
            hub.url,
            pg.url,
            spaces,
            lease_s=3,
            renew_every_s=1,
            gone_after_s=4,
        )
        workers = [Worker(config, tmp_path / f"w{i}") for i in range(3)]
        try:
            assert entered.wait(timeout=180), "no worker reached the victim space"
            store = RecordStore(pg.url)
            holder = _holder(store, f"ingest:snapshot:{VICTIM_SPACE}")
            victim = next(w for w in workers if w.pid == int(holder.split(":")[1]))
            os.kill(victim.pid, signal.SIGKILL)
            victim.proc.wait(timeout=30)
            release.set()
            survivors = [w for w in workers if w is not victim]

            store.close()
            pg.stop()
            wait_until(
                lambda: all(w.logged("the database is not answering") for w in survivors),
                60,
                "the workers to notice the database is gone",
            )
            pg.start()
            wait_until(
                lambda: all(w.logged("the database is back") for w in survivors),
                60,
                "the workers to notice the database is back",
            )
            store = RecordStore(pg.url)
            wait_until(
                lambda: _done(store, spaces), 240, "every space to be ingested to completion"
            )
            assert all(w.proc.poll() is None for w in survivors), "a worker died"
            wait_until(
                lambda: _state(config, victim.pid) == "gone", 60, "the victim to be shown gone"
            )
            status = _status(config)
        finally:
            release.set()
            codes = [w.stop() for w in workers]
        assert codes.count(-signal.SIGKILL) == 1 and codes.count(0) == 2, codes
        _same_as_hub(store, hub, spaces)
        workers_seen = {w["pid"]: w for w in status["cluster"]["workers"]}
        assert workers_seen[victim.pid]["state"] == "gone"
        assert {workers_seen[w.pid]["state"] for w in survivors} == {"live"}
        for w in survivors:
            assert w.log.read_text().count("the database is not answering") == 1
        store.close()


def _holder(store: RecordStore, name: str) -> str:
    with store.engine.connect() as conn:
        holder = conn.execute(select(leases.c.holder).where(leases.c.name == name)).scalar_one()
    assert holder, f"nobody holds {name}"
    return str(holder)


def _done(store: RecordStore, spaces: list[str]) -> bool:
    now = LeaseStore(store.engine).now()
    rows = {r.name: r for r in LeaseStore(store.engine).rows("ingest:")}
    return all(
        (row := rows.get(f"ingest:snapshot:{s}")) is not None
        and row.holder is None
        and row.due_at > now
        for s in spaces
    )


def _same_as_hub(store: RecordStore, hub: FakeHub, spaces: list[str]) -> None:
    stored = store.proposals(source="snapshot")
    assert len(stored) == SPACES * PROPOSALS == len({p.uid for p in stored})
    assert {p.space for p in stored} == set(spaces)
    with store.engine.connect() as conn:
        votes = conn.execute(select(func.count()).select_from(schema.votes)).scalar_one()
        created = conn.execute(
            select(schema.proposal_history.c.uid, func.count())
            .where(schema.proposal_history.c.kind == "created")
            .group_by(schema.proposal_history.c.uid)
        ).all()
        runs = conn.execute(
            select(schema.runs.c.scopes).where(schema.runs.c.status == "ok")
        ).scalars()
        finished = {scope for scopes in runs for scope in scopes}
    assert votes == SPACES * PROPOSALS * VOTES
    assert len(created) == SPACES * PROPOSALS and {n for _, n in created} == {1}
    assert finished == set(spaces)  # every space ingested to the end by some worker


def _state(config: Path, pid: int) -> str:
    return next(w["state"] for w in _status(config)["cluster"]["workers"] if w["pid"] == pid)


def _status(config: Path) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["--config", str(config), "status", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)
