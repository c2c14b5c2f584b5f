"""Turn an assessment into a delegate's decision: what to vote, and what happens next.

The decision is recorded (with its bundle and provenance hash) before anything
else happens, and the audit log says so: dry-run, awaiting approval, scheduled
after the veto window, or blocked and why.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from agent.models import Proposal
from agent.records.assessment import Assessment
from agent.records.decision import BlockerNote, Decision, DecisionData, DecisionStatus
from agent.settings import DelegateSettings
from agent.store.decisions import DecisionLog
from agent.voting.audit_log import AuditLog
from agent.voting.backtest_gate import TrackRecord
from agent.voting.guardrails import Blocker, Timing, assessment_blockers, backtest_blockers
from agent.voting.provenance import (
    Decision as BundleDecision,
)
from agent.voting.provenance import (
    GuardrailResult,
    build_bundle,
    bundle_json,
    provenance_hash,
    vote_reason,
)


def choice_index(proposal: Proposal, label: str | None) -> int | None:
    """1-based, the way Snapshot numbers choices (and ChainSource maps support)."""
    if label is None or label not in proposal.choices:
        return None
    return proposal.choices.index(label) + 1


def action_flags(proposal: Proposal) -> list[str]:
    """Kinds of the decoded actions' flags a delegate must look at (not `info`), high first."""
    rank = {"high": 0, "warn": 1}
    worst: dict[str, int] = {}
    for f in proposal.extra.action_flags or []:
        level = rank.get(str(f.get("severity"))) if isinstance(f, dict) else None
        if level is not None and f.get("kind"):
            worst[str(f["kind"])] = min(worst.get(str(f["kind"]), level), level)
    return sorted(worst, key=lambda kind: (worst[kind], kind))


def decide(
    delegate: DelegateSettings,
    proposal: Proposal,
    assessment: Assessment | None,
    *,
    mode: str,
    window: Timing,
    now: datetime,
    decisions: DecisionLog,
    audit: AuditLog,
    analysis_error: str | None = None,
    track: TrackRecord | None = None,
) -> Decision | None:
    """Record the decision for this proposal version (None if another process did)."""
    blockers = (
        [Blocker(code="no_assessment", detail=f"analysis failed: {analysis_error}")]
        if analysis_error
        else assessment_blockers(delegate, proposal, assessment)
    ) + backtest_blockers(delegate, track, mode)
    status: DecisionStatus
    if blockers:
        status = "blocked"
    elif mode == "dry-run":
        status = "dry_run"
    elif mode == "approval":
        status = "awaiting_approval"
    else:
        status = "scheduled"
    cast_after = None
    if status == "scheduled":
        veto_ends = now + timedelta(hours=delegate.veto_window_h)
        cast_after = int(min(max(veto_ends, window.cast_from), window.cast_until).timestamp())
    data = DecisionData(blockers=[BlockerNote.model_validate(b.model_dump()) for b in blockers])
    if track is not None:
        data = data.model_copy(update={"track_record": track.model_dump()})
    label = assessment.choice if assessment else None
    index = choice_index(proposal, label)
    if assessment is not None:
        bundle = build_bundle(
            assessment,
            proposal,
            BundleDecision(
                recommendation=assessment.recommendation,
                choice_label=label,
                choice_index=index,
                confidence=assessment.confidence,
            ),
            [GuardrailResult(name=b.code, passed=False, detail=b.detail) for b in blockers]
            or [GuardrailResult(name="assessment", passed=True)],
            action_flags=action_flags(proposal),
            created=now,
        )
        data = data.model_copy(
            update={
                "bundle": bundle_json(bundle),
                "provenance_hash": provenance_hash(bundle),
                "reason": vote_reason(assessment, bundle),
                "recommendation": assessment.recommendation,
                "summary": assessment.summary,
            }
        )
    decision = decisions.record(
        delegate=delegate.id,
        proposal_uid=proposal.uid,
        content_hash=proposal.content_hash,
        mode=mode,
        status=status,
        choice_label=label,
        choice=index,
        confidence=assessment.confidence if assessment else 0.0,
        cast_after_ts=cast_after,
        data=data,
    )
    if decision is None:
        return None
    audit.append(
        "recommended" if status != "blocked" else "skipped",
        delegate=delegate.id,
        proposal_uid=proposal.uid,
        data={
            "decision": decision.id,
            "status": status,
            "mode": mode,
            "recommendation": data.recommendation,
            "choice": index,
            "confidence": decision.confidence,
            "provenance_hash": data.provenance_hash,
            "blockers": [b.code for b in blockers],
            "cast_after": cast_after,
        },
    )
    return decision
