"""Passage texts of indexed proposals, kept beside the records (mixed into RecordStore).

The vector index stores bare vectors under each passage's id; a search reads the
texts of its hits here, and what it shows of their proposals (title, state, flag)
from the proposals table as they are now, so a state change rewrites nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import Engine, delete, func, select, update

from agent.records.passage import Passage, PassageKey, PassageView
from agent.store import schema
from agent.store.upsert import upsert_rows

_PA = schema.passages
_P = schema.proposals
_IN = 500  # values per IN (…) list
_FIELDS = ("chunk_id", "proposal_uid", "space", "flagged", "chunk", "text_key", "text")


def _parts(values: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), _IN):
        yield list(values[start : start + _IN])


class PassageTable:
    """Needs `self.engine`."""

    engine: Engine

    def replace_passages(self, uids: Sequence[str], passages: Sequence[Passage]) -> None:
        """Make `passages` the only passages of proposals `uids`, in one transaction."""
        with self.engine.begin() as conn:
            for part in _parts(list(dict.fromkeys(uids))):
                conn.execute(delete(_PA).where(_PA.c.proposal_uid.in_(part)))
            if passages:
                conn.execute(_PA.insert(), [p.model_dump() for p in passages])

    def upsert_passages(self, passages: Sequence[Passage]) -> None:
        """Insert or overwrite passages by id (moving an older index over)."""
        if passages:
            with self.engine.begin() as conn:
                upsert_rows(conn, _PA, [p.model_dump() for p in passages], keys=["chunk_id"])

    def passages_of(self, uids: Sequence[str]) -> list[Passage]:
        """The passages of `uids`, each proposal's in chunk order."""
        out: list[Passage] = []
        with self.engine.connect() as conn:
            for part in _parts(list(dict.fromkeys(uids))):
                rows = conn.execute(
                    select(*(_PA.c[f] for f in _FIELDS))
                    .where(_PA.c.proposal_uid.in_(part))
                    .order_by(_PA.c.proposal_uid, _PA.c.chunk)
                ).all()
                out += [Passage(**row._mapping) for row in rows]
        return out

    def passage_keys(self, uids: Sequence[str]) -> list[PassageKey]:
        """Where the vectors of `uids`' passages live, each proposal's in chunk order (no
        texts read: a query restricted to thousands of proposals needs only these)."""
        out: list[PassageKey] = []
        with self.engine.connect() as conn:
            for part in _parts(list(dict.fromkeys(uids))):
                rows = conn.execute(
                    select(_PA.c.chunk_id, _PA.c.space, _PA.c.flagged)
                    .where(_PA.c.proposal_uid.in_(part))
                    .order_by(_PA.c.proposal_uid, _PA.c.chunk)
                ).all()
                out += [PassageKey(r.chunk_id, r.space, bool(r.flagged)) for r in rows]
        return out

    def passages_by_text_key(self, keys: Sequence[str]) -> dict[str, Passage]:
        """One passage per content address in `keys` (any of those sharing it)."""
        found: dict[str, Passage] = {}
        with self.engine.connect() as conn:
            for part in _parts(list(dict.fromkeys(keys))):
                rows = conn.execute(
                    select(*(_PA.c[f] for f in _FIELDS)).where(_PA.c.text_key.in_(part))
                ).all()
                for row in rows:
                    found.setdefault(row.text_key, Passage(**row._mapping))
        return found

    def passage_views(self, chunk_ids: Sequence[str]) -> dict[str, PassageView]:
        """Passages by id, with their proposals' title, state, source, date and flag now."""
        found: dict[str, PassageView] = {}
        columns = (
            *(_PA.c[f] for f in _FIELDS),
            _P.c.title,
            _P.c.state,
            _P.c.source,
            _P.c.created_ts,
            _P.c.flagged.label("proposal_flagged"),
        )
        with self.engine.connect() as conn:
            for part in _parts(list(dict.fromkeys(chunk_ids))):
                rows = conn.execute(
                    select(*columns)
                    .select_from(_PA.outerjoin(_P, _P.c.uid == _PA.c.proposal_uid))
                    .where(_PA.c.chunk_id.in_(part))
                ).all()
                for row in rows:
                    data = {k: v for k, v in row._mapping.items() if v is not None}
                    found[row.chunk_id] = PassageView(**data)
        return found

    def move_passages(self, uid: str, *, space: str, flagged: bool) -> None:
        """Record that `uid`'s vectors now live in `space` (and with the flagged ones or not)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(_PA).where(_PA.c.proposal_uid == uid).values(space=space, flagged=flagged)
            )

    def delete_passages(self, uids: Sequence[str]) -> None:
        with self.engine.begin() as conn:
            for part in _parts(list(dict.fromkeys(uids))):
                conn.execute(delete(_PA).where(_PA.c.proposal_uid.in_(part)))

    def count_passages(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(_PA)).scalar_one())
