"""Each guardrail on its own: the window, the deadline, the kill switches, the limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agent.models import Proposal
from agent.records.assessment import (
    Assessment,
    Facts,
    HardRuleResult,
    InjectionFinding,
    Provenance,
)
from agent.settings import DelegateSettings
from agent.voting.backtest_gate import TrackRecord
from agent.voting.guardrails import assessment_blockers, cast_blockers, timing

PASS = TrackRecord(voter="0x" + "11" * 20, found=True, passed=True, detail="t", n=50, age_d=1)
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def _delegate(**kw: Any) -> DelegateSettings:
    base: dict[str, Any] = {
        "id": "d",
        "address": "0x" + "11" * 20,
        "policy": "p.yaml",
        "mode": "auto",
        "signer": {"key_env": "K"},
        "window_h": 24,
        "deadline_margin_min": 30,
        "veto_window_h": 6,
        "min_confidence": 0.7,
        "daily_limit": 3,
    }
    return DelegateSettings(**{**base, **kw})


def _proposal(**kw: Any) -> Proposal:
    base: dict[str, Any] = {
        "source": "snapshot",
        "space": "s",
        "id": "0x1",
        "title": "t",
        "body": "b",
        "state": "active",
        "choices": ["For", "Against", "Abstain"],
        "type": "basic",
        "start": NOW - timedelta(days=3),
        "end": NOW + timedelta(hours=10),
    }
    return Proposal(**{**base, **kw})


def _assessment(p: Proposal, **kw: Any) -> Assessment:
    base: dict[str, Any] = {
        "proposal_uid": p.uid,
        "policy_id": "p",
        "summary": "s",
        "facts": Facts(),
        "category": "governance",
        "findings": [],
        "hard_rules": [],
        "recommendation": "FOR",
        "choice": "For",
        "confidence": 0.9,
        "provenance": Provenance(
            analyst="m", prompt_hash="h", policy_hash="p", content_hash=p.content_hash, created=NOW
        ),
    }
    return Assessment(**{**base, **kw})


def test_the_window_is_the_last_hours_before_the_end_minus_a_margin() -> None:
    t = timing(_delegate(), _proposal())
    assert t is not None
    end = NOW + timedelta(hours=10)
    assert t.cast_until == end - timedelta(minutes=30)
    assert t.cast_from == end - timedelta(hours=24)
    long = timing(_delegate(), _proposal(end=NOW + timedelta(days=5)))
    assert long is not None
    assert long.cast_from == NOW + timedelta(days=4)
    assert long.recommend_from == long.cast_from - timedelta(hours=6)  # veto window first


def test_a_short_vote_is_never_missed() -> None:
    short = _proposal(start=NOW, end=NOW + timedelta(minutes=40))
    t = timing(_delegate(window_h=24, veto_window_h=6), short)
    assert t is not None
    assert t.recommend_from == NOW and t.cast_until == NOW + timedelta(minutes=10)
    assert t.cast_from <= t.cast_until


def _codes(blockers: list[Any]) -> set[str]:
    return {b.code for b in blockers}


def test_every_cast_guardrail_has_its_blocker() -> None:
    p = _proposal()
    a = _assessment(p)
    ok = cast_blockers(
        _delegate(), p, a, now=NOW, enabled=True, paused=None, votes_today=0, track=PASS
    )
    assert ok == []
    assert "voting_disabled" in _codes(
        cast_blockers(
            _delegate(), p, a, now=NOW, enabled=False, paused=None, votes_today=0, track=PASS
        )
    )
    assert "paused" in _codes(
        cast_blockers(
            _delegate(), p, a, now=NOW, enabled=True, paused="x", votes_today=0, track=PASS
        )
    )
    assert "daily_limit" in _codes(
        cast_blockers(
            _delegate(), p, a, now=NOW, enabled=True, paused=None, votes_today=3, track=PASS
        )
    )
    late = NOW + timedelta(hours=9, minutes=45)
    assert "too_late" in _codes(
        cast_blockers(
            _delegate(), p, a, now=late, enabled=True, paused=None, votes_today=0, track=PASS
        )
    )
    early = _proposal(end=NOW + timedelta(days=5))
    assert "too_early" in _codes(
        cast_blockers(
            _delegate(),
            early,
            _assessment(early),
            now=NOW,
            enabled=True,
            paused=None,
            votes_today=0,
        )
    )
    closed = _proposal(state="closed")
    assert "not_active" in _codes(
        cast_blockers(
            _delegate(),
            closed,
            _assessment(closed),
            now=NOW,
            enabled=True,
            paused=None,
            votes_today=0,
        )
    )
    assert "dry_run" in _codes(
        cast_blockers(
            _delegate(mode="dry-run"), p, a, now=NOW, enabled=True, paused=None, votes_today=0
        )
    )


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"confidence": 0.69}, "low_confidence"),
        ({"escalate": True, "escalation_reasons": ["x"]}, "escalated"),
        (
            {"hard_rules": [HardRuleResult(rule="max_outflow", outcome="fail", detail="big")]},
            "hard_rule_failed",
        ),
        (
            {"injection": [InjectionFinding(kind="instruction_to_model", excerpt="vote for")]},
            "injection",
        ),
        ({"choice": None}, "no_choice"),
    ],
)
def test_the_analysis_can_forbid_a_vote(change: dict[str, Any], code: str) -> None:
    p = _proposal()
    assert code in _codes(assessment_blockers(_delegate(), p, _assessment(p, **change)))


def test_a_stale_or_missing_analysis_forbids_a_vote() -> None:
    p = _proposal()
    edited = _proposal(body="changed after the analysis")
    assert "stale_assessment" in _codes(assessment_blockers(_delegate(), edited, _assessment(p)))
    assert "no_assessment" in _codes(assessment_blockers(_delegate(), p, None))


def test_a_bare_html_comment_is_not_an_injection_but_an_instruction_is() -> None:
    p = _proposal()
    comment = [InjectionFinding(kind="html_comment", excerpt="<!-- template -->")]
    assert assessment_blockers(_delegate(), p, _assessment(p, injection=comment)) == []


def test_only_single_choice_votes_are_automated() -> None:
    p = _proposal(type="ranked-choice")
    assert "unsupported_type" in _codes(assessment_blockers(_delegate(), p, _assessment(p)))


def test_auto_mode_needs_a_passing_backtest() -> None:
    p = _proposal()
    a = _assessment(p)
    failing = PASS.model_copy(update={"passed": False, "detail": "κ 0.05 < 0.20"})
    for track, expected in ((None, "no track record"), (failing, "κ 0.05")):
        blockers = cast_blockers(
            _delegate(), p, a, now=NOW, enabled=True, paused=None, votes_today=0, track=track
        )
        assert [b.detail for b in blockers if b.code == "no_passing_backtest"] == [
            next(b.detail for b in blockers if expected in b.detail)
        ]
    # approval mode: a person decides each vote, the track record is shown, not required
    assert "no_passing_backtest" not in _codes(
        cast_blockers(
            _delegate(mode="approval", approver_users=[1]),
            p,
            a,
            now=NOW,
            enabled=True,
            paused=None,
            votes_today=0,
        )
    )
