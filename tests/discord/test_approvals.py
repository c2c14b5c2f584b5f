"""Approval and veto buttons end to end inside discord.py, on a real VotingService.

Posting goes through discord.py's own `channel.send` / `message.edit` with the
HTTP client's two message routes replaced by `FakeChannels` (dpytest drops a
message's components, which are what these tests are about). Clicks are real
component-interaction payloads (type 3) fed to the client's parser, so
discord.py itself matches the `custom_id` against the registered template,
rebuilds the button and calls it; replies land in `FakeDiscord`, as for the
slash commands in test_commands.py.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord
import pytest
import pytest_asyncio
from discord.webhook.async_ import async_context

from agent.analysis.policy import load_policy
from agent.chat.approvals import already_message, answer_deadline, approval_message
from agent.chat.deliver import retry_unsent
from agent.chat.rounds import PostRounds
from agent.records.decision import Decision, DecisionData, DecisionStatus
from agent.settings import DiscordSettings, VotingSettings
from agent.store import RecordStore
from agent.voting.audit import head_path
from agent.voting.audit_log import AuditLog
from agent.voting.service import VotingService
from connectors.discord_bot.access import RateLimiter
from connectors.discord_bot.approvals import Approvals, may_answer
from connectors.discord_bot.bot import StewardBot
from connectors.discord_bot.commands import Services
from connectors.discord_bot.scheduler import Scheduler
from tests.discord import HOSTILE, NOW, copy_store, proposal
from tests.discord.test_commands import (
    ADMIN_ROLE,
    APP_ID,
    CHANNEL,
    EPHEMERAL,
    GUILD,
    MEMBER_ROLE,
    USER,
    FakeDiscord,
    _guild_payload,
    invoke,
)
from tests.fakes import discord_payloads as payloads

STRANGER = 500000000000000009
ADDRESS = "0x" + "ab" * 20
FLAGS = [
    {"action": "1", "kind": "treasury_outflow", "severity": "high", "detail": "250,000 USDC out"},
]
_ids = itertools.count(300000000000000000)


# ---- Discord's side --------------------------------------------------------------------
def _message(channel_id: int, payload: dict[str, Any], message_id: int) -> dict[str, Any]:
    author = payloads.user(APP_ID, "Steward")
    return dict(payloads.message(message_id, channel_id, author, payload, NOW))


class FakeChannels:
    """The HTTP client's send and edit routes, answering as Discord would."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        """Messages as Discord stores them (with their components)."""
        self.payloads: list[dict[str, Any]] = []
        self.edits: list[tuple[int, dict[str, Any]]] = []
        self.fail: list[Exception] = []

    async def send_message(self, channel_id: int, *, params: Any) -> dict[str, Any]:
        self.payloads.append(params.payload)
        if self.fail:
            raise self.fail.pop(0)
        message = _message(channel_id, params.payload, next(_ids))
        self.sent.append(message)
        return message

    async def edit_message(self, channel_id: int, message_id: int, *, params: Any) -> Any:
        self.payloads.append(params.payload)
        self.edits.append((message_id, params.payload))
        return _message(channel_id, params.payload, message_id)

    def custom_ids(self, message: dict[str, Any]) -> list[str]:
        return [c["custom_id"] for row in message["components"] for c in row["components"]]


async def click(
    bot: StewardBot,
    custom_id: str,
    message: dict[str, Any],
    *,
    user: int = USER,
    roles: tuple[int, ...] = (),
) -> FakeDiscord:
    """Press a button as Discord delivers it: an INTERACTION_CREATE of type 3."""
    who = payloads.member(user, f"user{user % 1000}", list(roles), NOW)
    # `message` is what FakeChannels answered the send with: a payloads.message already
    payload = payloads.button_interaction(APP_ID, GUILD, CHANNEL, who, custom_id, message)  # type: ignore[arg-type]
    fake = FakeDiscord()
    reset = async_context.set(fake)  # type: ignore[arg-type]
    try:
        bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
        running = [t for t in asyncio.all_tasks() if t.get_name().startswith("discord-ui-")]
        await asyncio.gather(*running)
    finally:
        async_context.reset(reset)
    for kind, body in fake.requests:
        data = body.get("data", {}) if kind == "response" else body
        if "content" in data or "embeds" in data:
            assert data["allowed_mentions"] == {"parse": []}
    return fake


