"""The scheduler of `steward run`: due jobs in order, one at a time, until told to stop.

Jobs run one after another in one thread, so a stop request (a signal sets
`stop`) takes effect between jobs, never inside one: a voting tick always
finishes what it started. A job that fails is logged, recorded in the
heartbeat and tried again at its next interval; it never ends the loop. The
clock and the sleep are injectable, so tests walk through hours instantly.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from agent.errors import StewardError
from agent.observe import NullObserver, Observer
from agent.runner.health import Heartbeat, JobHealth, Posting
from agent.voting.intents import redact

log = logging.getLogger(__name__)


class JobResult(BaseModel):
    """What a job did. Its integer fields are its counts; any `errors` make the run a failure
    (the counts are kept: a partial run still did something)."""

    errors: list[str] = Field(default_factory=list)
    retry_after_s: float | None = None
    """Do not run this job again sooner (a target asked us to slow down)."""

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in self.model_dump().items() if type(v) is int}


@dataclass(frozen=True)
class Job:
    name: str
    every_s: float
    run: Callable[[], JobResult]


def describe_error(exc: BaseException, secrets: Iterable[str] = ()) -> str:
    """A failure in words fit for a log: our errors' messages, others' type and text,
    with secrets (and anything shaped like a credential) blanked out."""
    text = str(exc) if isinstance(exc, StewardError) else f"{type(exc).__name__}: {exc}"
    return redact(text, secrets)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Runner:
    """Runs `jobs` at their intervals (first pass: all of them) and reports to `beat`."""

    def __init__(
        self,
        jobs: Sequence[Job],
        *,
        stop: threading.Event | None = None,
        beat: Callable[[Heartbeat], None] = lambda _beat: None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = _utcnow,
        sleep: Callable[[float], object] | None = None,
        describe: Callable[[BaseException], str] = describe_error,
        idle_s: float = 30.0,
        posting: Posting = "none",
        observer: Observer | None = None,
    ) -> None:
        self.jobs = list(jobs)
        self._observer = observer or NullObserver()
        self.stop = stop or threading.Event()
        self._beat_to = beat
        self._clock, self._now = clock, now
        self._sleep = sleep or self.stop.wait
        self._describe = describe
        self.idle_s = idle_s
        start = now()
        self.heartbeat = Heartbeat(
            pid=os.getpid(),
            started=start,
            updated=start,
            posting=posting,
            jobs={j.name: JobHealth(every_s=j.every_s) for j in self.jobs},
        )
        self._due = {j.name: clock() for j in self.jobs}

    def run_once(self) -> bool:
        """Every job once, in order (a stop still ends it between jobs); True if all went well."""
        ok = True
        for job in self.jobs:
            if self.stop.is_set():
                break
            ok = self._run(job) and ok
        self._tick_done()
        return ok

    def run_forever(self) -> None:
        """Pass over the due jobs, sleep until the next is due (at most `idle_s`), repeat."""
        while not self.stop.is_set():
            for job in self.due():
                if self.stop.is_set():
                    break
                self._run(job)
            self._tick_done()
            wait = self._wait()
            if wait > 0 and not self.stop.is_set():
                self._sleep(wait)

    def due(self) -> list[Job]:
        now = self._clock()
        return [j for j in self.jobs if self._due[j.name] <= now]

    def finish(self) -> None:
        """The last heartbeat: stopped, nothing running."""
        at = self._now()
        self.heartbeat.state, self.heartbeat.stopped = "stopped", at
        self.heartbeat.job = self.heartbeat.job_since = None
        self._beat(at)

    def _run(self, job: Job) -> bool:
        at, started = self._now(), self._clock()
        self.heartbeat.job, self.heartbeat.job_since = job.name, at
        self._beat(at)
        result: JobResult | None = None
        try:
            result = job.run()
            error = "; ".join(result.errors) or None
        except Exception as exc:  # a job's failure must never end the service
            error = self._describe(exc)
            log.debug("%s failed", job.name, exc_info=True)
        finished = self._clock()
        counts = result.counts() if result else {}
        self.heartbeat.jobs[job.name].record(at, finished - started, counts, error)
        self._observer.job_done(job.name, error is None, finished - started)
        self.heartbeat.job = self.heartbeat.job_since = None
        self._schedule(job, started, finished, result)
        if error:
            log.error("%s failed (next try in %.0fs): %s", job.name, job.every_s, error)
        else:
            log.info("%s ok in %.1fs%s", job.name, finished - started, _summary(counts))
        self._beat(self._now())
        return error is None

    def _schedule(
        self, job: Job, started: float, finished: float, result: JobResult | None
    ) -> None:
        due = max(started + job.every_s, finished)
        if result is not None and result.retry_after_s:
            due = max(due, finished + result.retry_after_s)
        self._due[job.name] = due

    def _wait(self) -> float:
        if not self.jobs:
            return self.idle_s
        return max(0.0, min(min(self._due.values()) - self._clock(), self.idle_s))

    def _tick_done(self) -> None:
        at = self._now()
        self.heartbeat.last_tick = at
        self._beat(at)

    def _beat(self, at: datetime) -> None:
        self.heartbeat.updated = at
        try:
            self._beat_to(self.heartbeat.model_copy(deep=True))
        except OSError as exc:  # a full disk must not stop voting; say so and go on
            log.warning("cannot write the heartbeat: %s", exc.strerror or exc)


def _summary(counts: dict[str, int]) -> str:
    shown = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
    return f": {shown}" if shown else ""
