"""`steward ingest` by hand in cluster mode: it takes the per-unit leases the workers use.

So it never ingests a space or governor a running worker is at (it skips that unit and
says who has it, or waits for it with `--wait`), a unit it did is not due for the
workers again for `run.ingest_every_s`, and the vector index and simulations are left
to a worker already at them. The command joins the deployment as a worker of its own
(`…:ingest` in `steward status`) for as long as it runs, and releases everything at the end.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agent.cluster.jobs import FencedSource, IngestUnit, ScopedSource, ingest_units
from agent.cluster.worker import ClusterWorker

if TYPE_CHECKING:
    from agent.app import App
    from agent.indexer import IndexCounts
    from agent.ingest import IngestCounts
    from agent.ports import ProposalSource
    from agent.progress import Progress
    from agent.records.simulation import SimulationReport


@dataclass(frozen=True)
class Skipped:
    what: str
    """"space ens.eth", "governor uniswap", "the vector index"."""
    holder: str


@dataclass
class ClaimedIngest:
    counts: IngestCounts
    skipped: list[Skipped] = field(default_factory=list)
    index: IndexCounts | None = None
    simulated: list[SimulationReport] = field(default_factory=list)


def describe(unit: IngestUnit) -> str:
    kind = {"snapshot": "space", "chain": "governor"}.get(unit.source.name, unit.source.name)
    return f"{kind} {unit.scope}"


def holder_of(worker: ClusterWorker, name: str) -> str:
    row = next((r for r in worker.leases.rows(name) if r.name == name), None)
    return row.holder if row is not None and row.holder else "another worker"


def ingest_claimed(
    app: App,
    worker: ClusterWorker,
    sources: list[ProposalSource],
    *,
    full: bool = False,
    votes: bool = True,
    index: bool = True,
    simulate: bool = False,
    wait: bool = False,
    progress: Progress | None = None,
    say: Callable[[str], None] = lambda _line: None,
    stop: threading.Event | None = None,
) -> ClaimedIngest:
    """Each unit this command can claim (held ones skipped, or waited for with `wait`),
    then simulations and the index unless a worker is at them. An IngestFailed carries the
    counts of every unit done before it."""
    from agent import steps
    from agent.ingest import IngestCounts, IngestFailed

    stop = stop or threading.Event()
    done = ClaimedIngest(counts=IngestCounts())
    every = app.settings.run.ingest_every_s
    pending, told = ingest_units(sources), set()
    while pending and not stop.is_set():
        held = []
        for unit in pending:
            with worker.job(unit.name, every_s=every, due=False) as lease:
                if lease is None:
                    holder = holder_of(worker, unit.name)
                    if wait:
                        held.append(unit)
                        if unit.name not in told:
                            say(f"{describe(unit)} is being ingested by worker {holder}; waiting")
                            told.add(unit.name)
                    else:
                        done.skipped.append(Skipped(describe(unit), holder))
                        say(f"{describe(unit)} is being ingested by worker {holder}; skipped")
                    continue
                try:
                    done.counts = done.counts.plus(
                        steps.ingest_each(
                            [ScopedSource(FencedSource(unit.source, worker, lease), unit.scope)],
                            app.store,
                            full=full,
                            votes=votes,
                            progress=progress,
                        )
                    )
                except IngestFailed as exc:
                    exc.counts = done.counts.plus(exc.counts)
                    raise
        pending = held
        if pending:
            stop.wait(worker.cfg.renew_every_s)
    if simulate:
        with worker.job("simulate", due=False) as lease:
            if lease is None:
                _leave(done, worker, "simulate", "simulations", say)
            else:
                done.simulated = steps.simulate_due(app)
    if index:
        with worker.job("index", due=False) as lease:
            if lease is None:
                _leave(done, worker, "index", "the vector index", say)
            else:
                done.index = steps.index_due(app, progress=progress)
    return done


def _leave(
    done: ClaimedIngest, worker: ClusterWorker, name: str, what: str, say: Callable[[str], None]
) -> None:
    holder = holder_of(worker, name)
    done.skipped.append(Skipped(what, holder))
    say(f"{what}: worker {holder} is at it and takes these proposals in its next pass; skipped")
