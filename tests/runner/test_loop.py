"""The Runner on a fake clock: intervals, failures retried, stop between jobs."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from agent.errors import SourceUnavailable
from agent.runner.health import Heartbeat, HeartbeatFile
from agent.runner.loop import Job, JobResult, Runner, describe_error

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class Counted(JobResult):
    items: int = 0


class FakeTime:
    """Monotonic seconds, wall time and a sleep that advances both; stops the run at `until`."""

    def __init__(self, stop: threading.Event, until: float) -> None:
        self.t, self.stop, self.until = 0.0, stop, until
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.t

    def now(self) -> datetime:
        return EPOCH + timedelta(seconds=self.t)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
        if self.t >= self.until:
            self.stop.set()


def _runner(jobs: list[Job], until: float, **kw: Any) -> tuple[Runner, FakeTime, list[Heartbeat]]:
    stop = threading.Event()
    fake = FakeTime(stop, until)
    beats: list[Heartbeat] = []
    runner = Runner(
        jobs, stop=stop, clock=fake.clock, now=fake.now, sleep=fake.sleep, beat=beats.append, **kw
    )
    return runner, fake, beats


def test_jobs_run_at_their_intervals_and_a_failure_is_retried_next_interval() -> None:
    ran: dict[str, list[float]] = {"ingest": [], "vote": []}
    fake: FakeTime

    def ingest() -> JobResult:
        ran["ingest"].append(fake.t)
        return Counted(items=3)

    def vote() -> JobResult:
        ran["vote"].append(fake.t)
        if len(ran["vote"]) == 1:
            raise SourceUnavailable("hub down at https://user:s3cret@hub.example/graphql")
        return JobResult()

    jobs = [Job("ingest", 10, ingest), Job("vote", 25, vote)]
    runner, fake, beats = _runner(jobs, until=60)
    runner.run_forever()

    assert ran == {"ingest": [0, 10, 20, 30, 40, 50], "vote": [0, 25, 50]}
    vote_health = runner.heartbeat.jobs["vote"]
    assert (vote_health.runs, vote_health.failures, vote_health.status) == (3, 1, "ok")
    assert vote_health.last_error is not None and "hub down" in vote_health.last_error
    assert "s3cret" not in vote_health.last_error  # credentials in URLs are blanked
    assert vote_health.last_error_at == EPOCH and vote_health.last_ok == EPOCH + timedelta(
        seconds=50
    )
    assert runner.heartbeat.jobs["ingest"].counts == {"items": 3}
    assert beats[-1].last_tick == EPOCH + timedelta(seconds=50)


def test_stop_is_honoured_between_jobs_never_inside_one() -> None:
    order: list[str] = []
    stop_holder: list[threading.Event] = []

    def first() -> JobResult:
        order.append("first")
        stop_holder[0].set()  # a signal arrives while this job runs
        order.append("first finished")
        return JobResult()

    def second() -> JobResult:
        order.append("second")
        return JobResult()

    runner, _fake, _beats = _runner([Job("first", 5, first), Job("second", 5, second)], 100)
    stop_holder.append(runner.stop)
    runner.run_forever()
    assert order == ["first", "first finished"]
    runner.finish()
    assert runner.heartbeat.state == "stopped" and runner.heartbeat.job is None


def test_run_once_runs_every_job_and_reports_failures() -> None:
    def broken() -> JobResult:
        raise RuntimeError("bug")

    def partial_run() -> JobResult:
        return Counted(items=2, errors=["one source failed"])

    runner, fake, _ = _runner(
        [Job("a", 600, broken), Job("b", 600, partial_run), Job("c", 600, JobResult)], 1
    )
    assert runner.run_once() is False
    jobs = runner.heartbeat.jobs
    assert jobs["a"].last_error == "RuntimeError: bug" and jobs["a"].counts == {}
    assert jobs["b"].status == "error" and jobs["b"].counts == {"items": 2}
    assert jobs["c"].status == "ok" and fake.sleeps == []


def test_retry_after_pushes_the_next_run_and_idle_passes_keep_the_heartbeat_fresh() -> None:
    times: list[float] = []
    fake: FakeTime

    def post() -> JobResult:
        times.append(fake.t)
        return JobResult(retry_after_s=100 if len(times) == 1 else None)

    runner, fake, beats = _runner([Job("post", 10, post)], until=130, idle_s=30)
    runner.run_forever()
    assert times == [0, 100, 110, 120]
    assert fake.sleeps[:4] == [30, 30, 30, 10]  # never silent longer than idle_s
    assert len({b.last_tick for b in beats}) >= 7


def test_describe_error_keeps_our_messages_and_blanks_secrets() -> None:
    describe = partial(describe_error, secrets=["tok3n-value"])
    assert describe(SourceUnavailable("the hub said no")) == "the hub said no"
    assert describe(ValueError("posting to /webhooks/1/tok3n-value failed")) == (
        "ValueError: posting to /webhooks/1/[redacted] failed"
    )


def test_heartbeat_file_is_replaced_whole(tmp_path: Path) -> None:
    file = HeartbeatFile(tmp_path / "home")
    assert file.read() is None
    beat = Heartbeat(pid=42, started=EPOCH, updated=EPOCH)
    file.write(beat)
    file.write(beat.model_copy(update={"state": "stopped"}))
    assert file.read() == beat.model_copy(update={"state": "stopped"})
    assert [p.name for p in file.path.parent.iterdir()] == ["run.json"]
