"""What the multi-process cluster tests and bench/cluster_bench.py share: a PostgreSQL
server that can be stopped and started again, a hub with many spaces, and `steward run`
workers as real processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import PROJECT
from tests.fakes.snapshot_data import fake_hex
from tests.fakes.snapshot_hub import FakeHub
from tests.postgres import _as_postgres, _free_port

STEWARD = str(Path(sys.executable).with_name("steward"))
DAY = 86400


class Postgres:
    """A throwaway PostgreSQL server the test can stop and start (same port, same data)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="steward-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        subprocess.run(
            _as_postgres(["initdb", "-D", str(self.data), "-U", "steward", "--auth=trust"]),
            check=True,
            capture_output=True,
        )
        self.url = f"postgresql+psycopg://steward@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -F -c max_connections=200"
        log = str(self.root / "log")
        subprocess.run(
            _as_postgres(["pg_ctl", "-D", str(self.data), "-w", "-l", log, "-o", options, "start"]),
            check=True,
            capture_output=True,
        )

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            _as_postgres(["pg_ctl", "-D", str(self.data), "-w", "-m", mode, "stop"]),
            capture_output=True,
        )

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    pg = Postgres()
    pg.start()
    try:
        yield pg
    finally:
        pg.remove()


def space_name(i: int) -> str:
    return f"dao{i:03d}.eth"


def seed_spaces(hub: FakeHub, spaces: int, proposals: int = 2, votes: int = 3) -> list[str]:
    """`spaces` spaces of closed proposals with a few votes each; returns the space ids."""
    now = int(hub.now())
    names = []
    for i in range(spaces):
        name = space_name(i)
        names.append(name)
        hub.add_space(name, name=f"DAO {i}", symbol="GOV", network="1")
        for j in range(proposals):
            created = now - (j + 3) * 7 * DAY
            pid = fake_hex(f"{name}:{j}")
            hub.add_proposal(
                name,
                id=pid,
                title=f"DAO {i} proposal {j}: fund the working group",
                body=f"Fund the working group of DAO {i} for quarter {j}.",
                created=created,
                start=created,
                end=created + 5 * DAY,
                choices=["For", "Against", "Abstain"],
            )
            for k in range(votes):
                hub.add_vote(
                    pid,
                    voter=fake_hex(f"voter-{k}", 40),
                    choice=1 + k % 3,
                    vp=1.0 + k,
                    created=created + 100 + k,
                )
    return names


def write_config(
    path: Path,
    hub_url: str,
    db_url: str,
    spaces: list[str],
    *,
    chroma_url: str | None = None,
    ingest_every_s: float = 3600,
    **cluster: object,
) -> Path:
    """Workers over `spaces`; with `chroma_url` they also index into that Chroma server."""
    lines = [
        f"database:\n  url: {db_url}",
        f"snapshot:\n  hub_url: {hub_url}\n  spaces: [{', '.join(spaces)}]",
        "  max_retries: 0\n  timeout_s: 60",
        f"  requests_per_minute: {cluster.pop('requests_per_minute', 100000)}",
        f"run:\n  index: {str(chroma_url is not None).lower()}\n  analyse: false",
        f"  ingest_every_s: {ingest_every_s}",
        *([f"vector_store:\n  url: {chroma_url}"] if chroma_url else []),
        "cluster:\n  deployment: test-dao",
        *[f"  {k}: {v}" for k, v in cluster.items()],
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


class Worker:
    """One `steward run` process with its own data directory; stderr goes to a file."""

    def __init__(self, config: Path, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.log = home / "worker.log"
        env = {**os.environ, "STEWARD_HOME": str(home), "PYTHONPATH": str(PROJECT)}
        self.proc = subprocess.Popen(
            [STEWARD, "--config", str(config), "run"],
            cwd=PROJECT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("w"),
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def logged(self, text: str) -> bool:
        return text in self.log.read_text(errors="replace")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.proc.wait(timeout=60)


def wait_until(ready: Callable[[], bool], timeout: float, what: str, poll: float = 0.1) -> float:
    """Wait for a condition, checking it every `poll`; AssertionError naming `what` past timeout."""
    started = time.monotonic()
    tick = threading.Event()
    while not ready():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        tick.wait(poll)
    return time.monotonic() - started
