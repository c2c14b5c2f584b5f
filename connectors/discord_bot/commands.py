"""The slash commands: parse options, call a plain function, send what a builder made.

No wording and no formatting here (that is `agent.chat.builders`); no error
replies either: anything a callback raises goes to `answer_error`, called from
the command tree's `on_error`, the one place errors become replies.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from agent.chat import approvals, builders
from agent.chat import voters as voter_messages
from agent.chat.models import Message
from agent.chat.ports import ChatStore
from agent.chat.text import safe
from agent.digest.build import build_digest
from agent.digest.render import parse_since
from agent.errors import NotFound, StewardError
from agent.models import Proposal, ProposalState
from agent.settings import DiscordSettings
from agent.simulate.flows import summary
from agent.voters.service import VoterFigures
from connectors.discord_bot.access import RateLimiter, is_admin
from connectors.discord_bot.convert import to_kwargs

if TYPE_CHECKING:
    from agent.analysis.policy import Policy
    from agent.chat.ask import Answer
    from agent.voting.service import VotingService

log = logging.getLogger(__name__)

PER_PAGE = 10
_SPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")
Interaction = discord.Interaction[Any]


class Refused(app_commands.CheckFailure):
    """A rule said no (channel, role, rate limit): `str()` is the reply, seen only by the asker."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    """What the commands call, built once by the composition root (`agent/app/discord.py`)."""

    settings: DiscordSettings
    store: ChatStore
    policy: Callable[[], Policy]
    """Loaded per use, so an edited policy file shows without a restart."""
    ask: Callable[[str], Answer]
    limiter: RateLimiter
    now: Callable[[], datetime] = field(default=_utc_now)
    voting: VotingService | None = None
    """Delegated voting: adds /pause and /resume (and the approval buttons, in `bot`)."""
    figures: VoterFigures | None = None
    """Delegate records and concentration (default: from `store` with default settings)."""

    def voter_figures(self) -> VoterFigures:
        if self.figures is None:
            self.figures = VoterFigures(self.store)
        return self.figures


async def send(interaction: Interaction, message: Message) -> None:
    """The first message answers the interaction; later ones (and any after a defer) follow up."""
    if interaction.response.is_done():
        await interaction.followup.send(**to_kwargs(message))
    else:
        await interaction.response.send_message(**to_kwargs(message))


async def answer_error(interaction: Interaction, error: Exception) -> None:
    """Turn any failure into a short private reply: never a traceback, never a secret."""
    original = getattr(error, "original", error)
    if isinstance(original, Refused | StewardError):
        text = str(original)
    elif isinstance(original, app_commands.TransformerError):
        text = "One of the options has a value I cannot read; check it and try again."
    else:
        log.error(
            "/%s failed", getattr(interaction.command, "qualified_name", "?"), exc_info=original
        )
        text = "Something went wrong on Steward's side. It has been logged; please try later."
    try:
        await send(interaction, builders.error_message(text).model_copy(update={"ephemeral": True}))
    except discord.HTTPException:
        # The interaction expired or Discord is down: nobody is left to tell.
        log.warning("could not send an error reply for interaction %s", interaction.id)


# ---- the plain work behind each command ------------------------------------------------
def proposals_listing(
    store: ChatStore, *, space: str | None, state: str | None, page: int
) -> tuple[list[Proposal], int]:
    """One page of stored proposals, newest first, and how many match in all."""
    found = [p for p in store.proposals(space=space) if state is None or p.state == state]
    found.reverse()
    pages = max(1, -(-len(found) // PER_PAGE))
    start = (min(page, pages) - 1) * PER_PAGE
    return found[start : start + PER_PAGE], len(found)


def proposal_detail(
    store: ChatStore, ref: str, policy_id: str | None, figures: VoterFigures | None = None
) -> Message:
    """/proposal's message for a uid, id or unique prefix; `NotFound` names the problem."""
    matches = store.resolve(ref.strip())
    if not matches:
        raise NotFound(f"No stored proposal matches {ref[:100]!r}.")
    if len(matches) > 1:
        raise NotFound(f"{ref[:100]!r} matches {len(matches)} proposals; give more of the id.")
    stored = store.get(matches[0])
    if stored is None:  # deleted between the two reads
        raise NotFound(f"No stored proposal matches {ref[:100]!r}.")
    p = stored.proposal
    assessment = store.latest_assessment(p.uid, policy_id)
    figures = figures or VoterFigures(store)
    votes = store.vote_count(p.uid)
    signals = figures.signals(p.space, only=[p.uid]) if votes else []
    who = voter_messages.concentration_text(figures.concentration(p), p.is_open, signals)
    report = store.latest_simulation(p.uid)
    sim = None
    if report is not None and report.content_hash == p.content_hash:
        sim = summary(report, set(report.dao) or None)
    return builders.proposal_message(stored, assessment, votes, who, simulation=sim)


def delegate_detail(figures: VoterFigures, address: str, space: str | None) -> Message:
    """/delegate's message; `NotFound` when the address has no stored vote."""
    return voter_messages.delegate_message(figures.record(address, space))


def digest_now(services: Services, since: str) -> list[Message]:
    """The digest of every space (as the scheduled one), cut into Discord-sized messages."""
    try:
        window = parse_since(since)
    except ValueError as exc:
        raise StewardError(str(exc)) from None
    digest = build_digest(
        services.store,
        now=services.now(),
        since=window,
        policy_id=services.policy().id,
        figures=services.voter_figures(),
    )
    return builders.digest_messages(digest)


def _space(text: str) -> str:
    space = text.strip()
    if not _SPACE.match(space):
        raise StewardError("That does not look like a space id (for example ens.eth).")
    return space


