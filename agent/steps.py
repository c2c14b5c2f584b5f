"""The pipeline steps that `steward ingest / analyze / webhook` and `steward run`'s jobs share.

One place says how sources are ingested, what is simulated and indexed after, how a
batch of proposals is analysed and what a webhook round posts, so a command and its
job never disagree. The callers keep what differs: the CLI prints and shows progress
and stops at the first failure; a job survives failures and counts them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from agent.errors import StewardError

if TYPE_CHECKING:
    from agent.analysis.policy import Policy
    from agent.analysis.service import AnalysisOutcome, Analyst
    from agent.app import App
    from agent.chat.deliver import DeliveryReport, Sender
    from agent.indexer import IndexCounts
    from agent.ingest import IngestCounts
    from agent.models import Proposal
    from agent.ports import ProposalSource
    from agent.progress import Progress
    from agent.records.simulation import SimulationReport
    from agent.store import RecordStore
    from agent.voters.service import VoterFigures


# ---- ingest, simulate, index ----------------------------------------------------
def ingest_each(
    sources: Iterable[ProposalSource],
    store: RecordStore,
    *,
    full: bool = False,
    votes: bool = True,
    progress: Progress | None = None,
    errors: list[str] | None = None,
    on_synced: Callable[[str, str], None] | None = None,
) -> IngestCounts:
    """Each source in turn, counts summed. With `errors`, a failing source is noted there
    (its partial counts kept) and the others still run; without, its IngestFailed stops
    the step. `on_synced(source, scope)` hears of each scope read to the end."""
    from agent.ingest import IngestCounts, IngestFailed, ingest

    counts = IngestCounts()
    for source in sources:
        try:
            counts = counts.plus(
                ingest(
                    source, store, full=full, votes=votes, progress=progress, on_synced=on_synced
                )
            )
        except IngestFailed as exc:
            if errors is None:
                raise
            counts = counts.plus(exc.counts)
            errors.append(str(exc))
    return counts


def simulate_due(app: App) -> list[SimulationReport]:
    """Chains with `simulate: true`: simulate open proposals whose report is missing or
    stale, one stored report each (a "not simulated: why" is one too)."""
    if not any(c.simulate for c in app.settings.chains):
        return []
    return app.simulation_service().run_due()


def index_due(app: App, *, progress: Progress | None = None) -> IndexCounts | None:
    """Bring the vector index up to date; None when nothing needs it (Chroma not opened)."""
    from agent.indexer import sync_index

    if not app.store.index_tasks():
        return None
    return sync_index(
        app.store, app.index, app.embedder_factory, app.settings.chunking, progress=progress
    )


# ---- analyse ----------------------------------------------------------------------
@dataclass
class Analysed:
    """What one pass over a batch of proposals gave: outcomes and failures, in order."""

    outcomes: list[tuple[Proposal, AnalysisOutcome]] = field(default_factory=list)
    failures: list[tuple[Proposal, StewardError]] = field(default_factory=list)


def analyse_each(
    app: App,
    proposals: Iterable[Proposal],
    policy: Policy,
    analyst: Callable[[], Analyst],
    *,
    cap: float | None = None,
    force: bool = False,
    survive: type[StewardError] = StewardError,
    progress: Progress | None = None,
    total: int | None = None,
) -> Analysed:
    """Analyse each proposal under `policy`; a `survive` error is recorded and the next
    one goes on. The analyst is asked for per proposal (build it on first need), and the
    confidence cap is the App's for it unless `cap` is given."""
    from agent.analysis.service import analyse

    done = Analysed()
    if progress is not None:
        progress.start("analyse", total=total)
    for p in proposals:
        try:
            who = analyst()
            limit = app.confidence_cap(who, policy) if cap is None else cap
            done.outcomes.append(
                (p, analyse(p, policy, who, app.store, confidence_cap=limit, force=force))
            )
        except survive as exc:
            done.failures.append((p, exc))
        if progress is not None:
            progress.advance("analyse", 1)
    return done


# ---- post -------------------------------------------------------------------------
@dataclass
class Posted:
    """One webhook round: what was owed and resent, and what was due and delivered."""

    retried: DeliveryReport
    delivered: DeliveryReport

    @property
    def posted(self) -> list[str]:
        return self.delivered.posted + self.retried.posted

    @property
    def failed(self) -> dict[str, str]:
        return {**self.retried.failed, **self.delivered.failed}


def post_due(
    app: App,
    sender: Sender,
    *,
    now: Callable[[], datetime],
    policy_id: Callable[[], str],
    figures: Callable[[], VoterFigures],
) -> Posted:
    """Resend what is owed, then plan and post what is due to the webhook.

    `now`, `policy_id` and `figures` are read after the resend (a job reads the policy
    and figures afresh each pass; the CLI's loop hands in what it read once)."""
    from agent.chat.deliver import deliver, retry_unsent
    from agent.chat.schedule import plan_posts

    retried = retry_unsent(app.store, sender)
    planned = plan_posts(
        app.store,
        app.settings.discord,
        now=now(),
        policy_id=policy_id(),
        targets="webhook",
        figures=figures(),
    )
    return Posted(retried=retried, delivered=deliver(planned, app.store, sender))
