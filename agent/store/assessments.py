"""Stored assessments: every one is kept; the latest per proposal and policy is current."""

from __future__ import annotations

from sqlalchemy import Engine, select

from agent.records.assessment import Assessment
from agent.store import schema

_A = schema.assessments


class AssessmentLog:
    """Mixed into RecordStore; needs `self.engine`."""

    engine: Engine

    def save_assessment(self, assessment: Assessment) -> None:
        p = assessment.provenance
        with self.engine.begin() as conn:
            conn.execute(
                _A.insert().values(
                    proposal_uid=assessment.proposal_uid,
                    policy_id=assessment.policy_id,
                    policy_hash=p.policy_hash,
                    analyst=p.analyst,
                    prompt_hash=p.prompt_hash,
                    content_hash=p.content_hash,
                    recommendation=assessment.recommendation,
                    confidence=assessment.confidence,
                    created_ts=int(p.created.timestamp()),
                    data=assessment.model_dump(mode="json"),
                )
            )

    def latest_assessment(self, uid: str, policy_id: str | None = None) -> Assessment | None:
        """The newest assessment of `uid` (under `policy_id`, when given)."""
        query = select(_A.c.data).where(_A.c.proposal_uid == uid)
        if policy_id:
            query = query.where(_A.c.policy_id == policy_id)
        with self.engine.connect() as conn:
            data = conn.execute(query.order_by(_A.c.seq.desc()).limit(1)).scalar_one_or_none()
        return Assessment.model_validate(data) if data else None

    def latest_assessments(
        self, uids: list[str], policy_id: str | None = None
    ) -> dict[str, Assessment]:
        """The newest assessment of each uid that has one."""
        found: dict[str, Assessment] = {}
        for uid in uids:
            assessment = self.latest_assessment(uid, policy_id)
            if assessment is not None:
                found[uid] = assessment
        return found
