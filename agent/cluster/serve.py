"""`steward run` in cluster mode: a worker among others on one database.

No data-directory lock (a second worker on the shared database is the point); the
worker joins the deployment (refused if the database is another deployment's),
registers, polls the leased jobs, leads the Discord bot when it holds the leader
lease, and on a stop finishes its job, releases its leases and signs off.
"""

from __future__ import annotations

import logging
import threading
from functools import partial
from typing import TYPE_CHECKING

from agent.cluster.jobs import delegate_services, plan_cluster_jobs
from agent.cluster.leader import lead_bot
from agent.cluster.rate_budget import SharedRateLimiter
from agent.cluster.vote_locks import DbVoteLocks
from agent.cluster.worker import ClusterHooks, ClusterWorker, deployment_of
from agent.errors import ConfigError
from agent.runner.health import HeartbeatFile
from agent.runner.jobs import ingest_sources
from agent.runner.loop import Runner, describe_error
from agent.runner.serve import BotFactory, known_secrets, posting_mode, stop_on_signals

if TYPE_CHECKING:
    from agent.app import App
    from agent.observe import Observer

log = logging.getLogger(__name__)


def check_cluster_settings(app: App) -> None:
    """What cluster mode needs, said before anything starts."""
    settings = app.settings
    if settings.database_url.startswith("sqlite") and settings.cluster.enabled == "on":
        log.warning("cluster mode on SQLite: workers must share this machine's database file")
    if settings.run.index and not settings.vector_store.url:
        raise ConfigError(
            "cluster mode needs a shared vector store: set vector_store.url to a Chroma "
            "server, or run.index: false"
        )


def observer_hooks(observer: Observer) -> ClusterHooks:
    """The App's observer (metrics) hears of takeovers by job kind and of budget waits."""
    return ClusterHooks(
        on_takeover=lambda job, _previous: observer.lease_takeover(job.split(":", 1)[0]),
        on_rate_wait=observer.rate_waited,
    )


def start_worker(
    app: App, hooks: ClusterHooks | None = None, *, worker_id: str | None = None
) -> ClusterWorker:
    """Join the deployment and share the request budget through the database (`worker_id`
    instead of `cluster.worker_id`: a command run by hand beside that machine's worker)."""
    hooks = hooks or ClusterHooks()
    cfg = app.settings.cluster
    if worker_id is not None:
        cfg = cfg.model_copy(update={"worker_id": worker_id})
    worker = ClusterWorker(app.store.engine, cfg, deployment_of(app.settings), hooks=hooks)
    worker.start()
    engine = app.store.engine
    app.limiter_for = lambda bucket, limit, window: SharedRateLimiter(
        engine, bucket, limit, window, on_wait=hooks.on_rate_wait
    )
    return worker


def run_cluster_service(
    app: App,
    *,
    once: bool = False,
    bot: BotFactory | None = None,
    hooks: ClusterHooks | None = None,
) -> bool:
    check_cluster_settings(app)
    worker = start_worker(app, hooks or observer_hooks(app.observer))
    try:
        return _serve(app, worker, once=once, bot=bot)
    finally:
        worker.stop()


def _serve(app: App, worker: ClusterWorker, *, once: bool, bot: BotFactory | None) -> bool:
    settings = app.settings
    mode = posting_mode(settings)
    if mode == "bot" and (once or bot is None):
        mode = "none"
    sources = ingest_sources(app)
    locks = DbVoteLocks(worker)
    voting = delegate_services(app, partial(app.voting_service, live=True, locks=locks))
    sender = app.webhook_sender() if mode == "webhook" else None
    stop = threading.Event()
    runner = Runner(
        plan_cluster_jobs(app, worker, sources=sources, voting=voting, sender=sender, stop=stop),
        beat=HeartbeatFile(home=settings.home).write,
        describe=partial(describe_error, secrets=known_secrets(settings)),
        posting=mode,
        stop=stop,
        idle_s=settings.cluster.renew_every_s,
        observer=app.observer,
    )
    log.info("steward run (cluster worker %s): posting %s", worker.id, mode)
    try:
        with stop_on_signals(stop):
            if once:
                return runner.run_once()
            if mode != "bot":
                runner.run_forever()
                return True
            assert bot is not None and settings.discord.token is not None
            jobs = threading.Thread(target=runner.run_forever, name="steward-jobs")
            jobs.start()
            bot_voting = app.voting_service(live=True, locks=locks)
            try:
                lead_bot(
                    worker, stop, lambda: bot(bot_voting), settings.discord.token.get_secret_value()
                )
            finally:
                stop.set()
                jobs.join()
            return True
    finally:
        runner.finish()
        if sender is not None:
            sender.close()
        log.info("steward run stopped (worker %s)", worker.id)
