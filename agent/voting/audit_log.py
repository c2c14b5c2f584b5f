"""The audit log: append-only, hash-chained, anchored in a head file outside the database.

`append` reads the head and inserts the next seq; the seq is the primary key, so
when two processes race for the same seq one insert fails and that writer
retries on the new head. After the commit the head file is advanced, so
removing the newest rows is caught by `verify` even though the shorter chain is
still internally valid.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine, insert, or_, select
from sqlalchemy.exc import IntegrityError

from agent.errors import StoreError
from agent.store import schema
from agent.voting.audit import GENESIS, AuditHeadError, HeadFile, entry_hash, verify_chain
from agent.voting.canonical import json_safe
from agent.voting.intents import delegate_key
from agent.voting.models import AuditEntry, AuditHead, AuditKind, AuditReport

_L = schema.audit_log
MAX_TRIES = 50


class AuditLog:
    """The audit log in the record store's database: `AuditLog(store.engine, head_path)`.

    `head` is the head file (`agent.voting.audit.head_path(home)`); None keeps no
    anchor, and `verify` then cannot see a truncated tail.
    """

    def __init__(
        self,
        engine: Engine,
        head: Path | None,
        *,
        on_append: Callable[[AuditEntry], None] | None = None,
    ) -> None:
        self.engine = engine
        self.head = HeadFile(head) if head else None
        self._on_append = on_append
        """Told of each entry once it is stored and anchored (the service's metrics)."""

    def append(
        self,
        kind: AuditKind,
        *,
        delegate: str | None = None,
        proposal_uid: str | None = None,
        data: Mapping[str, Any] | None = None,
        ts: int | None = None,
    ) -> AuditEntry:
        """Add one entry at the end of the chain and anchor it; returns it."""
        payload = json_safe(dict(data or {}))
        who = delegate_key(delegate) if delegate is not None else None
        for attempt in range(MAX_TRIES):
            try:
                entry = self._insert_next(kind, who, proposal_uid, payload, ts)
            except IntegrityError:  # another writer took this seq: retry on the new head
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
                continue
            if self.head is not None:
                self.head.advance(AuditHead(seq=entry.seq, hash=entry.hash))
            if self._on_append is not None:
                self._on_append(entry)
            return entry
        raise StoreError("could not append to the audit log: too many concurrent writers")

    def _insert_next(
        self,
        kind: str,
        delegate: str | None,
        proposal_uid: str | None,
        data: dict[str, Any],
        ts: int | None,
    ) -> AuditEntry:
        with self.engine.begin() as conn:
            last = conn.execute(
                select(_L.c.seq, _L.c.hash).order_by(_L.c.seq.desc()).limit(1)
            ).first()
            fields: dict[str, Any] = {
                "seq": last.seq + 1 if last else 1,
                "ts": int(time.time()) if ts is None else ts,
                "kind": kind,
                "delegate": delegate,
                "proposal_uid": proposal_uid,
                "data": data,
                "prev_hash": last.hash if last else GENESIS,
            }
            entry = AuditEntry(**fields, hash=entry_hash(**fields))
            conn.execute(insert(_L).values(**entry.model_dump()))
        return entry

    def entries(
        self,
        *,
        proposal_uid: str | None = None,
        delegate: str | None = None,
        include_undelegated: bool = True,
    ) -> list[AuditEntry]:
        """Entries oldest first, optionally about one proposal and/or one delegate
        (with `include_undelegated`, entries naming no delegate match too)."""
        query = select(_L).order_by(_L.c.seq)
        if proposal_uid is not None:
            query = query.where(_L.c.proposal_uid == proposal_uid)
        if delegate is not None:
            mine = _L.c.delegate == delegate_key(delegate)
            query = query.where(or_(mine, _L.c.delegate.is_(None)) if include_undelegated else mine)
        with self.engine.connect() as conn:
            return [_entry(r) for r in conn.execute(query)]

    def tail(self, limit: int = 20) -> list[AuditEntry]:
        """The newest `limit` entries, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(_L).order_by(_L.c.seq.desc()).limit(limit)).all()
        return [_entry(r) for r in reversed(rows)]

    def verify(self) -> AuditReport:
        """Walk the whole chain and check its end against the head file."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(_L).order_by(_L.c.seq)).all()
        try:
            head = self.head.read() if self.head else None
        except AuditHeadError as exc:
            return AuditReport(
                ok=False,
                entries=len(rows),
                last_seq=rows[-1].seq if rows else None,
                head=None,
                problem="head_unreadable",
                detail=str(exc),
            )
        entries: list[AuditEntry] = []
        for row in rows:
            try:
                entries.append(_entry(row))
            except ValidationError:
                return _unreadable_row(entries, row.seq, len(rows), head)
        return verify_chain(entries, head, require_head=self.head is not None)


def _unreadable_row(
    before: list[AuditEntry], seq: int, count: int, head: AuditHead | None
) -> AuditReport:
    """A row that no longer parses as an entry was edited, unless the chain broke earlier."""
    earlier = verify_chain(before, None, require_head=False)
    if not earlier.ok:
        return earlier.model_copy(update={"entries": count, "head": head})
    return AuditReport(
        ok=False,
        entries=count,
        last_seq=None,
        head=head,
        broken_seq=seq,
        problem="edited",
        detail=f"the entry at seq {seq} is no longer a valid entry: it was edited",
    )


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        ts=row.ts,
        kind=row.kind,
        delegate=row.delegate,
        proposal_uid=row.proposal_uid,
        data=row.data,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )
