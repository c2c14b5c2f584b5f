"""Guardrails: every reason not to cast a vote, checked by code before each cast.

Pure functions over typed inputs, so each rule is tested on its own and the
voting loop cannot forget one: `blockers` returns all that apply, and a vote
goes out only when the list is empty. The assessment's own safety signals
(injection, failed hard rules, escalation) can never be overridden, not even
by an approval: an approval answers "do I agree", not "is this safe".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from agent.models import Proposal
from agent.records.assessment import Assessment
from agent.settings import DelegateSettings

if TYPE_CHECKING:
    from agent.voting.backtest_gate import TrackRecord

BlockerCode = Literal[
    "voting_disabled",
    "paused",
    "mode_off",
    "dry_run",
    "no_assessment",
    "stale_assessment",
    "injection",
    "hard_rule_failed",
    "escalated",
    "low_confidence",
    "no_choice",
    "unsupported_type",
    "not_active",
    "too_early",
    "too_late",
    "daily_limit",
    "already_voted",
    "vetoed",
    "awaiting_approval",
    "veto_window_open",
    "no_passing_backtest",
]
SINGLE_CHOICE_TYPES = frozenset({"single-choice", "basic"})


class Blocker(BaseModel):
    model_config = ConfigDict(frozen=True)
    code: BlockerCode
    detail: str


class Timing(BaseModel):
    """When a delegate's vote on one proposal may be decided and cast."""

    model_config = ConfigDict(frozen=True)
    recommend_from: datetime
    cast_from: datetime
    cast_until: datetime


def timing(delegate: DelegateSettings, proposal: Proposal) -> Timing | None:
    """The window: the last `window_h` before the end, never after end - margin.

    In auto mode the recommendation comes `veto_window_h` earlier, so the delegate
    has the whole veto window before the cast. A voting period shorter than all
    that shrinks the window from the front, never past the deadline: the vote is
    not missed, and a late recommendation simply leaves less time to veto.
    """
    if proposal.end is None:
        return None
    until = proposal.end - timedelta(minutes=delegate.deadline_margin_min)
    cast_from = proposal.end - timedelta(hours=delegate.window_h)
    veto = timedelta(hours=delegate.veto_window_h if delegate.mode == "auto" else 0)
    recommend_from = cast_from - veto
    if proposal.start is not None:
        recommend_from = max(recommend_from, proposal.start)
        cast_from = max(cast_from, proposal.start)
    return Timing(
        recommend_from=min(recommend_from, until),
        cast_from=min(cast_from, until),
        cast_until=until,
    )


def assessment_blockers(
    delegate: DelegateSettings, proposal: Proposal, assessment: Assessment | None
) -> list[Blocker]:
    """What in the analysis itself forbids a vote (checked at decision and again at cast)."""
    if assessment is None:
        return [Blocker(code="no_assessment", detail="no analysis under this policy")]
    out: list[Blocker] = []
    if assessment.provenance.content_hash != proposal.content_hash:
        out.append(
            Blocker(code="stale_assessment", detail="the proposal changed after the analysis")
        )
    # A bare HTML comment is template residue (a third of real proposals) and is stripped
    # before any prompt; a comment that carries instructions raises the other kinds.
    kinds = sorted({f.kind for f in assessment.injection if f.kind != "html_comment"})
    if kinds:
        out.append(Blocker(code="injection", detail=f"injection findings: {', '.join(kinds)}"))
    failed = [r.rule for r in assessment.hard_rules if r.outcome == "fail"]
    if failed:
        out.append(Blocker(code="hard_rule_failed", detail=f"failed: {', '.join(failed)}"))
    if assessment.escalate:
        reasons = "; ".join(assessment.escalation_reasons[:3]) or "escalated"
        out.append(Blocker(code="escalated", detail=reasons))
    if assessment.confidence < delegate.min_confidence:
        out.append(
            Blocker(
                code="low_confidence",
                detail=f"confidence {assessment.confidence:.2f} < {delegate.min_confidence:.2f}",
            )
        )
    if assessment.choice is None or assessment.choice not in proposal.choices:
        out.append(Blocker(code="no_choice", detail="the recommendation maps to no choice"))
    if (proposal.type or "single-choice") not in SINGLE_CHOICE_TYPES:
        out.append(
            Blocker(
                code="unsupported_type",
                detail=f"{proposal.type} voting is never automated (single choice only)",
            )
        )
    return out


def backtest_blockers(
    delegate: DelegateSettings, track: TrackRecord | None, mode: str | None = None
) -> list[Blocker]:
    """auto mode needs a recent passing backtest of the analyst, prompt and policy that vote."""
    if (mode or delegate.mode) != "auto":
        return []
    if track is None:
        return [Blocker(code="no_passing_backtest", detail="no track record was looked up")]
    if not track.passed:
        return [Blocker(code="no_passing_backtest", detail=track.detail)]
    return []


def cast_blockers(
    delegate: DelegateSettings,
    proposal: Proposal,
    assessment: Assessment | None,
    *,
    now: datetime,
    enabled: bool,
    paused: str | None,
    votes_today: int,
    track: TrackRecord | None = None,
) -> list[Blocker]:
    """Everything that forbids casting right now (the decision's own status aside)."""
    out: list[Blocker] = backtest_blockers(delegate, track)
    if not enabled:
        out.append(Blocker(code="voting_disabled", detail="voting.enabled is false"))
    if paused:
        out.append(Blocker(code="paused", detail=paused))
    if delegate.mode == "off":
        out.append(Blocker(code="mode_off", detail="this delegate's mode is off"))
    if delegate.mode == "dry-run":
        out.append(Blocker(code="dry_run", detail="dry-run: decided and recorded, not cast"))
    if proposal.state != "active":
        out.append(Blocker(code="not_active", detail=f"the proposal is {proposal.state}"))
    window = timing(delegate, proposal)
    if window is None:
        out.append(Blocker(code="too_late", detail="the proposal has no end time"))
    elif now < window.cast_from:
        out.append(
            Blocker(code="too_early", detail=f"casting opens {window.cast_from:%Y-%m-%d %H:%M} UTC")
        )
    elif now > window.cast_until:
        out.append(Blocker(code="too_late", detail="past the deadline margin"))
    if votes_today >= delegate.daily_limit:
        out.append(
            Blocker(
                code="daily_limit",
                detail=f"{votes_today} votes in 24 h (limit {delegate.daily_limit})",
            )
        )
    out.extend(assessment_blockers(delegate, proposal, assessment))
    return out
