"""The Discord bot runs in exactly one worker; another takes over when the leader dies."""

from __future__ import annotations

import asyncio
import threading

from agent.cluster.leader import LEADER, lead_bot
from agent.cluster.worker import ClusterWorker
from agent.settings import ClusterSettings
from agent.store import RecordStore
from tests.cluster.conftest import DbClock


class Bot:
    """Discord's side of the bot (the outside world): records starts and closes."""

    running: set[str] = set()
    started: list[str] = []

    def __init__(self, who: str, up: threading.Event) -> None:
        self.who, self.up = who, up
        self.closed = threading.Event()
        self._closed = asyncio.Event()

    async def start(self, token: str) -> None:
        assert token == "t"
        Bot.running.add(self.who)
        Bot.started.append(self.who)
        self.up.set()
        await self._closed.wait()

    async def close(self) -> None:
        Bot.running.discard(self.who)
        self.closed.set()
        self._closed.set()


def _worker(store: RecordStore, clock: DbClock, wid: str) -> ClusterWorker:
    cfg = ClusterSettings(worker_id=wid, lease_s=4, renew_every_s=0.05)
    return ClusterWorker(store.engine, cfg, "dao", clock=clock)


def test_one_leader_and_a_takeover_when_it_dies(store: RecordStore, clock: DbClock) -> None:
    Bot.running, Bot.started = set(), []
    a, b = _worker(store, clock, "a"), _worker(store, clock, "b")
    up_a, up_b = threading.Event(), threading.Event()
    stop_a, stop_b = threading.Event(), threading.Event()
    bots: dict[str, Bot] = {}

    def bot(who: str, up: threading.Event) -> Bot:
        bots[who] = Bot(who, up)
        return bots[who]

    lead_a = threading.Thread(target=lead_bot, args=(a, stop_a, lambda: bot("a", up_a), "t"))
    lead_b = threading.Thread(target=lead_bot, args=(b, stop_b, lambda: bot("b", up_b), "t"))
    lead_a.start()
    try:
        assert up_a.wait(30)
        lead_b.start()
        assert b.claim(LEADER, due=False) is None  # a leads; b keeps trying, without a bot
        assert Bot.started == ["a"]
        clock.advance(5)  # a stops renewing (killed, or stalled) past its lease
        assert up_b.wait(30), "b never took over"
        a.renew_now()  # a stalled one learns at its next renewal and closes its bot
        assert bots["a"].closed.wait(30)
        assert Bot.running == {"b"} and Bot.started == ["a", "b"]
        assert b.leases.rows()[0].takeovers == 1
    finally:
        stop_a.set()
        stop_b.set()
        lead_a.join(30)
        if lead_b.is_alive() or lead_b.ident:
            lead_b.join(30)
    assert Bot.running == set()
