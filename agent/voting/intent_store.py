"""Vote intents: a vote is written down before it is cast, once per delegate and proposal.

The unique index on (delegate, proposal_uid) makes a second intent impossible,
even from another process; every status change is a compare-and-set, so a
crashed or concurrent process cannot move an intent twice. Error text is stored
as given: callers pass it through `agent.voting.intents.redact` first.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from agent.models import VoteChoice, utc
from agent.store import schema
from agent.voting.intents import allowed_from, delegate_key
from agent.voting.models import (
    COUNTED_STATUSES,
    OPEN_STATUSES,
    Intent,
    IntentStatus,
    TargetKind,
)
from agent.voting.provenance import VoteBundle, bundle_json, provenance_hash, provenance_tag

_T = schema.vote_intents


class IntentStore:
    """Vote intents in the record store's database: `IntentStore(store.engine)`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_intent(
        self,
        bundle: VoteBundle,
        *,
        delegate: str,
        target: TargetKind,
        choice: VoteChoice,
        reason: str,
    ) -> Intent | None:
        """Record the intent to vote; None when this delegate already has one for the proposal.

        The proposal uid, content hash and provenance hash all come from `bundle`,
        and `reason` must carry its provenance tag: no untraceable vote is recorded.
        """
        digest = provenance_hash(bundle)
        if provenance_tag(digest) not in reason:
            raise ValueError("the vote reason does not carry the bundle's provenance tag")
        now, intent_id = int(time.time()), uuid.uuid4().hex
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(_T).values(
                        id=intent_id,
                        delegate=delegate_key(delegate),
                        target=target,
                        proposal_uid=bundle.proposal_uid,
                        content_hash=bundle.proposal.content_hash,
                        choice=choice,
                        reason=reason,
                        provenance_hash=digest,
                        status="intended",
                        attempts=0,
                        created_ts=now,
                        updated_ts=now,
                        bundle=bundle_json(bundle),
                    )
                )
        except IntegrityError:
            return None
        return self.get(intent_id)

    # ---- compare-and-set transitions ---------------------------------------
    def mark_submitted(self, intent_id: str, ref: str | None = None) -> bool:
        """intended → submitted (the vote went out; `ref` is its receipt or tx hash)."""
        return self._move(
            intent_id,
            "submitted",
            external_ref=_keep_or(ref),
            attempts=_T.c.attempts + 1,
            submitted_ts=int(time.time()),
        )

    def mark_confirmed(self, intent_id: str, ref: str | None = None) -> bool:
        """submitted → confirmed (seen on Snapshot / mined with enough confirmations)."""
        return self._move(
            intent_id, "confirmed", external_ref=_keep_or(ref), confirmed_ts=int(time.time())
        )

    def mark_reconciled(self, intent_id: str, ref: str | None = None) -> bool:
        """intended/submitted → reconciled_existing (the vote was found already cast)."""
        return self._move(
            intent_id,
            "reconciled_existing",
            external_ref=_keep_or(ref),
            confirmed_ts=int(time.time()),
        )

    def mark_skipped(self, intent_id: str, why: str) -> bool:
        """intended → skipped (decided not to vote after all; `why` goes in `error`)."""
        return self._move(intent_id, "skipped", error=why)

    def mark_failed(self, intent_id: str, error: str, *, retryable: bool) -> bool:
        """Record a failure (sanitized `error`). Retryable: status kept for a later retry
        (reconcile first: the vote may have landed); otherwise → failed for good."""
        tried = case((_T.c.status == "intended", _T.c.attempts + 1), else_=_T.c.attempts)
        if not retryable:
            return self._move(intent_id, "failed", error=error, attempts=tried)
        with self.engine.begin() as conn:
            result = conn.execute(
                update(_T)
                .where(_T.c.id == intent_id, _T.c.status.in_(OPEN_STATUSES))
                .values(error=error, attempts=tried, updated_ts=int(time.time()))
            )
        return result.rowcount == 1

    def _move(self, intent_id: str, new: IntentStatus, **values: Any) -> bool:
        """UPDATE … WHERE status IN (allowed): True only for the process that moved it."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(_T)
                .where(_T.c.id == intent_id, _T.c.status.in_(allowed_from(new)))
                .values(status=new, updated_ts=int(time.time()), **values)
            )
        return result.rowcount == 1

    # ---- reads ---------------------------------------------------------------
    def get(self, intent_id: str) -> Intent | None:
        return self._one(select(_T).where(_T.c.id == intent_id))

    def for_proposal(self, delegate: str, proposal_uid: str) -> Intent | None:
        return self._one(
            select(_T).where(
                _T.c.delegate == delegate_key(delegate), _T.c.proposal_uid == proposal_uid
            )
        )

    def for_uid(self, proposal_uid: str) -> list[Intent]:
        """Every delegate's intent on one proposal."""
        return self._many(
            select(_T).where(_T.c.proposal_uid == proposal_uid).order_by(_T.c.created_ts)
        )

    def pending(self, delegate: str | None = None) -> list[Intent]:
        """Intended or submitted: what a start-up reconciliation must settle first."""
        query = select(_T).where(_T.c.status.in_(OPEN_STATUSES))
        if delegate is not None:
            query = query.where(_T.c.delegate == delegate_key(delegate))
        return self._many(query.order_by(_T.c.created_ts, _T.c.id))

    def votes_cast_since(self, delegate: str, since: datetime) -> int:
        """Intents created since `since` that were cast or are about to be (daily limit)."""
        query = (
            select(func.count())
            .select_from(_T)
            .where(
                _T.c.delegate == delegate_key(delegate),
                _T.c.created_ts >= int(since.timestamp()),
                _T.c.status.in_(COUNTED_STATUSES),
            )
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def _one(self, query: Any) -> Intent | None:
        found = self._many(query)
        return found[0] if found else None

    def _many(self, query: Any) -> list[Intent]:
        with self.engine.connect() as conn:
            return [_intent(r) for r in conn.execute(query)]


def _keep_or(ref: str | None) -> Any:
    """Set the external ref when given; otherwise keep what is stored."""
    return ref if ref is not None else _T.c.external_ref


def _intent(row: Any) -> Intent:
    return Intent(
        id=row.id,
        delegate=row.delegate,
        target=row.target,
        proposal_uid=row.proposal_uid,
        content_hash=row.content_hash,
        choice=row.choice,
        reason=row.reason,
        provenance_hash=row.provenance_hash,
        status=row.status,
        external_ref=row.external_ref,
        attempts=row.attempts,
        error=row.error,
        created=utc(row.created_ts),
        updated=utc(row.updated_ts),
        submitted=utc(row.submitted_ts) if row.submitted_ts else None,
        confirmed=utc(row.confirmed_ts) if row.confirmed_ts else None,
        bundle=row.bundle,
    )
