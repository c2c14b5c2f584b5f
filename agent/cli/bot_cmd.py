"""`steward bot` (run the Discord bot, or `--dry-run` to see what it would post) and
`steward ask` (what /ask would answer), so both can be checked without Discord.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agent.cli.consoles import err_console
from agent.errors import ConfigError

if TYPE_CHECKING:
    from agent.app import App
    from agent.chat.models import Message

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def register(app: typer.Typer, open_app: object) -> None:
    """Attach the commands; `open_app` is the CLI's context manager building an App."""

    @app.command()
    def bot(
        ctx: typer.Context,
        dry_run: Annotated[
            bool,
            typer.Option(
                "--dry-run", help="Print what the bot would post now; no token, no Discord."
            ),
        ] = False,
        as_json: JsonOpt = False,
    ) -> None:
        """Run the Discord bot: slash commands, the daily digest, alerts and reminders."""
        with open_app(ctx) as application:  # type: ignore[operator]
            if dry_run:
                _dry_run(application, as_json)
            else:
                _run(application)

    @app.command()
    def ask(
        ctx: typer.Context,
        question: Annotated[str, typer.Argument(help="A question about stored proposals.")],
        space: Annotated[
            list[str] | None, typer.Option("--space", "-s", help="Only this space.")
        ] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Answer a question from stored proposals, exactly as /ask would on Discord."""
        from agent.chat.builders import answer_message

        with open_app(ctx) as application:  # type: ignore[operator]
            answer = application.answerer(space or ())(question)
            if as_json:
                _print_json(answer.model_dump(mode="json"))
            else:
                sys.stdout.write(message_text(answer_message(answer)) + "\n")


def _run(application: App) -> None:
    """Start the bot; the token is read here and handed to discord.py, never printed."""
    import discord

    settings = application.settings.discord
    token = settings.token.get_secret_value().strip() if settings.token else ""
    if not token:
        raise ConfigError(
            "no Discord bot token: set STEWARD__DISCORD__TOKEN (or discord.token in your "
            "config); `steward bot --dry-run` works without one"
        )
    err = err_console()
    if not settings.channels:
        err.print("[yellow]warning:[/] discord.channels is empty: commands will answer nowhere")
    bot = application.discord_bot()
    try:
        bot.run(token, log_level=logging.INFO)
    except discord.LoginFailure:
        raise ConfigError("Discord rejected the bot token (discord.token)") from None


def _dry_run(application: App, as_json: bool) -> None:
    """Posts due now; if none, the digest the configured channels would get."""
    from agent.chat.builders import digest_messages
    from agent.chat.schedule import digest_due, plan_posts
    from agent.digest.build import build_digest
    from agent.digest.render import parse_since

    settings = application.settings.discord
    now = datetime.now(UTC)
    policy_id = application.policy().id
    figures = application.voter_figures()
    planned = plan_posts(application.store, settings, now=now, policy_id=policy_id, figures=figures)
    preview: list[Message] = []
    if not planned:
        digest = build_digest(
            application.store,
            now=now,
            since=parse_since(settings.digest_since),
            policy_id=policy_id,
            figures=figures,
        )
        preview = digest_messages(digest)
    channels = [str(c) for c in settings.digest_channels]
    if as_json:
        _print_json(
            {
                "now": now.isoformat(),
                "planned": [p.model_dump(mode="json") for p in planned],
                "digest_preview": {
                    "channels": channels,
                    "messages": [m.model_dump(mode="json") for m in preview],
                },
            }
        )
        return
    for post in planned:
        _write_post(post.kind, f"{post.key} → channel {post.target}", post.messages)
    if not planned:
        due, day = digest_due(settings, now)
        when = f"{settings.digest_time} {settings.timezone}"
        if not channels:
            note = "no digest is scheduled (discord.digest_channels is empty)"
        elif due:
            note = f"the {day} digest ({when}) was posted already"
        else:
            note = f"the {day} digest is due at {when}"
        sys.stdout.write(f"Nothing to post now: {note}.\n")
        where = ", ".join(channels) or "no channel yet"
        _write_post("digest", f"as it would look now, for {where}", preview)


def _write_post(kind: str, header: str, messages: list[Message]) -> None:
    out = sys.stdout
    out.write(f"\n=== {kind}: {header} ({len(messages)} message(s))\n")
    for n, message in enumerate(messages, 1):
        out.write(f"--- message {n}/{len(messages)}\n{message_text(message)}\n")


def message_text(message: Message) -> str:
    """A message as a terminal shows it: content, then each embed's parts, marked with │."""
    parts = [message.content] if message.content else []
    for embed in message.embeds:
        lines = [embed.title + (f"  <{embed.url}>" if embed.url else "")]
        lines += embed.description.splitlines()
        for field in embed.fields:
            lines += [f"{field.name}:", *(f"  {line}" for line in field.value.splitlines())]
        if embed.footer:
            lines.append(f"— {embed.footer}")
        parts.append("\n".join(f"│ {line}" for line in lines))
    return "\n".join(parts)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")
