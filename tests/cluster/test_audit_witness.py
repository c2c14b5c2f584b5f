"""One audit log, a head file per machine: each worker witnessing the log's end makes the
removal of entries another worker wrote show on its machine too, and never papers over
a chain that was tampered with."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, update

from agent.store import RecordStore, schema
from agent.voting.audit_log import AuditLog

_L = schema.audit_log


def _machines(store: RecordStore, tmp_path: Path) -> tuple[AuditLog, AuditLog]:
    return (
        AuditLog(store.engine, tmp_path / "a" / "audit.head"),
        AuditLog(store.engine, tmp_path / "b" / "audit.head"),
    )


def test_a_truncated_tail_another_worker_wrote_shows_once_witnessed(
    store: RecordStore, tmp_path: Path
) -> None:
    a, b = _machines(store, tmp_path)
    a.append("paused", data={"by": "a"})
    b.append("resumed", data={"by": "b"})
    b.append("paused", data={"by": "b"})
    with store.engine.begin() as conn:
        conn.execute(delete(_L).where(_L.c.seq == 3))
    assert a.verify().ok  # its head anchors seq 1 only: the removal cannot show here
    b.append("paused", data={"by": "b"})  # seq 3 again, as a writer would after truncating

    assert a.witness() and a.head is not None and a.head.read().seq == 3  # type: ignore[union-attr]
    with store.engine.begin() as conn:
        conn.execute(delete(_L).where(_L.c.seq == 3))
    report = a.verify()
    assert not report.ok and report.problem == "truncated"
    assert not a.witness()  # the anchored entry is gone: nothing is re-anchored


def test_witnessing_never_anchors_an_edited_chain(store: RecordStore, tmp_path: Path) -> None:
    a, b = _machines(store, tmp_path)
    a.append("paused", data={"by": "a"})
    b.append("resumed", data={"by": "b"})
    with store.engine.begin() as conn:
        conn.execute(update(_L).where(_L.c.seq == 2).values(data={"by": "mallory"}))
    assert not a.witness()
    assert a.head is not None and a.head.read().seq == 1  # type: ignore[union-attr]
    report = a.verify()
    assert not report.ok and report.problem == "edited"


def test_a_machine_without_a_head_anchors_an_intact_log(store: RecordStore, tmp_path: Path) -> None:
    a, b = _machines(store, tmp_path)
    assert a.witness()  # an empty log: nothing to anchor
    b.append("paused", data={"by": "b"})
    b.append("resumed", data={"by": "b"})
    assert a.witness()
    report = a.verify()
    assert report.ok and not report.warnings and report.head is not None
    assert report.head.seq == 2


def test_every_worker_witnesses_at_its_vote_poll(
    store: RecordStore, tmp_path: Path, steward_home: Path
) -> None:
    """A worker that claims no vote still anchors the entries others wrote."""
    from agent.app import App
    from agent.cluster.jobs import vote_leased
    from agent.cluster.worker import ClusterWorker
    from agent.settings import ClusterSettings, VotingSettings, load_settings
    from agent.voting.service import VotingService

    here = AuditLog(store.engine, tmp_path / "a" / "audit.head")
    there = VotingService(
        store,
        VotingSettings(enabled=True),
        home=tmp_path / "b",
        pause_path=tmp_path / "b" / "PAUSE",
        policy=lambda _p: None,  # type: ignore[arg-type, return-value]
        analyse=lambda *_a: None,  # type: ignore[arg-type, return-value]
        sink_for=lambda *_a: None,
        audit=AuditLog(store.engine, tmp_path / "b" / "audit.head"),
    )
    worker = ClusterWorker(store.engine, ClusterSettings(worker_id="b"), "test")
    worker.start()
    try:
        busy = worker.leases.claim("vote:alice", "someone-else", 60)
        assert busy is not None
        here.append("paused", data={"by": "a"})
        here.append("resumed", data={"by": "a"})
        vote_leased(App(load_settings(None)), worker, {"alice": there})
        assert there.audit.head is not None
        assert there.audit.head.read().seq == 2  # type: ignore[union-attr]
    finally:
        worker.stop()
