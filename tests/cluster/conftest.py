"""Cluster tests run on SQLite and on a throwaway PostgreSQL server; leases on a clock
the test moves (the database's clock is injectable)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection

from agent.store import RecordStore
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
    yield from postgres.server_or_skip()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RecordStore]:
    yield from postgres.store_per_backend(request, tmp_path, TABLES)


@pytest.fixture
def clock() -> DbClock:
    return DbClock()
