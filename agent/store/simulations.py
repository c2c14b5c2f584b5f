"""Stored simulation reports: all kept, the newest per proposal is current."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from agent.records.simulation import SimulationReport
from agent.store import schema

_S = schema.simulations


class SimulationLog:
    """Mixed into RecordStore; needs `self.engine`."""

    engine: Engine

    def save_simulation(self, report: SimulationReport) -> str:
        """Store `report`; returns its hash (the same findings twice are stored once)."""
        digest = report.report_hash()
        latest = self.latest_simulation(report.uid)
        if latest is not None and latest.report_hash() == digest:
            with self.engine.begin() as conn:  # same findings: only say they were re-checked
                seq = select(func.max(_S.c.seq)).where(_S.c.proposal_uid == report.uid)
                conn.execute(
                    _S.update()
                    .where(_S.c.seq == seq.scalar_subquery())
                    .values(created_ts=int(report.created.timestamp()), data=_data(report))
                )
            return digest
        with self.engine.begin() as conn:
            conn.execute(
                _S.insert().values(
                    proposal_uid=report.uid,
                    content_hash=report.content_hash,
                    report_hash=digest,
                    status=report.status,
                    fork_block=report.fork_block,
                    created_ts=int(report.created.timestamp()),
                    data=_data(report),
                )
            )
        return digest

    def latest_simulation(self, uid: str) -> SimulationReport | None:
        query = select(_S.c.data).where(_S.c.proposal_uid == uid).order_by(_S.c.seq.desc())
        with self.engine.connect() as conn:
            data = conn.execute(query.limit(1)).scalar_one_or_none()
        return SimulationReport.model_validate(data) if data else None

    def top_voters(self, source: str, space: str, limit: int = 20) -> list[str]:
        """Voters of `space` by their largest voting power seen (quorum helpers on a fork)."""
        v = schema.votes
        power = func.max(v.c.voting_power)
        query = (
            select(v.c.voter)
            .where(v.c.source == source, v.c.space == space)
            .group_by(v.c.voter)
            .order_by(power.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [str(r) for r in conn.execute(query).scalars()]


def _data(report: SimulationReport) -> dict[str, object]:
    return report.model_dump(mode="json")
