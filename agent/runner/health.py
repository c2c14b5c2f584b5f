"""The run heartbeat, `<home>/run.json`: what `steward run` is doing and how each job went.

A file rather than a socket so `steward status` can judge a service that has
crashed or hung as well as a healthy one. Written atomically (a temporary file
renamed over the old one): a reader never sees half a heartbeat.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from agent.home import DataHome

Posting = Literal["bot", "webhook", "none"]


class JobHealth(BaseModel):
    """One job's record: the latest outcome, and the last success and error kept apart."""

    every_s: float
    status: Literal["never", "ok", "error"] = "never"
    runs: int = 0
    failures: int = 0
    last_run: datetime | None = None
    last_ok: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    duration_s: float | None = None
    counts: dict[str, int] = Field(default_factory=dict)

    def record(
        self, at: datetime, duration_s: float, counts: dict[str, int], error: str | None
    ) -> None:
        self.runs += 1
        self.last_run, self.duration_s = at, round(duration_s, 3)
        self.counts = counts
        if error is None:
            self.status, self.last_ok = "ok", at
        else:
            self.status, self.failures = "error", self.failures + 1
            self.last_error, self.last_error_at = error, at


class Heartbeat(BaseModel):
    pid: int
    started: datetime
    updated: datetime
    state: Literal["running", "stopped"] = "running"
    stopped: datetime | None = None
    last_tick: datetime | None = None
    """When the loop last finished a pass (it passes at least every `idle_s`)."""
    job: str | None = None
    """The job running right now, since `job_since`."""
    job_since: datetime | None = None
    posting: Posting = "none"
    jobs: dict[str, JobHealth] = Field(default_factory=dict)


class HeartbeatFile:
    def __init__(self, home: Path) -> None:
        self.path = DataHome(home).heartbeat

    def write(self, beat: Heartbeat) -> None:
        """Replace the file in one step; fsync first so a crash leaves old or new, not empty."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".run-", suffix=".json", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(beat.model_dump_json(indent=2))
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def read(self) -> Heartbeat | None:
        """The last heartbeat, or None if there is none (or it is unreadable)."""
        try:
            return Heartbeat.model_validate_json(self.path.read_bytes())
        except (OSError, ValidationError):
            return None
