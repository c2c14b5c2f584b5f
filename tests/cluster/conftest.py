"""Cluster tests run on SQLite and on a throwaway PostgreSQL server; leases on a clock
the test moves (the database's clock is injectable)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection

from agent.store import RecordStore, schema
from agent.store.cluster_tables import TABLES
from tests import postgres


class DbClock:
    """Stands in for the database's clock: the test moves it."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.t = start

    def __call__(self, conn: Connection) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture(scope="package")
def pg_server() -> Iterator[str]:
    reason = postgres.unavailable()
    if reason:
        pytest.skip(reason)
    with postgres.postgres_cluster() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RecordStore]:
    if request.param == "sqlite":
        sqlite = RecordStore(f"sqlite:///{tmp_path / 'db' / 'steward.db'}")
        yield sqlite
        sqlite.close()
        return
    pg = RecordStore(request.getfixturevalue("pg_server"))
    yield pg
    with pg.engine.begin() as conn:
        for table in [*TABLES, *reversed(schema.metadata.sorted_tables)]:
            conn.execute(table.delete())
    pg.close()


@pytest.fixture
def clock() -> DbClock:
    return DbClock()
