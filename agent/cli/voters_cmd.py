"""`steward delegate` and `steward signals`: who votes, and patterns worth a look."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


def register(app: typer.Typer, open_app: object) -> None:
    @app.command()
    def delegate(
        ctx: typer.Context,
        address: Annotated[str, typer.Argument(help="The voter's address (any case).")],
        space: Annotated[
            str | None, typer.Option("--space", "-s", help="Only votes in this space.")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """A delegate's record: votes, participation, choices, agreement with outcomes
        (and with Steward, for configured delegates), voting power, stated reasons."""
        from agent.cli.render_voters import delegate_record

        with open_app(ctx) as application:  # type: ignore[operator]
            record = application.voter_figures().record(address, space)
            if as_json:
                _print_json(record.model_dump(mode="json"))
            else:
                delegate_record(Console(), record)

    @app.command()
    def signals(
        ctx: typer.Context,
        space: Annotated[str, typer.Option("--space", "-s", help="The space to look at.")],
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Sybil-like voting patterns in a space: signals worth a human look, never verdicts."""
        from agent.cli.render_voters import signal_list

        with open_app(ctx) as application:  # type: ignore[operator]
            found = application.voter_figures().signals(space)
            if as_json:
                _print_json([s.model_dump(mode="json") for s in found])
            else:
                signal_list(Console(), space, found)
