"""Approve and Veto buttons under Steward's vote decisions, and the poster that sends them.

Buttons are `DynamicItem`s: the decision id lives in each button's `custom_id`
(`steward:approve:<id>`), and the bot registers the template once at start-up
(`add_dynamic_items`), so a click on a message posted before a restart still
finds its decision. Nothing about a message is kept in memory.

Each scheduler tick posts every decision that needs a human once (claimed in
the post log as `approval:<decision id>`, delivered once `message_ref` is set)
and edits messages whose decision moved on without a click (cast, expired…).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import discord

from agent.chat.approvals import already_message, answer_deadline, approval_message
from agent.chat.builders import error_message
from agent.chat.deliver import MAX_ATTEMPTS, DeliveryError, DeliveryReport
from agent.chat.models import Message
from agent.chat.ports import PostLog
from agent.errors import NotFound
from agent.records.decision import Decision, DecisionStatus
from agent.settings import DelegateSettings
from connectors.discord_bot.commands import Refused, answer_error, role_ids, send
from connectors.discord_bot.convert import NO_MENTIONS, to_embed
from connectors.discord_bot.scheduler import delivery_error

if TYPE_CHECKING:
    from agent.voting.service import VotingService

Action = Literal["approve", "veto"]
CUSTOM_ID = r"steward:(?P<action>approve|veto):(?P<decision>[0-9a-f]{32})"
ASKING: tuple[DecisionStatus, ...] = ("awaiting_approval", "scheduled")
"""Statuses whose message carries buttons."""
MOVED_ON: tuple[DecisionStatus, ...] = (
    "approved",
    "vetoed",
    "cast",
    "expired",
    "superseded",
    "blocked",
)
FOLLOW_FOR = timedelta(days=30)
"""Decisions older than this are not followed for edits (proposals close well before)."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def may_answer(user_id: int, roles: Iterable[int], delegate: DelegateSettings) -> bool:
    """Only the delegate's approvers, by user or role: a vote is theirs to approve."""
    return user_id in delegate.approver_users or not set(delegate.approver_roles).isdisjoint(roles)


def post_key(decision_id: str) -> str:
    return f"approval:{decision_id}"


def shown_key(decision_id: str, status: DecisionStatus) -> str:
    """One edit per status the message has shown (the click or the poster, whichever is first)."""
    return f"approval:{decision_id}:{status}"


def message_ref(channel_id: int, message_id: int) -> str:
    return f"{channel_id}:{message_id}"


def parse_ref(ref: str) -> tuple[int, int] | None:
    found = re.fullmatch(r"(\d+):(\d+)", ref)
    return (int(found.group(1)), int(found.group(2))) if found else None


