"""The kill switch for a whole cluster: the pause note in the database, not in one
machine's file, so `steward vote pause` on any machine (or /pause in Discord, whichever
worker leads) stops every worker's next cast. Read before every cast; a database that
cannot be read counts as paused (no vote is better than one cast against a pause)."""

from __future__ import annotations

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from agent.store.cluster_tables import meta

KEY = "voting.pause"


class DbPause:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def note(self) -> str | None:
        """Why casting is paused, or None."""
        try:
            with self.engine.connect() as conn:
                text = conn.execute(select(meta.c.value).where(meta.c.key == KEY)).scalar()
        except SQLAlchemyError:
            return "the pause state cannot be read from the database"
        if text is None:
            return None
        return f"paused: {text[:200] or 'paused'}"

    def set(self, text: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(meta).where(meta.c.key == KEY))
            try:
                with conn.begin_nested():
                    conn.execute(meta.insert().values(key=KEY, value=text[:500]))
            except IntegrityError:  # paused at the same moment by another worker
                pass

    def clear(self) -> bool:
        with self.engine.begin() as conn:
            return bool(conn.execute(delete(meta).where(meta.c.key == KEY)).rowcount)
