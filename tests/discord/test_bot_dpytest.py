"""The scheduler at the message level, on a dpytest guild: what lands in the channel.

dpytest never sends READY, so the fixture marks the client ready itself;
otherwise the scheduler's loop would wait for the gateway forever.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord
import discord.ext.test as dpytest
import pytest
import pytest_asyncio

from agent.chat.deliver import DeliveryError, payload_of
from agent.chat.models import Message
from agent.chat.rounds import PostRounds
from agent.metrics import Metrics
from agent.settings import DiscordSettings
from agent.store import RecordStore
from connectors.discord_bot.access import RateLimiter
from connectors.discord_bot.bot import StewardBot
from connectors.discord_bot.commands import Services
from connectors.discord_bot.scheduler import ChannelSender, Scheduler, delivery_error
from tests.discord import NOW, POLICY_ID, copy_store, seed_template

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_template(tmp_path_factory.mktemp("dpytest") / "template.db")


@pytest.fixture
def store(template: Path, tmp_path: Path) -> Iterator[RecordStore]:
    s = copy_store(template, tmp_path)
    yield s
    s.close()


@pytest_asyncio.fixture
async def bot(store: RecordStore) -> AsyncIterator[StewardBot]:
    services = Services(
        settings=DiscordSettings(),
        store=store,
        policy=lambda: None,  # type: ignore[arg-type,return-value]
        ask=lambda q: None,  # type: ignore[arg-type,return-value]
        limiter=RateLimiter(3),
    )
    # dpytest adds the bot to its guild as a joined member, cached only with the members
    # intent; on Discord the bot's own member comes with the guild, so the bot needs no more.
    client = StewardBot(services, intents=discord.Intents(guilds=True, members=True))
    await client._async_setup_hook()
    dpytest.configure(client)
    client._ready.set()  # dpytest never fires READY
    yield client
    await dpytest.empty_queue()


@pytest.fixture
def channel(bot: StewardBot) -> discord.TextChannel:
    return bot.guilds[0].text_channels[0]


def scheduler_for(
    bot: StewardBot, store: RecordStore, metrics: Metrics | None = None, **settings: Any
) -> Scheduler:
    rounds = PostRounds(store, DiscordSettings(**settings), policy_id=POLICY_ID, observer=metrics)
    return Scheduler(bot, rounds, clock=lambda: NOW)


def sent() -> list[discord.Message]:
    """Every message the bot posted since the last call, oldest first."""
    messages = []
    while True:
        try:
            messages.append(dpytest.get_message())
        except asyncio.QueueEmpty:
            return messages


def spy_payloads(bot: StewardBot, monkeypatch: pytest.MonkeyPatch, fail: list[Any]) -> list[Any]:
    """Record each send's request body; raise the exceptions in `fail` first, one per send."""
    payloads: list[Any] = []
    original = bot.http.send_message

    async def send_message(channel_id: int, *, params: Any) -> Any:
        channel = bot.get_channel(channel_id)  # noqa: F841 - dpytest reads its caller's `channel`
        payloads.append(params.payload)
        if fail:
            raise fail.pop(0)
        return await original(channel_id, params=params)

    monkeypatch.setattr(bot.http, "send_message", send_message)
    return payloads


async def test_the_digest_is_posted_once_across_ticks(
    bot: StewardBot, channel: discord.TextChannel, store: RecordStore
) -> None:
    scheduler = scheduler_for(bot, store, digest_channels=[channel.id])
    report = await scheduler.tick()
    key = f"digest:{channel.id}:2026-03-10"
    assert report is not None and report.posted == [key] and not report.failed
    posted = sent()
    assert len(posted) > 1 and all(len(m.content) <= 2000 for m in posted)
    assert all(m.channel.id == channel.id for m in posted)
    assert "Grant round 14" in "".join(m.content for m in posted)
    assert store.post(key) is not None and store.post(key).status == "posted"  # type: ignore[union-attr]

    again = await scheduler.tick(NOW + timedelta(minutes=1))
    assert again is not None and again.posted == []
    assert dpytest.verify().message().nothing()


async def test_everyone_in_a_message_is_sent_with_mentions_disabled(
    bot: StewardBot, channel: discord.TextChannel, monkeypatch: pytest.MonkeyPatch
) -> None:
    payloads = spy_payloads(bot, monkeypatch, fail=[])
    sender = ChannelSender(bot, asyncio.get_running_loop())
    await asyncio.to_thread(sender.send, str(channel.id), Message(content="@everyone vote now"))
    assert dpytest.verify().message().content("@everyone vote now")
    assert [p["allowed_mentions"] for p in payloads] == [{"parse": []}]
    # A send that bypassed `to_kwargs` would fall back to the client default: none too.
    # (dpytest swaps the client's state for its own, so this is checked on a fresh client.)
    fresh = StewardBot(Services(DiscordSettings(), None, None, None, RateLimiter(1)))  # type: ignore[arg-type]
    assert fresh.allowed_mentions is not None
    assert fresh.allowed_mentions.to_dict() == {"parse": []}


