"""Simulate stored on-chain proposals: by hand (`steward simulate`) or after each ingest for
open proposals of chains with `simulate: true`. One simulation at a time per chain; every
attempt ends in a stored report, "not simulated: why" included.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from pydantic import ValidationError

from agent.decode.models import RawAction
from agent.decode.stored import stored_actions
from agent.errors import NotFound, SimulationFailed
from agent.models import Proposal, required
from agent.records.simulation import SimulationReport, SimulationRequest
from agent.settings import ChainSettings
from agent.simulate.flows import dao_addresses, flows, mismatches
from agent.store import RecordStore

MAX_PER_RUN = 10
"""Automatic path: at most this many simulations per chain per ingest (a bounded queue)."""
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


class Simulator(Protocol):
    """Executes one proposal on a fork; never raises for bad input (it reports it)."""

    def simulate(self, req: SimulationRequest) -> SimulationReport: ...


SimulatorFactory = Callable[[ChainSettings], Simulator]


def chain_lock(name: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(name, threading.Lock())


def chain_of(chains: list[ChainSettings], proposal: Proposal) -> ChainSettings:
    """The configured chain holding the proposal's governor."""
    if proposal.source != "chain":
        raise SimulationFailed("only on-chain (Governor) proposals can be simulated")
    governor = str(proposal.extra.governor or "").lower()
    chain_id = proposal.extra.chain_id
    for chain in chains:
        if chain.chain_id == chain_id and any(
            g.address.lower() == governor for g in chain.governors
        ):
            return chain
    raise SimulationFailed(f"no configured chain has the governor {governor or '(unknown)'}")


def build_request(
    proposal: Proposal, holders: list[str], block: int | None, chain: str
) -> SimulationRequest:
    extra = proposal.extra
    raw = extra.raw_actions
    if not isinstance(raw, list):
        raise SimulationFailed(
            "the proposal was stored without its raw actions (ingested before simulation "
            "existed): run `steward ingest --full` once"
        )
    try:
        return SimulationRequest(
            uid=proposal.uid,
            content_hash=proposal.content_hash,
            chain=chain,
            chain_id=int(required(extra.chain_id, "chain_id")),
            governor=str(required(extra.governor, "governor")),
            governor_kind=extra.governor_kind or "oz",
            proposal_id=int(str(required(extra.proposal_id, "proposal_id"))),
            actions=[RawAction.model_validate(a) for a in raw],
            description=proposal.body,
            holders=holders,
            block=block,
        )
    except (KeyError, ValueError, ValidationError) as exc:
        raise SimulationFailed(
            f"the stored proposal lacks what a simulation needs ({exc.__class__.__name__})"
        ) from exc


class SimulationService:
    def __init__(
        self,
        store: RecordStore,
        chains: list[ChainSettings],
        simulator_for: SimulatorFactory,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.chains = chains
        self.simulator_for = simulator_for
        self.clock = clock

    def run(self, uid: str, block: int | None = None) -> SimulationReport:
        """Simulate the stored proposal `uid` and store the report (or why there is none)."""
        stored = self.store.get(uid)
        if stored is None:
            raise NotFound(f"no stored proposal {uid}")
        proposal = stored.proposal
        try:
            chain = chain_of(self.chains, proposal)
            holders = self.store.top_voters(proposal.source, proposal.space)
            req = build_request(
                proposal,
                holders + ([proposal.author] if proposal.author else []),
                block,
                chain.name,
            )
        except SimulationFailed as exc:
            return self._save(self._failed(proposal, str(exc)))
        with chain_lock(chain.name):
            report = self.simulator_for(chain).simulate(req)
        return self._save(self._with_mismatch(report, proposal, chain))

    def _failed(self, proposal: Proposal, why: str) -> SimulationReport:
        return SimulationReport(
            uid=proposal.uid,
            content_hash=proposal.content_hash,
            status="not_simulated",
            why=why,
            created=self.clock(),
        )

    def _with_mismatch(
        self, report: SimulationReport, proposal: Proposal, chain: ChainSettings
    ) -> SimulationReport:
        if not report.simulated:
            return report
        dao = self.dao(report, proposal, chain)
        extra = mismatches(flows(report, dao), stored_actions(proposal.extra))
        return report.model_copy(update={"flags": [*report.flags, *extra], "dao": sorted(dao)})

    @staticmethod
    def dao(report: SimulationReport, proposal: Proposal, chain: ChainSettings) -> set[str]:
        known = [(c.address, c.kind) for c in chain.contracts]
        return dao_addresses(report, str(proposal.extra.governor or ""), known)

    def _save(self, report: SimulationReport) -> SimulationReport:
        self.store.save_simulation(report)
        return report

    # ---- the automatic path ------------------------------------------------
    def due(self, proposal: Proposal, max_age_s: float) -> bool:
        """Open, and never simulated, simulated for another version, or too long ago."""
        if not proposal.is_open:
            return False
        latest = self.store.latest_simulation(proposal.uid)
        if latest is None or latest.content_hash != proposal.content_hash:
            return True
        return (self.clock() - latest.created).total_seconds() > max_age_s

    def run_due(self) -> list[SimulationReport]:
        """Simulate what is due on every chain with `simulate: true` (at most MAX_PER_RUN each)."""
        reports: list[SimulationReport] = []
        for chain in (c for c in self.chains if c.simulate):
            for name in (g.name for g in chain.governors):
                due = [
                    p
                    for p in self.store.proposals(source="chain", space=name)
                    if self.due(p, chain.simulate_max_age_s)
                ]
                reports += [self.run(p.uid) for p in due[:MAX_PER_RUN]]
        return reports
