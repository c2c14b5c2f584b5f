"""`steward digest`: new, closing and ended proposals with their recommendations."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

import typer

from agent.cli.consoles import err_console


def register(app: typer.Typer, open_app: object) -> None:
    @app.command()
    def digest(
        ctx: typer.Context,
        since: Annotated[
            str, typer.Option("--since", help="Look back this far: 24h, 2d, 1w.")
        ] = "24h",
        space: Annotated[
            list[str] | None, typer.Option("--space", "-s", help="Only this space.")
        ] = None,
        fmt: Annotated[Literal["md", "html", "json"], typer.Option("--format", "-f")] = "md",
        out: Annotated[
            Path | None,
            typer.Option(
                "--out", "-o", dir_okay=False, help="Write to this file instead of the terminal."
            ),
        ] = None,
        closing_within: Annotated[
            str, typer.Option("--closing-within", help="Closing-soon window.")
        ] = "48h",
        policy: Annotated[
            Path | None,
            typer.Option(
                "--policy",
                exists=True,
                dir_okay=False,
                help="Whose recommendations to show (default: analysis.policy).",
            ),
        ] = None,
    ) -> None:
        """The digest a delegate reads: Markdown (fits Discord), HTML (phone-friendly) or JSON."""
        from agent.digest.build import build_digest
        from agent.digest.render import parse_since, render

        try:
            window, closing = parse_since(since), parse_since(closing_within)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        with open_app(ctx) as application:  # type: ignore[operator]
            policy_id = application.policy(policy).id
            d = build_digest(
                application.store,
                now=datetime.now(UTC),
                since=window,
                spaces=space or None,
                policy_id=policy_id,
                closing_window=closing,
                figures=application.voter_figures(),
            )
            text = render(d, fmt)
            if out:
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(text, encoding="utf-8")
                err_console().print(
                    f"digest written to {out} ({len(d.new)} new, {len(d.closing)} closing, "
                    f"{len(d.ended)} ended)"
                )
            else:
                sys.stdout.write(text if text.endswith("\n") else text + "\n")