# ---- the buttons ---------------------------------------------------------------------
class DecisionButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CUSTOM_ID):
    """Approve or Veto for one decision; rebuilt from the `custom_id` on every click."""

    def __init__(self, action: Action, decision_id: str) -> None:
        approve = action == "approve"
        button: discord.ui.Button[Any] = discord.ui.Button(
            label="Approve" if approve else "Veto",
            style=discord.ButtonStyle.success if approve else discord.ButtonStyle.danger,
            custom_id=f"steward:{action}:{decision_id}",
        )
        super().__init__(button)
        self.action: Action = action
        self.decision_id = decision_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> DecisionButton:
        action: Action = "approve" if match["action"] == "approve" else "veto"
        return cls(action, match["decision"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        desk = getattr(interaction.client, "approvals", None)
        if not isinstance(desk, Approvals):  # a bot started without a voting service
            await send(interaction, error_message("Steward's voting is not running on this bot."))
            return
        await desk.answer(interaction, self.action, self.decision_id)


class ApprovalView(discord.ui.View):
    """The buttons under one decision: Approve and Veto, or only Veto for a scheduled vote.

    Persistent (no timeout): the buttons work for as long as the decision waits.
    """

    def __init__(self, decision_id: str, *, approve: bool) -> None:
        super().__init__(timeout=None)
        if approve:
            self.add_item(DecisionButton("approve", decision_id))
        self.add_item(DecisionButton("veto", decision_id))

    @classmethod
    def for_decision(cls, decision: Decision) -> ApprovalView:
        """Approve is offered only while the decision awaits approval; Veto always."""
        return cls(decision.id, approve=decision.status == "awaiting_approval")


def _still_vetoable(decision: Decision) -> ApprovalView | None:
    """An approved vote can still be vetoed until it is cast: keep that one button."""
    if decision.status in ("approved", "scheduled"):
        return ApprovalView(decision.id, approve=False)
    return None


def edit_kwargs(message: Message) -> dict[str, Any]:
    """Arguments for editing a message in place; mentions off, as for every send."""
    return {
        "content": message.content or None,
        "embeds": [to_embed(e) for e in message.embeds],
        "allowed_mentions": NO_MENTIONS,
    }


# ---- what to post or edit ------------------------------------------------------------
@dataclass(frozen=True)
class Card:
    """One decision's message as it should look now, and where it goes."""

    decision: Decision
    channel_id: int
    message: Message


class Approvals:
    """Posts the decisions that need a human and answers the buttons under them.

    Store work runs in worker threads (the loop keeps serving the gateway);
    Discord calls run on the loop.
    """

    def __init__(
        self,
        client: discord.Client,
        service: VotingService,
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.client = client
        self.service = service
        self.clock = clock

    @property
    def store(self) -> PostLog:
        return self.service.store

    def delegate(self, delegate_id: str) -> DelegateSettings | None:
        return next((d for d in self.service.settings.delegates if d.id == delegate_id), None)

    def card(self, decision: Decision, channel_id: int) -> Card:
        stored = self.store.get(decision.proposal_uid)
        proposal = stored.proposal if stored else None
        deadline = answer_deadline(decision, self.delegate(decision.delegate), proposal)
        return Card(decision, channel_id, approval_message(decision, proposal, deadline=deadline))

    # ---- the scheduler tick -----------------------------------------------------
    async def tick(self) -> DeliveryReport:
        """Post what waits for a human, then bring moved-on messages up to date."""
        report = DeliveryReport()
        for card in await asyncio.to_thread(lambda: list(self.to_post())):
            await self._post(card, report)
        for card in await asyncio.to_thread(lambda: list(self.to_update())):
            await self._update(card, report)
        return report

    def to_post(self) -> Iterator[Card]:
        """Decisions asking for an answer that have no message yet, each claimed once.

        A claim without a message (a crash or failure after claiming) is tried
        again up to `MAX_ATTEMPTS`: an approval nobody sees is a vote lost, while
        a rare duplicate message is harmless (both carry the same buttons).
        """
        for decision in self.service.decisions.with_status(*ASKING):
            delegate = self.delegate(decision.delegate)
            wanted = "approval" if decision.status == "awaiting_approval" else "auto"
            if decision.message_ref or decision.mode != wanted or delegate is None:
                continue
            if delegate.discord_channel is None:
                continue
            key, target = post_key(decision.id), str(delegate.discord_channel)
            payload = {"decision": decision.id}
            if not self.store.claim_post(key, target=target, kind="approval", payload=payload):
                earlier = self.store.post(key)
                if earlier is None or earlier.attempts >= MAX_ATTEMPTS:
                    continue
            yield self.card(decision, delegate.discord_channel)

    def to_update(self) -> Iterator[Card]:
        """Posted decisions that moved on without a click: each new status is shown once."""
        since = (self.clock() - FOLLOW_FOR).timestamp()
        for decision in self.service.decisions.with_status(*MOVED_ON):
            ref = parse_ref(decision.message_ref or "")
            if ref is None or decision.created_ts < since:
                continue
            key = shown_key(decision.id, decision.status)
            payload = {"decision": decision.id}
            if self.store.claim_post(key, target=str(ref[0]), kind="approval", payload=payload):
                yield self.card(decision, ref[0])

    async def _post(self, card: Card, report: DeliveryReport) -> None:
        key = post_key(card.decision.id)
        try:
            channel = await self._channel(card.channel_id)
            view = ApprovalView.for_decision(card.decision)
            sent = await channel.send(**edit_kwargs(card.message), view=view)
        except (discord.DiscordException, DeliveryError) as exc:
            await self._failed(key, exc, report)
            return
        ref = message_ref(card.channel_id, sent.id)
        await asyncio.to_thread(self._posted, card.decision.id, key, ref)
        report.posted.append(key)

    def _posted(self, decision_id: str, key: str, ref: str) -> None:
        self.service.decisions.set_message(decision_id, ref)
        self.store.mark_posted(key)

    async def _update(self, card: Card, report: DeliveryReport) -> None:
        key = shown_key(card.decision.id, card.decision.status)
        ref = parse_ref(card.decision.message_ref or "")
        assert ref is not None  # `to_update` only yields parsed refs
        try:
            partial = self.client.get_partial_messageable(ref[0]).get_partial_message(ref[1])
            await partial.edit(**edit_kwargs(card.message), view=_still_vetoable(card.decision))
        except discord.DiscordException as exc:
            await self._failed(key, exc, report)  # cosmetic: not retried
            return
        await asyncio.to_thread(self.store.mark_posted, key)
        report.posted.append(key)

    async def _channel(self, channel_id: int) -> discord.abc.Messageable:
        channel = self.client.get_channel(channel_id) or await self.client.fetch_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            raise DeliveryError(f"channel {channel_id} cannot receive messages", None)
        return channel

    async def _failed(
        self, key: str, exc: discord.DiscordException | DeliveryError, report: DeliveryReport
    ) -> None:
        error = exc if isinstance(exc, DeliveryError) else delivery_error(exc)
        await asyncio.to_thread(self.store.mark_failed, key, str(error))
        report.failed[key] = str(error)
        if error.retry_after is not None:
            report.retry_after = max(report.retry_after or 0.0, error.retry_after)

    # ---- a click --------------------------------------------------------------------
    async def answer(
        self, interaction: discord.Interaction[Any], action: Action, decision_id: str
    ) -> None:
        """Approve or veto for an approver; anyone else, or a late click, gets a private no."""
        try:
            await self._answer(interaction, action, decision_id)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a private reply
            await answer_error(interaction, exc)

    async def _answer(
        self, interaction: discord.Interaction[Any], action: Action, decision_id: str
    ) -> None:
        decision = await asyncio.to_thread(self.service.decisions.get, decision_id)
        if decision is None:
            raise NotFound("Steward has no record of this vote any more.")
        delegate = self.delegate(decision.delegate)
        user = interaction.user
        if delegate is None or not may_answer(user.id, role_ids(user), delegate):
            raise Refused("Only this delegate's approvers can approve or veto this vote.")
        by = f"discord:{user.id}"
        act = self.service.approve if action == "approve" else self.service.veto
        if not await asyncio.to_thread(act, decision_id, by):
            current = await asyncio.to_thread(self.service.decisions.get, decision_id)
            await send(interaction, already_message((current or decision).status))
            return
        card = await asyncio.to_thread(self._moved, decision_id, interaction.channel_id or 0)
        await interaction.response.edit_message(
            **edit_kwargs(card.message), view=_still_vetoable(card.decision)
        )
        key = shown_key(decision_id, card.decision.status)
        await asyncio.to_thread(self._shown, key, card.channel_id, decision_id)

    def _moved(self, decision_id: str, channel_id: int) -> Card:
        decision = self.service.decisions.get(decision_id)
        assert decision is not None  # it was just moved; decisions are never deleted
        return self.card(decision, channel_id)

    def _shown(self, key: str, channel_id: int, decision_id: str) -> None:
        """Record the edit the click made, so the poster does not make it again."""
        if self.store.claim_post(
            key, target=str(channel_id), kind="approval", payload={"decision": decision_id}
        ):
            self.store.mark_posted(key)
