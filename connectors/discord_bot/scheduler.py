"""Posting scheduled digests, alerts and reminders from inside the bot, once a minute.

The `Posting` port (`agent.chat.rounds.PostRounds`, handed in by the composition root)
decides what is due and claims each post in the post log before sending, so a restart
or a second tick never posts twice. It is plain synchronous code: it runs in a worker
thread, and `ChannelSender` hands each send back to the bot's event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import discord
from discord.ext import tasks

from agent.chat.deliver import DeliveryError, DeliveryReport
from agent.chat.models import Message
from agent.chat.ports import Posting
from connectors.discord_bot.convert import to_kwargs

log = logging.getLogger(__name__)


def delivery_error(exc: discord.DiscordException) -> DeliveryError:
    """Discord's failures in the post log's terms: what happened, and when to try again."""
    if isinstance(exc, discord.RateLimited):
        return DeliveryError("Discord rate limit", exc.retry_after)
    if isinstance(exc, discord.HTTPException):
        retry_after: float | None = None
        if exc.status == 429:
            header = exc.response.headers.get("Retry-After")
            retry_after = float(header) if header else None
            return DeliveryError("Discord rate limit", retry_after)
        if exc.status >= 500:
            return DeliveryError(f"Discord server error {exc.status}", None)
        return DeliveryError(f"Discord refused the message ({exc.status}: {exc.text})", None)
    return DeliveryError(f"Discord error: {exc.__class__.__name__}", None)


class ChannelSender:
    """`agent.chat.deliver.Sender` over a bot's text channels (target: a channel id).

    Called from a worker thread; each send runs on the bot's loop and the thread
    waits for it, so `deliver` sees every outcome before it records the post.
    """

    def __init__(
        self, client: discord.Client, loop: asyncio.AbstractEventLoop, timeout: float = 60.0
    ) -> None:
        self.client = client
        self.loop = loop
        self.timeout = timeout

    def send(self, target: str, message: Message) -> None:
        if _running_loop() is self.loop:
            raise RuntimeError("ChannelSender.send blocks: call it from a worker thread")
        future = asyncio.run_coroutine_threadsafe(self.send_async(target, message), self.loop)
        try:
            future.result(timeout=self.timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise DeliveryError("Discord did not answer in time", None) from None

    async def send_async(self, target: str, message: Message) -> None:
        try:
            channel = self.client.get_channel(int(target)) or await self.client.fetch_channel(
                int(target)
            )
            if not isinstance(channel, discord.abc.Messageable):
                raise DeliveryError(f"channel {target} cannot receive messages", None)
            await channel.send(**to_kwargs(message, channel=True))
        except discord.DiscordException as exc:
            raise delivery_error(exc) from exc


def merge_reports(first: DeliveryReport | None, second: DeliveryReport) -> DeliveryReport:
    if first is None:
        return second
    waits = [w for w in (first.retry_after, second.retry_after) if w is not None]
    return DeliveryReport(
        posted=[*first.posted, *second.posted],
        failed={**first.failed, **second.failed},
        skipped=[*first.skipped, *second.skipped],
        retry_after=max(waits) if waits else None,
    )


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # a worker thread: no loop, as intended
        return None


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Scheduler:
    """Once a minute: plan what is due, deliver it. A failing tick is logged, never fatal."""

    def __init__(
        self,
        client: discord.Client,
        posting: Posting,
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.client = client
        self.posting = posting
        """What is due and how it is claimed (`agent.chat.rounds.PostRounds`)."""
        self.clock = clock
        self.not_before: datetime | None = None
        """Set when Discord asked us to wait longer than a tick."""
        self.posters: list[Callable[[], Awaitable[DeliveryReport]]] = []
        """More posting run on the loop after the planned posts, each tick
        (the approval messages: `approvals.Approvals.tick`)."""

    def start(self) -> None:
        self.run.start()

    def stop(self) -> None:
        self.run.cancel()

    @tasks.loop(minutes=1)
    async def run(self) -> None:
        await self.tick()

    @run.before_loop
    async def _first(self) -> None:
        """Wait for the gateway (channels are unknown before), then finish yesterday's work."""
        await self.client.wait_until_ready()
        await self.retry()

    def _sender(self) -> ChannelSender:
        return ChannelSender(self.client, asyncio.get_running_loop())

    async def retry(self) -> None:
        """Posts claimed but never delivered (a crash, an outage) go out before new ones."""
        sender = self._sender()
        try:
            await asyncio.to_thread(self.posting.resend, sender)
        except Exception:
            log.exception("retrying unsent posts failed")

    async def tick(self, now: datetime | None = None) -> DeliveryReport | None:
        """One round; `now` is for tests (the loop uses the clock)."""
        when = now or self.clock()
        if self.not_before is not None and when < self.not_before:
            return None
        report: DeliveryReport | None = None
        try:
            report = await asyncio.to_thread(self.posting.due, self._sender(), when)
        except Exception:
            log.exception("scheduled posting failed; trying again next minute")
        for poster in self.posters:  # one failing never stops the others
            try:
                report = merge_reports(report, await poster())
            except Exception:
                log.exception("posting from %s failed; trying again next minute", poster)
        if report is None:
            return None
        if report.failed:
            log.warning("%d post(s) failed: %s", len(report.failed), report.failed)
        wait = report.retry_after
        self.not_before = when + timedelta(seconds=wait) if wait else None
        return report
