"""Read-only vote queries for the voter views (records, concentration, signals).

Rows come back as light tuples, not pydantic models: a proposal can have tens of
thousands of votes and these are read on every `show`, `/proposal` and digest.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from sqlalchemy import Engine, Text, cast, func, select

from agent.store import schema

_V = schema.votes
_P = schema.proposals


class VoteFact(NamedTuple):
    """One stored vote, as the voter views read it."""

    proposal_uid: str
    voter: str
    space: str
    choice: Any
    power: float
    created_ts: int
    reason: str


class VoteStamp(NamedTuple):
    """Changes whenever a proposal's stored votes do: the key of cached figures."""

    votes: int
    last_ts: int


_COLUMNS = (_V.c.proposal_uid, _V.c.voter, _V.c.space, cast(_V.c.choice, Text))
_MORE = (_V.c.voting_power, _V.c.created_ts, _V.c.reason)


def _facts(rows: Any) -> list[VoteFact]:
    """Choices are read as JSON text (CAST, on SQLite and PostgreSQL alike) and decoded once
    per distinct text: a proposal's thousands of votes share a handful of choices, and the
    JSON column's per-row decoding was most of the read time."""
    decoded: dict[str, Any] = {}
    out = []
    for uid, voter, space, raw, power, ts, reason in rows:
        if raw not in decoded:
            decoded[raw] = json.loads(raw)
        out.append(VoteFact(uid, voter, space, decoded[raw], power, ts, reason or ""))
    return out


class VoteQueries:
    """Mixed into RecordStore."""

    engine: Engine

    def vote_facts(self, uid: str) -> list[VoteFact]:
        """One proposal's votes, in no particular order."""
        query = select(*_COLUMNS, *_MORE).where(_V.c.proposal_uid == uid)
        with self.engine.connect() as conn:
            return _facts(conn.execute(query))

    def vote_stamp(self, uid: str) -> VoteStamp:
        query = select(func.count(), func.coalesce(func.max(_V.c.created_ts), 0))
        with self.engine.connect() as conn:
            count, last = conn.execute(query.where(_V.c.proposal_uid == uid)).one()
        return VoteStamp(int(count), int(last))

    def space_vote_stamp(self, space: str) -> VoteStamp:
        """Changes with the space's votes on live proposals (what `space_vote_facts` reads)."""
        query = (
            select(func.count(), func.coalesce(func.max(_V.c.created_ts), 0))
            .join(_P, _P.c.uid == _V.c.proposal_uid)
            .where(_V.c.space == space, _P.c.deleted_at.is_(None))
        )
        with self.engine.connect() as conn:
            count, last = conn.execute(query).one()
        return VoteStamp(int(count), int(last))

    def space_vote_facts(self, space: str) -> list[VoteFact]:
        """Every stored vote in a space, oldest first (live proposals only)."""
        query = (
            select(*_COLUMNS, *_MORE)
            .join(_P, _P.c.uid == _V.c.proposal_uid)
            .where(_V.c.space == space, _P.c.deleted_at.is_(None))
            .order_by(_V.c.created_ts)
        )
        with self.engine.connect() as conn:
            return _facts(conn.execute(query))

    def voter_facts(self, address: str, space: str | None = None) -> list[VoteFact]:
        """Every stored vote by one address (any case), oldest first."""
        query = select(*_COLUMNS, *_MORE).where(func.lower(_V.c.voter) == address.lower())
        if space:
            query = query.where(_V.c.space == space)
        with self.engine.connect() as conn:
            return _facts(conn.execute(query.order_by(_V.c.created_ts)))

    def proposals_ending_since(self, space: str, ts: int) -> list[str]:
        """Uids of a space's live proposals still open at `ts` (ending then or later)."""
        ends = func.coalesce(_P.c.end_ts, _P.c.created_ts)
        query = select(_P.c.uid).where(
            _P.c.space == space, _P.c.deleted_at.is_(None), ends >= ts, ~_P.c.flagged
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())
