"""`steward run`: the service a DAO operator leaves running (one per data directory).

The work is in `agent.runner`; this edge sets up logging, hands in the
Discord bot (the only place `steward run` touches discord.py) and turns the
outcome into an exit code.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from agent.cli.consoles import err_console
from agent.errors import ConfigError

if TYPE_CHECKING:
    from agent.app import App
    from agent.voting.service import VotingService

QUIET_LOGGERS = ("httpx", "httpx2", "httpcore")
"""They log every request URL at INFO, and a webhook URL carries its token."""


def register(app: typer.Typer, open_app: object) -> None:
    """Attach the command; `open_app` is the CLI's context manager building an App."""

    @app.command()
    def run(
        ctx: typer.Context,
        once: Annotated[
            bool,
            typer.Option("--once", help="Run every job once, then exit (1 if a job failed)."),
        ] = False,
        verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
        http: Annotated[
            str | None,
            typer.Option(
                "--http",
                metavar="HOST:PORT",
                help="Serve /healthz and /metrics here (port 0: any free port, logged).",
            ),
        ] = None,
    ) -> None:
        """Keep Steward running: ingest, analyse, vote and post on the `run:` schedule.

        Stops cleanly on SIGTERM or Ctrl-C, after the job under way; `steward status`
        shows how it is doing.
        """
        from agent.runner.serve import run_service

        setup_logging(verbose)
        with open_app(ctx) as application:  # type: ignore[operator]
            ok = run_service(
                application,
                once=once,
                bot=lambda voting: DiscordBot(application, voting),
                http=http,
            )
        if not ok:
            err_console().print(
                "[yellow]a job failed:[/] see the log above, or `steward status`", highlight=False
            )
            raise typer.Exit(1)


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


class DiscordBot:
    """The Discord bot as `agent.runner.serve.ChatBot`, with a rejected token reported as
    a configuration error (not a traceback)."""

    def __init__(self, application: App, voting: VotingService) -> None:
        if not application.settings.discord.channels:
            logging.getLogger(__name__).warning(
                "discord.channels is empty: commands will answer nowhere"
            )
        self.bot = application.discord_bot(voting)

    async def start(self, token: str) -> None:
        import discord

        try:
            await self.bot.start(token)
        except discord.LoginFailure:
            raise ConfigError("Discord rejected the bot token (discord.token)") from None

    async def close(self) -> None:
        await self.bot.close()
