"""Numbered migrations, applied in order and recorded in `schema_migrations`.

Add a function `mNNN_what(conn)` and append it to MIGRATIONS; never edit one
that has shipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Connection, Engine, inspect, select, text

from agent.store import schema

Migration = Callable[[Connection], None]


def m001_initial(conn: Connection) -> None:
    tables = [
        schema.spaces,
        schema.proposals,
        schema.proposal_history,
        schema.votes,
        schema.cursors,
        schema.runs,
    ]
    schema.metadata.create_all(conn, tables=tables)


def m002_assessments(conn: Connection) -> None:
    schema.metadata.create_all(conn, tables=[schema.assessments])


def m003_posts(conn: Connection) -> None:
    schema.metadata.create_all(conn, tables=[schema.posts, schema.subscriptions])


def m004_chain(conn: Connection) -> None:
    """Chain votes remember their block, so a reorg can remove exactly what it undid."""
    columns = {c["name"] for c in inspect(conn).get_columns("votes")}
    if "block" not in columns:  # a fresh database got it from m001's create_all
        conn.execute(text("ALTER TABLE votes ADD COLUMN block INTEGER"))
    conn.execute(
        text("CREATE INDEX IF NOT EXISTS ix_votes_space_block ON votes (source, space, block)")
    )


def m005_voting(conn: Connection) -> None:
    """Vote intents (never twice) and the hash-chained audit log."""
    schema.metadata.create_all(conn, tables=[schema.vote_intents, schema.audit_log])


def m006_decisions(conn: Connection) -> None:
    """Per-delegate vote decisions with their approval or veto."""
    schema.metadata.create_all(conn, tables=[schema.vote_decisions])


def m007_run_liveness(conn: Connection) -> None:
    """Runs remember their process and when they last made progress (crashed → interrupted)."""
    if not inspect(conn).has_table("runs"):
        schema.metadata.create_all(conn, tables=[schema.runs])
    columns = {c["name"] for c in inspect(conn).get_columns("runs")}
    for name, kind in (("pid", "INTEGER"), ("host", "VARCHAR(255)"), ("seen_at", "INTEGER")):
        if name not in columns:  # a fresh database got them from m001's create_all
            conn.execute(text(f"ALTER TABLE runs ADD COLUMN {name} {kind}"))


def m008_voter_views(conn: Connection) -> None:
    """Delegate records look votes up by address (any case); signals read a space's votes."""
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_votes_voter ON votes (lower(voter))"))
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_votes_space_ts ON votes (space, created_ts)"))


def m009_simulations(conn: Connection) -> None:
    """Fork simulations of on-chain proposals, versioned by report hash."""
    schema.metadata.create_all(conn, tables=[schema.simulations])


def m010_fulltext(conn: Connection) -> None:
    """The full-text index for hybrid search; filled by the indexer from stored proposals."""
    schema.metadata.create_all(conn, tables=[schema.text_docs])
    if conn.dialect.name == "sqlite":
        conn.execute(
            text(
                "CREATE VIRTUAL TABLE IF NOT EXISTS text_fts USING fts5("
                "title, body, tokenize = 'porter unicode61 remove_diacritics 2')"
            )
        )
    else:
        conn.execute(text("ALTER TABLE text_docs ADD COLUMN IF NOT EXISTS tsv tsvector"))
        conn.execute(
            text("CREATE INDEX IF NOT EXISTS ix_text_docs_tsv ON text_docs USING gin (tsv)")
        )


def m011_backtests(conn: Connection) -> None:
    """Backtest results: the gate for auto voting reads the latest matching one."""
    schema.metadata.create_all(conn, tables=[schema.backtests])


def m012_cluster(conn: Connection) -> None:
    """Cluster mode: job leases with fencing tokens, workers, the deployment, rate slots."""
    from agent.store.cluster_tables import TABLES

    schema.metadata.create_all(conn, tables=TABLES)


def m013_passages(conn: Connection) -> None:
    """Passage texts move out of the vector index into the store (filled by the index on
    its first open, from the collections it had, without re-embedding)."""
    schema.metadata.create_all(conn, tables=[schema.passages])


MIGRATIONS: list[Migration] = [
    m001_initial,
    m002_assessments,
    m003_posts,
    m004_chain,
    m005_voting,
    m006_decisions,
    m007_run_liveness,
    m008_voter_views,
    m009_simulations,
    m010_fulltext,
    m011_backtests,
    m012_cluster,
    m013_passages,
]


def migrate(engine: Engine) -> list[str]:
    """Apply pending migrations; returns the names applied now."""
    applied_now: list[str] = []
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # workers starting together migrate one at a time
            conn.execute(text("SELECT pg_advisory_xact_lock(7451003)"))
        schema.metadata.create_all(conn, tables=[schema.schema_migrations])
        done = set(conn.execute(select(schema.schema_migrations.c.name)).scalars())
        for migration in MIGRATIONS:
            if migration.__name__ in done:
                continue
            migration(conn)
            conn.execute(
                schema.schema_migrations.insert().values(
                    name=migration.__name__, applied_at=int(time.time())
                )
            )
            applied_now.append(migration.__name__)
    return applied_now
