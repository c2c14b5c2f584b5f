"""Terminal rendering of assessments and policies."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from agent.analysis.policy import Policy
from agent.analysis.service import AnalysisOutcome
from agent.records.assessment import Assessment

_COLOUR = {"FOR": "green", "AGAINST": "red", "ABSTAIN": "yellow", "NONE": "blue"}


def badge(a: Assessment) -> str:
    colour = _COLOUR[a.recommendation]
    choice = f" ({escape(a.choice)})" if a.choice else ""
    human = " [bold magenta]needs a human[/]" if a.escalate else ""
    label = "no recommendation" if a.recommendation == "NONE" else a.recommendation
    return f"[bold {colour}]{label}[/]{choice} · confidence {a.confidence:.0%}{human}"


def assessment(console: Console, outcome: AnalysisOutcome, title: str) -> None:
    a = outcome.assessment
    lines = [
        f"[bold]{escape(title)}[/]",
        f"[dim]{a.proposal_uid} · policy {a.policy_id} · "
        f"{outcome.status}: {escape(outcome.reason)}[/]",
        badge(a),
        "",
        escape(a.summary),
    ]
    console.print(Panel("\n".join(lines)))
    facts = a.facts
    if facts.amounts or facts.addresses or facts.durations:
        console.print(
            "[bold]Facts[/] "
            + escape(
                "; ".join(
                    [x.text for x in facts.amounts[:8]] + facts.durations[:5] + facts.addresses[:5]
                )
            )
        )
    if a.rationale:
        console.print(f"[bold]Why[/] {escape(a.rationale)}")
    if a.precedents:
        precedents = Table("precedent", "similarity", "evidence", "weight", title="Precedents")
        for pr in a.precedents:
            what = f"{'voted' if pr.kind == 'vote' else 'outcome'} {pr.position} {pr.at:%Y-%m-%d}"
            precedents.add_row(
                escape(f"{pr.title[:60]}\n{pr.uid}"),
                f"{pr.similarity:.2f}",
                what,
                f"{pr.weight:.2f}",
            )
        console.print(precedents)
    table = Table("principle", "stance", "evidence / rationale", title="Findings")
    for f in a.findings:
        text = f"“{f.evidence}”\n{f.rationale}" if f.evidence else f.rationale
        table.add_row(f.principle_id, f.stance, escape(text))
    console.print(table)
    if a.dropped_findings:
        console.print(
            f"[yellow]{a.dropped_findings} finding(s) dropped: quote not in the proposal[/]"
        )
    for r in a.hard_rules:
        colour = {"pass": "green", "fail": "red"}.get(r.outcome, "dim")
        console.print(f"hard rule [bold]{r.rule}[/]: [{colour}]{r.outcome}[/] — {escape(r.detail)}")
    for i in a.injection:
        console.print(f"[red]injection[/] {i.kind}: {escape(i.excerpt)}")
    for flag in a.risk_flags:
        console.print(f"[yellow]flag[/] {escape(flag)}")
    for reason in a.escalation_reasons:
        console.print(f"[magenta]escalate[/] {escape(reason)}")
    p = a.provenance
    console.print(
        f"[dim]analyst {p.analyst} · prompt {p.prompt_hash[:12]} · policy "
        f"{p.policy_hash[:12]} · content {p.content_hash[:12]} · {p.created:%Y-%m-%d %H:%M}[/]"
    )


def outcomes_table(
    console: Console, rows: list[tuple[str, AnalysisOutcome]], failures: list[tuple[str, str]]
) -> None:
    table = Table("proposal", "recommendation", "status", "why", title="Analysis")
    for title, outcome in rows:
        table.add_row(
            escape(title[:60]), badge(outcome.assessment), outcome.status, escape(outcome.reason)
        )
    for uid, error in failures:
        table.add_row(uid, "[red]error[/]", "failed", escape(error))
    console.print(table)


def policy(console: Console, p: Policy) -> None:
    console.print(f"[bold]{escape(p.id)}[/] — {escape(p.title)} (owner {escape(p.owner)})")
    console.print(f"[dim]hash {p.hash}[/]")
    for pr in p.principles:
        console.print(f"  [{pr.id}] weight {pr.weight}: {escape(pr.text)}")
    hr = p.hard_rules
    console.print(
        f"hard rules: max outflow {hr.max_outflow or 'none'}; upgrades need audit "
        f"{hr.upgrades_require_audit}; own grants abstain {hr.abstain_on_own_grants}"
    )
    scope = p.applies_to
    console.print(f"applies to: {', '.join(scope.spaces + scope.governors) or 'everything'}")
