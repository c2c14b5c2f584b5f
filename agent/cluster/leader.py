"""The Discord bot in exactly one worker: whoever holds the lease `leader:discord`.

The others keep working without it and keep trying to claim the lease; when the
leader dies its lease expires and one of them starts the bot. A leader that loses
the lease (it stalled, the database was away too long) closes its bot at once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from agent.cluster.worker import ClusterWorker
from agent.runner.serve import ChatBot
from agent.store.leases import Lease

log = logging.getLogger(__name__)

LEADER = "leader:discord"


def lead_bot(
    worker: ClusterWorker, stop: threading.Event, make_bot: Callable[[], ChatBot], token: str
) -> None:
    """Until `stop`: claim the leader lease, run a fresh bot while holding it."""
    poll = worker.cfg.renew_every_s
    while not stop.is_set():
        try:
            lease = worker.claim(LEADER, due=False)
        except Exception as exc:  # noqa: BLE001 - the database may be away: try again
            worker.database_down(exc)
            lease = None
        if lease is None:
            stop.wait(poll)
            continue
        log.info("this worker leads: starting the Discord bot")
        try:
            asyncio.run(_bot_while_leading(worker, lease, stop, make_bot(), token, poll))
        except Exception as exc:  # noqa: BLE001 - a bot crash must not end the worker
            log.error("the Discord bot stopped: %s", exc.__class__.__name__)
        finally:
            worker.release(lease)
        stop.wait(poll)


async def _bot_while_leading(
    worker: ClusterWorker,
    lease: Lease,
    stop: threading.Event,
    bot: ChatBot,
    token: str,
    poll: float,
) -> None:
    chat = asyncio.create_task(bot.start(token), name="steward-bot")
    try:
        while not chat.done():
            if stop.is_set():
                break
            if worker.lost(lease):
                log.warning("lost the leader lease: closing the Discord bot")
                break
            await asyncio.wait({chat}, timeout=min(poll, 0.5))
    finally:
        await bot.close()
        await asyncio.gather(chat, return_exceptions=True)
    if chat.done() and not chat.cancelled() and (error := chat.exception()) is not None:
        raise error
