"""`steward vote`: one pass of the voting loop, by hand.

Dry-run unless `--live` *and* the settings allow it (`voting.enabled`, a delegate
mode of approval or auto, no pause): the command never casts by surprise.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from agent.errors import NotFound

if TYPE_CHECKING:
    from agent.records.decision import Decision
    from agent.voting.service import TickReport, VotingService


def register(app: typer.Typer, open_app: object) -> None:
    @app.command()
    def vote(
        ctx: typer.Context,
        proposal: Annotated[
            list[str] | None,
            typer.Option("--proposal", "-p", help="Only this proposal (uid, id or prefix)."),
        ] = None,
        live: Annotated[
            bool,
            typer.Option(
                "--live",
                help="Cast for real where the settings allow it (voting.enabled, mode "
                "approval/auto). Without it everything is a dry run.",
            ),
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Decide (and with --live, cast) delegated votes on open proposals now."""
        console = Console()
        with open_app(ctx) as application:  # type: ignore[operator]
            settings = application.settings.voting
            if not settings.delegates:
                console.print("No delegates configured (voting.delegates): nothing to do.")
                return
            only = None
            if proposal:
                only = []
                for ref in proposal:
                    found = application.store.resolve(ref)
                    if len(found) != 1:
                        raise NotFound(f"{ref!r} matches {len(found)} stored proposals")
                    only.extend(found)
            service = application.voting_service(live=live)
            report = service.tick(only=only)
            if as_json:
                typer.echo(json.dumps(_json(service, report, only), indent=2, default=str))
            else:
                _render(console, service, report, only, live=live)
            status = exit_status(report)
            if status:
                raise typer.Exit(status)


EXIT_CAST_UNSETTLED = 3
"""A cast failed or its outcome is unknown: automation must not read that as success."""
_UNSETTLED = {
    "unknown": "the cast's outcome is unknown (an answer was lost or the transaction is "
    "still pending); the next pass reconciles it with the source",
    "failed": "the cast failed; `steward audit` says why",
}


def problems(report: TickReport) -> list[str]:
    """The tick's errors, and every cast that ended unknown or failed."""
    casts = [
        f"{key}: {_UNSETTLED[outcome]}"
        for key, outcome in sorted(report.outcomes.items())
        if outcome in _UNSETTLED
    ]
    return [*report.errors, *casts]


def exit_status(report: TickReport) -> int:
    """0 all settled; 3 a cast failed or is unknown; 1 any other error."""
    if any(outcome in _UNSETTLED for outcome in report.outcomes.values()):
        return EXIT_CAST_UNSETTLED
    return 1 if report.errors else 0


def _rows(service: VotingService, only: list[str] | None) -> list[Decision]:
    rows: list[Decision] = []
    for d in service.settings.delegates:
        for space in [*d.spaces, *d.governors]:
            for p in service.store.proposals(space=space, uids=only):
                if not p.is_open:
                    continue
                mode = service.mode(d)
                found = service.decisions.for_version(d.id, p.uid, p.content_hash, mode)
                if found is not None:
                    rows.append(found)
    return rows


def _tracks(service: VotingService) -> dict[str, dict[str, object]]:
    """Each delegate's backtest track record (the gate auto mode needs)."""
    if service.track_record is None:
        return {}
    return {d.id: service.track_record(d).model_dump() for d in service.settings.delegates}


def _json(service: VotingService, report: TickReport, only: list[str] | None) -> dict[str, object]:
    return {
        "live": service.live,
        "track_records": _tracks(service),
        "paused": service.paused(),
        "report": report.model_dump(),
        "errors": problems(report),
        "decisions": [d.model_dump() for d in _rows(service, only)],
    }


def _render(
    console: Console,
    service: VotingService,
    report: TickReport,
    only: list[str] | None,
    *,
    live: bool,
) -> None:
    if not live:
        console.print("[dim]dry run: nothing is cast (use --live where the settings allow it)[/]")
    elif not service.settings.enabled:
        console.print("[yellow]voting.enabled is false: nothing is cast[/]")
    if service.paused():
        console.print(f"[yellow]{escape(service.paused() or '')}[/]")
    from agent.voting.service import outcome_key

    for delegate in service.settings.delegates:
        if service.track_record is not None:
            track = service.track_record(delegate)
            auto = delegate.mode == "auto"
            colour = "green" if track.passed else ("yellow" if auto else "dim")
            console.print(
                f"  {escape(delegate.id)} ({delegate.mode}): [{colour}]{escape(track.line())}[/]",
                highlight=False,
                soft_wrap=True,
            )
    console.print("[bold]Delegated votes[/]")
    for d in _rows(service, only):
        blockers = " ".join(b.code for b in d.data.blockers)
        outcome = report.outcomes.get(outcome_key(d.delegate, d.proposal_uid), "")
        stored = service.store.get(d.proposal_uid)
        title = stored.proposal.title if stored else d.proposal_uid
        title = title if len(title) <= 60 else title[:59] + "…"
        why = f" → {outcome}" if outcome else (f" [yellow]({blockers})[/]" if blockers else "")
        console.print(
            f"  [dim]{d.id[:8]}[/] {escape(d.delegate)}: [bold]{d.status}[/] "
            f"{escape(d.choice_label or '-')} ({d.confidence:.2f}) on {escape(title)}{why}",
            highlight=False,
            soft_wrap=True,
        )
    if report.reconciled:
        console.print(f"reconciled {report.reconciled} earlier vote(s) with the source")
    for error in problems(report):
        console.print(f"[red]{escape(error)}[/]", soft_wrap=True)
