"""The record-store fixtures (SQLite and a real PostgreSQL) shared with tests/test_store.py."""

from tests.test_store import pg_server, store  # noqa: F401
