"""The audit chain: appends from racing writers, and every kind of tampering detected."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import threading
from pathlib import Path

import pytest
from sqlalchemy import delete, text, update

from agent.store import RecordStore, schema
from agent.voting.audit import GENESIS, entry_hash
from agent.voting.audit_log import AuditLog
from agent.voting.models import AuditEntry
from tests.voting_store import DELEGATE, workers

_L = schema.audit_log


def _fill(audit: AuditLog, n: int = 5) -> list[AuditEntry]:
    kinds = ["recommended", "approved", "intent", "cast", "confirmed", "paused"]
    return [
        audit.append(
            kinds[i % len(kinds)],
            delegate=DELEGATE if i else None,
            proposal_uid="snapshot:0x1" if i < 5 else None,
            data={"i": i, "note": "ünïcode ✓", "nested": {"b": [1, 2.5], "a": None}},
            ts=1_700_000_000 + i,
        )
        for i in range(n)
    ]


def _sql(store: RecordStore, *statements) -> None:
    with store.engine.begin() as conn:
        for statement in statements:
            conn.execute(statement)


def test_append_chains_and_verifies(store: RecordStore, audit: AuditLog, head_file: Path) -> None:
    entries = _fill(audit)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    assert audit.entries() == entries  # what was hashed is exactly what reads back
    assert json.loads(head_file.read_text()) == {"seq": 5, "hash": entries[-1].hash}
    report = audit.verify()
    assert report.ok and report.entries == 5 and report.last_seq == 5 and not report.warnings
    assert audit.tail(2) == entries[3:]
    assert [e.seq for e in audit.entries(proposal_uid="snapshot:0x1", delegate=DELEGATE)] == [
        1,
        2,
        3,
        4,
        5,
    ]
    assert [e.seq for e in audit.entries(delegate=DELEGATE, include_undelegated=False)] == [
        2,
        3,
        4,
        5,
    ]
    assert entries[0].hash == entry_hash(
        seq=1,
        ts=1_700_000_000,
        kind="recommended",
        delegate=None,
        proposal_uid="snapshot:0x1",
        data={"nested": {"a": None, "b": [1, 2.5]}, "note": "ünïcode ✓", "i": 0},
        prev_hash=GENESIS,
    )


def test_empty_log_is_fine(audit: AuditLog) -> None:
    report = audit.verify()
    assert report.ok and report.entries == 0 and report.head is None


def test_threads_racing_appends(audit: AuditLog) -> None:
    barrier = threading.Barrier(4)

    def writer(n: int) -> None:
        barrier.wait()
        for i in range(10):
            audit.append("intent", data={"writer": n, "i": i})

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = audit.verify()
    assert report.ok and report.entries == 40 and report.head and report.head.seq == 40


def test_processes_racing_appends(store: RecordStore, head_file: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(3)
    procs = [
        ctx.Process(target=workers.append_entries, args=(store.url, str(head_file), barrier, 15))
        for _ in range(3)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    report = AuditLog(store.engine, head_file).verify()
    assert report.ok, report.detail
    assert report.entries == 45 and report.head and report.head.seq == 45


@pytest.mark.parametrize(
    "column, value",
    [
        ("data", {"i": 99}),
        ("kind", "vetoed"),
        ("ts", 1),
        ("delegate", "0xattacker"),
        ("hash", "f" * 64),
    ],
)
def test_edited_row(store: RecordStore, audit: AuditLog, column: str, value: object) -> None:
    _fill(audit)
    _sql(store, update(_L).where(_L.c.seq == 3).values({column: value}))
    report = audit.verify()
    assert (report.ok, report.broken_seq, report.problem) == (False, 3, "edited")


def test_edited_and_rehashed_row_breaks_the_next_link(store: RecordStore, audit: AuditLog) -> None:
    entries = _fill(audit)
    forged = entries[2].model_copy(update={"data": {"i": 99}})
    new_hash = entry_hash(**forged.model_dump(exclude={"hash"}))
    _sql(store, update(_L).where(_L.c.seq == 3).values(data={"i": 99}, hash=new_hash))
    report = audit.verify()
    assert (report.ok, report.broken_seq, report.problem) == (False, 4, "deleted")


@pytest.mark.parametrize("seq", [1, 3])
def test_deleted_row(store: RecordStore, audit: AuditLog, seq: int) -> None:
    _fill(audit)
    _sql(store, delete(_L).where(_L.c.seq == seq))
    report = audit.verify()
    assert (report.ok, report.broken_seq, report.problem) == (False, seq, "deleted")
    assert f"seq {seq} missing" in report.detail


def test_deleted_and_renumbered(store: RecordStore, audit: AuditLog) -> None:
    _fill(audit)
    _sql(
        store,
        delete(_L).where(_L.c.seq == 3),
        *[update(_L).where(_L.c.seq == s).values(seq=s - 1) for s in (4, 5)],
    )
    report = audit.verify()
    assert (report.ok, report.broken_seq, report.problem) == (False, 3, "reordered")


def test_swapped_seqs(store: RecordStore, audit: AuditLog) -> None:
    _fill(audit)
    _sql(
        store,
        update(_L).where(_L.c.seq == 2).values(seq=-1),
        update(_L).where(_L.c.seq == 3).values(seq=2),
        update(_L).where(_L.c.seq == -1).values(seq=3),
    )
    report = audit.verify()
    assert (report.ok, report.broken_seq, report.problem) == (False, 2, "reordered")
    assert "written as seq 3" in report.detail


def test_swapped_contents(store: RecordStore, audit: AuditLog) -> None:
    entries = _fill(audit)
    two, three = (e.model_dump(exclude={"seq"}) for e in entries[1:3])
    _sql(
        store,
        update(_L).where(_L.c.seq == 2).values(**three),
        update(_L).where(_L.c.seq == 3).values(**two),
    )
    report = audit.verify()
    assert (report.ok, report.broken_seq, report.problem) == (False, 2, "reordered")


@pytest.mark.parametrize("keep", [0, 3])
def test_truncated_tail(store: RecordStore, audit: AuditLog, keep: int) -> None:
    _fill(audit)
    _sql(store, delete(_L).where(_L.c.seq > keep))
    report = audit.verify()
    assert (report.ok, report.broken_seq, report.problem) == (False, keep + 1, "truncated")
    assert "records seq 5" in report.detail


def test_newest_row_replaced_with_a_valid_one(store: RecordStore, audit: AuditLog) -> None:
    entries = _fill(audit)
    forged = entries[4].model_copy(update={"kind": "vetoed"})
    new_hash = entry_hash(**forged.model_dump(exclude={"hash"}))
    _sql(store, update(_L).where(_L.c.seq == 5).values(kind="vetoed", hash=new_hash))
    report = audit.verify()
    assert (report.ok, report.broken_seq, report.problem) == (False, 5, "head_mismatch")


def test_head_file_missing_unreadable_or_lagging(audit: AuditLog, head_file: Path) -> None:
    entries = _fill(audit)
    head_file.unlink()
    assert audit.verify().problem == "head_missing"
    head_file.write_text("garbage")
    assert audit.verify().problem == "head_unreadable"
    head_file.write_text(json.dumps({"seq": 4, "hash": entries[3].hash}))
    report = audit.verify()
    assert report.ok and report.warnings  # a crash between commit and anchor
    audit.append("resumed")
    assert json.loads(head_file.read_text())["seq"] == 6


def test_without_a_head_file_path(store: RecordStore) -> None:
    log = AuditLog(store.engine, None)
    _fill(log, 2)
    assert log.verify().ok


def test_a_row_that_no_longer_parses(tmp_path: Path, head_file: Path) -> None:
    store = RecordStore(f"sqlite:///{tmp_path / 's.db'}")
    audit = AuditLog(store.engine, head_file)
    _fill(audit)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET ts = 'yesterday' WHERE seq = 4"))
    report = audit.verify()
    assert (report.ok, report.broken_seq, report.problem) == (False, 4, "edited")
    store.close()
