"""The precedent analyst: recommends only what earlier, similar decisions support.

Evidence, all of it citable and all of it from before the proposal (`History`):
the voter's own votes on the most similar earlier proposals (same space first, other
spaces only when that is too thin), and the outcomes of similar earlier proposals the
voter did not vote on. Hard rules and decoded actions are applied by code afterwards
(`decide.finalise`), as for every analyst.

The rule is a similarity-weighted vote of precedents. A precedent weighs
(similarity - FLOOR) / (1 - FLOOR), an outcome half that (it is the DAO's view, not
the voter's). With less than MIN_MASS of evidence, or no position holding MIN_SHARE
of it, the answer is NONE ("no recommendation"), never a default FOR. Confidence is
the Beta(1, 1) posterior mean of the winning share, (mass + 1) / (total + 2): thin
evidence cannot produce high confidence.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from agent.analysis.history import History
from agent.analysis.offline import _lead, candidate_sentences, categorise, strip_comments
from agent.analysis.outcomes import vote_position
from agent.analysis.policy import Policy
from agent.models import Proposal
from agent.records.assessment import (
    Draft,
    Facts,
    HardRuleResult,
    Position,
    Precedent,
    Recommendation,
)

VERSION = "precedent-1"
NEIGHBOURS = 8
FLOOR = 0.35
"""Cosine similarity (MiniLM) below which an earlier proposal is not a precedent."""
OUTCOME_WEIGHT = 0.5
MIN_MASS = 1.0
"""About two clearly similar precedents (similarity ≈ 0.7) before anything is said."""
MIN_SHARE = 0.75
POSITIONS: tuple[Position, ...] = ("FOR", "AGAINST", "ABSTAIN")


class PrecedentAnalyst:
    """A Draft whose recommendation rests on precedents it lists."""

    id = "precedent"

    def __init__(
        self,
        history: History,
        *,
        voter: str | None = None,
        as_of: Callable[[Proposal], datetime] | None = None,
    ) -> None:
        self.history = history
        self.voter = voter
        self.as_of = as_of or (lambda _p: datetime.now(UTC))
        params = f"{VERSION}:{NEIGHBOURS}:{FLOOR}:{OUTCOME_WEIGHT}:{MIN_MASS}:{MIN_SHARE}"
        self.prompt_hash = hashlib.sha256(params.encode()).hexdigest()

    def draft(
        self, proposal: Proposal, policy: Policy, facts: Facts, hard_rules: list[HardRuleResult]
    ) -> Draft:
        cutoff = self.as_of(proposal)
        precedents = self.precedents(proposal, cutoff, space=proposal.space)
        if _mass(precedents) < MIN_MASS:
            wider = self.precedents(proposal, cutoff, space=None)
            if _mass(wider) > _mass(precedents):
                precedents = wider
        recommendation, confidence, why = weigh(precedents)
        visible = strip_comments(proposal.body)
        summary = " ".join(_lead(visible, candidate_sentences(visible, 40))) or proposal.title
        flags = [f"asks for {a.text}" for a in facts.amounts[:3]]
        flags += [
            f"action {f.get('action')}: {f.get('detail')}"
            for f in proposal.extra.action_flags or []
            if isinstance(f, dict) and f.get("severity") == "high"
        ][:3]
        return Draft(
            summary=summary[:900],
            category=categorise(proposal),
            findings=[],
            risk_flags=flags,
            recommendation=recommendation,
            confidence=confidence,
            rationale=why,
            precedents=precedents,
        )

    def precedents(
        self, proposal: Proposal, cutoff: datetime, space: str | None
    ) -> list[Precedent]:
        similar = [
            (p, s)
            for p, s in self.history.similar(proposal, cutoff, limit=NEIGHBOURS, space=space)
            if s > FLOOR
        ]
        votes = (
            self.history.votes(self.voter, cutoff, [p.uid for p, _ in similar])
            if self.voter
            else {}
        )
        out: list[Precedent] = []
        for p, sim in similar:
            weight = (sim - FLOOR) / (1 - FLOOR)
            vote = votes.get(p.uid)
            position = vote_position(p, vote.choice) if vote else None
            if vote is not None and position is not None:
                out.append(_precedent(p, sim, "vote", position, vote.created, weight))
                continue
            result = self.history.outcome(p, cutoff)
            if result is not None and p.end is not None:
                out.append(_precedent(p, sim, "outcome", result, p.end, weight * OUTCOME_WEIGHT))
        return out


def weigh(precedents: list[Precedent]) -> tuple[Recommendation, float, str]:
    """(recommendation, confidence, rationale) from the precedents' weights."""
    mass: dict[str, float] = dict.fromkeys(POSITIONS, 0.0)
    for p in precedents:
        mass[p.position] += p.weight
    total = sum(mass.values())
    tally = ", ".join(f"{k} {v:.2f}" for k, v in mass.items() if v)
    if total < MIN_MASS:
        return (
            "NONE",
            0.0,
            f"too little precedent: evidence mass {total:.2f} below {MIN_MASS} "
            f"({len(precedents)} precedent(s){': ' + tally if tally else ''})",
        )
    top: Position = max(POSITIONS, key=lambda k: mass[k])
    share = mass[top] / total
    if share < MIN_SHARE:
        return "NONE", 0.0, f"precedents are split ({tally}); none holds {MIN_SHARE:.0%}"
    confidence = round((mass[top] + 1) / (total + 2), 3)
    votes = sum(1 for p in precedents if p.kind == "vote")
    best = max(precedents, key=lambda p: p.weight)
    return (
        top,
        confidence,
        f"{top} on the weight of {len(precedents)} precedent(s) ({votes} of the voter's own "
        f"votes; {tally}); closest: {best.title[:80]!r} ({best.kind} {best.position}, "
        f"similarity {best.similarity:.2f})",
    )


def _mass(precedents: list[Precedent]) -> float:
    return sum(p.weight for p in precedents)


def _precedent(
    p: Proposal,
    sim: float,
    kind: Literal["vote", "outcome"],
    position: Position,
    at: datetime,
    weight: float,
) -> Precedent:
    return Precedent(
        uid=p.uid,
        title=p.title[:200],
        space=p.space,
        similarity=round(sim, 3),
        kind=kind,
        position=position,
        at=at,
        weight=round(weight, 3),
        link=p.link or p.discussion,
    )