# ---- fixtures ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("approvals") / "template.db"
    store = RecordStore(f"sqlite:///{path}")
    store.apply_proposals(
        [
            proposal("ep-vote", title=HOSTILE, extra={"action_flags": FLAGS}),
            proposal("ep-auto", title="Renew the ENS service providers"),
        ]
    )
    store.close()
    return path


@pytest.fixture
def store(template: Path, tmp_path: Path) -> Iterator[RecordStore]:
    s = copy_store(template, tmp_path)
    yield s
    s.close()


@pytest.fixture
def service(store: RecordStore, tmp_path: Path) -> VotingService:
    common: dict[str, Any] = {
        "address": ADDRESS,
        "policy": "unused.md",
        "signer": {"key_env": "UNUSED_KEY"},
        "discord_channel": CHANNEL,
    }
    delegates = [
        {**common, "id": "alice", "mode": "approval", "approver_users": [USER]},
        {**common, "id": "bob", "mode": "auto", "approver_roles": [MEMBER_ROLE]},
    ]
    return VotingService(
        store,
        VotingSettings(enabled=True, delegates=delegates),
        home=tmp_path,
        pause_path=tmp_path / "PAUSE",
        policy=load_policy,
        analyse=lambda p, pol: pytest.fail("no analysis in these tests"),
        sink_for=lambda d, p: None,
        audit=AuditLog(store.engine, head_path(tmp_path)),
    )


def decide(
    service: VotingService, delegate: str, uid: str, status: DecisionStatus, mode: str
) -> Decision:
    decision = service.decisions.record(
        delegate=delegate,
        proposal_uid=uid,
        content_hash="c1",
        mode=mode,
        status=status,
        choice_label="For",
        choice=1,
        confidence=0.9,
        cast_after_ts=int(NOW.timestamp()) + 3600 if status == "scheduled" else None,
        data=DecisionData.model_validate(
            {
                "recommendation": "FOR",
                "summary": f"Why Steward recommends FOR. {HOSTILE}",
                "reason": "Steward votes FOR",
                "provenance_hash": "9f" * 32,
                "blockers": [],
                "track_record": {
                    "voter": "0x" + "11" * 20,
                    "found": True,
                    "passed": False,
                    "detail": "n 12 < 20",
                    "n": 12,
                    "coverage": 0.75,
                    "agreement": 0.89,
                    "kappa": 0.41,
                    "age_d": 3.0,
                },
            }
        ),
    )
    assert decision is not None
    return decision


@pytest.fixture
def waiting(service: VotingService) -> Decision:
    return decide(service, "alice", "archive:ep-vote", "awaiting_approval", "approval")


@pytest.fixture
def scheduled(service: VotingService) -> Decision:
    return decide(service, "bob", "archive:ep-auto", "scheduled", "auto")


@pytest.fixture
def channels() -> FakeChannels:
    return FakeChannels()


@pytest_asyncio.fixture
async def start(service: VotingService, channels: FakeChannels) -> Any:
    """A bot as `steward run` starts it (setup_hook included), on a guild and fake HTTP."""

    async def started(*, register: bool = True) -> StewardBot:
        settings = DiscordSettings(channels=[CHANNEL], admin_roles=[ADMIN_ROLE])
        services = Services(
            settings=settings,
            store=service.store,
            policy=lambda: None,  # type: ignore[arg-type,return-value]
            ask=lambda q: None,  # type: ignore[arg-type,return-value]
            limiter=RateLimiter(3),
            voting=service,
        )
        bot = StewardBot(services)
        await bot._async_setup_hook()  # what login does: binds the client to this loop
        me: Any = {"id": str(APP_ID), "username": "Steward", "discriminator": "0", "avatar": None}
        bot._connection.user = discord.ClientUser(state=bot._connection, data=me)
        bot._connection.parse_guild_create(_guild_payload())
        bot.http.send_message = channels.send_message  # type: ignore[method-assign,assignment]
        bot.http.edit_message = channels.edit_message  # type: ignore[method-assign,assignment]
        if register:
            await bot.setup_hook()  # no guild ids: registers no slash command, only the buttons
        return bot

    return started


