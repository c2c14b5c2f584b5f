"""`steward status`'s service part: the run heartbeat, each job, and voting health."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agent.runner.health import JobHealth
from agent.runner.status import RunView, ServiceHealth, VotingView, span

_STATE_STYLE = {"running": "green", "stopped": "yellow", "stale": "red", "never": "dim"}


def service_health(console: Console, health: ServiceHealth, now: datetime | None = None) -> None:
    run(console, health.run, now or datetime.now(UTC))
    voting(console, health.voting)


def run(console: Console, view: RunView, now: datetime) -> None:
    style = _STATE_STYLE[view.state]
    line = f"[bold]steward run:[/] [{style}]{view.state}[/] — {escape(view.detail)}"
    beat = view.heartbeat
    if beat is not None and view.tick_age_s is not None:
        line += f" · last tick {int(view.tick_age_s)}s ago"
    if beat is not None:
        line += f" · posting: {beat.posting}"
    console.print(line, highlight=False)
    if beat is not None and beat.jobs:
        console.print(_jobs_table(beat.jobs, now))


def _jobs_table(jobs: dict[str, JobHealth], now: datetime) -> Table:
    table = Table(title="Jobs")
    for col in ("job", "every", "status", "last run", "last ok", "runs", "detail"):
        table.add_column(col, overflow="fold")
    for name, job in jobs.items():
        style = {"ok": "green", "error": "red"}.get(job.status, "dim")
        failed = f" ({job.failures} failed)" if job.failures else ""
        table.add_row(
            name,
            f"{job.every_s:g}s",
            f"[{style}]{job.status}[/]",
            _ago(now, job.last_run),
            _ago(now, job.last_ok),
            f"{job.runs}{failed}",
            escape(_detail(job)),
        )
    return table


def _detail(job: JobHealth) -> str:
    if job.status == "error" and job.last_error:
        return job.last_error if len(job.last_error) <= 160 else job.last_error[:159] + "…"
    return ", ".join(f"{k} {v}" for k, v in job.counts.items() if v) or "—"


def voting(console: Console, view: VotingView) -> None:
    state = "[green]enabled[/]" if view.enabled else "[yellow]disabled[/] (voting.enabled)"
    pause = f" · [red]{escape(view.paused)}[/]" if view.paused else " · not paused"
    console.print(f"[bold]voting:[/] {state}{pause}", highlight=False)
    if view.delegates:
        who = ", ".join(
            f"{escape(d.id)} ({d.mode}{': ' + escape(', '.join(d.scope)) if d.scope else ''})"
            for d in view.delegates
        )
        console.print(f"  delegates: {who}", highlight=False)
    else:
        console.print("  delegates: none configured (voting.delegates)")
    console.print(
        f"  pending intents {view.pending_intents} · "
        f"decisions awaiting approval {view.awaiting_approval}",
        highlight=False,
    )


def _ago(now: datetime, then: datetime | None) -> str:
    return f"{span((now - then).total_seconds())} ago" if then else "—"
