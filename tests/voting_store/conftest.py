"""Every store test here runs on SQLite and on a throwaway PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.store import RecordStore, schema
from agent.voting.audit_log import AuditLog
from agent.voting.intent_store import IntentStore
from tests import postgres


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
        for table in reversed(schema.metadata.sorted_tables):
            conn.execute(table.delete())
    pg.close()


@pytest.fixture
def intents(store: RecordStore) -> IntentStore:
    return IntentStore(store.engine)


@pytest.fixture
def head_file(tmp_path: Path) -> Path:
    return tmp_path / "home" / "audit.head"


@pytest.fixture
def audit(store: RecordStore, head_file: Path) -> AuditLog:
    return AuditLog(store.engine, head_file)
