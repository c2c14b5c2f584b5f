"""`steward simulate ID`: execute a stored on-chain proposal on a fork and store the report."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console


def register(app: typer.Typer, open_app: Any) -> None:
    @app.command()
    def simulate(
        ctx: typer.Context,
        ref: Annotated[
            str, typer.Argument(metavar="ID", help="Proposal uid, id, or a unique prefix.")
        ],
        block: Annotated[
            int | None, typer.Option("--block", help="Fork at this block (default: latest).")
        ] = None,
        as_json: Annotated[
            bool, typer.Option("--json", help="Print JSON instead of text.")
        ] = False,
    ) -> None:
        """Simulate an on-chain proposal on an anvil fork: what it moves, changes and breaks."""
        from agent.cli.main import _print_json
        from agent.cli.render_simulation import simulation
        from agent.errors import NotFound

        with open_app(ctx) as application:
            matches = application.store.resolve(ref)
            if len(matches) != 1:
                raise NotFound(
                    f"no stored proposal matches {ref!r}"
                    if not matches
                    else f"{ref!r} is ambiguous"
                )
            report = application.simulation_service().run(matches[0], block)
            digest = report.report_hash()
            if as_json:
                _print_json(
                    {
                        "report_hash": digest,
                        **report.model_dump(mode="json"),
                        "timings": report.timings,
                    }
                )
            else:
                simulation(Console(), report, digest)
            if not report.simulated:
                raise typer.Exit(1)
