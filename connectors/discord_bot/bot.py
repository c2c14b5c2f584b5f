"""Building the Discord client: intents, the command tree, registration, the scheduler.

`StewardBot` takes ready-made `Services`; the composition root (`agent/app/discord.py`)
builds them and the scheduler, and tests build them around a temporary store.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from agent.settings import DiscordSettings
from connectors.discord_bot.access import command_allowed
from connectors.discord_bot.commands import Refused, Services, answer_error, build_commands

if TYPE_CHECKING:
    from connectors.discord_bot.approvals import Approvals
    from connectors.discord_bot.scheduler import Scheduler

log = logging.getLogger(__name__)


def minimal_intents() -> discord.Intents:
    """Guilds only: enough to resolve channels and roles. Slash commands need no more,
    and Steward never reads message content or member lists."""
    return discord.Intents(guilds=True)


class StewardTree(app_commands.CommandTree[discord.Client]):
    """The command tree, with the channel rule and error replies in one place each."""

    def __init__(self, client: discord.Client, settings: DiscordSettings) -> None:
        super().__init__(client)
        self.settings = settings

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        """Every command answers only in configured channels (DMs included in 'elsewhere')."""
        if not command_allowed(interaction.channel_id, self.settings):
            raise Refused("Steward only answers in the channels it is configured for.")
        return True

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError, /
    ) -> None:
        await answer_error(interaction, error)


class StewardBot(discord.Client):
    """A client with slash commands; the scheduler (if any) starts once commands are set up."""

    def __init__(
        self,
        services: Services,
        *,
        intents: discord.Intents | None = None,
    ) -> None:
        # Mentions off by default too: a send that forgets `to_kwargs` still cannot ping.
        super().__init__(
            intents=intents or minimal_intents(), allowed_mentions=discord.AllowedMentions.none()
        )
        self.settings = services.settings
        self.tree = StewardTree(self, services.settings)
        for command in build_commands(services):
            self.tree.add_command(command)
        self.scheduler: Scheduler | None = None
        """Set by the composition root; it needs the client, so it cannot come first."""
        self.approvals: Approvals | None = None
        """The approval buttons' handler, when the bot is given a voting service."""
        if services.voting is not None:
            from connectors.discord_bot.approvals import Approvals

            self.approvals = Approvals(self, services.voting)

    async def setup_hook(self) -> None:
        if self.approvals is not None:
            from connectors.discord_bot.approvals import DecisionButton

            # Buttons on messages from before this start answer again: the decision id
            # is in each button's custom_id, matched by this template.
            self.add_dynamic_items(DecisionButton)
        await register_commands(self.tree, self.settings)
        if self.scheduler is not None:
            self.scheduler.start()

    async def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        await super().close()


async def register_commands(tree: app_commands.CommandTree[Any], settings: DiscordSettings) -> None:
    """Per configured guild (shows at once); globally only when asked (shared by every guild).

    With both, members of a configured guild see each command twice: pick one.
    """
    for guild_id in settings.guild_ids:
        guild = discord.Object(id=guild_id)
        tree.copy_global_to(guild=guild)
        synced = await tree.sync(guild=guild)
        log.info("registered %d commands in guild %s", len(synced), guild_id)
    if settings.global_commands:
        synced = await tree.sync()
        log.info("registered %d global commands", len(synced))
    elif not settings.guild_ids:
        log.warning("no discord.guild_ids and global_commands is off: no command is registered")
