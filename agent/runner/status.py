"""What `steward status` says about the service: is `steward run` alive, how did each job
go, and where does voting stand (paused? waiting on the delegate?).

Reads files and the record store only — no Chroma, no model — so status stays fast.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from agent.runner.health import Heartbeat, HeartbeatFile
from agent.settings import Settings
from agent.store import RecordStore

RunState = Literal["never", "running", "stale", "stopped"]


class RunView(BaseModel):
    state: RunState
    detail: str
    tick_age_s: float | None = None
    heartbeat: Heartbeat | None = None


class DelegateView(BaseModel):
    id: str
    mode: str
    scope: list[str] = Field(default_factory=list)
    """Snapshot spaces and governors the delegate votes in."""


class VotingView(BaseModel):
    enabled: bool
    paused: str | None
    delegates: list[DelegateView]
    pending_intents: int
    """Votes intended or sent but not yet confirmed (settled by the next tick)."""
    awaiting_approval: int


class ServiceHealth(BaseModel):
    run: RunView
    voting: VotingView


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    return True


def run_view(
    beat: Heartbeat | None,
    *,
    now: datetime,
    stale_after_s: float,
    alive: Callable[[int], bool] = pid_alive,
) -> RunView:
    """`running` needs a live process and a recent heartbeat; a dead one that never said
    `stopped` crashed (or was killed), and one silent too long is hung or overloaded."""
    if beat is None:
        return RunView(state="never", detail="steward run has not run on this data directory")
    age = (now - beat.last_tick).total_seconds() if beat.last_tick else None
    silent = (now - beat.updated).total_seconds()
    if beat.state == "stopped":
        when = beat.stopped or beat.updated
        return RunView(state="stopped", detail=f"stopped {_ago(now, when)}", heartbeat=beat)
    if not alive(beat.pid):
        heard = _ago(now, beat.updated)
        detail = f"process {beat.pid} is gone without stopping cleanly (last heard {heard})"
        return RunView(state="stale", detail=detail, tick_age_s=age, heartbeat=beat)
    doing = ""
    if beat.job and beat.job_since:
        doing = f"; {beat.job} running for {span((now - beat.job_since).total_seconds())}"
    if silent > stale_after_s:
        detail = f"pid {beat.pid} alive but silent for {span(silent)}{doing}"
        return RunView(state="stale", detail=detail, tick_age_s=age, heartbeat=beat)
    detail = f"pid {beat.pid}, up {span((now - beat.started).total_seconds())}{doing}"
    return RunView(state="running", detail=detail, tick_age_s=age, heartbeat=beat)


def pause_note(path: Path) -> str | None:
    """As `VotingService.paused` reads it: the pause file's note, or None when absent."""
    try:
        note = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError:
        return "the pause file exists but cannot be read"
    return f"paused: {note[:200] or 'pause file present'}"


def voting_view(settings: Settings, store: RecordStore) -> VotingView:
    from agent.store.decisions import DecisionLog
    from agent.voting.intent_store import IntentStore

    return VotingView(
        enabled=settings.voting.enabled,
        paused=pause_note(settings.pause_path),
        delegates=[
            DelegateView(id=d.id, mode=d.mode, scope=[*d.spaces, *d.governors])
            for d in settings.voting.delegates
        ],
        pending_intents=len(IntentStore(store.engine).pending()),
        awaiting_approval=len(DecisionLog(store.engine).with_status("awaiting_approval")),
    )


def service_health(
    settings: Settings, store: RecordStore, *, now: datetime | None = None
) -> ServiceHealth:
    beat = HeartbeatFile(settings.home).read()
    run = run_view(beat, now=now or datetime.now(UTC), stale_after_s=settings.run.stale_after_s)
    return ServiceHealth(run=run, voting=voting_view(settings, store))


def _ago(now: datetime, then: datetime) -> str:
    return f"{span((now - then).total_seconds())} ago"


def span(seconds: float) -> str:
    """A duration as a person reads it: 45s, 12m, 3h05m, 2d."""
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 2 * 3600:
        return f"{seconds // 60}m"
    if seconds < 2 * 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d"
