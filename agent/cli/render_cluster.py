"""`steward status`'s cluster section: the workers, live and gone, and their leases."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agent.cluster.status import ClusterView
from agent.runner.status import span

_STYLE = {"live": "green", "gone": "red", "stopped": "dim"}


def cluster(console: Console, view: ClusterView) -> None:
    live = sum(1 for w in view.workers if w.state == "live")
    console.print(
        f"[bold]cluster:[/] deployment {escape(view.deployment or '?')} · {live} live "
        f"worker(s) · {view.takeovers} lease takeover(s)",
        highlight=False,
    )
    table = Table(title="Workers")
    for col in ("worker", "host", "pid", "state", "up", "last seen", "holds"):
        table.add_column(col, overflow="fold")
    for w in view.workers:
        holds = ", ".join(f"{h.name} ({h.expires_in_s:g}s)" for h in w.holds) or "—"
        table.add_row(
            escape(w.id),
            escape(w.host),
            str(w.pid),
            f"[{_STYLE[w.state]}]{w.state}[/]",
            span(w.started_s_ago),
            f"{span(w.last_seen_s_ago)} ago",
            escape(holds),
        )
    console.print(table)
