"""The jobs of `steward run`: each a small function over the App that returns what it did.

They call the same steps as the CLI commands (`agent/steps.py`: ingest, analyse,
post; `vote` is the voting service's tick), so a job and its command never disagree.
Each catches the failures it can survive part-way (one source down, one proposal the analyst
chokes on) and reports them as `errors`; anything else reaches the Runner.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import Field

from agent.errors import StewardError
from agent.indexer import IndexCounts
from agent.ingest import IngestCounts
from agent.runner.loop import Job, JobResult

if TYPE_CHECKING:
    from agent.analysis.policy import Policy
    from agent.analysis.service import Analyst
    from agent.app import App
    from agent.chat.deliver import Sender
    from agent.models import Proposal
    from agent.ports import ProposalSource
    from agent.settings import Settings
    from agent.store import RecordStore
    from agent.voting.service import VotingService

MAX_ERRORS = 5
"""A job lists this many errors and counts the rest: a bad day must not flood the log."""


class IngestResult(JobResult):
    sources: int = 0
    ingest: IngestCounts = Field(default_factory=IngestCounts)
    index: IndexCounts | None = None
    simulated: int = 0
    not_simulated: int = 0

    def counts(self) -> dict[str, int]:
        index = self.index.model_dump() if self.index else {}
        sims = {"simulated": self.simulated, "not_simulated": self.not_simulated}
        return {"sources": self.sources, **self.ingest.model_dump(), **index, **sims}


class AnalyseResult(JobResult):
    policies: int = 0
    new: int = 0
    refreshed: int = 0
    cached: int = 0
    failed: int = 0


class VoteResult(JobResult):
    decided: int = 0
    reconciled: int = 0
    outcomes: dict[str, int] = Field(default_factory=dict)
    """How many proposals each cast-step outcome (cast, waiting, blocked, …) covered."""

    def counts(self) -> dict[str, int]:
        return {"decided": self.decided, "reconciled": self.reconciled, **self.outcomes}


class PostResult(JobResult):
    posted: int = 0
    failed: int = 0
    skipped: int = 0


# ---- ingest ------------------------------------------------------------------
def ingest_sources(app: App) -> list[ProposalSource]:
    """Every configured Snapshot space (one source) and chain; built once per run."""
    sources: list[ProposalSource] = []
    if app.settings.snapshot.spaces:
        sources.append(app.snapshot_source())
    if app.settings.chains:
        sources += app.chain_sources(["all"])
    return sources


def ingest_and_index(app: App, sources: list[ProposalSource], *, index: bool) -> IngestResult:
    """Each source in turn (one failing does not stop the others), then the vector index."""
    from agent.ingest import IngestBusy, exclusive_ingest

    result = IngestResult(sources=len(sources))
    try:
        with exclusive_ingest(app.settings.home):
            _ingest_and_index(app, sources, result, index=index)
    except IngestBusy as exc:  # a manual `steward ingest` is at it: next tick
        result.errors.append(str(exc))
    return result


def _ingest_and_index(
    app: App, sources: list[ProposalSource], result: IngestResult, *, index: bool
) -> None:
    from agent import steps

    result.ingest = steps.ingest_each(
        sources, app.store, errors=result.errors, on_synced=app.observer.ingest_synced
    )
    try:
        for report in steps.simulate_due(app):
            if report.simulated:
                result.simulated += 1
            else:
                result.not_simulated += 1  # the why is stored with the proposal
    except StewardError as exc:
        result.errors.append(f"simulate: {exc}")
    if index:
        try:
            result.index = steps.index_due(app)
            if result.index is not None:
                app.observer.embedded(result.index.computed_embeddings)
        except StewardError as exc:
            result.errors.append(f"index: {exc}")


# ---- analyse -----------------------------------------------------------------
def policies_in_use(settings: Settings) -> dict[str, frozenset[str] | None]:
    """Policy path → the spaces it is needed for (None: all the policy applies to).

    `analysis.policy` serves the digest and alerts everywhere; a delegate's policy
    only matters in that delegate's spaces and governors.
    """
    uses: dict[str, frozenset[str] | None] = {settings.analysis.policy: None}
    for d in settings.voting.delegates:
        if d.mode == "off":
            continue
        scope = frozenset([*d.spaces, *d.governors])
        if d.policy not in uses:
            uses[d.policy] = scope
        elif (known := uses[d.policy]) is not None:
            uses[d.policy] = known | scope
    return uses


def needs_analysis(
    p: Proposal,
    policy: Policy,
    store: RecordStore,
    scope: frozenset[str] | None,
    ended_after: datetime,
) -> bool:
    """Open proposals (the cache makes a current one cheap), and recently ended ones whose
    assessment is missing or made for other content or another policy version."""
    if p.flagged or not policy.applies(p.source, p.space):
        return False
    if scope is not None and p.space not in scope:
        return False
    if p.is_open:
        return True
    if p.end is None or p.end < ended_after:
        return False
    previous = store.latest_assessment(p.uid, policy.id)
    if previous is None:
        return True
    made_for = previous.provenance
    return made_for.content_hash != p.content_hash or made_for.policy_hash != policy.hash


def analyse_due(app: App, analyst: Callable[[], Analyst], *, now: datetime) -> AnalyseResult:
    """Assess what `needs_analysis` for every policy in use; the analyst is built on first need."""
    from agent import steps

    ended_after = now - timedelta(days=app.settings.run.analyse_ended_within_days)
    proposals = app.store.proposals()
    result = AnalyseResult()
    for path, scope in policies_in_use(app.settings).items():
        try:
            policy = app.policy(path)
        except StewardError as exc:
            _error(result, f"policy {path}: {exc}")
            continue
        result.policies += 1
        due = (p for p in proposals if needs_analysis(p, policy, app.store, scope, ended_after))
        done = steps.analyse_each(app, due, policy, analyst)
        statuses = Counter(outcome.status for _, outcome in done.outcomes)
        result.new += statuses["new"]
        result.refreshed += statuses["refreshed"]
        result.cached += statuses["cached"]
        result.failed += len(done.failures)
        for p, failure in done.failures:
            _error(result, f"{p.uid} ({policy.id}): {failure}")
    return result


# ---- vote and post -----------------------------------------------------------
def vote(service: VotingService) -> VoteResult:
    """One voting tick: reconcile, decide, cast. It finishes even if a stop is requested."""
    report = service.tick()
    result = VoteResult(
        decided=len(report.decided),
        reconciled=report.reconciled,
        outcomes=dict(Counter(report.outcomes.values())),
    )
    for error in report.errors:
        _error(result, error)
    return result


def post_webhook(app: App, sender: Sender, *, now: datetime) -> PostResult:
    """What `steward webhook` does once: resend what is owed, then post what is due."""
    from agent import steps

    done = steps.post_due(
        app,
        sender,
        now=lambda: now,
        policy_id=lambda: app.policy().id,
        figures=app.voter_figures,
    )
    failed = done.failed
    result = PostResult(
        posted=len(done.posted),
        failed=len(failed),
        skipped=len(done.delivered.skipped),
        retry_after_s=max(done.retried.retry_after or 0.0, done.delivered.retry_after or 0.0)
        or None,
    )
    app.observer.posted(result.posted, result.failed)
    for key, error in failed.items():
        _error(result, f"{key}: {error}")
    return result


def _error(result: JobResult, message: str) -> None:
    if len(result.errors) < MAX_ERRORS:
        result.errors.append(message)
    elif len(result.errors) == MAX_ERRORS:
        result.errors.append("… and more")


def _utcnow() -> datetime:
    return datetime.now(UTC)


# ---- the schedule ----------------------------------------------------------------
def plan_jobs(
    app: App,
    *,
    sources: list[ProposalSource],
    voting: VotingService,
    sender: Sender | None,
    now: Callable[[], datetime] = _utcnow,
) -> list[Job]:
    """The jobs in the order they run each pass: fresh data first, posts last."""
    run = app.settings.run
    analyst = functools.cache(app.analyst)  # one analyst (and model) for the whole run
    jobs = []
    if sources:
        ingest = functools.partial(ingest_and_index, app, sources, index=run.index)
        jobs.append(Job("ingest", run.ingest_every_s, ingest))
    if run.analyse:
        jobs.append(
            Job("analyse", run.analyse_every_s, lambda: analyse_due(app, analyst, now=now()))
        )
    jobs.append(Job("vote", run.vote_every_s, functools.partial(vote, voting)))
    if sender is not None:
        jobs.append(Job("post", run.post_every_s, lambda: post_webhook(app, sender, now=now())))
    return jobs
