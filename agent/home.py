"""The data directory's layout, said once.

Everything Steward keeps on disk lives under one directory (`STEWARD_HOME`); every module
that reads or writes a file there asks this class for its path, so the layout cannot drift
between the store, the locks, the audit log and the runner.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DataHome:
    """Paths inside one data directory (settings may move the database, Chroma and PAUSE)."""

    root: Path

    @property
    def database(self) -> Path:
        """The default SQLite record store."""
        return self.root / "steward.db"

    @property
    def chroma(self) -> Path:
        """The default embedded Chroma directory."""
        return self.root / "chroma"

    @property
    def pause_file(self) -> Path:
        """The kill switch: while it exists, nothing is cast."""
        return self.root / "PAUSE"

    @property
    def instance_lock(self) -> Path:
        """Held by the one `steward run` of this directory."""
        return self.root / "steward.lock"

    @property
    def ingest_lock(self) -> Path:
        """Held by whichever process is ingesting into this directory."""
        return self.root / "ingest.lock"

    @property
    def vote_locks(self) -> Path:
        """One lock file per delegate and proposal being cast."""
        return self.root / "locks"

    @property
    def audit_head(self) -> Path:
        """The audit log's hash-chain head."""
        return self.root / "audit.head"

    @property
    def heartbeat(self) -> Path:
        """`steward run`'s heartbeat (what it is doing, when it last ticked)."""
        return self.root / "run.json"
