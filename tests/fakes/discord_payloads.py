"""What Discord sends a bot, built as discord.py's own payload types say it is.

Every payload the Discord tests feed to discord.py's parser (GUILD_CREATE, a slash
command's INTERACTION_CREATE, a button press) or answer its HTTP client with (a message)
is built here and typed with the TypedDicts of `discord.types`, which follow Discord's API
reference. mypy checks these literals against them (`make lint` runs it on this file), so
a payload that drifts from what Discord sends (a missing required key, a wrong type, a
key Discord does not send) fails the build, not a user. `discord.types` only loads under a
type checker (its modules import one another in a circle), so the types are imported for
mypy alone; at run time these are plain dicts. Where discord.py's types say nothing (an
interaction's `member`, `user`, `message`), Discord's API reference is followed.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from discord.types.channel import GuildChannel, TextChannel
    from discord.types.guild import Guild
    from discord.types.interactions import (
        ApplicationCommandInteraction,
        ApplicationCommandInteractionDataOption,
        InteractionDMChannel,
        MessageComponentInteraction,
    )
    from discord.types.member import MemberWithUser
    from discord.types.message import Message
    from discord.types.role import Role
    from discord.types.user import User

_ids = itertools.count(900100000000000000)
# as Discord numbers them
CHAT_INPUT: Final = 1
BUTTON: Final = 2
GUILD_TEXT: Final = 0
DM: Final = 1
MAX_ATTACHMENT = 8_388_608


def snowflake() -> str:
    return str(next(_ids))


def user(user_id: int, name: str) -> User:
    return {
        "id": str(user_id),
        "username": name,
        "discriminator": "0",
        "global_name": None,
        "avatar": None,
    }


def member(user_id: int, name: str, roles: list[int], joined: datetime) -> MemberWithUser:
    return {
        "user": user(user_id, name),
        "roles": [str(r) for r in roles],
        "joined_at": joined.isoformat(),
        "deaf": False,
        "mute": False,
        "flags": 0,
        "permissions": "2048",
    }


def role(role_id: int, name: str, *, mentionable: bool) -> Role:
    return {
        "id": str(role_id),
        "name": name,
        "permissions": "0",
        "position": 1,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "managed": False,
        "mentionable": mentionable,
        "flags": 0,
    }


def text_channel(channel_id: int, name: str, guild_id: int) -> TextChannel:
    return {
        "id": str(channel_id),
        "type": GUILD_TEXT,
        "name": name,
        "position": 0,
        "permission_overwrites": [],
        "guild_id": str(guild_id),
        "nsfw": False,
        "parent_id": None,
    }


def guild(guild_id: int, name: str, roles: list[Role], channels: list[GuildChannel]) -> Guild:
    """GUILD_CREATE's guild (the `@everyone` role shares the guild's id)."""
    return {
        "id": str(guild_id),
        "name": name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "owner_id": "1",
        "region": "deprecated",
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [role(guild_id, "@everyone", mentionable=False), *roles],
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "vanity_url_code": None,
        "banner": None,
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": None,
        "stickers": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "nsfw_level": 0,
        "description": None,
        "incidents_data": None,
        "channels": channels,
        "members": [],
        "member_count": 2,
        "unavailable": False,
    }


def _where(guild_id: int, channel_id: int, who: MemberWithUser, *, dm: bool) -> dict[str, Any]:
    """Where and by whom. discord.py's interaction types leave out `member`, `user` and a
    component's `message` (its code reads them with `.get`), so those are typed on their own
    (`MemberWithUser`, `User`, `Message`) and added to the interaction here."""
    if dm:
        channel: InteractionDMChannel = {
            "id": str(channel_id),
            "name": "",
            "type": DM,
            "last_message_id": None,
            "recipients": [who["user"]],
        }
        return {"user": who["user"], "channel": channel, "context": 1}
    channel_in_guild = text_channel(channel_id, "governance", guild_id)
    return {"guild_id": str(guild_id), "channel": channel_in_guild, "member": who, "context": 0}


def command_interaction(
    app_id: int,
    guild_id: int,
    channel_id: int,
    who: MemberWithUser,
    command: str,
    options: list[ApplicationCommandInteractionDataOption],
    *,
    dm: bool = False,
) -> ApplicationCommandInteraction:
    """INTERACTION_CREATE for a slash command (type 2, chat input)."""
    payload: ApplicationCommandInteraction = {
        "id": snowflake(),
        "application_id": str(app_id),
        "type": 2,
        "token": "interaction-token",
        "version": 1,
        "locale": "en-US",
        "attachment_size_limit": MAX_ATTACHMENT,
        "authorizing_integration_owners": {"0": str(guild_id)},
        "channel": text_channel(channel_id, "governance", guild_id),
        "data": {
            "id": snowflake(),
            "name": command,
            "type": CHAT_INPUT,
            "options": options,
        },
    }
    payload.update(_where(guild_id, channel_id, who, dm=dm))  # type: ignore[typeddict-item]
    return payload


def button_interaction(
    app_id: int,
    guild_id: int,
    channel_id: int,
    who: MemberWithUser,
    custom_id: str,
    message: Message,
) -> MessageComponentInteraction:
    """INTERACTION_CREATE for a button press (type 3) on `message`."""
    payload: MessageComponentInteraction = {
        "id": snowflake(),
        "application_id": str(app_id),
        "type": 3,
        "token": "interaction-token",
        "version": 1,
        "locale": "en-US",
        "attachment_size_limit": MAX_ATTACHMENT,
        "authorizing_integration_owners": {"0": str(guild_id)},
        "channel": text_channel(channel_id, "governance", guild_id),
        "data": {"custom_id": custom_id, "component_type": BUTTON},
    }
    payload.update(_where(guild_id, channel_id, who, dm=False))  # type: ignore[typeddict-item]
    payload["message"] = message  # type: ignore[typeddict-unknown-key]
    return payload


def message(
    message_id: int, channel_id: int, author: User, sent: dict[str, Any], at: datetime
) -> Message:
    """The message object Discord answers a send, an edit or a followup with."""
    return {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "author": author,
        "type": 0,
        "content": sent.get("content") or "",
        "embeds": sent.get("embeds", []),
        "components": sent.get("components", []),
        "flags": sent.get("flags", 0),
        "timestamp": at.isoformat(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "pinned": False,
    }
