"""Every store test here runs on SQLite and on a throwaway PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.store import RecordStore
from agent.voting.audit_log import AuditLog
from agent.voting.intent_store import IntentStore
from tests import postgres


@pytest.fixture(scope="package")
def pg_server() -> Iterator[str]:
    yield from postgres.server_or_skip()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RecordStore]:
    yield from postgres.store_per_backend(request, tmp_path)


@pytest.fixture
def intents(store: RecordStore) -> IntentStore:
    return IntentStore(store.engine)


@pytest.fixture
def head_file(tmp_path: Path) -> Path:
    return tmp_path / "home" / "audit.head"


@pytest.fixture
def audit(store: RecordStore, head_file: Path) -> AuditLog:
    return AuditLog(store.engine, head_file)