def desk(bot: StewardBot) -> Approvals:
    assert bot.approvals is not None
    return bot.approvals


def audit(service: VotingService, kind: str) -> list[dict[str, Any]]:
    return [e.data for e in service.audit.entries() if e.kind == kind]


# ---- posting -------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_each_decision_is_posted_once_across_ticks_and_restarts(
    start: Any, service: VotingService, channels: FakeChannels, waiting: Decision,
    scheduled: Decision,
) -> None:  # fmt: skip
    decide(service, "alice", "archive:ep-auto", "dry_run", "dry-run")  # never posted
    bot = await start()
    rounds = PostRounds(service.store, DiscordSettings(), policy_id=None)
    scheduler = Scheduler(bot, rounds, clock=lambda: NOW)
    scheduler.posters.append(desk(bot).tick)
    report = await scheduler.tick()
    assert report is not None and sorted(report.posted) == sorted(
        [f"approval:{waiting.id}", f"approval:{scheduled.id}"]
    )
    assert (await desk(bot).tick()).posted == []  # a second tick
    restarted = await start()
    assert (await desk(restarted).tick()).posted == []  # a new process
    assert len(channels.sent) == 2

    asking, notice = channels.sent
    buttons = [f"steward:approve:{waiting.id}", f"steward:veto:{waiting.id}"]
    assert channels.custom_ids(asking) == buttons
    assert channels.custom_ids(notice) == [f"steward:veto:{scheduled.id}"]
    assert "Approval needed" in asking["content"] and "Vote scheduled" in notice["content"]
    for decision, message in ((waiting, asking), (scheduled, notice)):
        stored = service.decisions.get(decision.id)
        assert stored is not None and stored.message_ref == f"{CHANNEL}:{message['id']}"

    embed = asking["embeds"][0]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert "FOR" in fields["Recommendation"] and "“For”" in fields["Recommendation"]
    assert "90%" in fields["Recommendation"]
    assert "🔴 **treasury outflow** (action 1): 250,000 USDC out" in fields["Decoded action flags"]
    assert fields["Provenance"] == f"`sha256:{'9f' * 32}`"
    assert "Approve before <t:" in fields["Deadline"]
    assert "Why Steward recommends FOR" in embed["description"]
    text = json.dumps(channels.payloads, ensure_ascii=False)
    assert "@everyone" not in text and "@here" not in text and "<@&" not in text
    assert "](https://evil" not in text
    assert all(p["allowed_mentions"] == {"parse": []} for p in channels.payloads)


@pytest.mark.asyncio
async def test_a_failed_post_is_sent_again_and_never_lost(
    start: Any, service: VotingService, channels: FakeChannels, waiting: Decision
) -> None:
    bot = await start()
    response: Any = SimpleNamespace(status=503, reason="down")
    outage = discord.DiscordServerError(response, "down")
    channels.fail.append(outage)
    key = f"approval:{waiting.id}"
    assert (await desk(bot).tick()).failed == {key: "Discord server error 503"}
    # The scheduler's start-up sweep of unsent posts has no message to send for an
    # approval (it needs its buttons) and marks it done: the decision still has no message.
    retry_unsent(service.store, SimpleNamespace(send=lambda *_: pytest.fail("sent")))
    assert (await desk(bot).tick()).posted == [key]
    assert (await desk(bot).tick()).posted == [] and len(channels.sent) == 1


