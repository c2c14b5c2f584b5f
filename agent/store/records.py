"""RecordStore: idempotent upserts of proposals and votes, cursors and runs.

Every write that advances a source's cursor happens in the same transaction as
the records it covers, so a crash at any point resumes cleanly: the cursor
never runs ahead of what is stored.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, create_engine, delete, event, func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from agent.cursors import CursorUpdate, ProposalRef
from agent.errors import StoreError
from agent.models import Proposal, ProposalChange, Space, Vote, utc
from agent.store import schema
from agent.store.assessments import AssessmentLog
from agent.store.backtests import BacktestLog
from agent.store.bookkeeping import Bookkeeping
from agent.store.fulltext import FullText
from agent.store.migrations import migrate
from agent.store.passages import PassageTable
from agent.store.posts import PostLog
from agent.store.simulations import SimulationLog
from agent.store.upsert import upsert_rows
from agent.store.vote_queries import VoteQueries

_P = schema.proposals
_COMPUTED = {"uid", "content_hash"}


class StoredProposal(BaseModel):
    """A proposal as stored, with its bookkeeping."""

    model_config = ConfigDict(frozen=True)
    proposal: Proposal
    first_seen: datetime
    last_seen: datetime
    deleted_at: datetime | None
    indexed_chunks: int
    indexed_hash: str | None


class HistoryEntry(BaseModel):
    model_config = ConfigDict(frozen=True)
    at: datetime
    kind: str
    content_hash: str
    title: str
    body: str


def _now() -> int:
    return int(time.time())


def _ts(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value else None


def _proposal_row(p: Proposal, now: int) -> dict[str, Any]:
    return {
        "uid": p.uid,
        "source": p.source,
        "space": p.space,
        "id": p.id,
        "title": p.title,
        "state": p.state,
        "created_ts": _ts(p.created) or 0,
        "end_ts": _ts(p.end),
        "flagged": p.flagged,
        "content_hash": p.content_hash,
        "data": p.model_dump(mode="json", exclude=_COMPUTED),
        "last_seen": now,
    }


class RecordStore(
    Bookkeeping,
    FullText,
    PassageTable,
    AssessmentLog,
    BacktestLog,
    PostLog,
    VoteQueries,
    SimulationLog,
):
    """SQL store for proposals, votes, spaces, cursors and runs."""

    def __init__(self, url: str) -> None:
        self.url = url
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine = create_engine(url)
            if parsed.get_backend_name() == "sqlite":
                event.listen(self.engine, "connect", _sqlite_pragmas)
            migrate(self.engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the record store: {exc.__class__.__name__}") from exc

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> None:
        """One `SELECT 1` on a pooled connection: the cheapest proof the database answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            raise StoreError(f"the record store does not answer ({type(exc).__name__})") from exc

    # ---- proposals -------------------------------------------------------
    def apply_proposals(
        self, proposals: Sequence[Proposal], cursor: CursorUpdate | None = None
    ) -> list[ProposalChange]:
        """Upsert proposals (recording edits) and move the cursor, atomically."""
        now = _now()
        with self.engine.begin() as conn:
            changes = [self._upsert_proposal(conn, p, now) for p in _dedupe(proposals)]
            if cursor:
                self._write_cursor(conn, cursor, now)
        return changes

    def _upsert_proposal(self, conn: Connection, p: Proposal, now: int) -> ProposalChange:
        row = _proposal_row(p, now)
        old = conn.execute(
            select(_P.c.content_hash, _P.c.data, _P.c.deleted_at).where(_P.c.uid == p.uid)
        ).first()
        if old is None:
            conn.execute(_P.insert().values(**row, first_seen=now))
            self._history(conn, p, "created", now)
            return ProposalChange(uid=p.uid, kind="new", content_changed=True)
        content_changed = old.content_hash != p.content_hash
        restored = old.deleted_at is not None
        if not content_changed and not restored and old.data == row["data"]:
            conn.execute(update(_P).where(_P.c.uid == p.uid).values(last_seen=now))
            return ProposalChange(uid=p.uid, kind="unchanged")
        conn.execute(update(_P).where(_P.c.uid == p.uid).values(**row, deleted_at=None))
        if restored:
            self._history(conn, p, "restored", now)
        if content_changed:
            self._history(conn, p, "edited", now)
        kind: Literal["restored", "updated"] = "restored" if restored else "updated"
        return ProposalChange(uid=p.uid, kind=kind, content_changed=content_changed)

    def _history(self, conn: Connection, p: Proposal, kind: str, now: int) -> None:
        conn.execute(
            schema.proposal_history.insert().values(
                uid=p.uid,
                at=now,
                kind=kind,
                content_hash=p.content_hash,
                title=p.title,
                body=p.body,
            )
        )

    def mark_deleted(self, uids: Iterable[str], cursor: CursorUpdate | None = None) -> int:
        """Record that the source no longer has these proposals. The rows stay."""
        now, count = _now(), 0
        with self.engine.begin() as conn:
            for uid in uids:
                old = conn.execute(
                    select(_P.c.content_hash, _P.c.title, _P.c.data).where(
                        _P.c.uid == uid, _P.c.deleted_at.is_(None)
                    )
                ).first()
                if old is None:
                    continue
                conn.execute(update(_P).where(_P.c.uid == uid).values(deleted_at=now))
                conn.execute(
                    schema.proposal_history.insert().values(
                        uid=uid,
                        at=now,
                        kind="deleted",
                        content_hash=old.content_hash,
                        title=old.title,
                        body=old.data.get("body", ""),
                    )
                )
                count += 1
            if cursor:
                self._write_cursor(conn, cursor, now)
        return count

    def get(self, uid: str) -> StoredProposal | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(_P).where(_P.c.uid == uid)).first()
        return _stored(row) if row else None

    def resolve(self, ref: str) -> list[str]:
        """Uids matching a uid, a source id, or a unique prefix of either."""
        with self.engine.connect() as conn:
            exact = (
                conn.execute(select(_P.c.uid).where((_P.c.uid == ref) | (_P.c.id == ref)))
                .scalars()
                .all()
            )
            if exact:
                return list(exact)
            pattern = ref.replace("%", r"\%").replace("_", r"\_") + "%"
            return list(
                conn.execute(
                    select(_P.c.uid)
                    .where(_P.c.uid.like(pattern, escape="\\") | _P.c.id.like(pattern, escape="\\"))
                    .limit(20)
                ).scalars()
            )

    def proposals(
        self,
        *,
        source: str | None = None,
        space: str | None = None,
        uids: Sequence[str] | None = None,
        include_deleted: bool = False,
    ) -> list[Proposal]:
        query = select(_P.c.data).order_by(_P.c.created_ts)
        if source:
            query = query.where(_P.c.source == source)
        if space:
            query = query.where(_P.c.space == space)
        if uids is not None:
            query = query.where(_P.c.uid.in_(list(uids)))
        if not include_deleted:
            query = query.where(_P.c.deleted_at.is_(None))
        with self.engine.connect() as conn:
            return [Proposal.model_validate(d) for d in conn.execute(query).scalars()]

    def refs(self, source: str, space: str) -> list[ProposalRef]:
        query = select(
            _P.c.uid,
            _P.c.id,
            _P.c.state,
            _P.c.end_ts,
            _P.c.data,
            _P.c.votes_complete,
            _P.c.deleted_at,
        ).where(_P.c.source == source, _P.c.space == space)
        with self.engine.connect() as conn:
            return [
                ProposalRef(
                    uid=r.uid,
                    id=r.id,
                    state=r.state,
                    end_ts=r.end_ts,
                    scores_final=bool(r.data.get("scores_final")),
                    votes_complete=bool(r.votes_complete),
                    deleted=r.deleted_at is not None,
                    block=(r.data.get("extra") or {}).get("created_block"),
                    votes_count=r.data.get("votes_count"),
                )
                for r in conn.execute(query)
            ]

    def history(self, uid: str) -> list[HistoryEntry]:
        h = schema.proposal_history
        with self.engine.connect() as conn:
            rows = conn.execute(select(h).where(h.c.uid == uid).order_by(h.c.seq)).all()
        return [
            HistoryEntry(
                at=utc(r.at), kind=r.kind, content_hash=r.content_hash, title=r.title, body=r.body
            )
            for r in rows
        ]

    # ---- votes -----------------------------------------------------------
    def apply_votes(
        self,
        votes: Sequence[Vote],
        cursor: CursorUpdate | None = None,
        complete_uid: str | None = None,
    ) -> int:
        """Upsert votes (one per voter and proposal: the latest wins); returns new ones."""
        now = _now()
        v = schema.votes
        with self.engine.begin() as conn:
            new = 0
            by_proposal: dict[str, set[str]] = {}
            for vote in votes:
                by_proposal.setdefault(vote.proposal_uid, set()).add(vote.voter)
            for uid, voters in by_proposal.items():
                known = set(
                    conn.execute(
                        select(v.c.voter).where(v.c.proposal_uid == uid, v.c.voter.in_(voters))
                    ).scalars()
                )
                new += len(voters - known)
            rows = [_vote_row(vote) for vote in votes]
            if rows:
                upsert_rows(conn, v, rows, keys=("proposal_uid", "voter"), newer="created_ts")
            if complete_uid:
                conn.execute(update(_P).where(_P.c.uid == complete_uid).values(votes_complete=True))
            if cursor:
                self._write_cursor(conn, cursor, now)
        return new

    def mark_votes_complete(self, uids: Sequence[str]) -> None:
        """No vote can arrive any more for these proposals: the votes pass skips them."""
        with self.engine.begin() as conn:
            for start in range(0, len(uids), 500):
                batch = list(uids[start : start + 500])
                conn.execute(update(_P).where(_P.c.uid.in_(batch)).values(votes_complete=True))

    def rewind_votes(self, source: str, space: str, from_block: int, cursor: CursorUpdate) -> int:
        """A reorg undid blocks >= from_block: drop their votes and move the cursor back,
        together, so the re-read that follows starts from a store without them."""
        v = schema.votes
        with self.engine.begin() as conn:
            removed = conn.execute(
                delete(v).where(v.c.source == source, v.c.space == space, v.c.block >= from_block)
            ).rowcount
            self._write_cursor(conn, cursor, _now())
        return int(removed or 0)

    def votes(self, uid: str, limit: int | None = None) -> list[Vote]:
        v = schema.votes
        query = select(v).where(v.c.proposal_uid == uid).order_by(v.c.voting_power.desc())
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [_vote(r) for r in conn.execute(query)]

    def votes_by(
        self,
        voter: str,
        *,
        before: datetime | None = None,
        uids: Sequence[str] | None = None,
        space: str | None = None,
    ) -> list[Vote]:
        """One address's votes (any letter case), oldest first; `before`: cast strictly
        earlier (what a backtest may know at that moment)."""
        v = schema.votes
        query = select(v).where(func.lower(v.c.voter) == voter.lower()).order_by(v.c.created_ts)
        if before is not None:
            query = query.where(v.c.created_ts < int(before.timestamp()))
        if uids is not None:
            query = query.where(v.c.proposal_uid.in_(list(uids)))
        if space:
            query = query.where(v.c.space == space)
        with self.engine.connect() as conn:
            return [_vote(r) for r in conn.execute(query)]

    def vote_count(self, uid: str) -> int:
        v = schema.votes
        with self.engine.connect() as conn:
            return conn.execute(
                select(func.count()).select_from(v).where(v.c.proposal_uid == uid)
            ).scalar_one()

    # ---- spaces and cursors ---------------------------------------------
    def upsert_space(self, space: Space) -> None:
        row = {
            "source": space.source,
            "id": space.id,
            "data": space.model_dump(mode="json"),
            "flagged": space.flagged,
            "updated_at": _now(),
        }
        with self.engine.begin() as conn:
            upsert_rows(conn, schema.spaces, [row], keys=("source", "id"))

    def spaces(self) -> list[Space]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(schema.spaces.c.data)).scalars()
            return [Space.model_validate(d) for d in rows]

    def get_cursor(self, source: str, scope: str) -> dict[str, Any] | None:
        c = schema.cursors
        with self.engine.connect() as conn:
            return conn.execute(
                select(c.c.value).where(c.c.source == source, c.c.scope == scope)
            ).scalar_one_or_none()

    def set_cursor(self, cursor: CursorUpdate) -> None:
        with self.engine.begin() as conn:
            self._write_cursor(conn, cursor, _now())

    def _write_cursor(self, conn: Connection, cursor: CursorUpdate, now: int) -> None:
        row = {
            "source": cursor.source,
            "scope": cursor.scope,
            "value": cursor.value,
            "updated_at": now,
        }
        upsert_rows(conn, schema.cursors, [row], keys=("source", "scope"))

    def cursors(self) -> list[tuple[str, str, dict[str, Any], datetime]]:
        c = schema.cursors
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(c).where(~c.c.scope.like("votes:%")).order_by(c.c.source, c.c.scope)
            ).all()
        return [(r.source, r.scope, r.value, utc(r.updated_at)) for r in rows]


