"""The post log: every message Steward sends is claimed here first, so a restart
never posts the same alert twice and a failed post is retried, not dropped.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from agent.store import schema

_T = schema.posts
PostKind = Literal["digest", "alert", "reminder", "approval"]


class Post(BaseModel):
    model_config = ConfigDict(frozen=True)
    key: str
    target: str
    kind: str
    status: str
    attempts: int
    payload: dict[str, Any]
    error: str | None


class PostLog:
    """Mixed into RecordStore; needs `self.engine`."""

    engine: Engine

    def claim_post(self, key: str, *, target: str, kind: PostKind, payload: dict[str, Any]) -> bool:
        """Record a post about to be sent; False if `key` was claimed before (never twice)."""
        now = int(time.time())
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(_T).values(
                        key=key,
                        target=target,
                        kind=kind,
                        status="pending",
                        attempts=0,
                        payload=payload,
                        created_ts=now,
                        updated_ts=now,
                    )
                )
        except IntegrityError:
            return False
        return True

    def record_progress(self, key: str, sent: int) -> None:
        """How many messages of a multi-message post went out: a retry resumes there."""
        with self.engine.begin() as conn:
            payload = conn.execute(select(_T.c.payload).where(_T.c.key == key)).scalar_one()
            conn.execute(
                update(_T)
                .where(_T.c.key == key)
                .values(payload={**payload, "sent": sent}, updated_ts=int(time.time()))
            )

    def mark_posted(self, key: str) -> None:
        self._set(key, "posted", None)

    def mark_failed(self, key: str, error: str) -> None:
        self._set(key, "failed", error[:500])

    def _set(self, key: str, status: str, error: str | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(_T)
                .where(_T.c.key == key)
                .values(
                    status=status,
                    error=error,
                    attempts=_T.c.attempts + 1,
                    updated_ts=int(time.time()),
                )
            )

    def post(self, key: str) -> Post | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(_T).where(_T.c.key == key)).first()
        return _post(row) if row else None

    def unsent_posts(self, max_attempts: int = 10) -> list[Post]:
        """Claimed but not delivered (crashed before, or failed): to be retried."""
        query = select(_T).where(_T.c.status != "posted", _T.c.attempts < max_attempts)
        with self.engine.connect() as conn:
            return [_post(r) for r in conn.execute(query.order_by(_T.c.created_ts))]

    # ---- channel subscriptions --------------------------------------------
    def subscribe(self, channel: str, space: str) -> bool:
        s = schema.subscriptions
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(s).values(channel=channel, space=space, created_ts=int(time.time()))
                )
        except IntegrityError:
            return False
        return True

    def unsubscribe(self, channel: str, space: str) -> bool:
        s = schema.subscriptions
        with self.engine.begin() as conn:
            result = conn.execute(delete(s).where(s.c.channel == channel, s.c.space == space))
        return bool(result.rowcount)

    def subscriptions(self) -> list[tuple[str, str]]:
        s = schema.subscriptions
        with self.engine.connect() as conn:
            return [(r.channel, r.space) for r in conn.execute(select(s).order_by(s.c.channel))]


def _post(row: Any) -> Post:
    return Post(
        key=row.key,
        target=row.target,
        kind=row.kind,
        status=row.status,
        attempts=row.attempts,
        payload=row.payload,
        error=row.error,
    )
