"""The Discord bot's wiring: its commands' services, the scheduled posting, the approvals.

Part of the composition root: the connectors in `connectors/discord_bot/` receive the
store through narrow ports (`agent/chat/ports.py`) and never build anything themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.app import App
    from agent.voting.service import VotingService
    from connectors.discord_bot.bot import StewardBot
    from connectors.discord_bot.commands import Services


def discord_services(app: App, voting: VotingService | None = None) -> Services:
    """The commands' dependencies; heavy parts (the index, the model) stay lazy."""
    from connectors.discord_bot.access import RateLimiter
    from connectors.discord_bot.commands import Services

    return Services(
        settings=app.settings.discord,
        store=app.store,
        policy=app.policy,
        ask=app.answerer(),
        limiter=RateLimiter(app.settings.discord.ask_per_user_per_minute),
        voting=voting,
        figures=app.voter_figures(),
    )


def discord_bot(app: App, voting: VotingService | None = None) -> StewardBot:
    """The bot `steward bot` (and `steward run`) runs: commands plus the scheduled digests
    and alerts; with `voting`, also /pause, /resume and the approval messages."""
    from agent.chat.rounds import PostRounds
    from connectors.discord_bot.bot import StewardBot
    from connectors.discord_bot.scheduler import Scheduler

    services = discord_services(app, voting)
    bot = StewardBot(services)
    rounds = PostRounds(
        app.store,
        app.settings.discord,
        policy_id=app.policy().id,
        figures=services.figures,
        observer=app.observer,
    )
    bot.scheduler = Scheduler(bot, rounds)
    if bot.approvals is not None:
        bot.scheduler.posters.append(bot.approvals.tick)
    return bot
