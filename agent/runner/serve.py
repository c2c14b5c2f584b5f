"""`steward run` put together: one instance per data directory, signals, the heartbeat,
and the Discord bot beside the jobs when a bot token is configured.

With a bot, the bot owns the main thread's asyncio loop (discord.py wants it)
and the jobs run in a worker thread; either ending stops the other. A signal
only sets the stop flag: the job under way finishes (a vote is never cut off
mid-cast), then the bot is closed, a `stopped` heartbeat written and the lock
released. Discord itself stays out of this package: the bot comes in as a
`ChatBot`, built by the CLI.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from agent.chat.deliver import Sender
from agent.errors import ConfigError, StewardError
from agent.runner.health import HeartbeatFile, Posting
from agent.runner.jobs import ingest_sources, plan_jobs
from agent.runner.loop import Runner, describe_error
from agent.voting.lock import LockHeld, instance_lock

if TYPE_CHECKING:
    from agent.app import App
    from agent.runner.http_server import OpsServer
    from agent.settings import Settings
    from agent.voting.service import VotingService

log = logging.getLogger(__name__)


class AlreadyRunning(StewardError):
    """A second `steward run` on the same data directory: refused at once, naming the first."""

    def __init__(self, held: LockHeld, home: Path) -> None:
        who = f"pid {held.pid}" if held.pid else "another process"
        super().__init__(
            f"steward run is already running ({who}) on {home}: stop it first, "
            "or give this one another data directory (STEWARD_HOME)"
        )
        self.pid = held.pid


class ClosingSender(Sender, Protocol):
    def close(self) -> None: ...


class ChatBot(Protocol):
    """What `serve` needs of a chat bot (a discord.py Client fits)."""

    async def start(self, token: str) -> None: ...

    async def close(self) -> None: ...


BotFactory = Callable[["VotingService"], ChatBot]


def posting_mode(settings: Settings) -> Posting:
    """A bot token wins over a webhook; neither means nothing is posted."""
    discord = settings.discord
    if discord.token is not None and discord.token.get_secret_value().strip():
        return "bot"
    return "webhook" if discord.webhook_url is not None else "none"


def known_secrets(settings: Settings) -> list[str]:
    """Values that must never reach a log line, whatever an error message holds."""
    from sqlalchemy.engine import make_url

    found = [
        settings.snapshot.api_key,
        settings.llm.api_key,
        settings.discord.token,
        settings.discord.webhook_url,
    ]
    out = [s.get_secret_value() for s in found if s is not None]
    out += [c.url() for c in settings.chains]
    password = make_url(settings.database_url).password
    return [*out, str(password)] if password else out


def run_service(
    app: App, *, once: bool = False, bot: BotFactory | None = None, http: str | None = None
) -> bool:
    """Run until a signal (or one pass with `once`); True when the last pass had no failure.

    `bot` builds the chat bot around the voting service; it is used only when a
    bot token is configured and not with `once` (the bot posts on its own clock).
    `http` (else `run.http`): `HOST:PORT` for /healthz and /metrics, served while it runs.
    """
    home = app.settings.home
    try:
        lock = instance_lock(home).acquire()
    except LockHeld as held:
        raise AlreadyRunning(held, home) from None
    try:
        with serve_ops(app, http or app.settings.run.http):
            return _run_locked(app, once=once, bot=bot)
    finally:
        lock.release()


def _run_locked(app: App, *, once: bool, bot: BotFactory | None) -> bool:
    settings = app.settings
    mode = posting_mode(settings)
    if mode == "bot" and (once or bot is None):
        log.info("the Discord bot is not started (--once): nothing is posted")
        mode = "none"
    sources = ingest_sources(app)
    if not sources:
        log.warning("nothing to ingest: set snapshot.spaces or chains in your config")
    voting = app.voting_service(live=True)
    sender = app.webhook_sender() if mode == "webhook" else None
    secrets = known_secrets(settings)
    runner = Runner(
        plan_jobs(app, sources=sources, voting=voting, sender=sender),
        beat=HeartbeatFile(home=settings.home).write,
        describe=partial(describe_error, secrets=secrets),
        posting=mode,
        observer=app.observer,
    )
    log.info("steward run: jobs %s, posting %s", ", ".join(j.name for j in runner.jobs), mode)
    try:
        with stop_on_signals(runner.stop):
            if once:
                return runner.run_once()
            if mode == "bot":
                assert bot is not None
                assert settings.discord.token is not None  # posting_mode made sure
                chat = bot(voting)
                asyncio.run(_with_bot(runner, chat, settings.discord.token.get_secret_value()))
            else:
                runner.run_forever()
            return True
    finally:
        runner.finish()
        if sender is not None:
            sender.close()
        log.info("steward run stopped")


@contextmanager
def serve_ops(app: App, listen: str | None) -> Iterator[OpsServer | None]:
    """With an address: metrics collected from here on (the App's observer) and the HTTP
    server up until the block ends; without one, nothing is collected or served."""
    if not listen:
        yield None
        return
    from agent.metrics import Metrics
    from agent.runner.http_server import OpsServer
    from agent.runner.readiness import Readiness
    from agent.settings import parse_listen

    try:
        host, port = parse_listen(listen)
    except ValueError as exc:
        raise ConfigError(f"--http / run.http: {exc}") from None
    metrics = Metrics()
    app.observer = metrics
    readiness = Readiness(
        app.readiness_checks(),
        timeout_s=app.settings.run.health_timeout_s,
        describe=partial(describe_error, secrets=known_secrets(app.settings)),
    )
    with OpsServer(host, port, readiness, metrics) as server:
        yield server


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set `stop` instead of interrupting whatever runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: object) -> None:
        log.info("%s: stopping after the current job", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


async def _with_bot(runner: Runner, bot: ChatBot, token: str) -> None:
    """The bot on this loop, the jobs in a worker thread; the first to end stops both."""
    worker = asyncio.create_task(asyncio.to_thread(runner.run_forever), name="steward-jobs")
    chat = asyncio.create_task(bot.start(token), name="steward-bot")
    stopped = asyncio.create_task(_wait_for(runner.stop), name="steward-stop")
    try:
        await asyncio.wait({worker, chat, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        runner.stop.set()
        await bot.close()
        await asyncio.gather(worker, chat, stopped, return_exceptions=True)
    for task in (chat, worker):
        if (error := task.exception()) is not None:
            raise error


async def _wait_for(event: threading.Event, poll_s: float = 0.2) -> None:
    while not event.is_set():
        await asyncio.sleep(poll_s)
