"""Terminal views of delegate records, concentration and signals (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from agent.voters.models import Agreement, Concentration, DelegateRecord, Signal
from agent.voters.wording import concentration_line, few_voters_warning, pct

MAX_VOTES_SHOWN = 20


def _agreement(a: Agreement | None) -> str:
    if a is None:
        return "—"
    kappa = f", kappa {a.kappa:.2f}" if a.kappa is not None else ""
    return f"{a.agreed} of {a.compared} ({pct(a.share)}{kappa})"


def delegate_record(console: Console, r: DelegateRecord) -> None:
    name = f" ({escape(r.name)})" if r.name else ""
    who = f" · configured delegate {escape(r.delegate_id)}" if r.delegate_id else ""
    lines = [
        f"[bold]{escape(r.address)}[/]{name}{who}",
        f"{r.votes_cast} vote(s) from {r.first_vote:%Y-%m-%d} to {r.last_vote:%Y-%m-%d}"
        + (f" in {escape(r.space)}" if r.space else ""),
        "choices " + " · ".join(f"{escape(c)} {n}" for c, n in r.choices.items()),
        f"with the final outcome: {_agreement(r.with_outcomes)}",
    ]
    if r.delegate_id:
        lines.append(f"with Steward's recommendation: {_agreement(r.with_steward)}")
    for p in r.participation:
        lines.append(
            f"participation in {escape(p.space)}: {p.voted} of {p.eligible} proposals "
            f"open since the first vote ({pct(p.share)})"
        )
    powers = [pt.power for pt in r.power]
    lines.append(
        f"voting power: first {powers[0]:,.2f} · latest {powers[-1]:,.2f} · max {max(powers):,.2f}"
    )
    console.print(Panel("\n".join(lines), title="Delegate record"))
    table = Table(title=f"Votes (newest first, {min(len(r.votes), MAX_VOTES_SHOWN)} shown)")
    columns = ["when", "proposal", "choice", "power", "outcome"]
    for col in columns + (["Steward"] if r.delegate_id else []):
        table.add_column(col)
    mark = {True: " ✓", False: " ✗", None: ""}
    for v in r.votes[:MAX_VOTES_SHOWN]:
        cells = [
            f"{v.at:%Y-%m-%d}",
            escape(v.title[:60]),
            escape(v.choice[:30]),
            f"{v.power:,.2f}",
            escape(v.outcome or "—") + mark[v.with_outcome],
        ]
        if r.delegate_id:
            cells.append(escape(v.steward or "—") + mark[v.with_steward])
        table.add_row(*cells)
    console.print(table)
    for v in r.reasons:
        quote = v.reason if len(v.reason) <= 300 else v.reason[:300] + "…"
        link = f" {escape(v.link)}" if v.link else ""
        console.print(f"> “{escape(quote)}”\n  [dim]— on {escape(v.title[:80])}{link}[/]")


def concentration_block(console: Console, c: Concentration, is_open: bool) -> None:
    warning = few_voters_warning(c) if is_open else None
    text = escape(concentration_line(c))
    if warning:
        text = f"[bold red]{escape(warning)}[/]\n{text}"
    console.print(Panel(text, title="Who decides"))


def signal_list(console: Console, space: str, signals: list[Signal]) -> None:
    if not signals:
        console.print(f"No sybil-like voting patterns found in {escape(space)}'s stored votes.")
        return
    console.print(
        f"[bold]{len(signals)} pattern(s) in {escape(space)} worth a human look[/] "
        "[dim](signals, not verdicts)[/]"
    )
    for s in signals:
        console.print(signal_panel(s))


def signal_panel(s: Signal) -> Panel:
    lines = [escape(s.text)]
    if s.window_start and s.window_end:
        lines.append(f"window {s.window_start:%Y-%m-%d %H:%M} to {s.window_end:%H:%M} UTC")
    lines.append("proposals " + ", ".join(escape(u) for u in s.proposal_uids[:5]))
    shown = ", ".join(escape(a) for a in s.addresses)
    more = f" and {s.count - len(s.addresses)} more" if s.count > len(s.addresses) else ""
    lines.append(f"addresses {shown}{more}")
    return Panel("\n".join(lines), title=s.kind.replace("_", " "))
