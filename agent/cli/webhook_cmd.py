"""`steward webhook`: digests, alerts and reminders to a Discord webhook, no bot needed.

Same builders, same schedule and the same post log as the bot, so a post goes
out once however often this runs (cron every few minutes, or `--loop`).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from typing import Annotated

import typer

from agent.cli.consoles import err_console
from agent.errors import ConfigError


def register(app: typer.Typer, open_app: object) -> None:
    @app.command()
    def webhook(
        ctx: typer.Context,
        loop: Annotated[
            bool, typer.Option("--loop", help="Keep running, checking every minute.")
        ] = False,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Post what is due (digest, alerts, reminders) to discord.webhook_url."""
        from agent import steps

        err = err_console()
        with open_app(ctx) as application:  # type: ignore[operator]
            settings = application.settings.discord
            if settings.webhook_url is None:
                raise ConfigError("discord.webhook_url is not set (STEWARD__DISCORD__WEBHOOK_URL)")
            policy_id = application.policy().id
            figures = application.voter_figures()
            with application.webhook_sender() as sender:
                while True:
                    done = steps.post_due(
                        application,
                        sender,
                        now=lambda: datetime.now(UTC),
                        policy_id=lambda: policy_id,
                        figures=lambda: figures,
                    )
                    report = done.delivered
                    posted, failed = done.posted, done.failed
                    if as_json:
                        data = {
                            "posted": posted,
                            "failed": failed,
                            "retry_after": report.retry_after,
                        }
                        sys.stdout.write(json.dumps(data) + "\n")
                    else:
                        err.print(f"posted {len(posted)}, failed {len(failed)}")
                        for key, error in failed.items():
                            err.print(f"[red]failed[/] {key}: {error}")
                    if not loop:
                        if failed:
                            raise typer.Exit(1)
                        return
                    time.sleep(max(60.0, report.retry_after or 0.0))
