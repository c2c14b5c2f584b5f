"""The kill switch in cluster mode: one pause, in the database, stops every worker."""

from __future__ import annotations

from pathlib import Path

from agent.cluster.pause import DbPause
from agent.store import RecordStore
from agent.voting.audit_log import AuditLog
from agent.voting.service import VotingService


def _service(store: RecordStore, home: Path) -> VotingService:
    from agent.settings import VotingSettings

    return VotingService(
        store,
        VotingSettings(enabled=True),
        home=home,
        pause_path=home / "PAUSE",
        policy=lambda _p: None,  # type: ignore[arg-type, return-value]
        analyse=lambda *_a: None,  # type: ignore[arg-type, return-value]
        sink_for=lambda *_a: None,
        audit=AuditLog(store.engine, None),
        shared_pause=DbPause(store.engine),
    )


def test_a_pause_on_one_worker_stops_the_others(store: RecordStore, tmp_path: Path) -> None:
    here, there = _service(store, tmp_path / "a"), _service(store, tmp_path / "b")
    assert here.paused() is None and there.paused() is None
    here.pause(by="ops", note="incident 7")
    assert there.paused() == "paused: by ops. incident 7"
    assert not (tmp_path / "a" / "PAUSE").exists()  # nothing local: it is the cluster's
    here.pause(by="ops", note="again")  # pausing twice is fine
    assert there.resume(by="ops") is True
    assert here.paused() is None and there.resume(by="ops") is False
    kinds = [e.kind for e in AuditLog(store.engine, None).entries()]
    assert kinds == ["paused", "paused", "resumed"]


def test_an_unreadable_pause_state_counts_as_paused() -> None:
    from sqlalchemy import create_engine

    from tests.postgres import _free_port

    nobody = create_engine(f"postgresql+psycopg://steward@127.0.0.1:{_free_port()}/steward")
    assert DbPause(nobody).note() == "the pause state cannot be read from the database"