def _stored(row: Any) -> StoredProposal:
    return StoredProposal(
        proposal=Proposal.model_validate(row.data),
        first_seen=utc(row.first_seen),
        last_seen=utc(row.last_seen),
        deleted_at=utc(row.deleted_at) if row.deleted_at else None,
        indexed_chunks=row.indexed_chunks or 0,
        indexed_hash=row.indexed_hash,
    )


def _vote(r: Any) -> Vote:
    return Vote(
        source=r.source,
        id=r.id,
        proposal_uid=r.proposal_uid,
        space=r.space,
        voter=r.voter,
        choice=r.choice,
        voting_power=r.voting_power,
        reason=r.reason,
        created=utc(r.created_ts),
        block=r.block,
    )


def _vote_row(vote: Vote) -> dict[str, Any]:
    return {
        "proposal_uid": vote.proposal_uid,
        "voter": vote.voter,
        "id": vote.id,
        "source": vote.source,
        "space": vote.space,
        "choice": vote.choice,
        "voting_power": vote.voting_power,
        "reason": vote.reason,
        "created_ts": int(vote.created.timestamp()),
        "block": vote.block,
    }


def _dedupe(proposals: Sequence[Proposal]) -> list[Proposal]:
    """Last one wins: a page can repeat a proposal at a paging boundary."""
    return list({p.uid: p for p in proposals}.values())


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
