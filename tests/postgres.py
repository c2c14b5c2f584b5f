"""A throwaway PostgreSQL cluster on 127.0.0.1 for the record-store tests.

Started with the server binaries the machine has (initdb/pg_ctl); the tests
that use it are skipped, saying why, where there are none.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from agent.store import RecordStore


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(args: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; CI runs as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


def unavailable() -> str | None:
    if not (shutil.which("initdb") and shutil.which("pg_ctl")):
        return "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
    if os.geteuid() == 0 and subprocess.run(["id", "postgres"], capture_output=True).returncode:
        return "running as root without a postgres user to run the server as"
    return None


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """Yield a SQLAlchemy URL of a fresh database; everything is removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="steward-pg-"))
    data = root / "data"
    port = _free_port()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    run = {"check": True, "capture_output": True}
    subprocess.run(
        _as_postgres(["initdb", "-D", str(data), "-U", "steward", "--auth=trust", "-E", "UTF8"]),
        **run,
    )
    subprocess.run(
        _as_postgres(
            [
                "pg_ctl",
                "-D",
                str(data),
                "-w",
                "-l",
                str(root / "log"),
                "-o",
                f"-h 127.0.0.1 -p {port} -k {root} -F",
                "start",
            ]
        ),
        **run,
    )
    try:
        yield f"postgresql+psycopg://steward@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_postgres(["pg_ctl", "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def server_or_skip() -> Iterator[str]:
    """The body of a `pg_server` fixture (each package picks its scope): a throwaway
    server's URL, or the test skipped, saying why."""
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    with postgres_cluster() as url:
        yield url


def store_per_backend(
    request: pytest.FixtureRequest, tmp_path: Path, tables_first: Sequence[Any] = ()
) -> Iterator[RecordStore]:
    """The body of a `store` fixture with params ["sqlite", "postgresql"]: a SQLite file, or
    the `pg_server` fixture's database, emptied afterwards (`tables_first` before the
    schema's own tables, for tables that refer to them)."""
    from agent.store import RecordStore, schema

    if request.param == "sqlite":
        sqlite = RecordStore(f"sqlite:///{tmp_path / 'db' / 'steward.db'}")
        yield sqlite
        sqlite.close()
        return
    pg = RecordStore(request.getfixturevalue("pg_server"))
    yield pg
    with pg.engine.begin() as conn:
        for table in [*tables_first, *reversed(schema.metadata.sorted_tables)]:
            conn.execute(table.delete())
    pg.close()
