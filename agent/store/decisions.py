"""Vote decisions: what Steward decided per delegate and proposal version, and the
delegate's approval or veto. Status moves are compare-and-set, so a button pressed
twice, or pressed while the loop casts, changes nothing the second time.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from agent.records.decision import Decision, DecisionData, DecisionStatus
from agent.store import schema

_T = schema.vote_decisions


def decision_id(delegate: str, proposal_uid: str, content_hash: str, mode: str) -> str:
    """One decision per delegate, proposal version and mode: a dry run never stands in
    for the live decision that follows it."""
    raw = f"{delegate}\n{proposal_uid}\n{content_hash}\n{mode}".encode()
    return hashlib.sha256(raw).hexdigest()[:32]


class DecisionLog:
    """Needs an engine whose database has run migration m006."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(
        self,
        *,
        delegate: str,
        proposal_uid: str,
        content_hash: str,
        mode: str,
        status: DecisionStatus,
        choice_label: str | None,
        choice: int | None,
        confidence: float,
        cast_after_ts: int | None,
        data: DecisionData,
    ) -> Decision | None:
        """Insert the decision for this proposal version; None if one exists already."""
        now = int(time.time())
        ident = decision_id(delegate, proposal_uid, content_hash, mode)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(_T).values(
                        id=ident,
                        delegate=delegate,
                        proposal_uid=proposal_uid,
                        content_hash=content_hash,
                        mode=mode,
                        status=status,
                        choice_label=choice_label,
                        choice=choice,
                        confidence=confidence,
                        cast_after_ts=cast_after_ts,
                        data=data.stored(),
                        created_ts=now,
                        updated_ts=now,
                    )
                )
        except IntegrityError:
            return None
        return self.get(ident)

    def move(
        self,
        ident: str,
        new: DecisionStatus,
        *,
        expected: Sequence[DecisionStatus],
        by: str | None = None,
        **values: Any,
    ) -> bool:
        """Compare-and-set: move only from one of `expected`; False if it was not there."""
        now = int(time.time())
        extra: dict[str, Any] = {"decided_by": by, "decided_ts": now} if by else {}
        with self.engine.begin() as conn:
            done = conn.execute(
                update(_T)
                .where(_T.c.id == ident, _T.c.status.in_(list(expected)))
                .values(status=new, updated_ts=now, **extra, **values)
            ).rowcount
        return bool(done)

    def set_message(self, ident: str, message_ref: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(_T).where(_T.c.id == ident).values(message_ref=message_ref))

    def get(self, ident: str) -> Decision | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(_T).where(_T.c.id == ident)).first()
        return _decision(row) if row else None

    def current(self, delegate: str, proposal_uid: str) -> Decision | None:
        """The newest decision for a delegate and proposal (any version)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(_T)
                .where(_T.c.delegate == delegate, _T.c.proposal_uid == proposal_uid)
                .order_by(_T.c.created_ts.desc(), _T.c.updated_ts.desc())
                .limit(1)
            ).first()
        return _decision(row) if row else None

    def for_version(
        self, delegate: str, proposal_uid: str, content_hash: str, mode: str
    ) -> Decision | None:
        return self.get(decision_id(delegate, proposal_uid, content_hash, mode))

    def remember_sent(self, ident: str, ref: str, keep: dict[str, Any]) -> None:
        """What left with the vote (e.g. the signed envelope), for an exact resend."""
        with self.engine.begin() as conn:
            data = conn.execute(select(_T.c.data).where(_T.c.id == ident)).scalar_one()
            data = {**data, "sent": {"ref": ref, "keep": keep}}
            conn.execute(update(_T).where(_T.c.id == ident).values(data=data))

    def with_status(self, *statuses: DecisionStatus, delegate: str | None = None) -> list[Decision]:
        query = select(_T).where(_T.c.status.in_(list(statuses)))
        if delegate:
            query = query.where(_T.c.delegate == delegate)
        with self.engine.connect() as conn:
            return [_decision(r) for r in conn.execute(query.order_by(_T.c.created_ts))]


def _decision(row: Any) -> Decision:
    return Decision(
        id=row.id,
        delegate=row.delegate,
        proposal_uid=row.proposal_uid,
        content_hash=row.content_hash,
        mode=row.mode,
        status=row.status,
        choice_label=row.choice_label,
        choice=row.choice,
        confidence=row.confidence,
        cast_after_ts=row.cast_after_ts,
        decided_by=row.decided_by,
        decided_ts=row.decided_ts,
        message_ref=row.message_ref,
        data=DecisionData.model_validate(row.data or {}),
        created_ts=row.created_ts,
    )
