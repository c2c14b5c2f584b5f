"""`steward analyze`, `steward policy check`: the analysis commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from agent.cli.consoles import err_console
from agent.errors import NotFound, StewardError

policy_app = typer.Typer(help="Work with voting policies.", no_args_is_help=True)


def register(app: typer.Typer, open_app: object) -> None:
    """Attach the commands; `open_app` is the CLI's context manager building an App."""

    @app.command()
    def analyze(
        ctx: typer.Context,
        ref: Annotated[
            str | None, typer.Argument(metavar="[ID]", help="Proposal to analyse.")
        ] = None,
        pending: Annotated[
            bool,
            typer.Option("--pending", help="Every stored proposal without a current assessment."),
        ] = False,
        policy: Annotated[
            Path | None,
            typer.Option(
                "--policy",
                exists=True,
                dir_okay=False,
                help="Policy file (default: analysis.policy).",
            ),
        ] = None,
        space: Annotated[
            list[str] | None,
            typer.Option("--space", "-s", help="With --pending: only these spaces."),
        ] = None,
        force: Annotated[bool, typer.Option("--force", help="Re-analyse even if current.")] = False,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Analyse proposals against the delegate's policy (cached until something changes)."""
        from agent import steps
        from agent.analysis.service import AnalysisError
        from agent.cli import render_analysis
        from agent.cli.progress import RichProgress

        if bool(ref) == pending:
            raise typer.BadParameter("give a proposal ID or --pending (not both)")
        with open_app(ctx) as application:  # type: ignore[operator]
            store = application.store
            pol = application.policy(policy)
            if ref:
                matches = store.resolve(ref)
                if len(matches) != 1:
                    raise NotFound(f"{ref!r} matches {len(matches)} stored proposals")
                proposals = store.proposals(uids=matches)
            else:
                proposals = [
                    p
                    for p in store.proposals()
                    if pol.applies(p.source, p.space) and (not space or p.space in space)
                ]
            analyst = application.analyst()
            cap = application.confidence_cap(analyst, pol)
            with RichProgress(err_console()) as progress:
                done = steps.analyse_each(
                    application,
                    proposals,
                    pol,
                    lambda: analyst,
                    cap=cap,
                    force=force,
                    survive=AnalysisError,
                    progress=progress,
                    total=len(proposals),
                )
            rows = [(p.title, o) for p, o in done.outcomes]
            failures = [(p.uid, str(exc)) for p, exc in done.failures]
            if as_json:
                sys.stdout.write(
                    json.dumps(
                        {
                            "results": [
                                {
                                    "status": o.status,
                                    "reason": o.reason,
                                    "assessment": o.assessment.model_dump(mode="json"),
                                }
                                for _, o in rows
                            ],
                            "failures": [{"uid": u, "error": e} for u, e in failures],
                        },
                        indent=2,
                        ensure_ascii=False,
                    )
                    + "\n"
                )
            elif ref and rows:
                render_analysis.assessment(Console(), rows[0][1], rows[0][0])
            else:
                render_analysis.outcomes_table(Console(), rows, failures)
            if failures:
                raise StewardError(f"{len(failures)} proposal(s) could not be analysed")

    @policy_app.command("check")
    def policy_check(
        file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Validate a policy file and show what it says."""
        from agent.analysis.policy import PolicyError, load_policy
        from agent.cli import render_analysis

        try:
            pol = load_policy(file)
        except PolicyError as exc:
            err_console().print(f"[red]error:[/] {exc}", highlight=False)
            raise typer.Exit(2) from None
        if as_json:
            sys.stdout.write(
                json.dumps(
                    {
                        "id": pol.id,
                        "hash": pol.hash,
                        "policy": pol.model_dump(mode="json", by_alias=True),
                    },
                    indent=2,
                    ensure_ascii=False,
                )
                + "\n"
            )
        else:
            render_analysis.policy(Console(), pol)

    app.add_typer(policy_app, name="policy")
