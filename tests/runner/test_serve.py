"""`run_service`: the instance lock, and the bot beside the jobs (a fake bot, no Discord)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agent.app import App
from agent.errors import ConfigError
from agent.runner.serve import AlreadyRunning, run_service
from agent.settings import load_settings
from agent.voting.lock import instance_lock
from agent.voting.service import VotingService


class FakeBot:
    """Stands in for the Discord client: `start` runs until `close`."""

    def __init__(self, home: Path, *, reject: bool = False) -> None:
        self.home, self.reject = home, reject
        self.tokens: list[str] = []
        self.voting: VotingService | None = None
        self.closed = asyncio.Event()

    async def start(self, token: str) -> None:
        self.tokens.append(token)
        if self.reject:
            raise ConfigError("Discord rejected the bot token (discord.token)")
        while not _vote_ran(self.home):
            await asyncio.sleep(0.02)
        os.kill(os.getpid(), signal.SIGTERM)  # the operator stops the service
        await self.closed.wait()

    async def close(self) -> None:
        self.closed.set()


def _vote_ran(home: Path) -> bool:
    try:
        beat = json.loads((home / "run.json").read_text())
    except (OSError, ValueError):
        return False
    return bool(beat["jobs"]["vote"]["runs"])


@pytest.fixture
def bot_app(tmp_path: Path) -> Iterator[App]:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("discord:\n  token: fake-token\nrun:\n  analyse: false\n")
    application = App(load_settings(cfg))
    yield application
    application.close()


def _factory(bot: FakeBot) -> Callable[[VotingService], FakeBot]:
    def build(voting: VotingService) -> FakeBot:
        bot.voting = voting
        return bot

    return build


def test_bot_runs_beside_the_jobs_and_sigterm_stops_both(bot_app: App, steward_home: Path) -> None:
    bot = FakeBot(steward_home)
    assert run_service(bot_app, bot=_factory(bot)) is True
    assert bot.tokens == ["fake-token"] and bot.closed.is_set()
    assert isinstance(bot.voting, VotingService)  # approvals go through the same service
    beat = json.loads((steward_home / "run.json").read_text())
    assert beat["state"] == "stopped" and beat["posting"] == "bot"
    instance_lock(steward_home).acquire().release()  # released


def test_a_rejected_token_stops_the_jobs_and_is_reported(bot_app: App, steward_home: Path) -> None:
    bot = FakeBot(steward_home, reject=True)
    with pytest.raises(ConfigError, match="rejected the bot token"):
        run_service(bot_app, bot=_factory(bot))
    assert bot.closed.is_set()
    assert json.loads((steward_home / "run.json").read_text())["state"] == "stopped"


def test_once_does_not_start_the_bot(bot_app: App, steward_home: Path) -> None:
    bot = FakeBot(steward_home)
    assert run_service(bot_app, once=True, bot=_factory(bot)) is True
    assert bot.tokens == []
    assert json.loads((steward_home / "run.json").read_text())["posting"] == "none"


def test_a_second_instance_is_refused_naming_the_first(bot_app: App, steward_home: Path) -> None:
    with instance_lock(steward_home), pytest.raises(AlreadyRunning, match=f"pid {os.getpid()}"):
        run_service(bot_app, once=True)
    assert not (steward_home / "run.json").exists()  # the refused one wrote nothing