# ---- clicks ----------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_an_approver_approves_once_and_only_veto_stays_until_the_cast(
    start: Any, service: VotingService, channels: FakeChannels, waiting: Decision
) -> None:
    bot = await start()
    await desk(bot).tick()
    [message] = channels.sent
    fake = await click(bot, f"steward:approve:{waiting.id}", message)
    [(kind, body)] = fake.requests
    assert kind == "response" and body["type"] == 7  # the message itself is updated
    [row] = body["data"]["components"]  # approved, not cast yet: it can still be vetoed
    assert [b["custom_id"] for b in row["components"]] == [f"steward:veto:{waiting.id}"]
    assert body["data"]["content"].startswith(f"✅ **Approved** by <@{USER}>")
    decision = service.decisions.get(waiting.id)
    assert decision is not None and decision.status == "approved"
    assert decision.decided_by == f"discord:{USER}"
    assert audit(service, "approved") == [{"decision": waiting.id, "by": f"discord:{USER}"}]

    [late] = (await click(bot, f"steward:approve:{waiting.id}", message)).messages
    assert late["flags"] & EPHEMERAL and late["content"] == "This vote is already approved."
    assert len(audit(service, "approved")) == 1

    assert (await desk(bot).tick()).posted == []  # the click already showed "approved"
    service.decisions.move(waiting.id, "cast", expected=("approved",))
    assert (await desk(bot).tick()).posted == [f"approval:{waiting.id}:cast"]
    [(edited, body)] = channels.edits
    assert edited == int(message["id"]) and body["content"].startswith("🗳️ **Vote cast**")
    assert body["components"] == [] and body["allowed_mentions"] == {"parse": []}


@pytest.mark.asyncio
async def test_a_stranger_is_refused_and_nothing_changes(
    start: Any, service: VotingService, channels: FakeChannels, waiting: Decision
) -> None:
    bot = await start()
    await desk(bot).tick()
    [message] = channels.sent
    for custom_id in (f"steward:approve:{waiting.id}", f"steward:veto:{waiting.id}"):
        fake = await click(bot, custom_id, message, user=STRANGER, roles=(ADMIN_ROLE,))
        [refusal] = fake.messages
        assert refusal["flags"] & EPHEMERAL and "approvers" in refusal["content"]
    decision = service.decisions.get(waiting.id)
    assert decision is not None and decision.status == "awaiting_approval"
    assert decision.decided_by is None
    assert audit(service, "approved") == audit(service, "vetoed") == []


@pytest.mark.asyncio
async def test_an_approver_role_vetoes_a_scheduled_vote(
    start: Any, service: VotingService, channels: FakeChannels, scheduled: Decision
) -> None:
    bot = await start()
    await desk(bot).tick()
    [notice] = channels.sent
    fake = await click(bot, f"steward:veto:{scheduled.id}", notice, roles=(MEMBER_ROLE,))
    [body] = fake.messages
    assert body["content"].startswith(f"🛑 **Vetoed** by <@{USER}>")
    decision = service.decisions.get(scheduled.id)
    assert decision is not None and decision.status == "vetoed"
    assert audit(service, "vetoed") == [{"decision": scheduled.id, "by": f"discord:{USER}"}]
    [late] = (
        await click(bot, f"steward:veto:{scheduled.id}", notice, roles=(MEMBER_ROLE,))
    ).messages
    assert late["flags"] & EPHEMERAL and late["content"] == "This vote is already vetoed."
    assert len(audit(service, "vetoed")) == 1


@pytest.mark.asyncio
async def test_buttons_posted_before_a_restart_still_answer(
    start: Any, service: VotingService, channels: FakeChannels, waiting: Decision
) -> None:
    await desk(await start()).tick()
    [message] = channels.sent
    unregistered = await start(register=False)
    assert (await click(unregistered, f"steward:approve:{waiting.id}", message)).requests == []
    restarted = await start()  # setup_hook registers the buttons' template
    fake = await click(restarted, f"steward:approve:{waiting.id}", message)
    assert fake.requests[0][1]["type"] == 7
    decision = service.decisions.get(waiting.id)
    assert decision is not None and decision.status == "approved"


# ---- /pause and /resume -------------------------------------------------------------------
@pytest.mark.asyncio
async def test_pause_and_resume_need_an_admin_and_act_at_once(
    start: Any, service: VotingService
) -> None:
    bot = await start()
    [refused] = (await invoke(bot, "pause", note="incident")).messages
    assert refused["flags"] & EPHEMERAL and "admin role" in refused["content"]
    assert service.paused() is None and not service.pause_path.exists()

    admin = (ADMIN_ROLE,)
    [paused] = (await invoke(bot, "pause", roles=admin, note="@everyone incident")).messages
    assert paused["content"].startswith(f"⏸️ **Voting paused** by <@{USER}>")
    assert "@everyone" not in paused["content"]
    assert service.pause_path.exists()
    assert service.paused() == f"paused: by discord:{USER}. @everyone incident"
    assert [e["by"] for e in audit(service, "paused")] == [f"discord:{USER}"]

    [refused] = (await invoke(bot, "resume")).messages
    assert refused["flags"] & EPHEMERAL and service.paused() is not None
    [resumed] = (await invoke(bot, "resume", roles=admin)).messages
    assert resumed["content"].startswith("▶️ **Voting resumed**") and service.paused() is None
    [again] = (await invoke(bot, "resume", roles=admin)).messages
    assert again["flags"] & EPHEMERAL and again["content"] == "Voting was not paused."


