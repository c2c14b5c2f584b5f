"""Dialect-aware INSERT … ON CONFLICT for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def upsert_rows(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    keys: Sequence[str],
    newer: str | None = None,
) -> None:
    """Insert rows, updating on key conflict; with `newer`, only if that column grew."""
    dialect = conn.dialect.name
    stmt: Any
    if dialect == "sqlite":
        stmt = sqlite.insert(table)
    elif dialect == "postgresql":
        stmt = postgresql.insert(table)
    else:  # pragma: no cover - guarded at configuration time
        raise ValueError(f"unsupported database dialect {dialect!r}")
    columns = [c for c in rows[0] if c not in keys]
    where = None
    if newer:
        where = table.c[newer] <= stmt.excluded[newer]
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={c: stmt.excluded[c] for c in columns},
        where=where,
    )
    conn.execute(stmt, list(rows))
