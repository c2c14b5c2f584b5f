"""Tables of cluster mode (migration m012): leases, workers, the deployment, rate slots.

Times are seconds since the epoch on the database's clock (`db_now`), never a
worker's: workers whose clocks disagree by seconds still agree on who holds what.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, Float, Index, Integer, String, Table, text

from agent.store.schema import metadata

leases = Table(
    "cluster_leases",
    metadata,
    Column("name", String(400), primary_key=True),
    Column("holder", String(200)),
    # The fencing token: +1 at every change of holder, never reset.
    Column("token", Integer, nullable=False, default=0),
    Column("expires_at", Float, nullable=False, default=0.0),
    Column("acquired_at", Float),
    # A scheduled job is not claimed again before this (set when it finishes).
    Column("due_at", Float, nullable=False, default=0.0),
    Column("takeovers", Integer, nullable=False, default=0),
)

workers = Table(
    "cluster_workers",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("deployment", String(200), nullable=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
    Column("stopped_at", Float),
)

meta = Table(
    "cluster_meta",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", String(500), nullable=False),
)

rate_slots = Table(
    "cluster_rate_slots",
    metadata,
    Column("bucket", String(200), primary_key=True),
    Column("slot", Integer, primary_key=True),
    Column("used_at", Float, nullable=False, default=0.0),
    Index("ix_rate_slots_used", "bucket", "used_at"),
)

TABLES = [leases, workers, meta, rate_slots]


def db_now(conn: Connection) -> float:
    """Now on the database server's clock (SQLite: this machine's, the only one)."""
    if conn.dialect.name == "postgresql":
        return float(
            conn.execute(text("SELECT extract(epoch FROM clock_timestamp())")).scalar_one()
        )
    return float(conn.execute(text("SELECT (julianday('now') - 2440587.5) * 86400.0")).scalar_one())