async def test_alerts_for_subscribed_spaces_neutralise_hostile_titles(
    bot: StewardBot,
    channel: discord.TextChannel,
    store: RecordStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payloads = spy_payloads(bot, monkeypatch, fail=[])
    store.subscribe(str(channel.id), "ens.eth")
    report = await scheduler_for(bot, store).tick()
    assert report is not None and f"alert:{channel.id}:archive:ep-hostile" in report.posted
    hostile = [m for m in sent() if "ep-hostile" in (m.embeds[0].footer.text or "")]
    assert len(hostile) == 1 and "@everyone" not in str(hostile[0].embeds[0].title)
    assert all(p["allowed_mentions"] == {"parse": []} for p in payloads)


async def test_a_failed_post_is_recorded_and_sent_on_the_next_tick(
    bot: StewardBot,
    channel: discord.TextChannel,
    store: RecordStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outage = discord.DiscordServerError(SimpleNamespace(status=503, reason="down"), "down")
    spy_payloads(bot, monkeypatch, fail=[outage])
    metrics = Metrics()
    scheduler = scheduler_for(bot, store, metrics, digest_channels=[channel.id])
    key = f"digest:{channel.id}:2026-03-10"
    first = await scheduler.tick()
    assert first is not None and first.failed == {key: "Discord server error 503"}
    assert store.post(key).status == "failed"  # type: ignore[union-attr]
    assert dpytest.verify().message().nothing()

    second = await scheduler.tick(NOW + timedelta(minutes=1))
    assert second is not None and second.posted == [key] and len(sent()) > 1
    # The bot's posts are counted like the webhook job's, for /metrics.
    posts = {
        o: metrics.registry.get_sample_value("steward_posts_total", {"outcome": o})
        for o in ("sent", "failed")
    }
    assert posts == {"sent": 1.0, "failed": 1.0}


async def test_a_rate_limit_pauses_the_ticks_it_asks_for(
    bot: StewardBot,
    channel: discord.TextChannel,
    store: RecordStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spy_payloads(bot, monkeypatch, fail=[discord.RateLimited(150.0)])
    scheduler = scheduler_for(bot, store, digest_channels=[channel.id])
    first = await scheduler.tick()
    assert first is not None and first.retry_after == 150.0
    assert await scheduler.tick(NOW + timedelta(minutes=1)) is None  # still waiting
    later = await scheduler.tick(NOW + timedelta(minutes=3))
    assert later is not None and later.posted


async def test_the_loop_waits_for_ready_and_retries_unsent_posts_first(
    bot: StewardBot, channel: discord.TextChannel, store: RecordStore
) -> None:
    yesterday = f"digest:{channel.id}:2026-03-09"
    leftover = [Message(content="yesterday's digest, claimed before a crash")]
    store.claim_post(yesterday, target=str(channel.id), kind="digest", payload=payload_of(leftover))
    scheduler = scheduler_for(bot, store, digest_channels=[channel.id])
    bot._ready.clear()
    scheduler.start()
    try:
        await asyncio.sleep(0.1)
        assert dpytest.verify().message().nothing()  # not before the gateway is ready
        bot._ready.set()
        today = f"digest:{channel.id}:2026-03-10"
        for _ in range(500):
            if getattr(store.post(today), "status", None) == "posted":
                break
            await asyncio.sleep(0.02)
    finally:
        scheduler.stop()
    posted = sent()
    assert posted[0].content == "yesterday's digest, claimed before a crash"
    assert store.post(yesterday).status == "posted" and len(posted) > 2  # type: ignore[union-attr]


async def test_discord_failures_become_delivery_errors(bot: StewardBot) -> None:
    def http(status: int, headers: dict[str, str] | None = None) -> discord.HTTPException:
        response = SimpleNamespace(status=status, reason="x", headers=headers or {})
        return discord.HTTPException(response, {"code": 0, "message": "nope"})

    limited = delivery_error(http(429, {"Retry-After": "2.5"}))
    assert isinstance(limited, DeliveryError) and limited.retry_after == 2.5
    assert delivery_error(discord.RateLimited(7.0)).retry_after == 7.0
    assert str(delivery_error(http(502))) == "Discord server error 502"
    assert str(delivery_error(http(403))) == "Discord refused the message (403: nope)"

    sender = ChannelSender(bot, asyncio.get_running_loop())
    with pytest.raises(RuntimeError, match="worker thread"):  # it would block the loop
        sender.send("1", Message(content="x"))
    with pytest.raises(DeliveryError, match="404"):
        await asyncio.to_thread(sender.send, "424242424242424242", Message(content="x"))