def role_ids(user: discord.User | discord.Member) -> list[int]:
    return [role.id for role in user.roles] if isinstance(user, discord.Member) else []


# ---- the commands ------------------------------------------------------------------------
def build_commands(services: Services) -> list[app_commands.Command[Any, ..., None]]:
    """Every slash command, bound to `services`. The channel rule is the tree's check."""
    settings = services.settings

    def admin_only(interaction: Interaction) -> bool:
        if not is_admin(role_ids(interaction.user), settings):
            raise Refused("Only members with a Steward admin role can use this command.")
        return True

    @app_commands.command(name="proposals", description="Stored proposals, newest first.")
    @app_commands.describe(space="Only this space (e.g. ens.eth)", state="Only this state")
    async def proposals(
        interaction: Interaction,
        space: app_commands.Range[str, 1, 100] | None = None,
        state: ProposalState | None = None,
        page: app_commands.Range[int, 1, 10_000] = 1,
    ) -> None:
        shown, total = proposals_listing(services.store, space=space, state=state, page=page)
        await send(interaction, builders.proposals_page(shown, page, PER_PAGE, total=total))

    @app_commands.command(name="proposal", description="One proposal with Steward's assessment.")
    @app_commands.rename(ref="id")
    @app_commands.describe(ref="Proposal uid, id, or a unique prefix")
    async def proposal(interaction: Interaction, ref: app_commands.Range[str, 1, 200]) -> None:
        message = proposal_detail(
            services.store, ref, services.policy().id, services.voter_figures()
        )
        await send(interaction, message)

    @app_commands.command(name="delegate", description="A voter's record: votes, participation.")
    @app_commands.describe(address="The voter's address (0x…)", space="Only this space")
    async def delegate(
        interaction: Interaction,
        address: app_commands.Range[str, 1, 200],
        space: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        await send(interaction, delegate_detail(services.voter_figures(), address, space))

    @app_commands.command(name="ask", description="Ask a question about stored proposals.")
    async def ask(interaction: Interaction, question: app_commands.Range[str, 3, 500]) -> None:
        if not services.limiter.hit(interaction.user.id):
            wait = services.limiter.retry_after(interaction.user.id)
            raise Refused(
                f"You can ask {services.limiter.per_window} questions a minute; "
                f"try again in {max(1, round(wait))} s."
            )
        await interaction.response.defer(thinking=True)
        answer = await asyncio.to_thread(services.ask, question)  # embeds: keep the loop free
        await send(interaction, builders.answer_message(answer))

    @app_commands.command(name="digest", description="New, closing and ended proposals.")
    @app_commands.describe(since="Look back this far: 24h, 2d, 1w")
    async def digest(
        interaction: Interaction, since: app_commands.Range[str, 1, 20] | None = None
    ) -> None:
        window = since or settings.digest_since
        for message in digest_now(services, window):
            await send(interaction, message)

    @app_commands.command(name="policy", description="The policy Steward's recommendations follow.")
    async def policy(interaction: Interaction) -> None:
        voting = services.voting
        tracks = (
            [f"{d.id}: {voting.track_record(d).line()}" for d in voting.settings.delegates]
            if voting is not None and voting.track_record is not None
            else []
        )
        await send(interaction, builders.policy_message(services.policy(), tracks))

    @app_commands.command(name="subscribe", description="Post alerts for a space here (admins).")
    @app_commands.check(admin_only)
    async def subscribe(interaction: Interaction, space: app_commands.Range[str, 1, 100]) -> None:
        name = _space(space)
        added = services.store.subscribe(str(interaction.channel_id), name)
        verb = "now follows" if added else "already follows"
        await send(interaction, Message(content=f"This channel {verb} {safe(name, 100)}."))

    @app_commands.command(name="unsubscribe", description="Stop alerts for a space here (admins).")
    @app_commands.check(admin_only)
    async def unsubscribe(interaction: Interaction, space: app_commands.Range[str, 1, 100]) -> None:
        name = _space(space)
        removed = services.store.unsubscribe(str(interaction.channel_id), name)
        verb = "no longer follows" if removed else "was not following"
        await send(interaction, Message(content=f"This channel {verb} {safe(name, 100)}."))

    commands: list[app_commands.Command[Any, ..., None]] = [
        *(proposals, proposal, delegate, ask, digest, policy, subscribe, unsubscribe)
    ]
    if services.voting is not None:
        commands += voting_commands(services.voting, admin_only)
    return commands


def voting_commands(
    voting: VotingService, admin_only: Callable[[Interaction], bool]
) -> list[app_commands.Command[Any, ..., None]]:
    """/pause and /resume: the kill switch is a file read before every cast, so a pause
    holds from the next cast on, in this process and in any other running the loop."""

    @app_commands.command(name="pause", description="Stop casting votes at once (admins).")
    @app_commands.describe(note="Why, for the audit log")
    @app_commands.check(admin_only)
    async def pause(
        interaction: Interaction, note: app_commands.Range[str, 1, 200] | None = None
    ) -> None:
        by = f"discord:{interaction.user.id}"
        await asyncio.to_thread(voting.pause, by, note or "")
        await send(interaction, approvals.pause_message(by, note))

    @app_commands.command(name="resume", description="Cast votes again after /pause (admins).")
    @app_commands.check(admin_only)
    async def resume(interaction: Interaction) -> None:
        by = f"discord:{interaction.user.id}"
        resumed = await asyncio.to_thread(voting.resume, by)
        await send(interaction, approvals.resume_message(resumed, by))

    return [pause, resume]