# ---- plain parts ---------------------------------------------------------------------------
def test_every_status_has_a_message_within_discords_limits(
    service: VotingService, waiting: Decision
) -> None:
    stored = service.store.get(waiting.proposal_uid)
    assert stored is not None
    alice = service.settings.delegates[0]
    deadline = answer_deadline(waiting, alice, stored.proposal)
    assert deadline is not None and deadline < stored.proposal.end  # type: ignore[operator]
    long_summary = waiting.data.model_copy(update={"summary": "x " * 5000})
    long = waiting.model_copy(update={"data": long_summary})
    for status in ("approved", "vetoed", "cast", "expired", "superseded", "blocked", "dry_run"):
        moved = long.model_copy(update={"status": status, "decided_by": "cli:@everyone"})
        message = approval_message(moved, stored.proposal, deadline=None)
        assert message.embeds[0].title != HOSTILE and "@everyone" not in message.content
    orphan = approval_message(waiting, None, deadline=None)
    assert orphan.embeds[0].title == "(proposal not stored)"
    assert already_message("cast").ephemeral


def test_only_approvers_may_answer(service: VotingService) -> None:
    alice, bob = service.settings.delegates
    assert may_answer(USER, [], alice) and not may_answer(STRANGER, [MEMBER_ROLE], alice)
    assert may_answer(STRANGER, [MEMBER_ROLE], bob) and not may_answer(USER, [ADMIN_ROLE], bob)


def test_app_discord_bot_adds_voting_only_when_given(service: VotingService) -> None:
    from agent.app import App
    from agent.settings import load_settings

    app = App(load_settings())
    try:
        plain = app.discord_bot()
        assert plain.approvals is None and plain.scheduler is not None
        assert plain.scheduler.posters == [] and plain.tree.get_command("pause") is None
        voting = app.discord_bot(voting=service)
        assert voting.approvals is not None and voting.scheduler is not None
        assert voting.scheduler.posters == [voting.approvals.tick]
        assert {"pause", "resume"} <= {c.name for c in voting.tree.get_commands()}
    finally:
        app.close()


@pytest.mark.asyncio
async def test_the_approval_message_lands_in_a_dpytest_channel(
    service: VotingService, waiting: Decision
) -> None:
    import discord.ext.test as dpytest

    unused: Any = None
    services = Services(
        DiscordSettings(), service.store, unused, unused, RateLimiter(1), voting=service
    )
    bot = StewardBot(services, intents=discord.Intents(guilds=True, members=True))
    await bot._async_setup_hook()
    dpytest.configure(bot)
    channel = bot.guilds[0].text_channels[0]
    # dpytest makes its own channel ids: point alice's approvals there.
    alice = service.settings.delegates[0].model_copy(update={"discord_channel": channel.id})
    service.settings.delegates[0] = alice
    try:
        assert (await desk(bot).tick()).posted == [f"approval:{waiting.id}"]
        posted = dpytest.get_message()
        assert posted.channel.id == channel.id and "Approval needed" in posted.content
        assert "@everyone" not in str(posted.embeds[0].title)
        assert (await desk(bot).tick()).posted == []
        assert dpytest.verify().message().nothing()
    finally:
        await dpytest.empty_queue()


def test_the_approval_request_shows_the_track_record(waiting: Decision) -> None:
    from agent.chat.approvals import approval_message

    message = approval_message(waiting, None, deadline=None)
    (field,) = [f for f in message.embeds[0].fields if f.name == "Track record"]
    assert "agreed 89% of 12 past votes" in field.value and "κ 0.41" in field.value
    assert "does not pass: n 12 \\< 20" in field.value  # Markdown-escaped
