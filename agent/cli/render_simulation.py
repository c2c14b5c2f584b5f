"""A simulation report for the terminal: outcome per action, money, admin changes, storage."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agent.records.simulation import SimulationReport
from agent.simulate.flows import summary


def simulation(
    console: Console, report: SimulationReport, report_hash: str, *, stale: bool = False
) -> None:
    when = f"{report.created:%Y-%m-%d %H:%M} UTC" + (" · of an earlier version" if stale else "")
    line = summary(report, set(report.dao) or None)
    console.print(
        f"[bold]Simulation[/] {report_hash[:12]} ({when})  {escape(line)}", highlight=False
    )
    if not report.simulated:
        return
    console.print(
        f"method: {report.method} ({report.method_note}); fork block {report.fork_block}; "
        f"gas {report.gas_used:,}",
        highlight=False,
    )
    for flag in report.flags:
        colour = {"high": "red", "warn": "yellow"}.get(flag.severity, "dim")
        console.print(
            f"[{colour}]{flag.severity}[/] {flag.kind}: {escape(flag.detail)}", highlight=False
        )
    table = Table("#", "target", "status", "gas", "reason", box=None)
    for a in report.actions:
        code = "" if a.target_has_code else " (no code)"
        table.add_row(
            str(a.index + 1),
            a.target + code,
            a.status,
            f"{a.gas_used or 0:,}",
            escape(a.reason or ""),
        )
    console.print(table)
    for m in report.token_moves:
        amount = m.amount if m.amount is not None else f"{m.amount_raw} (raw)"
        console.print(
            f"{m.kind}: {amount} {m.symbol or m.token} {m.source} → {m.destination}",
            highlight=False,
        )
    for e in report.eth_changes:
        console.print(f"ETH {e.address}: {e.delta_eth}", highlight=False)
    for c in report.admin_changes:
        console.print(f"{c.kind} on {c.contract}: {c.detail}", highlight=False)
    if report.storage_note:
        console.print(f"storage: {report.storage_note}", highlight=False)
    for s in report.storage:
        console.print(f"storage: {s.contract} {s.slots} slot(s) changed", highlight=False)
