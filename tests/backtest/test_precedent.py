"""The precedent analyst's rule: a similarity-weighted vote with a minimum of evidence."""

from __future__ import annotations

from datetime import UTC, datetime

from agent.analysis.precedent import MIN_MASS, weigh
from agent.records.assessment import Precedent

T = datetime(2021, 1, 1, tzinfo=UTC)


def _p(position: str, weight: float, kind: str = "vote") -> Precedent:
    return Precedent(
        uid=f"u{weight}{position}",
        title="t",
        space="s",
        similarity=0.9,
        kind=kind,  # type: ignore[arg-type]
        position=position,  # type: ignore[arg-type]
        at=T,
        weight=weight,
    )


def test_no_precedent_is_no_recommendation_never_for() -> None:
    rec, confidence, why = weigh([])
    assert (rec, confidence) == ("NONE", 0.0) and "too little precedent" in why


def test_thin_evidence_is_no_recommendation() -> None:
    rec, _, why = weigh([_p("FOR", MIN_MASS / 2)])
    assert rec == "NONE" and "below" in why


def test_split_evidence_is_no_recommendation() -> None:
    rec, _, why = weigh([_p("FOR", 1.0), _p("AGAINST", 0.8)])
    assert rec == "NONE" and "split" in why


def test_clear_evidence_recommends_with_confidence_from_its_mass() -> None:
    weak, strong = weigh([_p("AGAINST", 1.2)]), weigh([_p("AGAINST", 1.0)] * 5)
    assert weak[0] == strong[0] == "AGAINST"
    assert 0.5 < weak[1] < strong[1] < 1.0
