"""`Decision.data` is a model, and rows written before it was one still read back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from agent.records.decision import BlockerNote, DecisionData
from agent.store import RecordStore, schema
from agent.store.decisions import DecisionLog, decision_id


def _old_row(store: RecordStore, data: dict[str, Any]) -> str:
    """A decision as an earlier Steward wrote it: the data JSON straight into the table."""
    ident = decision_id("alice", "snapshot:0x1", "h", "approval")
    with store.engine.begin() as conn:
        conn.execute(
            insert(schema.vote_decisions).values(
                id=ident,
                delegate="alice",
                proposal_uid="snapshot:0x1",
                content_hash="h",
                mode="approval",
                status="blocked",
                choice_label=None,
                choice=None,
                confidence=0.0,
                cast_after_ts=None,
                data=data,
                created_ts=1,
                updated_ts=1,
            )
        )
    return ident


def test_an_old_row_reads_with_missing_and_unknown_keys(store: RecordStore) -> None:
    ident = _old_row(
        store,
        {
            "blockers": [{"code": "window_closed", "detail": "voting ended", "since": 3}],
            "sent": {"ref": "0xabc", "keep": {"envelope": {"sig": "0x01"}}},
            "a_later_key": [1, 2],
        },
    )
    data = DecisionLog(store.engine).get(ident)
    assert data is not None
    notes = data.data
    assert [b.code for b in notes.blockers] == ["window_closed"]
    assert notes.blockers[0].detail == "voting ended"
    assert notes.sent is not None and notes.sent.keep == {"envelope": {"sig": "0x01"}}
    assert notes.recommendation is None and notes.bundle is None and notes.reason is None
    assert notes.stored()["a_later_key"] == [1, 2]  # kept, not dropped


def test_a_row_with_empty_data_reads(store: RecordStore) -> None:
    decision = DecisionLog(store.engine).get(_old_row(store, {}))
    assert decision is not None
    assert decision.data.blockers == [] and decision.data.sent is None


def test_recorded_json_holds_only_what_was_set(store: RecordStore) -> None:
    log = DecisionLog(store.engine)
    data = DecisionData(
        blockers=[BlockerNote(code="paused", detail="PAUSE file")], recommendation="FOR"
    )
    decision = log.record(
        delegate="alice",
        proposal_uid="snapshot:0x1",
        content_hash="h",
        mode="approval",
        status="blocked",
        choice_label=None,
        choice=None,
        confidence=0.0,
        cast_after_ts=None,
        data=data,
    )
    assert decision is not None
    log.remember_sent(decision.id, "0xdef", {"nonce": 7})
    with store.engine.connect() as conn:
        table = schema.vote_decisions
        raw = conn.execute(select(table.c.data).where(table.c.id == decision.id)).scalar_one()
    assert raw == {
        "blockers": [{"code": "paused", "detail": "PAUSE file"}],
        "recommendation": "FOR",
        "sent": {"ref": "0xdef", "keep": {"nonce": 7}},
    }
    again = log.get(decision.id)
    assert again is not None and again.data.sent is not None
    assert again.data.sent.ref == "0xdef" and again.data.sent.keep == {"nonce": 7}
    assert again.model_dump()["data"] == raw  # `steward vote --json` shows it as stored
