"""`agent.chat.models.Message` → keyword arguments for discord.py's send methods.

Every send in this package goes through `to_kwargs`, so mentions are disabled
on every message, whatever a proposal's author wrote into its title.
"""

from __future__ import annotations

from typing import Any

import discord

from agent.chat.models import Embed, Message

NO_MENTIONS = discord.AllowedMentions.none()


def to_embed(embed: Embed) -> discord.Embed:
    """A discord.Embed with exactly the fields the builder set (limits were checked there)."""
    out = discord.Embed(
        title=embed.title or None,
        url=embed.url,
        description=embed.description or None,
        colour=embed.colour,
    )
    for field in embed.fields:
        out.add_field(name=field.name, value=field.value, inline=field.inline)
    if embed.footer:
        out.set_footer(text=embed.footer)
    return out


def to_kwargs(message: Message, *, channel: bool = False) -> dict[str, Any]:
    """Arguments for `response.send_message`, `followup.send` or (`channel=True`) `channel.send`.

    Link previews are suppressed on text-only messages: a digest lists many
    proposal links, and an attacker's link should not unfurl into a preview card.
    Messages with embeds keep them (the flag would hide the embeds too).
    """
    kwargs: dict[str, Any] = {
        "content": message.content or None,
        "embeds": [to_embed(e) for e in message.embeds],
        "allowed_mentions": NO_MENTIONS,
        "suppress_embeds": not message.embeds,
    }
    if not channel:
        # Channel messages cannot be ephemeral; interaction replies can.
        kwargs["ephemeral"] = message.ephemeral
    return kwargs
