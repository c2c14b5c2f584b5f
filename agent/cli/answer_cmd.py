"""`steward approve | veto | pause | resume`: the delegate's answers without Discord.

The same service calls as the Discord buttons and /pause: compare-and-set moves
recorded in the audit log as `cli:<user>`, so a second answer changes nothing.
"""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from agent.errors import NotFound

if TYPE_CHECKING:
    from agent.records.decision import Decision
    from agent.voting.service import VotingService

DecisionArg = Annotated[
    str, typer.Argument(help="A decision id or a unique prefix (shown by `steward vote`).")
]


def register(app: typer.Typer, open_app: object) -> None:
    @app.command()
    def approve(ctx: typer.Context, decision: DecisionArg) -> None:
        """Approve a vote awaiting approval: it is cast on the next voting pass."""
        with open_app(ctx) as application:  # type: ignore[operator]
            service = application.voting_service(live=False)
            found = _decision(service, decision)
            _answered(service.approve(found.id, by=_who()), "approved", found, service)

    @app.command()
    def veto(ctx: typer.Context, decision: DecisionArg) -> None:
        """Veto a vote (awaiting approval, approved, or scheduled in auto mode)."""
        with open_app(ctx) as application:  # type: ignore[operator]
            service = application.voting_service(live=False)
            found = _decision(service, decision)
            _answered(service.veto(found.id, by=_who()), "vetoed", found, service)

    @app.command()
    def pause(
        ctx: typer.Context,
        note: Annotated[str, typer.Option("--note", help="Why (kept in the audit log).")] = "",
    ) -> None:
        """Stop every delegated vote at once (the kill switch), until `steward resume`."""
        with open_app(ctx) as application:  # type: ignore[operator]
            service = application.voting_service(live=False)
            service.pause(by=_who(), note=note)
            Console().print(f"voting paused ({escape(str(service.pause_path))})")

    @app.command()
    def resume(ctx: typer.Context) -> None:
        """Lift the pause."""
        with open_app(ctx) as application:  # type: ignore[operator]
            service = application.voting_service(live=False)
            done = service.resume(by=_who())
            Console().print("voting resumed" if done else "voting was not paused")


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _decision(service: VotingService, ref: str) -> Decision:
    matches = [
        d
        for d in service.decisions.with_status(
            "awaiting_approval", "approved", "scheduled", "vetoed", "cast", "blocked", "expired"
        )
        if d.id.startswith(ref.lower())
    ]
    if len(matches) != 1:
        raise NotFound(f"{ref!r} matches {len(matches)} decisions (see `steward vote`)")
    return matches[0]


def _answered(moved: bool, what: str, decision: Decision, service: VotingService) -> None:
    console = Console()
    if moved:
        console.print(f"{what}: {escape(decision.delegate)} on {escape(decision.proposal_uid)}")
        return
    current = service.decisions.get(decision.id)
    status = current.status if current else decision.status
    console.print(f"[yellow]not {what}: this vote is {status}[/]")
    raise typer.Exit(1)
