"""Turning results into terminal output (rich) — no logic beyond presentation."""

from __future__ import annotations

from datetime import datetime

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from agent.cli.render_actions import actions_view
from agent.cli.render_voters import concentration_block, signal_panel
from agent.indexer import IndexCounts
from agent.ingest import IngestCounts
from agent.search import SearchHit
from agent.store.bookkeeping import RunRecord, SpaceSummary
from agent.store.records import HistoryEntry, StoredProposal
from agent.voters.models import Concentration, Signal


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "—"


def ingest_summary(console: Console, counts: IngestCounts, index: IndexCounts | None) -> None:
    table = Table(title="Ingest", show_header=False)
    for key, value in counts.model_dump().items():
        table.add_row(key, str(value))
    if index is not None:
        for key, value in index.model_dump().items():
            table.add_row(key, str(value))
    console.print(table)


def search_results(console: Console, query: str, hits: list[SearchHit]) -> None:
    if not hits:
        console.print(f"No stored proposal matches [bold]{escape(query)}[/].")
        return
    for rank, hit in enumerate(hits, 1):
        flag = " [red](flagged)[/]" if hit.flagged else ""
        head = f"{rank}. [bold]{escape(hit.title)}[/]{flag}"
        meta = f"[dim]{hit.uid} · {hit.space} · {hit.state} · score {hit.score:.3f}[/]"
        passage = hit.passage if len(hit.passage) < 400 else hit.passage[:400] + "…"
        console.print(f"{head}\n   {meta}\n   {escape(passage)}\n")


def proposal(
    console: Console,
    stored: StoredProposal,
    votes: int,
    history: list[HistoryEntry],
    who: Concentration | None = None,
    signals: list[Signal] | None = None,
) -> None:
    p = stored.proposal
    lines = [
        f"[bold]{escape(p.title)}[/]",
        f"[dim]{p.uid}[/]",
        f"space {p.space} · source {p.source} · state {p.state}"
        + (f" · outcome {escape(p.outcome)}" if p.outcome else "")
        + (" · [red]flagged[/]" if p.flagged else "")
        + (f" · [red]deleted {_when(stored.deleted_at)}[/]" if stored.deleted_at else ""),
        f"created {_when(p.created)} · start {_when(p.start)} · end {_when(p.end)}",
    ]
    if p.author:
        lines.append(f"author {escape(p.author)}")
    if p.choices:
        tallies = [
            f"{escape(c)}: {p.scores[i]:,.2f}" if i < len(p.scores) else escape(c)
            for i, c in enumerate(p.choices)
        ]
        lines.append("choices " + " · ".join(tallies))
    lines.append(
        f"votes stored {votes} (source says {p.votes_count}) · "
        f"indexed chunks {stored.indexed_chunks}"
    )
    for label, url in (("link", p.link), ("discussion", p.discussion)):
        if url:
            lines.append(f"{label} {escape(url)}")
    if len(history) > 1:
        lines.append("history " + ", ".join(f"{h.kind} {_when(h.at)}" for h in history))
    console.print(Panel("\n".join(lines)))
    if who is not None:
        concentration_block(console, who, p.is_open)
    for signal in signals or []:
        console.print(signal_panel(signal))
    actions = actions_view(p.extra)
    if actions is not None:
        console.print(actions)
    console.print(escape(p.body) if p.body else "[dim](no body)[/]", soft_wrap=True)


def status(
    console: Console,
    summary: list[SpaceSummary],
    cursors: list[tuple[str, str, dict, datetime]],
    runs: list[RunRecord],
    index_count: int | None,
) -> None:
    table = Table(title="Stored proposals")
    for col in ("source", "space", "proposals", "open", "flagged", "deleted", "indexed", "votes"):
        table.add_column(col)
    for s in summary:
        table.add_row(
            s.source,
            s.space,
            str(s.proposals),
            str(s.open),
            str(s.flagged),
            str(s.deleted),
            str(s.indexed),
            str(s.votes),
        )
    console.print(table if summary else "Nothing stored yet: run `steward ingest`.")
    if cursors:
        ct = Table(title="Cursors")
        for col in ("source", "scope", "value", "updated"):
            ct.add_column(col)
        for source, scope, value, updated in cursors:
            ct.add_row(source, scope, str(value), _when(updated))
        console.print(ct)
    if runs:
        rt = Table(title="Last runs")
        for col in ("id", "source", "scopes", "started", "status", "counts / error"):
            rt.add_column(col)
        for r in runs:
            detail = r.error or ", ".join(f"{k} {v}" for k, v in (r.counts or {}).items() if v)
            rt.add_row(
                str(r.id),
                r.source,
                ", ".join(r.scopes),
                _when(r.started_at),
                _run_status(r),
                escape(detail),
            )
        console.print(rt)
    if index_count is not None:
        console.print(f"vector index: {index_count} chunks")


def _run_status(run: RunRecord) -> str:
    if run.status == "interrupted" and run.last_seen:
        return f"[yellow]interrupted[/] (last seen {_when(run.last_seen)})"
    return run.status
